"""Shared response helpers for the thin API routers.

Every deterministic GET answers with a strong ETag and Cache-Control, and with 304 when the
client already holds that ETag. JSON has no NaN, so non-finite floats travel as the strings
"nan", "inf" and "-inf" (ARCHITECTURE.md, JSON API conventions).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

import numpy as np
from fastapi import Request, Response

DEFAULT_MAX_AGE = 86_400  # one day: every GET result is a pure function of its URL


def _float(x: float) -> float | str:
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def _array(a: np.ndarray) -> Any:
    if a.dtype.kind == "f":
        a64 = a.astype(np.float64, copy=False)
        out: list[Any] = a64.tolist()
        bad = np.flatnonzero(~np.isfinite(a64.ravel()))
        if bad.size:
            flat = a64.ravel()
            if a64.ndim == 1:
                for i in bad.tolist():
                    out[i] = _float(float(flat[i]))
            else:
                return to_jsonable(out)
        return out
    if a.dtype.kind in "iub":
        return a.tolist()
    return to_jsonable(a.tolist())


def to_jsonable(obj: Any) -> Any:
    """Turn dataclasses, numpy values and non-finite floats into plain JSON values.

    For example ``to_jsonable({"x": float("nan"), "v": np.array([1.0, np.inf])})``
    is ``{"x": "nan", "v": [1.0, "inf"]}``.
    """
    if obj is None or isinstance(obj, bool | int | str):
        return obj
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


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON of `payload` after `to_jsonable`."""
    return json.dumps(
        to_jsonable(payload), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return etag in tags


def bytes_response(
    request: Request,
    body: bytes,
    etag: str,
    *,
    max_age: int = DEFAULT_MAX_AGE,
    media_type: str = "application/json",
) -> Response:
    """A cacheable response for a body the caller already serialised (and may memoise)."""
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=media_type, headers=headers)


def json_response(request: Request, payload: Any, *, max_age: int = DEFAULT_MAX_AGE) -> Response:
    """Serialise `payload`, tag it, and answer 304 if the client already has it."""
    body = encode_json(payload)
    return bytes_response(request, body, etag_of(body), max_age=max_age)
