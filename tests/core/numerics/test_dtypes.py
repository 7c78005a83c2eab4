"""The one dtype alias table: what each name means, how names are matched, block formats.

Short names are decided once (docs/dtypes.md): fp8 is OCP E4M3 (float8_e4m3fn), fp4 is the
bare FP4 E2M1 element; with their block scales they are mxfp4 / nvfp4. Block sizes and scale
widths come from the OCP MX v1.0 specification (§5: k = 32 elements share an 8-bit E8M0 scale)
and NVIDIA's NVFP4 (16 elements share an FP8 E4M3 scale).
"""

from __future__ import annotations

from pathlib import Path

import ml_dtypes
import pytest

from app.core.errors import UnknownName
from app.core.numerics import dtypes
from app.core.numerics.formats import FORMATS, canonical_name
from app.core.parallel.memory_terms import picker_dtypes, resolve_dtype


@pytest.mark.parametrize(
    ("typed", "meaning"),
    [
        ("fp8", "float8_e4m3fn"),
        ("FP8", "float8_e4m3fn"),
        ("E4M3", "float8_e4m3fn"),
        ("Float8-E4M3FN", "float8_e4m3fn"),
        ("float8 e4m3fn", "float8_e4m3fn"),
        ("e5m2", "float8_e5m2"),
        ("fp4", "float4_e2m1fn"),
        ("bf16", "bfloat16"),
        ("BF16", "bfloat16"),
        ("half", "float16"),
        ("fp32", "float32"),
        ("e8m0", "float8_e8m0fnu"),
        ("float8_e4m3", "float8_e4m3"),  # the IEEE-style E4M3, not an alias of e4m3fn
        ("MXFP4", "mxfp4"),
        ("nv-fp4", "nvfp4"),
        ("mxfp8_e4m3", "mxfp8"),  # the preset's name is an alias of the dtype row
        ("MXFP6-E2M3", "mxfp6"),
    ],
)
def test_each_name_means_one_thing(typed: str, meaning: str) -> None:
    assert dtypes.resolve(typed).name == meaning


def test_fp4_and_fp8_mean_the_same_on_formats_and_memory() -> None:
    for alias in ("fp4", "fp8", "bf16", "e4m3"):
        assert canonical_name(alias) == resolve_dtype(alias).name == dtypes.ALIASES[alias]
    assert resolve_dtype("fp4").bits == 4  # the bare element; mxfp4 carries its scales
    assert resolve_dtype("fp8").bits == 8


@pytest.mark.parametrize(
    ("name", "element", "scale", "block", "bits"),
    [
        ("mxfp8", "float8_e4m3fn", "float8_e8m0fnu", 32, 8 + 8 / 32),
        ("mxfp8_e5m2", "float8_e5m2", "float8_e8m0fnu", 32, 8 + 8 / 32),
        ("mxfp6", "float6_e2m3fn", "float8_e8m0fnu", 32, 6 + 8 / 32),
        ("mxfp6_e3m2", "float6_e3m2fn", "float8_e8m0fnu", 32, 6 + 8 / 32),
        ("mxfp4", "float4_e2m1fn", "float8_e8m0fnu", 32, 4.25),
        ("mxint8", "mxint8", "float8_e8m0fnu", 32, 8 + 8 / 32),  # int8 × 2^-6 elements
        ("nvfp4", "float4_e2m1fn", "float8_e4m3fn", 16, 4.5),
    ],
)
def test_block_formats(name: str, element: str, scale: str, block: int, bits: float) -> None:
    d = dtypes.resolve(name)
    assert (d.kind, d.element, d.scale, d.block_size, d.bits) == (
        "block",
        element,
        scale,
        block,
        bits,
    )
    assert resolve_dtype(name).bits == bits


def test_element_rows_carry_ml_dtypes_bits() -> None:
    for name, spec in dtypes.ELEMENTS.items():
        d = dtypes.DTYPES[name]
        assert d.kind == "element" and d.element == name and d.scale is None
        assert d.bits == ml_dtypes.finfo(spec.dtype).bits
    assert list(dtypes.ELEMENTS) == list(FORMATS)


def test_a_block_format_is_not_an_element_format() -> None:
    with pytest.raises(UnknownName) as err:
        canonical_name("mxfp4")
    assert err.value.suggestion == "float4_e2m1fn"
    assert "mxfp4" not in err.value.valid


def test_a_miss_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownName) as err:
        dtypes.resolve("bfloat61")
    assert err.value.suggestion == "bfloat16"
    with pytest.raises(UnknownName) as err:
        canonical_name("float8_e4m4")
    assert err.value.suggestion is not None and err.value.suggestion.startswith("float8_e4m3")


def test_every_alias_names_one_dtype_and_no_alias_is_a_name() -> None:
    assert not set(dtypes.ALIASES) & set(dtypes.DTYPES)
    spellings = dtypes.dtype_names()
    assert len(spellings) == len(set(spellings)) == len(dtypes.DTYPES) + len(dtypes.ALIASES)


def test_groups_hold_every_element_format_once_in_display_order() -> None:
    listed = [n for g in dtypes.GROUPS for n in g.formats]
    assert sorted(listed) == sorted(dtypes.ELEMENTS)
    for g in dtypes.GROUPS:
        assert all(dtypes.ELEMENTS[n].family in g.families for n in g.formats)


def test_memory_pickers_offer_table_names() -> None:
    for d in picker_dtypes():
        assert d.name in dtypes.DTYPES and d.bits == dtypes.DTYPES[d.name].bits


def test_docs_table_is_the_codes_table() -> None:
    """docs/dtypes.md states the table in words; it must be the one the code resolves with."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "dtypes.md").read_text(encoding="utf-8")
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1] in ("element", "block"):
            aliases = tuple(a.strip(" `") for a in cells[3].split(",") if a.strip(" `"))
            rows[cells[0].strip("`")] = (cells[1], float(cells[2]), aliases, cells[4])
    assert rows == {d.name: (d.kind, d.bits, d.aliases, d.meaning) for d in dtypes.DTYPES.values()}
