"""Properties every rounding must have, for any format and any double (hypothesis)."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.core.numerics.codec import decode, encode, exact_decimal
from app.core.numerics.formats import FORMATS, get_format

NAMES = list(FORMATS)
ROUNDINGS = ["nearest_even", "toward_zero", "up", "down", "stochastic"]

finite_doubles = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def finite_codes(draw: st.DrawFn) -> tuple[str, int]:
    name = draw(st.sampled_from(NAMES))
    info = get_format(name)
    code = draw(st.integers(0, info.max_code))
    assume(math.isfinite(decode(name, code).value))
    return name, code


@settings(max_examples=250, deadline=None, derandomize=True)
@given(finite_codes(), st.sampled_from(ROUNDINGS))
def test_every_finite_code_round_trips(case: tuple[str, int], rounding: str) -> None:
    name, code = case
    d = decode(name, code)
    r = encode(name, d.value, rounding)
    assert r.code == code and r.exact and r.abs_error == 0.0


@st.composite
def in_range(draw: st.DrawFn) -> tuple[str, float]:
    name = draw(st.sampled_from(NAMES))
    info = get_format(name)
    low = -info.max if info.signed else info.min_normal
    x = draw(st.floats(min_value=low, max_value=info.max, allow_nan=False))
    return name, x


@settings(max_examples=250, deadline=None, derandomize=True)
@given(in_range())
def test_nearest_even_error_is_at_most_half_the_gap(case: tuple[str, float]) -> None:
    name, x = case
    r = encode(name, x)
    assert r.abs_error is not None
    if r.exact:
        assert r.value == x
        return
    assert r.below is not None and r.above is not None
    assert r.below.value < x < r.above.value
    assert r.value in (r.below.value, r.above.value)
    gap = Fraction(r.above.value) - Fraction(r.below.value)
    assert abs(Fraction(r.value) - Fraction(x)) <= gap / 2


@settings(max_examples=200, deadline=None, derandomize=True)
@given(in_range(), st.sampled_from(ROUNDINGS), st.integers(0, 2**32))
def test_every_mode_returns_a_bracketing_neighbour(
    case: tuple[str, float], rounding: str, seed: int
) -> None:
    name, x = case
    r = encode(name, x, rounding, seed=seed)
    if r.exact:
        assert r.value == x
        return
    assert r.below is not None and r.above is not None
    assert r.value in (r.below.value, r.above.value)
    if rounding == "up":
        assert r.value == r.above.value
    elif rounding == "down":
        assert r.value == r.below.value
    elif rounding == "toward_zero":
        assert abs(r.value) < abs(x)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(NAMES), finite_doubles, finite_doubles)
def test_nearest_even_is_monotonic(name: str, a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    info = get_format(name)
    assume(info.signed or lo > 0)
    x, y = encode(name, lo).value, encode(name, hi).value
    assume(not (math.isnan(x) or math.isnan(y)))
    assert x <= y


@settings(max_examples=200, deadline=None, derandomize=True)
@given(finite_doubles)
def test_exact_decimal_round_trips_through_fraction(x: float) -> None:
    assert Fraction(exact_decimal(x)) == Fraction(x)


def _inside(x: float, low: float, high: float, closed: tuple[bool, bool]) -> bool:
    above_low = x > low or (closed[0] and x == low)
    below_high = x < high or (closed[1] and x == high)
    return above_low and below_high


@settings(max_examples=250, deadline=None, derandomize=True)
@given(in_range(), st.sampled_from(ROUNDINGS), st.sampled_from(["native", "saturate"]))
def test_interval_holds_the_input_and_is_tight(
    case: tuple[str, float], rounding: str, overflow: str
) -> None:
    name, x = case
    r = encode(name, x, rounding, overflow)
    assert r.interval is not None and r.interval_closed is not None
    low, high = r.interval
    assert _inside(x, low, high, r.interval_closed)
    if rounding == "stochastic":
        return
    # Just inside either end still rounds to the value; just outside does not.
    for end, closed, inward in ((low, r.interval_closed[0], 1), (high, r.interval_closed[1], -1)):
        if not math.isfinite(end) or (end == 0 and r.value == 0):
            continue
        inside = end if closed else math.nextafter(end, inward * math.inf)
        outside = math.nextafter(end, -inward * math.inf) if closed else end
        if get_format(name).signed or inside > 0:
            assert encode(name, inside, rounding, overflow).value == r.value
        if get_format(name).signed or outside > 0:
            other = encode(name, outside, rounding, overflow).value
            assert other != r.value or math.copysign(1, other) != math.copysign(1, r.value)
