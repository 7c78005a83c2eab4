"""Query strings that open a layout on the other views (/memory, /communication, /pipeline,
/mesh) with exactly its parameters."""

from __future__ import annotations

from typing import Any

from app.core.parallel.memory_query import MemoryQuery
from app.core.params import effective


def _value(v: Any) -> str:
    """As a URL carries it: ``true``, ``300000000000`` (not 3e+11 or 300000000000.0), ``60.1``."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return str(v)


def query_string(query: Any, base: Any) -> str:
    """The parameters of dataclass `query` that differ from `base` (same type), as k=v&...

    For example ``query_string(MemoryQuery(model="llama3-8b", tp=2), MemoryQuery())`` is
    ``"model=llama3-8b&tp=2"``.
    """
    defaults = effective(base)
    pairs = [(k, v) for k, v in effective(query).items() if v is not None and v != defaults[k]]
    return "&".join(f"{k}={_value(v)}" for k, v in pairs)


def memory_query_string(q: MemoryQuery) -> str:
    """What reproduces `q`'s memory on /api/v1/memory (defaults left out)."""
    return query_string(q, MemoryQuery())


def mesh_axes(tp: int, cp: int, pp: int, dp: int, ep: int) -> str:
    """The /mesh axes of a Megatron rank order (TP innermost, then CP, EP inside DP, DP, PP),
    outermost first: ``mesh_axes(8, 1, 4, 2, 1) == "pp:4,dp:2,cp:1,tp:8"``."""
    data = f"dp:{dp // ep},ep:{ep}" if ep > 1 and dp % ep == 0 else f"dp:{dp}"
    return f"pp:{pp},{data},cp:{cp},tp:{tp}"
