"""Response models for service-level endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LimitInfo(BaseModel):
    value: int = Field(description="The bound itself.", examples=[128])
    description: str = Field(
        description="What is bounded.", examples=["Most pipeline ranks (stages) in one schedule."]
    )


class LimitsResponse(BaseModel):
    limits: dict[str, LimitInfo] = Field(
        description="Every limit by name.",
        examples=[{"pipeline_stages": {"value": 128, "description": "Most pipeline ranks."}}],
    )


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(
        description="Where the problem is: ['query', name], ['path', name] or ['body'].",
        examples=[["query", "stages"]],
    )
    msg: str = Field(
        description="What is wrong, in words.", examples=["Input should be less than 129"]
    )
    type: str = Field(
        description="Kind of error (unknown_parameter, not_found, value_error, too_large...).",
        examples=["unknown_parameter"],
    )
    input: object | None = Field(default=None, description="The value that was given.")
    valid: list[str] | None = Field(
        default=None, description="404 only: every valid name.", examples=[["1f1b", "gpipe"]]
    )
    suggestion: str | None = Field(
        default=None,
        description="The closest valid name or parameter, when one is close.",
        examples=["stages"],
    )


class ErrorResponse(BaseModel):
    detail: list[ErrorItem] = Field(description="One item per problem.")


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    304: {"description": "Not modified: the client's If-None-Match holds the current ETag."},
    404: {"model": ErrorResponse, "description": "An unknown name; `valid` lists the names."},
    413: {"model": ErrorResponse, "description": "A request body over request_body_bytes."},
    422: {
        "model": ErrorResponse,
        "description": "Bad input, an unknown parameter or a value past a limit; `loc` names it.",
    },
}
