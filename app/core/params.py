"""Query parameters declared once, in the core, beside the query type that uses them.

A core query type is a frozen dataclass whose fields are declared with `param(...)`: the
default, the description, an example and the bounds (usually one of `app.core.limits`). The
API builds its request model from these declarations (`app.schemas.query`), so a parameter's
name, type, default and limit exist in exactly one place, and a notebook user constructs the
same dataclass with the same defaults and no server.

For example::

    @dataclass(frozen=True)
    class PipelineQuery:
        stages: int = param(4, "Pipeline ranks (devices) p.", ge=1, le=limit("pipeline_stages"))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_KEY = "bitmesh.param"


@dataclass(frozen=True)
class ParamSpec:
    """What the API says about one parameter (OpenAPI description, example and bounds)."""

    description: str
    example: Any = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    max_length: int | None = None


def param(
    default: Any,
    description: str,
    *,
    example: Any = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    max_length: int | None = None,
) -> Any:
    """A dataclass field that is also an API query parameter (see the module docstring)."""
    spec = ParamSpec(description, example, ge, gt, le, max_length)
    return dataclasses.field(default=default, metadata={_KEY: spec})


def spec_of(f: dataclasses.Field[Any]) -> ParamSpec | None:
    """The `ParamSpec` of a dataclass field declared with `param`, else None."""
    spec = f.metadata.get(_KEY)
    return spec if isinstance(spec, ParamSpec) else None


def effective(query: Any) -> dict[str, Any]:
    """Every parameter of a query dataclass with its value, defaults filled in.

    This is what a response echoes as `query`, so a client sees exactly what was computed.
    """
    return {f.name: getattr(query, f.name) for f in dataclasses.fields(query) if spec_of(f)}
