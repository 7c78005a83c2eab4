"""Assemble the bitmesh app: middleware, error handlers, static files, routers. No logic."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import errors, pages
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
    presets,
    quantize,
)
from app.protocol import ProtocolMiddleware
from app.security import SecurityMiddleware
from app.templating import STATIC_DIR

DESCRIPTION = """
bitmesh computes how large language models are split across GPUs and how their numbers are
stored in low precision. Every GET is a pure function of its URL (cacheable, with an ETag).
Bad input gets a 422 naming the field; unknown names a 404 listing the valid ones; see
`/api/v1/limits` for every size bound. Non-finite floats are the strings "nan", "inf", "-inf".
"""


class CachedStatic(StaticFiles):
    """Static assets, revalidated with ETag on every load (no build step, so no hashed names)."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def create_app() -> FastAPI:
    app = FastAPI(
        title="bitmesh API",
        version="1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.add_middleware(SecurityMiddleware)
    app.add_middleware(ProtocolMiddleware)
    errors.install(app)
    app.mount("/static", CachedStatic(directory=str(STATIC_DIR)), name="static")
    for module in (meta, formats, quantize, presets, mesh, memory, pipeline, collectives):
        app.include_router(module.router)
    app.include_router(moe.router)  # issue 11: expert and context parallelism
    app.include_router(inference.router)  # issue 12: serving
    app.include_router(meta.health)
    app.include_router(pages.router)
    examples.install(app)
    return app


app = create_app()
