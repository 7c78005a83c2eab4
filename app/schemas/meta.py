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
