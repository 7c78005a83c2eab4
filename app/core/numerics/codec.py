"""Bits to value and value to bits, as the API asks for them: the query types and parsing.

`decode` (app.core.numerics.decode) takes a code apart; `encode` (app.core.numerics.encode)
rounds one real with a single rounding. This module declares their query parameters once
(`DecodeQuery`, `EncodeQuery`: the API builds its request models from them), parses the text
people type (hex floats, "nan", binary codes) and answers a query with one call.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from app.core.errors import InvalidInput
from app.core.numerics.decode import Decoded, Neighbour, decode, exact_decimal
from app.core.numerics.encode import Encoded, encode
from app.core.numerics.formats import CLASS_NAMES
from app.core.numerics.rounding import (
    DEFAULT_SEED,
    OVERFLOWS,
    ROUNDINGS,
    SEEDED,
    OverflowPolicy,
    Real,
    Rounding,
    round_array,
)
from app.core.params import param

# round_array, ROUNDINGS and OVERFLOWS live in rounding.py; they stay importable from here.
__all__ = [
    "OVERFLOWS",
    "ROUNDINGS",
    "DecodeQuery",
    "Decoded",
    "EncodeQuery",
    "Encoded",
    "Neighbour",
    "Real",
    "class_names",
    "decode",
    "decode_query",
    "encode",
    "encode_query",
    "exact_decimal",
    "parse_code",
    "parse_real",
    "parse_value",
    "round_array",
]


@dataclass(frozen=True)
class DecodeQuery:
    """The parameters of `GET /formats/{name}/decode` (the format is the path)."""

    code: str = param(
        ...,
        "The code: decimal (57), hex (0x39) or binary (0b00111001).",
        example="0x39",
        max_length=40,
    )


@dataclass(frozen=True)
class EncodeQuery:
    """The parameters of `GET /formats/{name}/encode` and of the explorer's value box."""

    value: str = param(
        ...,
        'A decimal, a hex float (0x1.8p-3), or "nan", "inf", "-inf"; rounded exactly as '
        "written (not via its nearest float64). Exponents up to ±1000 (decimal) or ±4000 "
        "(hex float).",
        example="1.0625",
        max_length=400,
    )
    rounding: Rounding = param(
        "nearest_even", "Rounding mode (see /api/v1/dtypes for each).", example="nearest_even"
    )
    overflow: OverflowPolicy = param(
        "native",
        "Past max: what ml_dtypes does (native) or clamp to ±max (saturate).",
        example="native",
    )
    seed: int = param(
        DEFAULT_SEED,
        "Seed of the stochastic rounding draw (used only with rounding=stochastic).",
        example=0,
        ge=0,
        le=2**63 - 1,
    )


def decode_query(name: str, query: DecodeQuery) -> Decoded:
    """`decode` of the code typed in the query, e.g. ``DecodeQuery("0x39")`` -> 1.125."""
    return decode(name, parse_code(query.code))


def encode_query(name: str, query: EncodeQuery) -> Encoded:
    """`encode` of the value typed in the query, exactly as typed, with its rounding,
    overflow and seed."""
    seed = query.seed if query.rounding in SEEDED else None
    return encode(name, parse_real(query.value), query.rounding, query.overflow, seed)


# --- parsing query strings -----------------------------------------------------------------

#: Exponents past these are refused: the exact value would cost time and memory for nothing
#: (1e±1000 is hundreds of binades past every format), while float() would silently give 0/Inf.
DECIMAL_EXPONENT_MAX: Final = 1000
BINARY_EXPONENT_MAX: Final = 4000
_DECIMAL = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_HEX = re.compile(r"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?")
_NON_FINITE: Final = {"nan": math.nan, "inf": math.inf, "infinity": math.inf}


def _not_a_number(text: str) -> InvalidInput:
    return InvalidInput(
        "value",
        f"{text!r} is not a number: use a decimal like 0.1 or 1e-3, a hex float like "
        "0x1.8p-3, or nan, inf, -inf",
    )


def _exponent(digits: str | None, most: int, text: str) -> int:
    if digits is None:
        return 0
    if len(digits.lstrip("+-").lstrip("0")) > len(str(most)) or abs(int(digits)) > most:
        raise InvalidInput(
            "value",
            f"the exponent of {text!r} is past ±{most}: that is hundreds of binades beyond "
            "every format (write inf, -inf or 0 instead)",
        )
    return int(digits)


def parse_real(text: str) -> Real:
    """A real from a query string, held exactly: decimals, hex floats, "nan", "inf", "-inf".

    For example ``parse_real("464.0000000000000004").exact == Fraction(4640000000000000004,
    10**16)`` (its nearest float64 is 464 exactly), ``parse_real("0x1.8p-3").exact ==
    Fraction(3, 16)`` and ``parse_real("-0").approx`` is -0.0. Underscores between digits are
    allowed, as Python's float() allows them.
    """
    s = text.strip()
    body = s.lstrip("+-").lower()
    if len(s) - len(body) <= 1 and body in _NON_FINITE:
        return Real(None, math.copysign(_NON_FINITE[body], -1.0 if s.startswith("-") else 1.0))
    if re.search(r"_(?![0-9a-fA-F])|(?<![0-9a-fA-F])_", s):
        raise _not_a_number(text)
    hexed = _HEX.fullmatch(s.replace("_", ""))
    if hexed:
        sign, whole, frac, exp = hexed.groups()
        digits = (whole or "") + (frac or "")
        if not digits:
            raise _not_a_number(text)
        power = _exponent(exp, BINARY_EXPONENT_MAX, text) - 4 * len(frac or "")
        q = int(digits, 16) * Fraction(2) ** power
    else:
        dec = _DECIMAL.fullmatch(s.replace("_", ""))
        if dec is None or not ((dec.group(2) or "") + (dec.group(3) or "")):
            raise _not_a_number(text)
        sign, whole, frac, exp = dec.groups()
        power = _exponent(exp, DECIMAL_EXPONENT_MAX, text) - len(frac or "")
        q = int((whole or "") + (frac or "")) * Fraction(10) ** power
    return (
        Real.of(-q if sign == "-" else q) if q else Real(Fraction(0), -0.0 if sign == "-" else 0.0)
    )


def parse_value(text: str) -> float:
    """A real from a query string as its nearest float64: decimals, hex floats, "nan", "inf",
    "-inf". For example ``parse_value("0x1.8p-3") == 0.1875`` and ``parse_value("-inf") ==
    -math.inf``. `parse_real` keeps the value exactly; this is its float64.
    """
    return parse_real(text).approx


def parse_code(text: str) -> int:
    """A code from a query string: decimal, hex ``0x7f`` or binary ``0b01111111``."""
    s = text.strip().replace("_", "")
    try:
        if s.lower().startswith("0x"):
            return int(s[2:], 16)
        if s.lower().startswith("0b"):
            return int(s[2:], 2)
        return int(s, 10)
    except ValueError:
        raise InvalidInput(
            "code", f"{text!r} is not a code: use a decimal (57), hex (0x39) or binary (0b111001)"
        ) from None


def class_names() -> tuple[str, ...]:
    """The value classes, e.g. ("zero", "subnormal", "normal", "inf", "nan")."""
    return CLASS_NAMES
