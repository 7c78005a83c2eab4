"""Query fields the planning endpoints share with /memory and /communication, declared once.

`declared(MemoryQuery, "layers")` is /memory's own declaration of `layers` (default,
description, example and bounds), so /throughput and /plan take a model exactly as /memory
does, and /plan's compute settings are /communication's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from app.core.parallel.memory_query import MemoryQuery

MODEL_FIELDS = ("model", "layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "mlp", "norm")
"""A preset name or a custom architecture, as /memory reads them."""


def declared(query_type: type[Any], name: str) -> Any:
    """A dataclass field declared as `query_type`'s `name` is."""
    f = query_type.__dataclass_fields__[name]
    return dataclasses.field(default=f.default, metadata=f.metadata)


@dataclass(frozen=True)
class ModelQuery:
    """The model (a preset or a custom architecture), the GPU and the sequence length."""

    model: str | None = declared(MemoryQuery, "model")
    layers: int | None = declared(MemoryQuery, "layers")
    hidden: int | None = declared(MemoryQuery, "hidden")
    heads: int | None = declared(MemoryQuery, "heads")
    kv_heads: int | None = declared(MemoryQuery, "kv_heads")
    ffn: int | None = declared(MemoryQuery, "ffn")
    vocab: int | None = declared(MemoryQuery, "vocab")
    mlp: Literal["swiglu", "gelu"] | None = declared(MemoryQuery, "mlp")
    norm: Literal["rmsnorm", "layernorm"] | None = declared(MemoryQuery, "norm")
    gpu: str = declared(MemoryQuery, "gpu")
    seq_len: int = declared(MemoryQuery, "seq_len")
