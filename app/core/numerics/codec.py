"""Bits to value and value to bits, as the API asks for them: the query types and parsing.

`decode` (app.core.numerics.decode) takes a code apart; `encode` (app.core.numerics.encode)
rounds one real with a single rounding. This module declares their query parameters once
(`DecodeQuery`, `EncodeQuery`: the API builds its request models from them), parses the text
people type (hex floats, "nan", binary codes) and answers a query with one call.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    "class_names",
    "decode",
    "decode_query",
    "encode",
    "encode_query",
    "exact_decimal",
    "parse_code",
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
        'A decimal, a hex float (0x1.8p-3), or "nan", "inf", "-inf".',
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
    """`encode` of the value typed in the query, with its rounding, overflow and seed."""
    seed = query.seed if query.rounding in SEEDED else None
    return encode(name, parse_value(query.value), query.rounding, query.overflow, seed)


# --- parsing query strings -----------------------------------------------------------------


def parse_value(text: str) -> float:
    """A real from a query string: decimals, hex floats, "nan", "inf", "-inf".

    For example ``parse_value("0x1.8p-3") == 0.1875`` and ``parse_value("-inf") == -math.inf``.
    Decimals are rounded to float64 first (the one rounding before the format's).
    """
    s = text.strip()
    try:
        if s.lower().lstrip("+-").startswith("0x"):
            return float.fromhex(s)
        return float(s)
    except (ValueError, OverflowError):
        raise InvalidInput(
            "value",
            f"{text!r} is not a number: use a decimal like 0.1 or 1e-3, a hex float like "
            "0x1.8p-3, or nan, inf, -inf",
        ) from None


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
