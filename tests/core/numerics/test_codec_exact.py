"""The single-value encoder rounds the real number written, not its float64, and E8M0's ties.

A decimal such as ``464.0000000000000004`` has the nearest float64 464, which is exactly the
e4m3fn tie between 448 and 480 (OCP OFP8 §5: ties to even keep 448). The number written is
past that midpoint, so a correct single rounding overflows (NaN for e4m3fn, or 448 saturated).
The expected values below come from the formats' value lists (docs/sources.md, "The formats";
E2M1 is ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}) and from exact fractions computed here, never from the
code under test. E8M0's ties are compared with ml_dtypes' cast.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import InvalidInput
from app.core.numerics.codec import Encoded, encode, parse_real
from app.core.numerics.formats import FORMATS, value_table
from app.core.numerics.rounding import Real, round_array

SMALL = [name for name, info in FORMATS.items() if info.bits <= 16]
MODES = ["nearest_even", "toward_zero", "up", "down", "stochastic"]


def enc(name: str, text: str, rounding: str = "nearest_even", **kw: Any) -> Encoded:
    return encode(name, parse_real(text), rounding, **kw)


# --- decimals just off a midpoint --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        # e4m3fn near 1: values 1 and 1.125, midpoint 1.0625 (a tie to even: 1)
        ("float8_e4m3fn", "1.0625", 1.0),
        ("float8_e4m3fn", "1.0625000000000000001", 1.125),
        ("float8_e4m3fn", "1.0624999999999999999", 1.0),
        ("float8_e4m3fn", "-1.0625000000000000001", -1.125),
        # e4m3fn at the top: 448 is max, 480 would be next, 464 the midpoint (a tie: 448)
        ("float8_e4m3fn", "464", 448.0),
        ("float8_e4m3fn", "463.99999999999999999", 448.0),
        # bfloat16 near 1: 1 and 1 + 2^-7, midpoint 1 + 2^-8 = 1.00390625
        ("bfloat16", "1.00390625", 1.0),
        ("bfloat16", "1.00390625000000000001", 1.0078125),
        ("bfloat16", "1.00390624999999999999", 1.0),
        # E2M1: 0 | 0.5 (midpoint 0.25), 0.5 | 1 (0.75), 4 | 6 (5)
        ("float4_e2m1fn", "0.25", 0.0),
        ("float4_e2m1fn", "0.25000000000000000001", 0.5),
        ("float4_e2m1fn", "0.24999999999999999999", 0.0),
        ("float4_e2m1fn", "0.74999999999999999999", 0.5),
        ("float4_e2m1fn", "5", 4.0),
        ("float4_e2m1fn", "5.0000000000000000001", 6.0),
        ("float4_e2m1fn", "-5.0000000000000000001", -6.0),
    ],
)
def test_decimals_round_as_written(name: str, text: str, value: float) -> None:
    r = enc(name, text)
    assert r.value == value
    assert r.exact_input == text.lstrip("+")


def test_past_the_e4m3fn_midpoint_overflows() -> None:
    above = enc("float8_e4m3fn", "464.0000000000000004")
    assert math.isnan(above.value) and above.cls == "nan" and above.overflowed
    assert not above.input_is_float64 and above.input == 464.0
    # its float64 is the tie, which ml_dtypes (and a float64 rounding) send to 448
    assert above.ml_dtypes_code == 0x7E
    assert "not a float64" in above.note and "would round to 448" in above.note
    saturated = enc("float8_e4m3fn", "464.0000000000000004", overflow="saturate")
    assert saturated.value == 448.0 and saturated.overflowed
    # the error is against the number written: 464.0000000000000004 - 448, exactly
    assert saturated.abs_error == float(Fraction("464.0000000000000004") - 448)
    tie = enc("float8_e4m3fn", "464")
    assert tie.value == 448.0 and tie.code == 0x7E and tie.input_is_float64


@pytest.mark.parametrize(
    ("text", "mode", "value"),
    [
        # 1 + 1e-19 is not a float64 (its float64 is 1): directed modes see it above 1
        ("1.0000000000000000001", "nearest_even", 1.0),
        ("1.0000000000000000001", "toward_zero", 1.0),
        ("1.0000000000000000001", "down", 1.0),
        ("1.0000000000000000001", "up", 1.125),
        ("-1.0000000000000000001", "up", -1.0),
        ("-1.0000000000000000001", "down", -1.125),
        ("-1.0000000000000000001", "toward_zero", -1.0),
        ("1e-400", "up", 2.0**-9),  # below every float64: still above zero
        ("-1e-400", "down", -(2.0**-9)),
        ("1e-400", "toward_zero", 0.0),
    ],
)
def test_every_directed_mode_sees_the_exact_value(text: str, mode: str, value: float) -> None:
    r = enc("float8_e4m3fn", text, mode)
    assert r.value == value


def test_stochastic_odds_use_the_exact_distance() -> None:
    # 1.05 in e4m3fn: (1.05 − 1) / 0.125 = 0.4 exactly; the float64 1.05 would give 0.4000…04
    r = enc("float8_e4m3fn", "1.05", "stochastic", seed=1)
    assert r.p_above == 0.4
    tiny = enc("float8_e4m3fn", "1.0000000000000000001", "stochastic", seed=1)
    assert tiny.p_above == float(Fraction(1, 10**19) / Fraction(1, 8))
    assert tiny.p_above > 0


def test_errors_are_against_the_exact_input() -> None:
    r = enc("float32", "0.1")
    stored = Fraction(float(np.float32(0.1)))
    assert r.value == float(stored)
    assert r.abs_error == float(abs(stored - Fraction(1, 10)))
    assert r.rel_error == float(abs(stored - Fraction(1, 10)) * 10)
    assert r.exact_input == "0.1" and not r.input_is_float64


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("1e-3", "0.001"),
        ("0x1.8p-3", "0.1875"),
        ("-0", "-0"),
        ("1E20", "100000000000000000000"),
        ("1_000.5", "1000.5"),
        ("-.5", "-0.5"),
        ("nan", "NaN"),
        ("-inf", "-Inf"),
    ],
)
def test_the_exact_input_is_echoed(text: str, exact: str) -> None:
    assert enc("bfloat16", text).exact_input == exact


def test_huge_and_tiny_decimals_are_exact_but_bounded() -> None:
    big = enc("bfloat16", "1e400")
    assert big.value == math.inf and big.input == math.inf and not big.input_is_float64
    assert big.exact_input == "1" + "0" * 400
    e8m0 = enc("float8_e8m0fnu", "1e-400")  # positive, below 2^-127: the smallest value
    assert e8m0.value == 2.0**-127
    for bad in ("1e1001", "0x1p4001", "1e-99999999999", "1/3", "1_", "0x"):
        with pytest.raises(InvalidInput) as err:
            parse_real(bad)
        assert err.value.field == "value"


# --- the exact path agrees with the vectorised one on every float64 ------------------------------


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.sampled_from(list(FORMATS)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(MODES),
    st.sampled_from(["native", "saturate"]),
    st.integers(0, 2**32),
)
def test_exact_rounding_of_a_float64_is_the_vectorised_rounding(
    name: str, x: float, rounding: str, overflow: str, seed: int
) -> None:
    codes, _ = round_array(name, [x], rounding, overflow, np.random.default_rng(seed))
    r = encode(name, x, rounding, overflow, seed)
    assert r.code == int(codes[0])
    if math.isfinite(x) and x != 0:  # the same real as a fraction (which has no -0)
        assert encode(name, Fraction(x), rounding, overflow, seed).code == r.code


@pytest.mark.parametrize("name", SMALL)
def test_float64_ties_and_their_neighbours_match_the_vectorised_rounding(name: str) -> None:
    """Every midpoint (of 16-bit formats, 4096 spread over the range and the top one), and the
    float64s either side of it, through both paths."""
    mags = value_table(name).magnitudes
    mids = (mags[:-1] + mags[1:]) / 2
    if mids.size > 4096:
        mids = np.append(mids[:: mids.size // 4096], mids[-1])
    info = FORMATS[name]  # and the tie past max, with the step one more exponent would give
    mids = np.append(mids, info.max + 2.0 ** (info.exponent_max - info.mantissa_bits - 1))
    xs = np.concatenate([mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf)])
    xs = np.concatenate([xs, -xs]) if FORMATS[name].signed else xs
    want, _ = round_array(name, xs)
    got = [encode(name, float(x)).code for x in xs]
    assert got == want.tolist()


# --- against a brute-force reference on decimals ----------------------------------------------


def nearest_even_reference(name: str, q: Fraction) -> float:
    """The representable value nearest q (|q| <= max), ties to the even code, by scanning
    every finite magnitude with exact fractions."""
    mags = [Fraction(float(m)) for m in value_table(name).magnitudes]
    m = abs(q)
    best = min(range(len(mags)), key=lambda i: (abs(mags[i] - m), i % 2))
    return float(mags[best]) * (-1.0 if q < 0 else 1.0)


decimals = st.builds(
    lambda whole, frac, neg: f"{'-' if neg else ''}{whole}.{frac}",
    st.integers(0, 500),
    st.text("0123456789", min_size=1, max_size=30),
    st.booleans(),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.sampled_from(["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn", "float6_e3m2fn"]), decimals
)
def test_long_decimals_round_to_the_nearest_value(name: str, text: str) -> None:
    q = Fraction(text)
    if abs(q) > Fraction(FORMATS[name].max):
        return
    assert enc(name, text).value == nearest_even_reference(name, q)


# --- E8M0: no mantissa, ties up -----------------------------------------------------------------


def e8m0_cast(x: float) -> float:
    return float(np.array([x], dtype=np.float32).astype(ml_dtypes.float8_e8m0fnu)[0])


@pytest.mark.parametrize("k", [-126, -20, -1, 0, 1, 2, 3, 10, 126])
def test_e8m0_ties_go_up_like_ml_dtypes(k: int) -> None:
    """1.5·2^k is halfway between 2^k and 2^(k+1): it goes up to 2^(k+1), as ml_dtypes does,
    in every binade, whatever the parity of 2^k's code (k + 127)."""
    x = 1.5 * 2.0**k
    r = encode("float8_e8m0fnu", x)
    assert r.value == 2.0 ** (k + 1) == e8m0_cast(x)
    assert r.ml_dtypes_code == r.code == k + 128
    assert r.tie is not None and "E8M0 ties up" in r.tie and "gives the same" in r.tie
    if (k + 127) % 2 == 0:  # 2^k has the even code: an even-code rule would go down
        assert "even code would be" in r.tie
    else:
        assert "even code agrees" in r.tie
    # the interval: [2^k·1.5, 2^(k+1)·1.5), ties from below come up, ties above go further up
    assert r.interval_closed == (True, False)


def test_e8m0_nearest_is_by_distance_not_by_log() -> None:
    """2.9 is nearer 2 than 4 by distance (0.9 < 1.1), though nearer 4 on a log scale
    (2^1.5 ≈ 2.83 is the log midpoint): E8M0, like ml_dtypes, measures distance."""
    assert encode("float8_e8m0fnu", 2.9).value == 2.0 == e8m0_cast(2.9)
    assert encode("float8_e8m0fnu", 3.1).value == 4.0 == e8m0_cast(3.1)
    # and a decimal a hair under the tie 3 goes down, where its float64 (3) would go up
    r = enc("float8_e8m0fnu", "2.9999999999999999999")
    assert r.value == 2.0 and r.ml_dtypes_code == 0x81


def test_real_keeps_sign_zero_and_non_finite() -> None:
    assert Real.of(-0.0).negative and Real.of(-0.0).exact == 0
    assert Real.of(math.inf).exact is None and not Real.of(math.inf).finite
    huge = Real.of(Fraction(10) ** 400)
    assert huge.approx == math.inf and huge.finite and not huge.is_float64
    tiny = Real.of(-Fraction(1, 10**400))
    assert tiny.approx == 0.0 and tiny.negative and tiny.stand_in() < 0
