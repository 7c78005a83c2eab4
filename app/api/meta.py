"""Service-level endpoints: the published limits."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.common import json_response
from app.core.limits import LIMITS
from app.schemas.meta import LimitsResponse

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get(
    "/limits",
    response_model=LimitsResponse,
    summary="Every size limit the API enforces",
    description="Inputs past a limit are answered with a 422 naming the field and the limit "
    "(bodies past `request_body_bytes` with a 413).",
)
def get_limits(request: Request) -> Response:
    return json_response(
        request,
        {
            "limits": {
                k: {"value": v.value, "description": v.description} for k, v in LIMITS.items()
            }
        },
    )
