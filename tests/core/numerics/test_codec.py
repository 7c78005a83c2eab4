"""decode / encode / round_array against ml_dtypes, the spec vectors and exact arithmetic."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import numpy.typing as npt
import pytest

from app.core.errors import InvalidInput
from app.core.numerics.codec import (
    decode,
    encode,
    exact_decimal,
    parse_code,
    parse_value,
)
from app.core.numerics.formats import FORMATS, dtype_of, get_format, value_table
from app.core.numerics.rounding import round_array

SMALL = [name for name, info in FORMATS.items() if info.bits <= 16]
ML_DTYPES = [name for name in SMALL if name != "float16"]


def _uint(bits: int) -> type[np.unsignedinteger]:  # type: ignore[type-arg]
    return np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32


def ml_codes(name: str, x: npt.ArrayLike) -> npt.NDArray[np.uint32]:
    """What an ml_dtypes (or numpy) cast gives, as codes."""
    info = get_format(name)
    with np.errstate(all="ignore"):
        out = np.asarray(x).astype(dtype_of(name))
    return out.view(_uint(info.bits)).astype(np.uint32)


def float32_cases(name: str, seed: int = 7) -> npt.NDArray[np.float32]:
    """Float32-exact inputs: every value, every tie, ties ± 1 float32 ulp, random in and around
    the range, subnormals, past max, ±0 and non-finite, with both signs."""
    info = get_format(name)
    rng = np.random.default_rng(seed)
    mags = value_table(name).magnitudes
    mids = ((mags[:-1] + mags[1:]) / 2).astype(np.float32)
    top = min(info.max * 4, 3e38)
    bottom = info.min_subnormal or info.min_normal
    parts = [
        mags.astype(np.float32),
        mids,
        np.nextafter(mids, np.float32(np.inf)),
        np.nextafter(mids, np.float32(-np.inf)),
        rng.uniform(0, info.max, 5000).astype(np.float32),
        rng.uniform(0, top, 2000).astype(np.float32),
        np.exp(rng.uniform(np.log(bottom / 64), np.log(top), 5000)).astype(np.float32),
        rng.uniform(0, bottom * 4, 2000).astype(np.float32),
        np.array(
            [0.0, np.inf, np.nan, info.max, info.max * 1.0625, info.max * 1.5, info.max * 2, 3e38]
        ),
    ]
    with np.errstate(over="ignore"):  # max·2 of bfloat16 is Inf in float32
        parts[-1] = parts[-1].astype(np.float32)
    x = np.concatenate(parts)
    return np.concatenate([x, -x])


# --- decode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SMALL)
def test_decode_every_code_matches_ml_dtypes(name: str) -> None:
    info = get_format(name)
    raw = np.arange(2**info.bits, dtype=_uint(info.bits)).view(dtype_of(name))
    with np.errstate(invalid="ignore"):
        expected = raw.astype(np.float64)
    classes = value_table(name).class_names()
    for code in range(2**info.bits):
        d = decode(name, code)
        want = float(expected[code])
        if math.isnan(want):
            assert math.isnan(d.value) and d.cls == "nan" and d.exact == "NaN"
        else:
            assert d.value == want and math.copysign(1, d.value) == math.copysign(1, want)
            if math.isfinite(want):
                assert Fraction(d.exact) == Fraction(want)
        assert d.cls == classes[code]
        assert d.bits == format(code, f"0{info.bits}b") and int(d.bits, 2) == code
        sign = d.sign or 0
        assert (sign << (info.bits - 1) | d.exponent << info.mantissa_bits | d.mantissa) == code


def test_decode_fields_and_formula() -> None:
    d = decode("float8_e4m3fn", 0x39)
    assert (d.sign, d.exponent, d.mantissa, d.cls, d.value) == (0, 7, 1, "normal", 1.125)
    assert (d.exponent_unbiased, d.significand, d.significand_bits) == (0, "1.125", "1.001")
    # (−1)^s × 2^(e − bias) × 1.m with s = 0, e = 0b0111 = 7, bias 7, m = 0b001: 1 + 1/8
    assert d.formula == (
        "(−1)^s × 2^(e − 7) × 1.m₂",
        "= (−1)^0 × 2^(7 − 7) × 1.001₂",
        "= +1 × 2⁰ × 1.125",
        "= 1.125",
    )
    assert d.hex == "0x39"
    sub = decode("float8_e4m3fn", 0x81)
    assert (sub.cls, sub.value, sub.exact, sub.exponent_unbiased) == (
        "subnormal",
        -(2.0**-9),
        "-0.001953125",
        -6,
    )
    assert sub.significand == "0.125" and sub.is_subnormal
    assert decode("float8_e4m3fn", 0x80).exact == "-0"
    assert decode("float8_e4m3fnuz", 0x80).cls == "nan"


def test_decode_e8m0_has_no_sign_field() -> None:
    d = decode("float8_e8m0fnu", 127)
    assert (d.sign, d.exponent, d.mantissa, d.value, d.cls) == (None, 127, 0, 1.0, "normal")
    assert decode("float8_e8m0fnu", 0).value == 2.0**-127
    assert decode("float8_e8m0fnu", 0).cls == "normal"
    assert decode("float8_e8m0fnu", 254).exact == str(2**127)
    assert decode("float8_e8m0fnu", 255).cls == "nan"


@pytest.mark.parametrize(
    ("code", "value", "cls"),
    [
        (0x3F800000, 1.0, "normal"),
        (0x00000001, 2.0**-149, "subnormal"),
        (0x7F7FFFFF, float.fromhex("0x1.fffffep127"), "normal"),
        (0x7F800000, math.inf, "inf"),
        (0xFF800000, -math.inf, "inf"),
        (0x80000000, -0.0, "zero"),
    ],
)
def test_decode_float32(code: int, value: float, cls: str) -> None:
    d = decode("float32", code)
    assert d.value == value and d.cls == cls
    assert math.copysign(1, d.value) == math.copysign(1, value)


def test_decode_float32_nan_and_exact_subnormal() -> None:
    assert decode("float32", 0x7FC00000).cls == "nan"
    assert decode("float32", 0xFFFFFFFF).cls == "nan"
    assert Fraction(decode("float32", 1).exact) == Fraction(1, 2**149)


@pytest.mark.parametrize(
    ("name", "code"),
    [("float8_e4m3fn", 256), ("float4_e2m1fn", 16), ("float8_e4m3fn", -1), ("float32", 2**32)],
)
def test_decode_rejects_codes_out_of_range(name: str, code: int) -> None:
    with pytest.raises(InvalidInput) as err:
        decode(name, code)
    assert err.value.field == "code"


# --- exact decimals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (2.0**-9, "0.001953125"),
        (448.0, "448"),
        (-0.0, "-0"),
        (0.0, "0"),
        (0.1, "0.1000000000000000055511151231257827021181583404541015625"),
        (2.0**127, "170141183460469231731687303715884105728"),
        (math.nan, "NaN"),
        (math.inf, "Inf"),
        (-math.inf, "-Inf"),
        (-1.5, "-1.5"),
    ],
)
def test_exact_decimal(x: float, text: str) -> None:
    assert exact_decimal(x) == text


def test_exact_decimal_is_exact_for_random_doubles() -> None:
    rng = np.random.default_rng(3)
    for bits in rng.integers(0, 2**63, 500, dtype=np.uint64):
        x = float(np.uint64(bits).view(np.float64))
        if math.isfinite(x):
            assert Fraction(exact_decimal(x)) == Fraction(x)


# --- encode against ml_dtypes ----------------------------------------------------------------


@pytest.mark.parametrize("name", SMALL)
def test_round_array_matches_ml_dtypes_on_float32_exact_inputs(name: str) -> None:
    x = float32_cases(name)
    expected = ml_codes(name, x)
    codes, values = round_array(name, x.astype(np.float64))
    if name == "float8_e8m0fnu":
        # ml_dtypes rounds float32 subnormals in (2^-127, 2^-126) UP to 2^-126; bitmesh rounds
        # to nearest (2^-127 below the midpoint 1.5·2^-127). Checked separately below.
        quirk = (np.abs(x) > 2.0**-127) & (np.abs(x) < 2.0**-126) & (x > 0)
        x, expected, codes, values = x[~quirk], expected[~quirk], codes[~quirk], values[~quirk]
    assert codes.dtype == np.uint32
    mismatch = np.flatnonzero(codes != expected)
    assert mismatch.size == 0, [
        (float(x[i]), int(codes[i]), int(expected[i])) for i in mismatch[:5]
    ]
    table = value_table(name).values
    np.testing.assert_array_equal(values, table[codes])


def test_e8m0_float32_subnormal_quirk_of_ml_dtypes() -> None:
    x = np.array([1.2 * 2.0**-127, 1.25 * 2.0**-127], dtype=np.float32)
    assert ml_codes("float8_e8m0fnu", x).tolist() == [1, 1]  # ml_dtypes: 2^-126
    codes, _ = round_array("float8_e8m0fnu", x.astype(np.float64))
    assert codes.tolist() == [0, 0]  # nearest: 2^-127
    assert codes.tolist() == round_array("float8_e8m0fnu", [1.2 * 2.0**-127] * 2)[0].tolist()
    note = encode("float8_e8m0fnu", float(x[1])).note
    assert note is not None and "subnormal" in note


@pytest.mark.parametrize("name", ML_DTYPES)
def test_single_rounding_differs_from_ml_dtypes_just_off_ties(name: str) -> None:
    """x = tie ± a hair: float32(x) is the tie, so ml_dtypes breaks it; one rounding does not."""
    info = get_format(name)
    mags = value_table(name).magnitudes
    lo = np.arange(mags.size - 1)
    mids = (mags[:-1] + mags[1:]) / 2
    ties_up = np.ones(lo.size, bool) if info.mantissa_bits == 0 else lo % 2 == 1
    cases = (
        # Just above a tie that breaks down: one rounding goes up, ml_dtypes goes down.
        (mids[~ties_up] * (1 + 2.0**-40), mids[~ties_up], lo[~ties_up] + 1, lo[~ties_up]),
        # Just below a tie that breaks up: one rounding goes down, ml_dtypes goes up.
        (mids[ties_up] * (1 - 2.0**-40), mids[ties_up], lo[ties_up], lo[ties_up] + 1),
    )
    checked = 0
    for x, tie, ours, theirs in cases:
        keep = x.astype(np.float32).astype(np.float64) == tie  # float32 lands on the tie
        codes, _ = round_array(name, x[keep])
        assert codes.tolist() == ours[keep].tolist()
        assert ml_codes(name, x[keep]).tolist() == theirs[keep].tolist()
        checked += int(keep.sum())
    assert checked >= min(100, mags.size // 2)


def test_float16_matches_numpy_direct_cast_on_any_double() -> None:
    """numpy casts float64 -> float16 with one rounding, so every double must agree."""
    rng = np.random.default_rng(11)
    x = np.concatenate(
        [rng.uniform(-70000, 70000, 20000), rng.normal(0, 1e-5, 20000), rng.normal(0, 1, 20000)]
    )
    codes, _ = round_array("float16", x)
    np.testing.assert_array_equal(codes, ml_codes("float16", x))


def test_float32_matches_numpy_cast_on_any_double() -> None:
    rng = np.random.default_rng(12)
    x = np.concatenate(
        [
            rng.normal(0, 1, 20000),
            rng.normal(0, 1e-40, 5000),
            np.exp(rng.uniform(-110, 90, 5000)),
            np.array([3.5e38, -3.5e38, math.inf, -math.inf, -0.0, 0.0, math.nan]),
        ]
    )
    codes, _ = round_array("float32", x)
    np.testing.assert_array_equal(codes, ml_codes("float32", x))


def test_float32_edges() -> None:
    max32 = float.fromhex("0x1.fffffep127")
    ulp = 2.0**104
    assert encode("float32", 0.1).code == 0x3DCCCCCD
    assert encode("float32", 0.1, "down").code == 0x3DCCCCCC
    assert encode("float32", 0.1, "toward_zero").code == 0x3DCCCCCC
    assert encode("float32", -0.1, "down").code == 0xBDCCCCCD
    assert encode("float32", 1 + 2.0**-24).value == 1.0  # tie to even
    assert encode("float32", 1 + 3 * 2.0**-24).value == 1 + 2.0**-22
    assert encode("float32", max32 + ulp / 2).value == math.inf  # tie: max is odd
    assert encode("float32", max32 + ulp / 4).value == max32
    assert encode("float32", 1e39, "toward_zero").value == max32
    assert encode("float32", 1e39, overflow="saturate").value == max32
    assert encode("float32", 1e300, "up").value == math.inf
    assert encode("float32", 2.0**-150).value == 0.0  # tie with 0: even
    assert encode("float32", 2.0**-150 * 1.5).code == 1


# --- spec vectors and double rounding (docs/sources.md, "Low-precision formats") ------------


@pytest.mark.parametrize(
    ("name", "x", "value"),
    [
        ("float4_e2m1fn", 0.25, 0.0),
        ("float4_e2m1fn", 0.75, 1.0),
        ("float4_e2m1fn", 2.5, 2.0),
        ("float4_e2m1fn", 5.0, 4.0),
        ("float4_e2m1fn", 7.0, 6.0),
        ("float8_e4m3fn", 464.0, 448.0),
        ("float8_e4m3fn", 1.0625, 1.0),
        ("float8_e4m3fn", 1.1875, 1.25),
        ("bfloat16", 1.00390625, 1.0),
        ("bfloat16", 1.01171875, 1.015625),
        ("float8_e8m0fnu", 1.5, 2.0),
        ("float8_e8m0fnu", 1.4999, 1.0),
        ("float8_e8m0fnu", 2.0**-140, 2.0**-127),
        ("float8_e4m3fnuz", 248.0 - 1, 240.0),
        ("float6_e3m2fn", 1e9, 28.0),
    ],
)
def test_spec_vectors(name: str, x: float, value: float) -> None:
    assert encode(name, x).value == value


@pytest.mark.parametrize(
    ("name", "x", "cls"),
    [
        ("float8_e4m3fn", 465.0, "nan"),
        ("float8_e5m2", 61440.0, "inf"),
        ("float8_e5m2", -61440.0, "inf"),
        ("float8_e8m0fnu", 1.5 * 2.0**127, "nan"),
        ("float8_e4m3fnuz", 248.0, "nan"),
        ("float8_e8m0fnu", 0.0, "nan"),
        ("float8_e8m0fnu", -1.0, "nan"),
    ],
)
def test_overflow_and_nan_vectors(name: str, x: float, cls: str) -> None:
    assert encode(name, x).cls == cls


def test_e5m2_overflow_threshold() -> None:
    assert encode("float8_e5m2", 61439.0).value == 57344.0
    assert encode("float8_e5m2", 61440.0).code == 0x7C
    assert encode("float8_e5m2", -61440.0).code == 0xFC


def test_double_rounding_cases_from_references() -> None:
    x = 1 + 2.0**-4 + 2.0**-26
    result = encode("float8_e4m3fn", x)
    assert result.value == 1.125
    assert result.ml_dtypes_code == 0x38  # 1.0: float32 rounds x to the tie first
    assert float(np.array([x]).astype(ml_dtypes.float8_e4m3fn)[0]) == 1.0
    assert result.note is not None and "double rounding" in result.note
    over = encode("float8_e4m3fn", 464 + 2.0**-20)
    assert over.cls == "nan" and over.overflowed
    assert float(np.array([464 + 2.0**-20]).astype(ml_dtypes.float8_e4m3fn)[0]) == 448.0


# --- directed and stochastic rounding --------------------------------------------------------


def signed_finite(name: str) -> npt.NDArray[np.float64]:
    values = value_table(name).values
    return np.unique(values[np.isfinite(values)])  # sorted; -0 and +0 collapse to one 0


@pytest.mark.parametrize("name", SMALL)
def test_directed_modes_against_the_sorted_table(name: str) -> None:
    info = get_format(name)
    table = signed_finite(name)
    rng = np.random.default_rng(5)
    low = 0.0 if not info.signed else -info.max
    x = np.concatenate(
        [
            rng.uniform(low, info.max, 4000),
            np.exp(rng.uniform(np.log(table[table > 0][0]), np.log(info.max), 4000))
            * (rng.integers(0, 2, 4000) * 2 - 1 if info.signed else 1),
        ]
    )
    x = x[(x >= table[0]) & (x <= table[-1])]
    below = table[np.searchsorted(table, x, side="right") - 1]
    above = table[np.searchsorted(table, x, side="left")]
    _, down = round_array(name, x, "down")
    _, up = round_array(name, x, "up")
    _, toward_zero = round_array(name, x, "toward_zero")
    _, nearest = round_array(name, x, "nearest_even")
    _, stochastic = round_array(name, x, "stochastic", rng=1)
    np.testing.assert_array_equal(down, below)
    np.testing.assert_array_equal(up, above)
    np.testing.assert_array_equal(toward_zero, np.where(x >= 0, below, above))
    assert np.all((nearest == below) | (nearest == above))
    assert np.all(np.abs(nearest - x) <= (above - below) / 2)
    assert np.all((stochastic == below) | (stochastic == above))


@pytest.mark.parametrize(
    ("name", "x", "rounding", "expected"),
    [
        ("float8_e4m3fn", 500.0, "toward_zero", 448.0),
        ("float8_e4m3fn", 500.0, "down", 448.0),
        ("float8_e4m3fn", 500.0, "up", math.nan),
        ("float8_e4m3fn", -500.0, "up", -448.0),
        ("float8_e4m3fn", -500.0, "down", math.nan),
        ("float8_e4m3fn", 449.0, "up", math.nan),
        ("float8_e5m2", 57345.0, "up", math.inf),
        ("float8_e5m2", -57345.0, "down", -math.inf),
        ("float8_e5m2", 1e9, "toward_zero", 57344.0),
        ("float4_e2m1fn", 6.5, "up", 6.0),
        ("float4_e2m1fn", -1e-9, "down", -0.5),
        ("float4_e2m1fn", -1e-9, "up", -0.0),
        ("float8_e4m3fnuz", -1e-9, "up", 0.0),
        ("float8_e8m0fnu", 3.0, "down", 2.0),
        ("float8_e8m0fnu", 3.0, "up", 4.0),
    ],
)
def test_directed_modes_past_max_follow_ieee(
    name: str, x: float, rounding: str, expected: float
) -> None:
    got = encode(name, x, rounding).value
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected)


def test_negative_underflow_keeps_its_sign_only_where_minus_zero_exists() -> None:
    assert encode("float8_e4m3fn", -1e-9).code == 0x80
    assert encode("float8_e4m3fnuz", -1e-9).code == 0x00
    assert encode("float4_e2m1fn", -0.25).code == 0x8


def test_saturate_policy() -> None:
    assert encode("float8_e4m3fn", 1e9, overflow="saturate").code == 0x7E
    assert encode("float8_e4m3fn", -math.inf, overflow="saturate").code == 0xFE
    assert encode("float8_e5m2", math.inf, overflow="saturate").value == 57344.0
    assert encode("float8_e5m2", 61440.0, overflow="saturate").value == 57344.0
    assert math.isnan(encode("float8_e4m3fn", math.nan, overflow="saturate").value)
    sat = encode("float8_e4m3fn", 500.0, "up", overflow="saturate")
    assert sat.value == 448.0 and sat.overflowed


def test_stochastic_rounding_frequency() -> None:
    # 1.3 in e4m3fn lies between 1.25 and 1.375: P(up) = 0.05 / 0.125 = 0.4.
    n = 20000
    _, values = round_array("float8_e4m3fn", np.full(n, 1.3), "stochastic", rng=42)
    assert set(values.tolist()) == {1.25, 1.375}
    ups = int(np.count_nonzero(values == 1.375))
    p = (1.3 - 1.25) / 0.125
    assert abs(ups - n * p) < 5 * math.sqrt(n * p * (1 - p))
    # Negative input: P(toward -inf neighbour) is the same by symmetry.
    _, neg = round_array("float8_e4m3fn", np.full(n, -1.3), "stochastic", rng=43)
    assert set(neg.tolist()) == {-1.25, -1.375}
    assert abs(np.count_nonzero(neg == -1.375) - n * p) < 5 * math.sqrt(n * p * (1 - p))


def test_stochastic_rounding_is_seeded_and_exact_values_stay() -> None:
    x = np.linspace(-6, 6, 1001)
    a, _ = round_array("float4_e2m1fn", x, "stochastic", rng=9)
    b, _ = round_array("float4_e2m1fn", x, "stochastic", rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    exact = value_table("float8_e4m3fn").magnitudes
    for seed in range(5):
        _, got = round_array("float8_e4m3fn", exact, "stochastic", rng=seed)
        np.testing.assert_array_equal(got, exact)
    assert encode("float8_e4m3fn", 1.3, "stochastic").seed == 0
    assert encode("float8_e4m3fn", 1.3, "stochastic", seed=5).seed == 5
    assert encode("float8_e4m3fn", 1.3).seed is None


def test_round_array_keeps_shape() -> None:
    codes, values = round_array("bfloat16", np.ones((3, 4)) / 3)
    assert codes.shape == (3, 4) and values.shape == (3, 4)
    assert codes.dtype == np.uint32 and values.dtype == np.float64
    assert np.all(values == float(ml_dtypes.bfloat16(1 / 3)))


@pytest.mark.parametrize(
    ("field", "kwargs"), [("rounding", {"rounding": "half_up"}), ("overflow", {"overflow": "wrap"})]
)
def test_bad_modes_name_their_field(field: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as err:
        encode("float8_e4m3fn", 1.0, **kwargs)
    assert err.value.field == field
    with pytest.raises(InvalidInput):
        round_array("float8_e4m3fn", [1.0], **kwargs)


# --- encode's result fields ----------------------------------------------------------------


def test_neighbours_errors_and_notes() -> None:
    r = encode("float8_e4m3fn", 0.1)
    assert r.value == 0.1015625 and r.code == 0x1D
    assert r.abs_error == float(Fraction(0.1015625) - Fraction(0.1))
    assert r.rel_error == float((Fraction(0.1015625) - Fraction(0.1)) / Fraction(0.1))
    assert r.below is not None and r.below.value == 0.09375 and r.below.code == 0x1C
    assert r.above is not None and r.above.value == 0.1015625 and r.above.code == 0x1D
    assert not r.exact and r.note is None

    one = encode("float8_e4m3fn", 1.0)
    assert one.exact and one.abs_error == 0.0
    assert one.below is not None and one.below.value == 0.9375  # step 1/16 below 1
    assert one.above is not None and one.above.value == 1.125

    zero = encode("float8_e4m3fn", 0.0)
    assert zero.below is not None and zero.below.code == 0x81
    assert zero.above is not None and zero.above.code == 0x01
    assert zero.rel_error is None

    top = encode("float8_e4m3fn", 464.0)
    assert top.value == 448.0 and top.above is None and not top.overflowed
    assert top.note is not None and "past max 448" in top.note

    e5 = encode("float8_e5m2", 1e6)
    assert e5.above is not None and e5.above.code == 0x7C and e5.above.value == math.inf
    assert e5.below is not None and e5.below.value == 57344.0
    assert e5.overflowed and e5.abs_error is None

    neg = encode("float8_e4m3fn", -0.1)
    assert neg.below is not None and neg.below.value == -0.1015625
    assert neg.above is not None and neg.above.value == -0.09375


@pytest.mark.parametrize("name", SMALL)
def test_non_finite_inputs_map_as_ml_dtypes(name: str) -> None:
    for x in (math.nan, -math.nan, math.inf, -math.inf):
        r = encode(name, x)
        assert r.code == int(ml_codes(name, np.array([x], np.float32))[0])
        assert r.abs_error is None and r.below is None and r.above is None


def test_notes_for_formats_without_nan_or_inf() -> None:
    fp4 = encode("float4_e2m1fn", math.nan)
    assert fp4.code == 0x8 and fp4.value == 0.0 and math.copysign(1, fp4.value) < 0
    assert fp4.note is not None and "no NaN" in fp4.note
    fnuz = encode("float8_e4m3fnuz", math.inf)
    assert fnuz.code == 0x80 and fnuz.note is not None and "no Inf" in fnuz.note
    e8 = encode("float8_e8m0fnu", -2.0)
    assert e8.cls == "nan" and e8.note is not None and "no zero and no sign" in e8.note
    tiny = encode("float8_e8m0fnu", 2.0**-200)
    assert tiny.value == 2.0**-127 and tiny.note is not None and "2^-127" in tiny.note
    under = encode("float8_e4m3fn", 1e-5)
    assert under.value == 0.0 and under.note is not None and "underflow" in under.note


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1", 0.1),
        ("1e-3", 1e-3),
        ("-inf", -math.inf),
        ("inf", math.inf),
        ("0x1.8p-3", 0.1875),
        ("-0x1p2", -4.0),
        (" 448 ", 448.0),
    ],
)
def test_parse_value(text: str, value: float) -> None:
    assert parse_value(text) == value


def test_parse_value_nan_and_errors() -> None:
    assert math.isnan(parse_value("nan"))
    for bad in ("abc", "", "1,5", "0xzz"):
        with pytest.raises(InvalidInput) as err:
            parse_value(bad)
        assert err.value.field == "value"


@pytest.mark.parametrize(
    ("text", "code"), [("57", 57), ("0x39", 57), ("0b111001", 57), ("0X7F", 127)]
)
def test_parse_code(text: str, code: int) -> None:
    assert parse_code(text) == code


def test_parse_code_errors() -> None:
    for bad in ("x", "1.5", "0b2", ""):
        with pytest.raises(InvalidInput) as err:
            parse_code(bad)
        assert err.value.field == "code"


@pytest.mark.parametrize("name", SMALL)
def test_bit_level_bracket_equals_binary_search(name: str) -> None:
    """lo_index reads the code off float64 bits; a searchsorted over the table must agree."""
    from app.core.numerics.rounding import rounder

    info = get_format(name)
    r = rounder(name)
    assert r.ext is not None
    rng = np.random.default_rng(21)
    m = np.concatenate(
        [
            np.abs(rng.normal(0, info.max / 3, 20000)),
            np.exp(rng.uniform(-800, np.log(info.max * 10), 20000)),
            r.ext,
            np.nextafter(r.ext, 0),
            np.nextafter(r.ext, np.inf),
            [0.0, 5e-324, 2.2250738585072014e-308, 1e308],
        ]
    )
    expected = np.minimum(r.lo_index_by_search(m), r.K + 1)
    np.testing.assert_array_equal(r.lo_index(m), expected)


def test_relative_error_of_a_tiny_double_is_inf_not_an_overflow() -> None:
    r = encode("float8_e3m4", -2.225073858507e-311, "down")
    assert r.value == -(2.0**-6) and r.rel_error == math.inf


@pytest.mark.parametrize(
    ("name", "x", "rounding", "interval", "closed"),
    [
        ("float8_e4m3fn", 464.0, "nearest_even", (432.0, 464.0), (True, True)),
        ("float8_e4m3fn", 1.0, "nearest_even", (0.96875, 1.0625), (True, True)),
        ("float8_e4m3fn", 1.125, "nearest_even", (1.0625, 1.1875), (False, False)),
        ("float8_e4m3fn", -1.0, "up", (-1.125, -1.0), (False, True)),
        ("float8_e4m3fn", 1.0, "up", (0.9375, 1.0), (False, True)),
        ("float8_e4m3fn", 500.0, "toward_zero", (448.0, math.inf), (True, False)),
        ("float8_e4m3fn", 0.0, "nearest_even", (-(2.0**-10), 2.0**-10), (True, True)),
        ("float8_e8m0fnu", 1.0, "nearest_even", (0.75, 1.5), (True, False)),
        ("float8_e8m0fnu", 2.0**-130, "nearest_even", (0.0, 1.5 * 2.0**-127), (False, False)),
        ("float4_e2m1fn", 5.9, "nearest_even", (5.0, math.inf), (False, False)),
        ("float4_e2m1fn", 1.0, "stochastic", (0.5, 1.5), (False, False)),
    ],
)
def test_rounding_interval(
    name: str, x: float, rounding: str, interval: tuple[float, float], closed: tuple[bool, bool]
) -> None:
    r = encode(name, x, rounding, seed=3)
    assert r.interval == interval and r.interval_closed == closed


def test_e8m0_interval_of_its_smallest_value_reaches_down_to_zero() -> None:
    r = encode("float8_e8m0fnu", 2.0**-127, "toward_zero")
    assert r.interval == (0.0, 2.0**-126) and r.interval_closed == (False, False)


def test_note_says_a_tie_at_max_is_decided_by_ties_to_even() -> None:
    # 464 = 448 + 16 is exactly half-way between max 448 (S.1111.110) and the next step 480.
    note = encode("float8_e4m3fn", 464.0).note
    assert note is not None and "exactly half-way" in note and "480" in note
    assert "within half a step" in (encode("float8_e4m3fn", 460.0).note or "")


def test_note_writes_huge_powers_of_two_as_powers() -> None:
    note = encode("float8_e8m0fnu", 1e40).note or ""
    assert "2^127" in note and "e+38" not in note


# --- neighbours in value order, the gap, the formula steps -----------------------------------


@pytest.mark.parametrize("name", SMALL)
def test_next_up_and_down_walk_the_values_in_order(name: str) -> None:
    """An independent order: every finite code of an ml_dtypes enumeration sorted by value,
    −0 just below +0, then ±Inf at the ends; decode's neighbours must walk exactly it."""
    info = get_format(name)
    with np.errstate(invalid="ignore"):
        values = np.arange(2**info.bits, dtype=_uint(info.bits)).view(dtype_of(name)).astype(float)
    finite = [c for c in range(2**info.bits) if math.isfinite(values[c])]
    order = sorted(finite, key=lambda c: (values[c], not math.copysign(1, values[c]) < 0))
    if info.has_inf:
        order = [info.inf_codes[1], *order, info.inf_codes[0]]
    for below, above in itertools.pairwise(order):
        up = decode(name, below).next_up
        down = decode(name, above).next_down
        assert up is not None and up.code == above, (name, below)
        assert down is not None and down.code == below, (name, above)
    assert decode(name, order[-1]).next_up is None and decode(name, order[0]).next_down is None
    for nan in info.nan_codes or ():
        d = decode(name, nan)
        assert d.next_up is None and d.next_down is None and d.gap is None


@pytest.mark.parametrize("x", [1.0, 0.1, -2.5, 2.0**-149, -(2.0**-149), 2.0**-126, -3e38])
def test_float32_neighbours_are_numpy_nextafter(x: float) -> None:
    d = decode("float32", int(np.array([x], dtype=np.float32).view(np.uint32)[0]))
    assert d.next_up is not None and d.next_down is not None
    assert d.next_up.value == float(np.nextafter(np.float32(x), np.float32(np.inf)))
    assert d.next_down.value == float(np.nextafter(np.float32(x), np.float32(-np.inf)))


def test_float32_neighbours_at_the_ends_and_zeros() -> None:
    def up(code: int) -> int | None:
        n = decode("float32", code).next_up
        return None if n is None else n.code

    def down(code: int) -> int | None:
        n = decode("float32", code).next_down
        return None if n is None else n.code

    # max: next up is +Inf, and nothing past it; the gap to Inf is not a number
    assert (up(0x7F7FFFFF), up(0x7F800000), down(0x7F800000)) == (0x7F800000, None, 0x7F7FFFFF)
    assert decode("float32", 0x7F7FFFFF).gap is None
    assert (up(0xFF800000), down(0xFF800000)) == (0xFF7FFFFF, None)
    # +0 and −0 are both stops: down from +0 is −0, up from −0 is +0
    assert (down(0), up(0x80000000), down(0x80000000)) == (0x80000000, 0, 0x80000001)
    assert up(0x7FC00000) is None and down(0x7FC00000) is None  # NaN


@pytest.mark.parametrize(
    ("name", "code", "gap"),
    [
        ("float8_e4m3fn", 0x01, 2.0**-9),  # subnormal spacing 2^(1 - 7 - 3)
        ("float8_e4m3fn", 0x80, 2.0**-9),  # −0: the next larger distinct value is 2^-9
        ("float8_e4m3fn", 0x38, 0.125),  # eps above 1.0 (OFP8 Table 1)
        ("float8_e4m3fn", 0x7E, None),  # 448 is max, no Inf
        ("float8_e5m2", 0x7B, None),  # 57344: the next value is +Inf
        ("bfloat16", 0x3F80, 2.0**-7),
        ("float32", 0x3F800000, 2.0**-23),
        ("float32", 1, 2.0**-149),
    ],
)
def test_gap_is_the_distance_to_the_next_larger_value(
    name: str, code: int, gap: float | None
) -> None:
    assert decode(name, code).gap == gap


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float6_e2m3fn", "float8_e8m0fnu", "bfloat16"])
def test_formula_steps_show_the_fields_and_end_on_the_value(name: str) -> None:
    info = get_format(name)
    for code in range(0, 2**info.bits, 7 if info.bits > 8 else 1):
        d = decode(name, code)
        assert d.formula == tuple("".join(p.text for p in s.parts) for s in d.steps)
        assert d.steps[-1].result and all(not s.result for s in d.steps[:-1])
        if d.cls not in ("normal", "subnormal"):
            continue
        # the second line shows the code's own fields: exponent (normals) and mantissa bits
        shown = {p.field: p.text for p in d.steps[1].parts if p.field}
        if d.cls == "normal":
            assert int(shown["exponent"]) == d.exponent
        if info.mantissa_bits:
            assert shown["mantissa"] == format(d.mantissa, f"0{info.mantissa_bits}b")
        if d.sign is not None:
            assert shown["sign"] == str(d.sign)
        last = d.steps[-1].text.replace("−", "-")
        if last.startswith("= "):
            assert Fraction(last[2:]) == Fraction(d.value)
        else:
            assert float(last[2:]) == pytest.approx(d.value, rel=1e-9)


# --- why a rounding went where it went --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "x", "words"),
    [
        ("float8_e4m3fn", 1.0625, ["between 1 and 1.125", "mantissa 000"]),  # ties to even: 1
        ("float8_e4m3fn", -1.0625, ["between -1.125 and -1", "mantissa 000"]),
        ("float8_e4m3fn", 464.0, ["between 448 and 480", "stops at 448", "mantissa 110"]),
        ("bfloat16", 1.00390625, ["mantissa 0000000"]),
        ("float4_e2m1fn", 0.25, ["between 0 and 0.5"]),
        ("float8_e8m0fnu", 3.0, ["no mantissa", "E8M0 ties up", "even code would be 2 (0x80)"]),
        ("float8_e4m3fn", 1.06, None),  # not a tie
        ("float8_e4m3fn", 1.125, None),  # exact
        ("float8_e5m2", 61440.0, None),  # a tie that overflows to Inf: the note says why
    ],
)
def test_tie_is_explained(name: str, x: float, words: list[str] | None) -> None:
    r = encode(name, x)
    if words is None:
        assert r.tie is None
        return
    assert r.tie is not None and "exactly halfway" in r.tie
    for w in words:
        assert w in r.tie
    assert encode(name, x, "toward_zero").tie is None  # only nearest_even has ties


def test_stochastic_odds_are_stated_and_match_the_draws() -> None:
    # 1.3 lies between 1.25 and 1.375: P(above) = (1.3 − 1.25) / 0.125, in exact arithmetic
    p = float((Fraction(1.3) - Fraction(1.25)) / Fraction(0.125))
    draws = [encode("float8_e4m3fn", 1.3, "stochastic", seed=s) for s in range(2000)]
    assert {r.p_above for r in draws} == {p}
    ups = sum(r.value == 1.375 for r in draws)
    assert abs(ups - 2000 * p) < 5 * math.sqrt(2000 * p * (1 - p))
    assert all(
        r.stochastic is not None and f"seed {i} drew" in r.stochastic for i, r in enumerate(draws)
    )
    neg = encode("float8_e4m3fn", -1.3, "stochastic")
    assert neg.p_above == pytest.approx(1 - p)  # above is −1.25, the nearer one
    assert encode("float8_e4m3fn", 1.3).p_above is None
