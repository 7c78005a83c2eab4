"""Service-level endpoints: the published limits, the OpenAPI document, liveness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from app.api.common import api_router, cached_json
from app.core.limits import LIMITS
from app.schemas.meta import LimitsResponse

router = api_router("meta")


@router.get(
    "/limits",
    response_model=LimitsResponse,
    summary="Every size limit the API enforces",
    description="Inputs past a limit are answered with a 422 naming the field and the limit "
    "(bodies past `request_body_bytes` with a 413).",
)
def get_limits(request: Request) -> Response:
    return cached_json(request, "limits", _limits)


def _limits() -> dict[str, Any]:
    return {
        "limits": {k: {"value": v.value, "description": v.description} for k, v in LIMITS.items()}
    }


@router.get("/openapi.json", include_in_schema=False)
def get_openapi(request: Request) -> Response:
    """The OpenAPI document through the one response path (ETag, 304, gzip): the /docs page and
    the pages that read a parameter's choices from it get ~450 KB as ~50 KB, once."""
    return cached_json(request, "openapi", request.app.openapi)


health = APIRouter(tags=["meta"])


@health.get(
    "/healthz",
    summary="Liveness for load balancers",
    description='Always `{"status": "ok"}` while the process serves requests; never cached.',
)
def healthz() -> Response:
    return Response(
        b'{"status":"ok"}', media_type="application/json", headers={"Cache-Control": "no-store"}
    )
