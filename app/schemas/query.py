"""Request models built from the core's query dataclasses (`app.core.params`).

FastAPI reads a Pydantic model as a set of query parameters (``Annotated[Model, Query()]``).
`query_model` writes that model from the dataclass, so the router, the OpenAPI document and
the core share one declaration per parameter, and `to_query` turns the validated model back
into the core's frozen dataclass.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.core.params import spec_of

Q = TypeVar("Q")


@cache
def query_model(query_type: type[Any]) -> type[BaseModel]:
    """A Pydantic model with one field per `param(...)` field of `query_type`."""
    hints = typing.get_type_hints(query_type)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(query_type):
        spec = spec_of(f)
        if spec is None:
            continue
        examples = [spec.example] if spec.example is not None else None
        fields[f.name] = (
            hints[f.name],
            Field(
                default=f.default,
                description=spec.description,
                examples=examples,
                ge=spec.ge,
                gt=spec.gt,
                le=spec.le,
                max_length=spec.max_length,
            ),
        )
    name = query_type.__name__ + "Params"
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def to_query(query_type: type[Q], model: BaseModel) -> Q:
    """The core's query dataclass holding the validated values of `model`."""
    return query_type(**model.model_dump())
