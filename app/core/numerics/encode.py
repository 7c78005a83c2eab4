"""Value to bits: round one real into a format and explain what happened.

`encode` rounds one real with the single rounding of `app.core.numerics.rounding`, exactly:
the real as written (a `Real`: ``464.0000000000000004`` is past the e4m3fn midpoint 464 even
though its nearest float64 is 464 itself), in rational arithmetic (`round_real`). It explains
the result: its neighbours, the interval of inputs that land on it, where ml_dtypes' own cast
(which rounds the float64 through float32) differs, why a tie went the way it did, and the
odds of a stochastic draw.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from app.core.numerics.decode import (
    Neighbour,
    class_of,
    exact_decimal,
    fraction_decimal,
    hex_code,
)
from app.core.numerics.formats import CLASS_NAMES, FormatInfo, canonical_name, dtype_of
from app.core.numerics.rounding import (
    DEFAULT_SEED,
    Real,
    Rounded,
    Rounder,
    check_modes,
    round_codes,
    round_real,
    rounder,
)


@dataclass(frozen=True)
class Encoded:
    """A real rounded into a format, e.g. ``encode("float8_e4m3fn", 464.0)``: code 126,
    value 448.0, below 448 (code 126), above None (448 is the largest finite value and the
    format has no Inf), interval (432, 464) closed at both ends (ties go to 448's even
    mantissa), note "464 is past max 448 but exactly half-way to the next step 480, a tie:
    rounds to 448", tie "464 is exactly halfway between 448 and 480 (...). Ties go to the
    neighbour whose last mantissa bit is 0 (ties to even): 448, mantissa 110."."""

    name: str
    input: float  # the input's nearest float64 (±Inf past float64's range)
    exact_input: str  # the input exactly, as a decimal ("NaN", "Inf", "-Inf" when not finite)
    input_is_float64: bool  # input == exact_input: rounding the float64 is rounding the input
    rounding: str
    overflow: str
    seed: int | None  # the seed used (stochastic only), so the URL reproduces the draw
    code: int
    hex: str
    bits: str
    value: float
    exact_value: str  # exact decimal of value
    cls: str
    abs_error: float | None  # |value - exact input|, None when either is not finite
    rel_error: float | None  # abs_error / |exact input|, None when it is 0 or not finite
    below: Neighbour | None  # largest representable value strictly below input
    above: Neighbour | None  # smallest representable value strictly above input
    exact: bool  # input is representable
    overflowed: bool  # the rounding went past max (the policy then gave NaN, Inf or ±max)
    ml_dtypes_code: int | None  # ml_dtypes' own cast of the input's float64 (RNE/native only)
    note: str | None
    tie: str | None  # why an exact tie went the way it did (nearest_even only)
    p_above: float | None  # stochastic only: the probability of rounding to `above`
    stochastic: str | None  # stochastic only: that probability worked out, and the draw
    # Every input that this rounding mode and overflow policy can send to `value`: (low, high)
    # with whether each end is included; None when value is NaN or ±Inf.
    interval: tuple[float, float] | None
    interval_closed: tuple[bool, bool] | None


def _magnitude_interval(
    r: Rounder, i: int, rounding: str, saturating: bool
) -> tuple[float, float, bool, bool]:
    """Magnitudes that reach magnitude code i: (low, high, low_closed, high_closed).

    For example nearest_even, e4m3fn, i = 56 (1.0): (0.96875, 1.0625, True, True): both
    midpoints tie to 1.0's even mantissa.
    """
    info = r.info
    K = r.K
    t = float(r.magnitude(np.array([i]))[0])
    prev = float(r.magnitude(np.array([i - 1]))[0]) if i > 0 else 0.0
    nxt = float(r.magnitude(np.array([i + 1]))[0])
    top = saturating and i == K  # everything past max lands on ±max
    if rounding == "nearest_even":
        even = i % 2 == 0
        tie_up = info.mantissa_bits == 0  # E8M0 ties go up
        low = (prev + t) / 2 if i > 0 else 0.0
        low_closed = (tie_up or even) if i > 0 else info.has_zero
        high = math.inf if top else (t + nxt) / 2
        high_closed = False if top else (not tie_up and even)
        return low, high, low_closed, high_closed
    if rounding == "toward_zero":
        if i == 0 and not info.has_zero:  # E8M0: everything below 2^-127 lands on it too
            return 0.0, nxt, False, False
        return t, (math.inf if i == K else nxt), True, False
    if rounding == "away":
        if i == 0:
            return 0.0, t, info.has_zero, True
        return prev, (math.inf if top else t), False, not top
    # stochastic: any magnitude strictly between the two neighbours (or t itself)
    return (prev if i > 0 else 0.0), (math.inf if top else nxt), i == 0 and info.has_zero, False


def _interval(
    r: Rounder, code: int, value: float, rounding: str, overflow: str
) -> tuple[tuple[float, float], tuple[bool, bool]] | None:
    """Signed interval of inputs that round to `code` (see `Encoded.interval`)."""
    info = r.info
    if not math.isfinite(value):
        return None
    saturating = overflow == "saturate" or info.overflow == "saturate"
    i = code & ~r.sign_mask
    negative = bool(code & r.sign_mask) and info.signed
    if value == 0:  # both zeros: the interval straddles 0
        first = float(r.magnitude(np.array([1]))[0])
        if rounding == "nearest_even":
            return (-first / 2, first / 2), (True, True)
        if rounding == "up":
            return (-first, 0.0), (False, True)
        if rounding == "down":
            return (0.0, first), (True, False)
        return (-first, first), (False, False)
    if rounding == "up":
        mode = "toward_zero" if negative else "away"
    elif rounding == "down":
        mode = "away" if negative else "toward_zero"
    else:
        mode = rounding
    low, high, low_closed, high_closed = _magnitude_interval(r, i, mode, saturating)
    if negative:
        return (-high, -low), (high_closed, low_closed)
    return (low, high), (low_closed, high_closed)


def _signed_neighbour(r: Rounder, idx: int, negative: bool) -> Neighbour | None:
    """The representable value with magnitude code `idx` and the given sign."""
    info = r.info
    if idx > r.K:
        if not info.has_inf:
            return None
        idx_code = info.inf_codes[1] if negative else info.inf_codes[0]
        return Neighbour(idx_code, -math.inf if negative else math.inf)
    code = idx | (r.sign_mask if negative else 0)
    if idx == 0 and negative and not info.has_negative_zero:
        code = 0
    return Neighbour(code, r.value(code))


def _is_nonpositive(x: Real) -> bool:
    """Zero, negative or -Inf: what unsigned E8M0 cannot hold (NaN excluded)."""
    return x.negative or x.exact == 0


def _neighbours(
    r: Rounder, x: Real, lo: int, exact: bool, below_min: bool
) -> tuple[Neighbour | None, Neighbour | None]:
    """Strict neighbours: the largest representable value < x and the smallest > x."""
    if not x.finite:
        return None, None
    if not r.info.signed:  # E8M0: positive magnitudes only
        if _is_nonpositive(x) or below_min:
            return None, _signed_neighbour(r, 0, False)
        down, up = (lo - 1, lo + 1) if exact else (lo, lo + 1)
        return (None if down < 0 else _signed_neighbour(r, down, False)), (
            None if up > r.K else _signed_neighbour(r, up, False)
        )
    toward_zero, away = (lo - 1, lo + 1) if exact else (lo, lo + 1)
    if toward_zero < 0:  # x is ±0: its neighbours are ∓ the smallest subnormal
        return _signed_neighbour(r, 1, True), _signed_neighbour(r, 1, False)
    if x.negative:
        return _signed_neighbour(r, away, True), _signed_neighbour(r, toward_zero, True)
    return _signed_neighbour(r, toward_zero, False), _signed_neighbour(r, away, False)


def _ml_dtypes_code(info: FormatInfo, x: float) -> int:
    uint = np.uint8 if info.bits <= 8 else np.uint16 if info.bits <= 16 else np.uint32
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array([x], dtype=np.float64).astype(dtype_of(info.name))
    return int(out.view(uint)[0])


def _ratio(a: Fraction, b: Fraction) -> float:
    """a / b as a float, inf when it is past float64's range (a tiny subnormal input)."""
    try:
        return float(a / b)
    except OverflowError:
        return math.inf


def _fmt(x: float) -> str:
    """Shortest round-trip text, e.g. 448.0 -> "448", 0.1 -> "0.1"."""
    if not math.isfinite(x):
        return exact_decimal(x)
    mantissa, exponent = math.frexp(abs(x))
    if mantissa == 0.5 and abs(exponent - 1) >= 20:  # e8m0-scale powers of two: 2^127
        return f"{'-' if x < 0 else ''}2^{exponent - 1}"
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


def _significant(q: Fraction, digits: int) -> str:
    """q to `digits` significant digits in scientific notation, e.g. 1e-400 -> "1.000e-400"."""
    context = decimal.Context(prec=digits)
    d = context.divide(decimal.Decimal(q.numerator), decimal.Decimal(q.denominator))
    return format(d, f".{digits - 1}e")


def exact_text(x: Real) -> str:
    """The input exactly, as a decimal: "464.0000000000000004", "-0", "NaN", "Inf".

    Every decimal and every binary float has a finite expansion; another fraction (a notebook
    may pass 1/3) is written to 40 significant digits followed by "…".
    """
    if x.exact is None:
        return exact_decimal(x.approx)
    sign = "-" if x.negative else ""
    try:
        return sign + fraction_decimal(abs(x.exact))
    except AssertionError:
        return sign + _significant(abs(x.exact), 40) + "…"


def _show(x: Real) -> str:
    """The input as the notes print it: a float64's shortest text, else its exact decimal
    (to 20 significant digits when that is long)."""
    if x.is_float64:
        return _fmt(x.approx)
    text = exact_text(x)
    if len(text) <= 32:
        return text
    assert x.exact is not None
    return f"{'-' if x.negative else ''}{_significant(abs(x.exact), 20)}"


def _special_notes(r: Rounder, x: Real, code: int, value: float, overflow: str) -> list[str]:
    """NaN, ±Inf, and E8M0's zero and negatives: what the format does with them."""
    info = r.info
    if math.isnan(x.approx):
        if info.has_nan:
            return []
        return [
            f"{info.name} has no NaN: ml_dtypes casts NaN to {exact_decimal(value)} "
            f"(code {hex_code(code, info.bits)}) and bitmesh does the same"
        ]
    if not info.signed and _is_nonpositive(x):
        return [f"{info.name} has no zero and no sign: ml_dtypes casts zero and negatives to NaN"]
    if overflow == "saturate":
        return [f"overflow=saturate: {exact_decimal(x.approx)} clamps to {_fmt(value)}"]
    if not info.has_inf:
        target = "NaN" if info.overflow == "nan" else f"{_fmt(value)} (saturates)"
        return [f"{info.name} has no Inf: ml_dtypes casts {exact_decimal(x.approx)} to {target}"]
    return []


def _notes(
    r: Rounder, x: Real, rounded: Rounded, code: int, value: float, rounding: str, overflow: str
) -> list[str]:
    info = r.info
    if x.exact is None or (not info.signed and _is_nonpositive(x)):
        return _special_notes(r, x, code, value, overflow)
    notes: list[str] = []
    shown = _show(x)
    if bool(rounded.below_min[0]):
        notes.append(
            f"{shown} is below {info.name}'s smallest value 2^{info.exponent_min} (no zero, "
            f"no subnormals): it becomes 2^{info.exponent_min}"
        )
    magnitude = abs(x.exact)
    if bool(rounded.overflowed[0]):
        if overflow == "saturate":
            what = f"overflow=saturate clamps to {_fmt(value)}"
        elif info.overflow == "nan":
            what = "ml_dtypes gives NaN"
        elif info.overflow == "inf":
            what = f"it overflows to {exact_decimal(value)}"
        else:
            what = f"{info.name} saturates to {_fmt(value)}"
        notes.append(f"{shown} rounds past max {_fmt(info.max)}: {what}")
    elif magnitude > info.max:
        # IEEE 754 §4.3.1: the half-way point between max and the next step up is a tie; it
        # reaches this branch only when max's mantissa is even (an odd max would overflow).
        half = Fraction(2) ** (info.exponent_max - info.mantissa_bits - 1)
        if rounding != "nearest_even":
            why = f"rounding {rounding}"
        elif magnitude == info.max + half:  # `tie` says why ties to even keep max
            why = f"exactly half-way to the next step {_fmt(float(info.max + 2 * half))}, a tie"
        else:
            why = "within half a step"
        notes.append(f"{shown} is past max {_fmt(info.max)} but {why}: rounds to {_fmt(value)}")
    if x.exact != 0 and value == 0:
        notes.append(f"underflow: {shown} rounds to zero")
    return notes


def _float64_note(
    r: Rounder, x: Real, code: int, rounding: str, overflow: str, seed: int | None
) -> str | None:
    """Where rounding the input's nearest float64 would land elsewhere than the input does."""
    if x.is_float64:
        return None
    rng = np.random.default_rng(seed) if seed is not None else None
    via = int(round_codes(r, np.array([x.approx]), rounding, overflow, rng).codes[0])
    if via == code:
        return None
    return (
        f"{_show(x)} is not a float64: its nearest float64, {_fmt(x.approx)}, would round to "
        f"{_fmt(r.value(via))} (code {hex_code(via, r.info.bits)}). bitmesh rounds the number "
        "as written, in exact arithmetic"
    )


def _ml_dtypes_note(r: Rounder, x: Real, ml_code: int) -> str:
    """Where ml_dtypes' own cast lands elsewhere, and why: it casts the input's nearest float64
    (one rounding when the input is not a float64), through float32 (another rounding)."""
    reasons = [] if x.is_float64 else [f"it rounds the input to float64 first ({_fmt(x.approx)})"]
    if float(np.float32(x.approx)) != x.approx:
        reasons.append("it rounds through float32 first (double rounding)")
    elif x.is_float64:  # e8m0 from a float32 subnormal in (2^-127, 2^-126): ml_dtypes rounds up
        reasons.append("it rounds float32 subnormal inputs up; bitmesh rounds to nearest")
    hex_ = hex_code(ml_code, r.info.bits)
    return f"ml_dtypes' own cast gives {_fmt(r.value(ml_code))} (code {hex_}): {'; '.join(reasons)}"


def _e8m0_tie(r: Rounder, x: Real, below: Neighbour, code: int, high: float) -> str:
    """E8M0's tie rule in words (see `_tie_note`), e.g. for 3: up to 4, not to the even code 2.

    `high` is the upper neighbour (2^128, past max, for a tie at the top)."""
    info = r.info
    k = info.exponent_min + below.code
    ml = _ml_dtypes_code(info, x.approx)
    ml_says = "gives the same" if ml == code else f"gives {_fmt(r.value(ml))}"
    up = below.code + 1  # the code of `high` (K + 1 past max)
    even = below.code if below.code % 2 == 0 else up
    if up > r.K:  # only overflow=saturate gets here (native gives NaN: no tie to explain)
        parity = f"That is past max: overflow=saturate clamps it to {_fmt(r.value(code))}."
    elif even != up:
        parity = (
            f"The even code would be {_fmt(r.value(even))} ({hex_code(even, info.bits)}) here, "
            "but code parity flips from one binade to the next, so an even-code rule would send "
            "half of the ties down and half up."
        )
    else:
        parity = (
            f"Here the even code agrees ({hex_code(even, info.bits)}), but code parity flips "
            "from one binade to the next: one binade lower it would pick the smaller power of two."
        )
    return (
        f"Nearest is measured as the distance |x − v|, as in every format. {info.name} has no "
        f"mantissa: 2^{k} and 2^{k + 1} both have the significand 1, so ties to even cannot "
        "choose by the last mantissa bit. bitmesh sends E8M0 ties up, to the larger power of "
        f"two, {_fmt(high)}: ties away from zero (IEEE 754 roundTiesToAway), which is also what "
        "ties to even does to the input's own significand 1.1₂ rounded to one bit (10₂). "
        f"ml_dtypes' cast {ml_says}. {parity}"
    )


def _tie_note(
    r: Rounder,
    x: Real,
    code: int,
    value: float,
    neighbours: tuple[Neighbour | None, Neighbour | None],
    exact: bool,
) -> str | None:
    """Why an input exactly halfway between two neighbours went where it went.

    Ties are where formats and tools disagree (some round them half up), so say it. With
    mantissa bits a tie goes to the neighbour whose last mantissa bit is 0 (IEEE 754
    roundTiesToEven, OCP OFP8 §5); past max the upper neighbour is the value one more exponent
    would give (e4m3fn: 464 is halfway between 448 and 480, and 448 = 0.1111.110 is even).
    E8M0 has no mantissa bit: its ties go up (`_e8m0_tie`), as ml_dtypes' cast does.
    """
    info = r.info
    below, above = neighbours
    if exact or below is None or not math.isfinite(value) or not math.isfinite(below.value):
        return None
    high, virtual = (above.value, False) if above is not None else (r.virtual, value == info.max)
    if (above is None and not virtual) or not math.isfinite(high):
        return None
    if not below.value < high or x.exact != (Fraction(below.value) + Fraction(high)) / 2:
        return None
    past = (
        f" (the next value if the exponent went one higher; {info.name} stops at {_fmt(info.max)})"
    )
    pair = (
        f"{_show(x)} is exactly halfway between {_fmt(below.value)} and {_fmt(high)}"
        f"{past if virtual else ''}."
    )
    if info.mantissa_bits == 0:
        return f"{pair} {_e8m0_tie(r, x, below, code, high)}"
    mantissa = format(code & ((1 << info.mantissa_bits) - 1), f"0{info.mantissa_bits}b")
    return (
        f"{pair} Ties go to the neighbour whose last mantissa bit is 0 (ties to even): "
        f"{_fmt(value)}, mantissa {mantissa}."
    )


def _p_above(x: Real, below: Neighbour | None, above: Neighbour | None) -> float | None:
    """P(stochastic rounding picks `above`) = (x − below) / (above − below), for either sign."""
    if x.exact is None or below is None or above is None:
        return None
    if not math.isfinite(below.value + above.value):
        return None
    low, high = Fraction(below.value), Fraction(above.value)
    return float((x.exact - low) / (high - low))


def _stochastic_note(
    x: Real,
    value: float,
    below: Neighbour | None,
    above: Neighbour | None,
    p_above: float,
    seed: int | None,
) -> str | None:
    assert below is not None and above is not None
    lo, hi = f"{below.value:.6g}", f"{above.value:.6g}"
    went = "up" if value == above.value else "down"
    shown = f"{x.approx:.6g}" if x.is_float64 else _show(x)
    return (
        f"Stochastic: P(round up to {hi}) = ({shown} − {lo}) / ({hi} − {lo}) = {p_above:.4g}; "
        f"seed {seed} drew {went}. Change the seed to draw again."
    )


def _errors(x: Real, value: float) -> tuple[float | None, float | None]:
    """|value − x| and that over |x|, exactly, then rounded to float64 (None if not finite)."""
    if x.exact is None or not math.isfinite(value):
        return None, None
    error = abs(Fraction(value) - x.exact)
    return _ratio(error, Fraction(1)), (_ratio(error, abs(x.exact)) if x.exact else None)


def encode(
    name: str,
    value: float | Fraction | Real,
    rounding: str = "nearest_even",
    overflow: str = "native",
    seed: int | None = None,
) -> Encoded:
    """Round one real (a float64, a fraction, or a `Real` parsed from text) into a format with
    a single, exact rounding.

    For example ``encode("float4_e2m1fn", 0.75).value == 1.0`` (a tie, to the even mantissa),
    ``encode("float8_e4m3fn", 465.0).cls == "nan"`` (past the overflow threshold 464), and
    ``encode("float8_e4m3fn", Fraction("464.0000000000000004")).cls == "nan"`` too, although
    that decimal's nearest float64 is 464, which rounds to 448.
    """
    check_modes(rounding, overflow)
    r = rounder(canonical_name(name))
    info = r.info
    x = Real.of(value)
    used_seed = (DEFAULT_SEED if seed is None else int(seed)) if rounding == "stochastic" else None
    rng = np.random.default_rng(used_seed) if used_seed is not None else None
    rounded = round_real(r, x, rounding, overflow, rng)
    code = int(rounded.codes[0])
    out = float(rounded.values[0])
    lo, exact = int(rounded.lo[0]), bool(rounded.exact[0])
    below, above = _neighbours(r, x, lo, exact, bool(rounded.below_min[0]))
    abs_error, rel_error = _errors(x, out)

    notes = _notes(r, x, rounded, code, out, rounding, overflow)
    float64_note = _float64_note(r, x, code, rounding, overflow, used_seed)
    if float64_note:
        notes.append(float64_note)
    ml_code = (
        _ml_dtypes_code(info, x.approx)
        if (rounding, overflow) == ("nearest_even", "native")
        else None
    )
    if ml_code is not None and ml_code != code:
        notes.append(_ml_dtypes_note(r, x, ml_code))
    exponent_mask = (1 << info.exponent_bits) - 1
    p_above = _p_above(x, below, above) if rounding == "stochastic" else None
    span = _interval(r, code, out, rounding, overflow)
    representable = x.finite and exact and not bool(rounded.below_min[0])
    if not info.signed and _is_nonpositive(x):
        representable = False
    return Encoded(
        name=info.name,
        input=x.approx,
        exact_input=exact_text(x),
        input_is_float64=x.is_float64,
        rounding=rounding,
        overflow=overflow,
        seed=used_seed,
        code=code,
        hex=hex_code(code, info.bits),
        bits=format(code, f"0{info.bits}b"),
        value=out,
        exact_value=exact_decimal(out),
        cls=CLASS_NAMES[class_of(info, (code >> info.mantissa_bits) & exponent_mask, out)],
        abs_error=abs_error,
        rel_error=rel_error,
        below=below,
        above=above,
        exact=representable,
        overflowed=bool(rounded.overflowed[0]),
        ml_dtypes_code=ml_code,
        note="; ".join(notes) if notes else None,
        tie=(
            _tie_note(r, x, code, out, (below, above), representable)
            if rounding == "nearest_even"
            else None
        ),
        p_above=p_above,
        stochastic=None
        if p_above is None
        else _stochastic_note(x, out, below, above, p_above, used_seed),
        interval=None if span is None else span[0],
        interval_closed=None if span is None else span[1],
    )
