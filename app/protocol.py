"""HTTP details every route shares: HEAD for every GET, and CORS for the JSON API.

- FastAPI routes declared with ``@router.get`` answer only GET; RFC 9110 §9.3.2 says a server
  should answer HEAD wherever it answers GET, with the same headers and no body. This
  middleware runs HEAD as a GET and drops the body, keeping Content-Length.
- The API is public and read-only (no cookies, no credentials), so any origin may call it
  from a script: ``Access-Control-Allow-Origin: *`` on every /api/ response, the ETag exposed
  so a page can revalidate, and preflights (OPTIONS) answered here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"ETag, Content-Length"),
]
_PREFLIGHT = [
    *_CORS,
    (b"access-control-allow-methods", b"GET, HEAD, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type, If-None-Match"),
    (b"access-control-max-age", b"86400"),
]


class ProtocolMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/")
        method = scope.get("method")
        if api and method == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
            await send({"type": "http.response.body", "body": b""})
            return
        head = method == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def reply(message: Message) -> None:
            if message["type"] == "http.response.start" and api:
                message["headers"] = [*message.get("headers", []), *_CORS]
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, reply)
