"""The one response path every JSON endpoint uses: cache, tag, answer; and the API's router.

- **Caching.** A GET's body is a pure function of its route and normalised query, so one bounded
  LRU cache (entries and bytes) keyed by that holds recent bodies, gzipped copies made on demand.
- **ETags.** The tag is a hash of the build and the key, not of the body: a revalidation is
  answered 304 before anything is computed, and a new build changes every tag.
- **Unknown parameters.** Every /api/v1 route answers a query parameter it does not declare
  with a 422 naming it and the closest valid name.
Bodies are written by `app.api.encoding.encode_json` (orjson).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from threading import Lock
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.api.encoding import encode_json
from app.core.names import closest
from app.schemas.meta import ERROR_RESPONSES

DEFAULT_MAX_AGE = 86_400  # one day: every GET result is a pure function of its URL
_GZIP_FROM = 16_384  # bodies smaller than this are sent as they are


# ---------------------------------------------------------------- one response cache


def _build_id() -> str:
    """A digest of the app's source: responses (and their tags) change with the code."""
    h = hashlib.blake2b(digest_size=8)
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


BUILD_ID = _build_id()


@dataclasses.dataclass
class _Entry:
    body: bytes
    gzipped: bytes | None = None


class ResponseCache:
    """A thread-safe LRU of encoded bodies, bounded in entries and in total bytes."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()

    def get(self, key: Hashable) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: _Entry) -> _Entry:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= self._size(old)
            self._entries[key] = entry
            self._bytes += self._size(entry)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= self._size(dropped)
            return entry

    def gzipped(self, key: Hashable, entry: _Entry) -> bytes:
        """The entry's body gzipped, compressed once and kept with it."""
        if entry.gzipped is None:
            # level 3: within 0.2% of level 6 on JSON, 3.4x faster (1.7 MB mesh: 14 vs 48 ms)
            packed = gzip.compress(entry.body, compresslevel=3, mtime=0)
            with self._lock:
                if self._entries.get(key) is entry:
                    self._bytes += len(packed)
                entry.gzipped = packed
        return entry.gzipped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @staticmethod
    def _size(entry: _Entry) -> int:
        return len(entry.body) + (len(entry.gzipped) if entry.gzipped else 0)


CACHE = ResponseCache(max_entries=512, max_bytes=256 * 1024 * 1024)


def etag_for(key: Hashable) -> str:
    """The strong ETag of a cache key under this build."""
    digest = hashlib.blake2b(f"{BUILD_ID}|{key!r}".encode(), digest_size=16).hexdigest()
    return f'"{digest}"'


def _matched_tag(request: Request, etag: str) -> str | None:
    """The tag (plain or gzip variant of `etag`) that the client's If-None-Match holds."""
    header = request.headers.get("if-none-match")
    if not header:
        return None
    if header.strip() == "*":
        return etag
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return next((t for t in (etag, _gzip_tag(etag)) if t in tags), None)


def _gzip_tag(etag: str) -> str:
    return etag[:-1] + '-gzip"'


def cached_json(
    request: Request,
    key: Hashable,
    compute: Callable[[], Any],
    *,
    max_age: int = DEFAULT_MAX_AGE,
) -> Response:
    """Answer a GET whose JSON is a pure function of `key` (route path + normalised query).

    A client holding the tag gets a 304 without any computation; otherwise the body comes from
    the cache or from `compute()` (a payload for `encode_json`, or bytes already encoded).
    Clients that accept gzip get large bodies compressed (compressed once per entry).
    """
    full_key = (request.scope.get("path", ""), key)
    etag = etag_for(full_key)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Encoding",
    }
    matched = _matched_tag(request, etag)
    if matched is not None:
        return Response(status_code=304, headers={**headers, "ETag": matched})
    entry = CACHE.get(full_key)
    if entry is None:
        payload = compute()
        body = payload if isinstance(payload, bytes) else encode_json(payload)
        entry = CACHE.put(full_key, _Entry(body))
    if len(entry.body) >= _GZIP_FROM and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        headers["ETag"] = _gzip_tag(etag)
        return Response(
            CACHE.gzipped(full_key, entry), media_type="application/json", headers=headers
        )
    return Response(entry.body, media_type="application/json", headers=headers)


# ---------------------------------------------------------------- unknown parameters


def _query_names(dependant: Dependant) -> set[str]:
    """Every query parameter a route declares, query models expanded into their fields."""
    names: set[str] = set()
    for f in dependant.query_params:
        annotation = f.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(m.alias or n for n, m in annotation.model_fields.items())
        else:
            names.add(f.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_DECLARED: dict[int, frozenset[str]] = {}


def reject_unknown_query(request: Request) -> None:
    """A 422 for a query parameter the route does not declare, with the closest valid name.

    A misspelt parameter would otherwise be ignored and the default answered silently
    (``pipeline?stage=8`` computing 4 stages).
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = _DECLARED.get(id(route))
    if declared is None:
        declared = _DECLARED.setdefault(id(route), frozenset(_query_names(route.dependant)))
    errors = []
    for name, value in request.query_params.multi_items():
        if name in declared:
            continue
        guess = closest(name, declared)
        hint = f"; did you mean {guess!r}?" if guess else ""
        valid = ", ".join(sorted(declared)) or "none"
        errors.append(
            {
                "type": "unknown_parameter",
                "loc": ("query", name),
                "msg": f"unknown parameter {name!r}{hint} (valid: {valid})",
                "input": value,
                "suggestion": guess,
            }
        )
    if errors:
        raise RequestValidationError(errors)


def api_router(*tags: str) -> APIRouter:
    """The router every /api/v1 module uses: the prefix, its tags, the unknown-parameter check."""
    return APIRouter(
        prefix="/api/v1",
        tags=list(tags),
        dependencies=[Depends(reject_unknown_query)],
        responses=ERROR_RESPONSES,
    )
