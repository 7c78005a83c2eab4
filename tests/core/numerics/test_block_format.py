"""Block formats in the explorer: names, bits per element, and one block worked by hand.

Bits per element follow OCP MX v1.0 (k = 32 elements share one 8-bit E8M0 scale: element bits +
8/32) and NVIDIA NVFP4 (16 E2M1 elements share one 8-bit E4M3 scale: 4 + 8/16). The worked
blocks use the E2M1 values ±{0, 0.5, 1, 1.5, 2, 3, 4, 6} and code layout S.EE.M (docs/sources.md,
"The formats"), and the OCP scale rule 2^(floor(log2 amax) − emax_elem) with emax_elem = 2 for
E2M1; the NVFP4 one uses its two levels, global = amax / (6 · 448) and e4m3(amax_block / 6 /
global).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.numerics import dtypes
from app.core.numerics.block_format import (
    BLOCK_FORMATS,
    BlockQuery,
    block_format,
    block_view,
    format_or_block,
    page_name,
)
from app.core.numerics.formats import FORMATS
from app.core.numerics.quantize import PRESETS
from app.core.numerics.quantize_lab import run_quantize
from app.core.numerics.quantize_query import QuantizeQuery

SPEC_BITS = {  # element bits + scale bits / block size, from the specifications
    "mxfp8_e4m3": 8 + 8 / 32,
    "mxfp8_e5m2": 8 + 8 / 32,
    "mxfp6_e2m3": 6 + 8 / 32,
    "mxfp6_e3m2": 6 + 8 / 32,
    "mxfp4": 4 + 8 / 32,
    "mxint8": 8 + 8 / 32,
    "nvfp4": 4 + 8 / 16,
}


def test_every_mx_and_nvfp4_preset_is_a_block_format() -> None:
    assert set(BLOCK_FORMATS) == set(SPEC_BITS)
    assert "deepseek_fp8" in PRESETS and "deepseek_fp8" not in BLOCK_FORMATS  # FP32 tiles


@pytest.mark.parametrize(("name", "bits"), SPEC_BITS.items())
def test_bits_per_element_agree_with_the_specs_and_the_dtype_table(name: str, bits: float) -> None:
    info = block_format(name)
    assert info.bits_per_element == bits
    row = dtypes.resolve(name)  # the preset's name resolves to its dtype row
    assert row.name == info.dtype and row.kind == "block" and row.bits == bits
    preset = PRESETS[name]
    assert (row.element, row.scale, row.block_size) == (
        preset.format,
        preset.scale_format,
        preset.block_size,
    )
    assert (info.element, info.scale, info.block_size) == (row.element, row.scale, row.block_size)


@pytest.mark.parametrize(
    ("typed", "kind", "canonical"),
    [
        ("MXFP8", "block", "mxfp8_e4m3"),
        ("mxfp6", "block", "mxfp6_e2m3"),
        ("nv-fp4", "block", "nvfp4"),
        ("mxfp8_e5m2", "block", "mxfp8_e5m2"),
        ("bf16", "element", "bfloat16"),
        ("fp4", "element", "float4_e2m1fn"),
    ],
)
def test_page_names(typed: str, kind: str, canonical: str) -> None:
    assert page_name(typed) == (kind, canonical)
    assert format_or_block(typed).kind == kind


def test_an_unknown_name_lists_both_kinds_and_an_element_is_not_a_block() -> None:
    with pytest.raises(UnknownName) as err:
        page_name("mxfp5")
    assert "mxfp4" in err.value.valid and "bfloat16" in err.value.valid
    with pytest.raises(UnknownName) as err:
        block_format("float4_e2m1fn")
    assert err.value.suggestion == "mxfp4"


def test_element_and_scale_fields() -> None:
    mxfp4 = block_format("mxfp4")
    assert [f.name for f in mxfp4.element_fields] == ["sign", "exponent", "mantissa"]
    assert [(f.name, f.high, f.low) for f in mxfp4.scale_fields] == [("exponent", 7, 0)]
    assert mxfp4.element_format == "float4_e2m1fn"
    nvfp4 = block_format("nvfp4")
    assert nvfp4.scale_fields == FORMATS["float8_e4m3fn"].fields and nvfp4.global_scale
    mxint8 = block_format("mxint8")
    assert [(f.name, f.high, f.low) for f in mxint8.element_fields] == [("integer", 7, 0)]
    assert mxint8.element_format is None


# --- worked blocks -----------------------------------------------------------------------------


def test_a_hand_worked_mxfp4_block() -> None:
    v = block_view("mxfp4", BlockQuery(values="0.3,-1.7,2.9,0.05,6.5"))
    b = v.block
    # amax 6.5: floor(log2 6.5) = 2, emax(E2M1) = 2, so the shared exponent is 0: scale 1
    assert (b.amax, b.scale_exponent, b.scale, b.scale_code, b.scale_bits) == (
        6.5,
        0,
        1.0,
        127,
        "01111111",
    )
    # 0.3 -> 0.5 (past the midpoint 0.25), -1.7 -> -1.5 (below 1.75), 2.9 -> 3, 0.05 -> 0,
    # 6.5 -> 6 (below the midpoint 7 to the next step 8: rounding, not clipping)
    assert b.elements == [0.5, -1.5, 3.0, 0.0, 6.0]
    assert b.code_bits == ["0001", "1011", "0101", "0000", "0111"]
    assert b.dequantized == [0.5, -1.5, 3.0, 0.0, 6.0] and b.clipped == 0
    assert (v.tensor.source, v.tensor.n, v.tensor.block_count) == ("given", 5, 1)
    assert "distribution" not in v.query and v.query["values"] == "0.3,-1.7,2.9,0.05,6.5"


def test_a_block_whose_max_clips_under_the_ocp_rule() -> None:
    # amax 7.5: floor(log2) = 2, scale 2^0; 7.5 is past 6's midpoint to 8 (7): it clips to 6
    b = block_view("mxfp4", BlockQuery(values="7.5,1")).block
    assert b.scale == 1.0 and b.elements == [6.0, 1.0]
    assert b.clipped_flags == [True, False] and b.clipped == 1


def test_a_hand_worked_nvfp4_block() -> None:
    # block 0 holds the tensor amax 6: global = 6 / (6 · 448) = 1/448 (as FP32); block 1's amax
    # 3 gives e4m3(3 / 6 / (1/448)) = e4m3(224) = 224 = 1.75 · 2^7: code 0 1110 110 = 118
    values = ",".join(["6"] + ["1"] * 15 + ["3"] + ["0.5"] * 15)
    v = block_view("nvfp4", BlockQuery(values=values, block=1))
    assert v.tensor.global_scale == float(np.float32(1 / 448)) and v.tensor.block_count == 2
    b = v.block
    assert (b.amax, b.scale, b.scale_code, b.scale_bits) == (3.0, 224.0, 118, "01110110")
    assert b.multiplier == 224.0 * float(np.float32(1 / 448))
    assert b.elements[:2] == [6.0, 1.0]  # 3 / 0.5 = 6 and 0.5 / 0.5 = 1


@pytest.mark.parametrize("name", SPEC_BITS)
def test_the_scale_steps_end_on_the_scale_quantize_chose(name: str) -> None:
    v = block_view(name, BlockQuery())
    text = " ".join(v.scale_steps)
    if v.block.scale_exponent is not None:
        k = v.block.scale_exponent
        assert f"scale = 2^{k} = " in text and f"code = {k} + 127 = {v.block.scale_code}" in text
    else:
        assert f"code {v.block.scale_code} = {v.block.scale_bits}" in text
    assert re.search(r"each element = .* rounding of x", text)


@pytest.mark.parametrize(
    ("name", "seed", "block"), [("mxfp4", 1, 0), ("nvfp4", 3, 2), ("mxint8", 0, 7)]
)
def test_the_block_is_the_quantization_labs_block(name: str, seed: int, block: int) -> None:
    """The page's link opens the same tensor in /quantize: the same block comes back."""
    v = block_view(name, BlockQuery(seed=seed, block=block))
    n = v.tensor.n
    lab = run_quantize(QuantizeQuery(scheme=name, n=n, seed=seed, block=block))
    assert lab.block == v.block
    assert lab.scheme.global_scale_value == v.tensor.global_scale


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (BlockQuery(block=8), "block"),
        (BlockQuery(values="1,2", block=1), "block"),
        (BlockQuery(values="1,abc"), "values"),
        (BlockQuery(values=" , "), "values"),
        (BlockQuery(values=",".join(["1"] * 257)), "values"),
    ],
)
def test_bad_queries_name_their_field(query: BlockQuery, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        block_view("mxfp4", query)
    assert err.value.field == field


def test_non_finite_values_stay_out_of_the_scale() -> None:
    b = block_view("mxfp4", BlockQuery(values="nan,inf,-inf,1.5")).block
    assert b.amax == 1.5 and b.scale == 0.25  # floor(log2 1.5) − 2 = −2: NaN and ±Inf left out
