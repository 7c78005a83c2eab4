"""Assemble the bitmesh app: middleware, error handlers, static files, routers. No logic."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from app import errors, export, pages
from app.api import (
    collectives,
    examples,
    formats,
    inference,
    memory,
    mesh,
    meta,
    moe,
    pipeline,
    planning,
    presets,
    quantize,
)
from app.protocol import ProtocolMiddleware
from app.security import SecurityMiddleware
from app.templating import STATIC_DIR, STATIC_VERSION

DESCRIPTION = """
bitmesh computes how large language models are split across GPUs and how their numbers are
stored in low precision. Every GET is a pure function of its URL (cacheable, with an ETag).
Bad input gets a 422 naming the field; unknown names a 404 listing the valid ones; see
`/api/v1/limits` for every size bound. Non-finite floats are the strings "nan", "inf", "-inf".
"""


IMMUTABLE = "public, max-age=31536000, immutable"
_VERSION = re.compile(r"[0-9a-f]{12}")


class CachedStatic(StaticFiles):
    """Static assets. Under `/static/<version>/` (the hash of every static file, see
    app/templating.py) they never change, so they are cached for a year without revalidation;
    a stale version is still served, revalidated. Plain `/static/...` revalidates every load."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        head, _, rest = path.replace("\\", "/").partition("/")
        current = False
        if _VERSION.fullmatch(head) and rest:
            path, current = rest, head == STATIC_VERSION
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = (
            IMMUTABLE if current and response.status_code == 200 else "no-cache"
        )
        return response


def create_app() -> FastAPI:
    app = FastAPI(
        title="bitmesh API",
        version="1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by app/api/meta.py through cached_json (ETag, gzip)
    )
    app.add_middleware(SecurityMiddleware)
    app.add_middleware(ProtocolMiddleware)
    errors.install(app)
    app.mount("/static", CachedStatic(directory=str(STATIC_DIR)), name="static")
    for module in (meta, formats, quantize, presets, mesh, memory, pipeline, collectives):
        app.include_router(module.router)
    app.include_router(planning.router)  # issue 13: throughput decoder and layout planner
    app.include_router(moe.router)  # issue 11: expert and context parallelism
    app.include_router(inference.router)  # issue 12: serving
    app.include_router(meta.health)
    app.include_router(pages.router)
    app.include_router(export.router)
    examples.install(app)
    return app


app = create_app()
