"""The one JSON encoder: orjson, with the contract's strings for non-finite floats.

orjson writes dataclasses, dicts and numpy arrays directly. JSON has no NaN, so the contract
sends non-finite floats as the strings "nan", "inf" and "-inf"; orjson would write null. A body
with no `null` at all therefore held no non-finite float and is final; otherwise only the
containers on the way to a null are opened and written again (see `encode_json`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

import numpy as np
import orjson

# Not OPT_NON_STR_KEYS: it halves orjson's speed on record lists; a dict with non-string keys
# is rare and takes the stdlib path below instead.
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def _float(x: float) -> float | str:
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def _array(a: np.ndarray) -> Any:
    if a.dtype.kind == "f":
        a64 = a.astype(np.float64, copy=False)
        if np.isfinite(a64).all():
            return np.ascontiguousarray(a64)
        return to_jsonable(a64.tolist())
    if a.dtype.kind in "iub":
        return np.ascontiguousarray(a)
    return to_jsonable(a.tolist())


def to_jsonable(obj: Any) -> Any:
    """Dataclasses and enums as plain values, non-finite floats as the contract's strings.

    For example ``to_jsonable({"x": float("nan"), "v": np.array([1.0, np.inf])})``
    is ``{"x": "nan", "v": [1.0, "inf"]}``. Finite numpy arrays are left for orjson.
    """
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, bytes | bytearray):  # a request body echoed in a validation error
        return bytes(obj).decode("utf-8", "replace")
    if isinstance(obj, float):
        return _float(obj)
    if isinstance(obj, np.ndarray):
        return _array(obj)
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, Enum):
        return to_jsonable(obj.value)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def _default(obj: Any) -> Any:
    """What orjson cannot write itself: numpy scalars, sets, non-contiguous arrays."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON of `payload`, non-finite floats written as "nan", "inf", "-inf".

    orjson writes NaN and ±inf as null. Mappings (and dataclasses) are written value by value;
    any other value whose JSON has no `null` needs no repair and is kept as orjson wrote it, and
    only the lists on the way to a null are opened. A payload whose large lists hold no null is
    written in one orjson pass, not a Python walk over every element.
    """
    try:
        return _encode(payload)
    except orjson.JSONEncodeError:
        # orjson stops at 64-bit integers; byte counts of absurd layouts go past that
        text = json.dumps(
            to_jsonable(payload), default=_default, separators=(",", ":"), ensure_ascii=False
        )
        return text.encode()


def _encode(obj: Any) -> bytes:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):  # few keys: one orjson call per value, never a second pass
        items = [orjson.dumps(str(k)) + b":" + _encode(v) for k, v in obj.items()]
        return b"{" + b",".join(items) + b"}"
    body = orjson.dumps(obj, default=_default, option=_OPTIONS)
    if b"null" not in body or obj is None:
        return body
    if isinstance(obj, float):
        return orjson.dumps(_float(obj))
    if isinstance(obj, np.ndarray):
        return orjson.dumps(_array(obj), default=_default, option=_OPTIONS)
    if isinstance(obj, np.generic):
        return _encode(obj.item())
    if isinstance(obj, list | tuple):
        return b"[" + b",".join([_encode(v) for v in obj]) + b"]"
    return body  # a string that merely contains "null"
