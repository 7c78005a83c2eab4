"""The format registry against docs/sources.md, "The formats" (OCP OFP8 / MX) and ml_dtypes."""

from __future__ import annotations

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.numerics.formats import (
    CLASS_NAMES,
    FORMATS,
    canonical_name,
    dtype_of,
    get_format,
    value_table,
    value_window,
)

SMALL = [name for name, info in FORMATS.items() if info.bits <= 16]
IEEE_NAN_E4M3 = (*range(0x79, 0x80), *range(0xF9, 0x100))

# name: (max, min_normal, min_subnormal, eps, nan_codes, inf_codes, overflow, bias, finite_count)
# docs/sources.md, "The formats" table; 16/32-bit rows from IEEE 754-2019 and bfloat16.
REFERENCE = {
    "float8_e4m3fn": (448, 2**-6, 2**-9, 2**-3, (0x7F, 0xFF), (), "nan", 7, 254),
    "float8_e4m3": (240, 2**-6, 2**-9, 2**-3, IEEE_NAN_E4M3, (0x78, 0xF8), "inf", 7, 240),
    "float8_e4m3fnuz": (240, 2**-7, 2**-10, 2**-3, (0x80,), (), "nan", 8, 255),
    "float8_e4m3b11fnuz": (30, 2**-10, 2**-13, 2**-3, (0x80,), (), "nan", 11, 255),
    "float8_e5m2": (
        57344,
        2**-14,
        2**-16,
        2**-2,
        (0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF),
        (0x7C, 0xFC),
        "inf",
        15,
        248,
    ),
    "float8_e5m2fnuz": (57344, 2**-15, 2**-17, 2**-2, (0x80,), (), "nan", 16, 255),
    "float8_e3m4": (
        15.5,
        2**-2,
        2**-6,
        2**-4,
        (*range(0x71, 0x80), *range(0xF1, 0x100)),
        (0x70, 0xF0),
        "inf",
        3,
        224,
    ),
    "float8_e8m0fnu": (2.0**127, 2**-127, None, 1, (0xFF,), (), "nan", 127, 255),
    "float6_e3m2fn": (28, 2**-2, 2**-4, 2**-2, (), (), "saturate", 3, 64),
    "float6_e2m3fn": (7.5, 1, 2**-3, 2**-3, (), (), "saturate", 1, 64),
    "float4_e2m1fn": (6, 1, 0.5, 0.5, (), (), "saturate", 1, 16),
    "bfloat16": (
        (2 - 2**-7) * 2.0**127,
        2**-126,
        2**-133,
        2**-7,
        (*range(0x7F81, 0x8000), *range(0xFF81, 0x10000)),
        (0x7F80, 0xFF80),
        "inf",
        127,
        65536 - 256,
    ),
    "float16": (
        65504,
        2**-14,
        2**-24,
        2**-10,
        (*range(0x7C01, 0x8000), *range(0xFC01, 0x10000)),
        (0x7C00, 0xFC00),
        "inf",
        15,
        65536 - 2048,
    ),
}


def test_registry_lists_every_ml_dtypes_format_plus_ieee_references() -> None:
    assert list(FORMATS) == [
        "float8_e4m3fn",
        "float8_e4m3fnuz",
        "float8_e4m3b11fnuz",
        "float8_e4m3",
        "float8_e5m2",
        "float8_e5m2fnuz",
        "float8_e3m4",
        "float8_e8m0fnu",
        "float6_e2m3fn",
        "float6_e3m2fn",
        "float4_e2m1fn",
        "bfloat16",
        "float16",
        "float32",
    ]


@pytest.mark.parametrize("name", list(REFERENCE))
def test_format_info_matches_references(name: str) -> None:
    mx, min_normal, min_sub, eps, nan, inf, overflow, bias, finite = REFERENCE[name]
    info = get_format(name)
    assert info.max == mx
    assert info.min_normal == min_normal
    assert info.min_subnormal == min_sub
    assert info.eps == eps
    assert info.nan_codes == tuple(nan)
    assert info.inf_codes == inf
    assert info.overflow == overflow
    assert info.bias == bias
    assert info.finite_count == finite
    assert info.has_nan == bool(nan) and info.has_inf == bool(inf)
    assert info.nan_count == len(nan)
    assert info.max_code == 2**info.bits - 1 and info.min_code == 0


@pytest.mark.parametrize("name", SMALL)
def test_max_and_min_normal_follow_from_their_bit_fields(name: str) -> None:
    """(-1)^s · 2^(e - bias) · (1 + m / 2^M), evaluated exactly from the codes' fields."""
    info = get_format(name)
    for code, expected in (
        (info.max_finite_code, info.max),
        (info.min_normal_code, info.min_normal),
    ):
        e = (code >> info.mantissa_bits) & ((1 << info.exponent_bits) - 1)
        m = code & ((1 << info.mantissa_bits) - 1)
        value = Fraction(2) ** (e - info.bias) * (1 + Fraction(m, 2**info.mantissa_bits))
        assert value == Fraction(expected)
    assert info.exponent_min == 1 - info.bias or name == "float8_e8m0fnu"
    assert (
        Fraction(info.max)
        == Fraction(2) ** info.exponent_max * (2 - Fraction(1, 2**info.mantissa_bits))
        or info.overflow != "inf"
    )


def test_float32_is_described_by_counting() -> None:
    info = get_format("float32")
    assert (info.bits, info.exponent_bits, info.mantissa_bits, info.bias) == (32, 8, 23, 127)
    assert info.max == float.fromhex("0x1.fffffep127")
    assert info.min_subnormal == 2.0**-149 and info.eps == 2.0**-23
    assert info.inf_codes == (0x7F800000, 0xFF800000)
    assert info.nan_codes is None
    assert info.nan_code_ranges == ((0x7F800001, 0x7FFFFFFF), (0xFF800001, 0xFFFFFFFF))
    assert info.nan_count == 2 * (2**23 - 1)
    assert info.finite_count == 2**32 - 2**24


@pytest.mark.parametrize(
    ("name", "negative_zero", "signed", "has_zero"),
    [
        ("float8_e4m3fn", True, True, True),
        ("float8_e4m3fnuz", False, True, True),
        ("float8_e5m2fnuz", False, True, True),
        ("float8_e8m0fnu", False, False, False),
        ("float4_e2m1fn", True, True, True),
        ("bfloat16", True, True, True),
    ],
)
def test_sign_and_zero_flags(name: str, negative_zero: bool, signed: bool, has_zero: bool) -> None:
    info = get_format(name)
    assert (info.has_negative_zero, info.signed, info.has_zero) == (negative_zero, signed, has_zero)
    assert info.sign_bits == (1 if signed else 0)


def test_finfo_pitfalls_are_not_copied() -> None:
    # finfo(e8m0).min is positive and smallest_subnormal is reported although there is none.
    assert float(ml_dtypes.finfo(ml_dtypes.float8_e8m0fnu).min) == 2.0**-127
    assert get_format("float8_e8m0fnu").min_subnormal is None
    assert get_format("float8_e8m0fnu").min_subnormal_code is None
    # fp4 reports precision 0; the registry's eps is the real gap above 1.
    assert ml_dtypes.finfo(ml_dtypes.float4_e2m1fn).precision == 0
    assert get_format("float4_e2m1fn").eps == 0.5


def test_e2m1_magnitudes() -> None:
    table = value_table("float4_e2m1fn")
    assert table.magnitudes.tolist() == [0, 0.5, 1, 1.5, 2, 3, 4, 6]
    assert table.values[8:].tolist() == [-0.0, -0.5, -1, -1.5, -2, -3, -4, -6]
    assert np.signbit(table.values[8])


def test_nan_code_ranges_for_e5m2() -> None:
    assert get_format("float8_e5m2").nan_code_ranges == ((0x7D, 0x7F), (0xFD, 0xFF))
    assert get_format("float4_e2m1fn").nan_code_ranges == ()


def test_unknown_name_lists_every_format() -> None:
    with pytest.raises(UnknownName) as err:
        get_format("float8_e4m4")
    assert err.value.field == "name"
    assert err.value.valid == sorted(FORMATS)
    assert "float8_e4m3fn" in str(err.value)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("bf16", "bfloat16"),
        ("E4M3", "float8_e4m3fn"),
        ("fp4", "float4_e2m1fn"),
        ("FP16", "float16"),
    ],
)
def test_aliases_resolve_to_ml_dtypes_names(alias: str, name: str) -> None:
    assert canonical_name(alias) == name
    assert get_format(alias).name == name


def test_value_table_refuses_float32() -> None:
    with pytest.raises(InvalidInput) as err:
        value_table("float32")
    assert err.value.field == "name"
    assert "16 bits" in err.value.msg


@pytest.mark.parametrize("name", SMALL)
def test_value_table_matches_ml_dtypes_bit_for_bit(name: str) -> None:
    info = get_format(name)
    table = value_table(name)
    uint = np.uint8 if info.bits <= 8 else np.uint16
    with np.errstate(invalid="ignore"):
        expected = np.arange(2**info.bits, dtype=uint).view(dtype_of(name)).astype(np.float64)
    assert table.codes.dtype == np.uint32 and table.codes.tolist() == list(range(2**info.bits))
    np.testing.assert_array_equal(np.isnan(table.values), np.isnan(expected))
    finite = ~np.isnan(expected)
    np.testing.assert_array_equal(table.values[finite], expected[finite])
    np.testing.assert_array_equal(np.signbit(table.values[finite]), np.signbit(expected[finite]))
    assert table is value_table(name)  # memoised
    assert not table.values.flags.writeable


@pytest.mark.parametrize("name", SMALL)
def test_value_table_matches_the_field_formula(name: str) -> None:
    """An independent decoder: value from the fields, class from the IEEE layout rules."""
    info = get_format(name)
    table = value_table(name)
    codes = np.arange(2**info.bits, dtype=np.int64)
    m_bits, e_bits = info.mantissa_bits, info.exponent_bits
    sign = (codes >> (info.bits - 1)) & 1 if info.signed else np.zeros_like(codes)
    e = (codes >> m_bits) & ((1 << e_bits) - 1)
    m = codes & ((1 << m_bits) - 1)
    sub = (e == 0) & (m_bits > 0)
    significand = np.where(sub, 0.0, 1.0) + m / 2.0**m_bits
    exponent = np.where(sub, 1, e) - info.bias
    formula = np.where(sign == 1, -1.0, 1.0) * np.ldexp(significand, exponent)
    classes = np.array(CLASS_NAMES)[table.classes]
    finite = np.isfinite(table.values)
    np.testing.assert_array_equal(table.values[finite], formula[finite])
    assert np.all(classes[finite & (formula == 0)] == "zero")
    assert np.all(classes[finite & sub & (formula != 0)] == "subnormal")
    assert np.all(classes[finite & ~sub & (formula != 0)] == "normal")
    assert np.count_nonzero(classes == "nan") == info.nan_count
    assert np.count_nonzero(classes == "inf") == len(info.inf_codes)
    assert table.class_names() == classes.tolist()


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("bfloat16", {"zero": 2, "subnormal": 254, "inf": 2, "nan": 254, "normal": 65024}),
        ("float16", {"zero": 2, "subnormal": 2046, "inf": 2, "nan": 2046, "normal": 61440}),
        ("float8_e4m3fn", {"zero": 2, "subnormal": 14, "inf": 0, "nan": 2, "normal": 238}),
        ("float8_e8m0fnu", {"zero": 0, "subnormal": 0, "inf": 0, "nan": 1, "normal": 255}),
        ("float4_e2m1fn", {"zero": 2, "subnormal": 2, "inf": 0, "nan": 0, "normal": 12}),
    ],
)
def test_class_counts(name: str, counts: dict[str, int]) -> None:
    classes = value_table(name).class_names()
    assert {c: classes.count(c) for c in CLASS_NAMES} == counts


# --- what the pages draw: bit fields, binades, landmarks, windows ----------------------------


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        # OCP OFP8 rev. 1.0 Table 1: S.EEEE.MMM and S.EEEEE.MM
        ("float8_e4m3fn", [("sign", 7, 7), ("exponent", 6, 3), ("mantissa", 2, 0)]),
        ("float8_e5m2", [("sign", 7, 7), ("exponent", 6, 2), ("mantissa", 1, 0)]),
        ("float4_e2m1fn", [("sign", 3, 3), ("exponent", 2, 1), ("mantissa", 0, 0)]),
        ("float8_e8m0fnu", [("exponent", 7, 0)]),  # OCP MX v1.0 §5.4: no sign, no mantissa
        ("float32", [("sign", 31, 31), ("exponent", 30, 23), ("mantissa", 22, 0)]),
    ],
)
def test_bit_fields(name: str, fields: list[tuple[str, int, int]]) -> None:
    assert [(f.name, f.high, f.low) for f in get_format(name).fields] == fields


def _expand(name: str) -> tuple[list[float], list[bool]]:
    values, subnormal = [], []
    b = get_format(name).binades
    for i, (k, count, spacing) in enumerate(zip(b.exponent, b.count, b.spacing, strict=True)):
        for j in range(count):
            values.append(2.0**k + j * 2.0**spacing)
            subnormal.append(i < b.subnormal)
    return values, subnormal


@pytest.mark.parametrize("name", SMALL)
def test_binades_list_exactly_the_positive_finite_values(name: str) -> None:
    """The binades, expanded, are the positive finite values of an ml_dtypes enumeration, in
    order, with the subnormals flagged as the value table classes them."""
    info = get_format(name)
    uint = np.uint8 if info.bits <= 8 else np.uint16
    with np.errstate(invalid="ignore"):
        every = np.arange(2**info.bits, dtype=uint).view(dtype_of(name)).astype(np.float64)
    positive = np.isfinite(every) & (every > 0)
    expected = np.sort(every[positive])
    classes = np.array(value_table(name).class_names())[positive][np.argsort(every[positive])]
    values, subnormal = _expand(name)
    assert values == expected.tolist()
    assert subnormal == (classes == "subnormal").tolist()
    b = info.binades
    for k, count, spacing in zip(b.exponent, b.count, b.spacing, strict=True):
        assert 2.0**k + (count - 1) * 2.0**spacing < 2.0 ** (k + 1)  # each stays in its binade


def test_float32_binades_count_every_positive_finite_code() -> None:
    # IEEE 754 binary32: codes 0x00000001..0x7F7FFFFF are the positive finite values
    binades = get_format("float32").binades
    assert sum(binades.count) == 0x7F7FFFFF
    assert binades.subnormal == 23
    assert list(binades.count[:23]) == [2**j for j in range(23)]
    assert (binades.exponent[0], binades.exponent[-1]) == (-149, 127)


@pytest.mark.parametrize(
    ("name", "dynamic_range", "per_binade"),
    [
        ("float8_e4m3fn", math.log2(448 / 2**-9), 8),  # 17.81: OCP OFP8 Table 1 ranges
        ("float8_e5m2", math.log2(57344 / 2**-16), 4),
        ("float4_e2m1fn", math.log2(6 / 0.5), 2),
        ("float8_e8m0fnu", 254, 1),  # 2^-127 .. 2^127
    ],
)
def test_dynamic_range_and_values_per_binade(
    name: str, dynamic_range: float, per_binade: int
) -> None:
    info = get_format(name)
    assert info.dynamic_range == pytest.approx(dynamic_range, rel=1e-12)
    assert info.values_per_binade == per_binade


@pytest.mark.parametrize("name", list(FORMATS))
def test_landmarks_decode_to_what_they_are_called(name: str) -> None:
    info = get_format(name)
    finfo = ml_dtypes.finfo(dtype_of(name))
    uint = {8: np.uint8, 16: np.uint16, 32: np.uint32}[max(8, 1 << (info.bits - 1).bit_length())]
    want = {
        "+0": 0.0,
        "−0": -0.0,
        "min subnormal": float(finfo.smallest_subnormal),
        "min normal": float(finfo.tiny),
        "1": 1.0,
        "max": float(finfo.max),
        "−max": -float(finfo.max),
        "+∞": math.inf,
    }
    for mark in info.landmarks:
        with np.errstate(invalid="ignore"):
            value = float(np.array([mark.code], dtype=uint).view(dtype_of(name))[0])
        if mark.label == "NaN":
            assert math.isnan(value)
        else:
            assert value == want[mark.label] and math.copysign(1, value) == math.copysign(
                1, want[mark.label]
            )
    labels = [m.label for m in info.landmarks]
    assert ("−0" in labels) == info.has_negative_zero and ("+∞" in labels) == info.has_inf
    assert ("min subnormal" in labels) == (info.min_subnormal is not None)


def test_value_window_of_float32() -> None:
    start = 0x3F800000  # 1.0
    window = value_window("float32", start, 3)
    assert window.codes.tolist() == [start, start + 1, start + 2]
    assert window.values.tolist() == [1.0, 1 + 2**-23, 1 + 2**-22]
    top = value_window("float32", 0xFFFFFFFE, 10)  # clipped at the last code
    assert top.codes.tolist() == [0xFFFFFFFE, 0xFFFFFFFF] and top.class_names() == ["nan", "nan"]
    with pytest.raises(InvalidInput) as err:
        value_window("float32", 0, 2**16 + 1)
    assert err.value.field == "count"
    with pytest.raises(InvalidInput) as err:
        value_window("float8_e4m3fn", 256, 1)
    assert err.value.field == "start"


def test_value_window_of_a_small_format_is_a_slice_of_its_table() -> None:
    window = value_window("bfloat16", 0x3F80, 4)
    assert window.values.tolist() == value_table("bfloat16").values[0x3F80:0x3F84].tolist()
