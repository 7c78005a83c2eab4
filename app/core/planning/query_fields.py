"""Query fields the planning endpoints share with /memory, declared once (in `MemoryQuery`).

`memory_field("layers")` is /memory's own declaration of `layers` (default, description,
example and bounds), so /throughput and /plan take a model exactly as /memory does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.core.parallel.memory_query import MemoryQuery

MODEL_FIELDS = ("model", "layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "mlp", "norm")
"""A preset name or a custom architecture, as /memory reads them."""


def memory_field(name: str) -> Any:
    """A dataclass field declared as /memory's `name` is."""
    f = MemoryQuery.__dataclass_fields__[name]
    return dataclasses.field(default=f.default, metadata=f.metadata)
