"""Error responses: JSON under /api (FastAPI's `detail` list), HTML for pages.

The core raises `InvalidInput` / `UnknownName`; these handlers turn them into the contract's
422 (field named in `loc`) and 404 (valid names listed), so routers never catch anything.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.encoding import to_jsonable
from app.core.errors import InvalidInput, UnknownName
from app.templating import templates


def _is_api(request: Request) -> bool:
    # scope["path"] is already decoded; request.url would re-parse the raw query strictly.
    return str(request.scope.get("path", "")).startswith("/api/")


def _where(request: Request) -> str:
    return "body" if request.method in {"POST", "PUT", "PATCH"} else "query"


def _html_error(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "message": message, "layout": "base.html"},
        status_code=status,
    )


def _json(status: int, detail: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": to_jsonable(detail)})


async def invalid_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput)
    where = "path" if exc.field in request.path_params else _where(request)
    detail = [{"loc": [where, exc.field], "msg": exc.msg, "type": "value_error"}]
    if _is_api(request):
        return _json(422, detail)
    return _html_error(request, 422, "That input cannot be used", f"{exc.field}: {exc.msg}")


async def unknown_name(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnknownName)
    where = "path" if exc.field in request.path_params else _where(request)
    hint = f" (did you mean {exc.suggestion!r}?)" if exc.suggestion else ""
    msg = f"unknown {exc.kind} {exc.name!r}{hint}; valid names: {', '.join(exc.valid)}"
    detail = [
        {
            "loc": [where, exc.field],
            "msg": msg,
            "type": "not_found",
            "valid": exc.valid,
            "suggestion": exc.suggestion,
        }
    ]
    if _is_api(request):
        return _json(404, detail)
    return _html_error(request, 404, f"No such {exc.kind}", msg)


def _short(value: Any) -> Any:
    """The offending input, or a summary of it when echoing it would repeat a large body."""
    if isinstance(value, list | dict) and len(value) > 8:
        return f"<{type(value).__name__} of {len(value)} items>"
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            k: _short(v) if k == "input" else v
            for k, v in err.items()
            if k in {"loc", "msg", "type", "input", "suggestion"}
        }
        for err in exc.errors()
    ]
    if _is_api(request):
        return _json(422, errors)
    msg = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors)
    return _html_error(request, 422, "That input cannot be used", msg)


# FastAPI's answer when it cannot read a JSON body at all (json.loads raised, e.g. nested
# past Python's recursion limit): bad input like any other, so a 422 on the body.
_UNREADABLE_BODY = "There was an error parsing the body"


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request) and exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
        msg = "the body could not be read as JSON (nested too deeply?)"
        return _json(422, [{"loc": ["body"], "msg": msg, "type": "json_invalid"}])
    if _is_api(request):
        detail: Any = exc.detail
        if isinstance(detail, str):
            detail = [{"loc": ["path"], "msg": detail, "type": "http_error"}]
        return _json(exc.status_code, detail)
    titles = {404: "Page not found", 405: "Method not allowed"}
    return _html_error(
        request,
        exc.status_code,
        titles.get(exc.status_code, "Something went wrong"),
        str(exc.detail) if exc.status_code != 404 else f"Nothing lives at {request.url.path}.",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(InvalidInput, invalid_input)
    app.add_exception_handler(UnknownName, unknown_name)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
