"""Security headers and request-size guards, as one pure ASGI middleware.

Every response gets a strict CSP (no inline script), `nosniff` and a referrer policy. Only
`/embed/*` may be framed by other sites; every other page says `frame-ancestors 'self'`.
Bodies over the published limit are refused with 413 before they are read.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.limits import limit

CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; "
)


def csp_for(path: str) -> str | None:
    """The page's CSP; None for standalone exports, which carry their own (a meta tag that
    allows their inline scripts by hash and no connections)."""
    if path.startswith("/export/"):
        return None
    ancestors = "*" if path.startswith("/embed/") or path == "/embed" else "'self'"
    return CSP_BASE + f"frame-ancestors {ancestors}"


def _error(status: int, loc: list[str], msg: str, kind: str) -> tuple[int, bytes]:
    body = {"detail": [{"loc": loc, "msg": msg, "type": kind}]}
    return status, json.dumps(body).encode()


class SecurityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.max_body = limit("request_body_bytes")
        self.max_query = limit("query_string_bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = csp_for(path)
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        ]
        if csp is not None:
            extra.append((b"content-security-policy", csp.encode()))
        if not (path.startswith("/embed/") or path == "/embed"):
            extra.append((b"x-frame-options", b"SAMEORIGIN"))

        too_large = _error(
            413, ["body"], f"body is over the limit of {self.max_body} bytes", "too_large"
        )
        cut = _Cut()

        async def send_with_headers(message: Message) -> None:
            if cut.over:
                # The app saw the cut as a broken body (FastAPI answers 400): answer 413 instead.
                if message["type"] == "http.response.start":
                    message = {**message, "status": 413, "headers": [_JSON]}
                elif message["type"] == "http.response.body":
                    if cut.answered:
                        return
                    cut.answered = True
                    message = {"type": "http.response.body", "body": too_large[1]}
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in extra}
                ]
                message["headers"] = headers + extra
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            status, body = refusal
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        limited_receive = (
            self._limit_receive(receive, cut) if scope.get("method") == "POST" else receive
        )
        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            if cut.answered:
                return
            status, body = too_large
            cut.over = False
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope) -> tuple[int, bytes] | None:
        query: bytes = scope.get("query_string", b"")
        try:
            query.decode("utf-8")
        except UnicodeDecodeError:
            return _error(422, ["query"], "query string is not valid UTF-8", "invalid")
        if len(query) > self.max_query:
            return _error(
                422,
                ["query"],
                f"query string is over the limit of {self.max_query} bytes",
                "too_long",
            )
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return _error(400, ["header", "content-length"], "not an integer", "invalid")
                if length > self.max_body:
                    return _error(
                        413,
                        ["body"],
                        f"body is over the limit of {self.max_body} bytes",
                        "too_large",
                    )
        return None

    def _limit_receive(self, receive: Receive, cut: _Cut) -> Receive:
        seen = 0
        max_body = self.max_body

        async def limited() -> Message:
            nonlocal seen
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_body:
                    cut.over = True
                    raise _BodyTooLarge
            return message

        return limited


class _BodyTooLarge(Exception):
    pass


class _Cut:
    """A streamed body's state: `over` once it passed the limit, `answered` once 413 is sent."""

    def __init__(self) -> None:
        self.over = False
        self.answered = False


_JSON = (b"content-type", b"application/json")
