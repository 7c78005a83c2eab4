"""The mesh and shard-map queries: their parameters, declared once, and the payloads they answer.

Each query is a frozen dataclass of `param(...)` fields (the API builds its request model from
them); `normalised()` spells every value the one way the core does (``" dp:2, tp:4"`` ->
``"dp:2,tp:4"``, ``columnar`` -> ``columns``), so equal questions share one cache entry and
the response can echo the parameters it used as `query`. The payloads are plain dicts of lists
and numpy arrays that one JSON encoder writes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from itertools import repeat
from typing import Any, Literal

import numpy as np

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.mesh import (
    AXIS_CONVENTIONS,
    DEFAULT_AXES,
    DEFAULT_GPUS_PER_NODE,
    TEACHING_MESHES,
    Mesh,
    build_mesh,
    degree_notes,
    format_axes,
    mesh_degrees,
    parse_axes,
)
from app.core.parallel.presets import PARALLEL_PRESETS, ParallelPreset
from app.core.parallel.sharding import (
    SHARDING_EXAMPLES,
    ShardMap,
    format_shape,
    format_spec,
    parse_shape,
    parse_spec,
    partition_spec,
    shard_map,
)
from app.core.params import effective, param

MeshFormat = Literal["records", "columns", "columnar"]
MESH_PARTS = ("ranks", "groups")
_AXES_HELP = "Axes outermost first as name:size, comma separated (JAX `Mesh` order)."


_gc_lock = threading.Lock()
_gc_pauses = 0


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large, acyclic payload is built.

    A 4,096-device shard map is ~50,000 fresh dicts and lists; the allocations trigger
    full collections that walk every object in the process, and building the body took 10 ms
    or 40-48 ms depending on whether one fell inside it. The payload holds no reference
    cycles, so reference counting frees it either way. Nested and concurrent pauses count:
    the collector is re-enabled when the last one ends (and only if it was on before).
    """
    global _gc_pauses
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_paused.was_enabled = gc.isenabled()  # type: ignore[attr-defined]
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_paused.was_enabled:  # type: ignore[attr-defined]
                gc.enable()


def _records(keys: tuple[str, ...], *columns: Any) -> list[dict[str, Any]]:
    """One dict per row: ``_records(("a", "b"), [1, 2], [3, 4]) == [{"a": 1, "b": 3}, ...]``."""
    return list(map(dict, map(zip, repeat(keys), zip(*columns, strict=True))))


# ---------------------------------------------------------------- mesh


@dataclass(frozen=True)
class MeshQuery:
    """GET /api/v1/mesh: a device mesh on nodes."""

    axes: str = param(DEFAULT_AXES, _AXES_HELP, example="dp:64,pp:16,cp:1,tp:8", max_length=200)
    gpus_per_node: int = param(
        DEFAULT_GPUS_PER_NODE,
        "GPUs per node (one NVLink domain).",
        example=8,
        ge=1,
        le=limit("gpus_per_node"),
    )
    format: MeshFormat = param(
        "records",
        "records: one object per rank (the contract); columns: per-rank arrays, smaller and "
        "faster (the name /api/v1/pipeline uses too). `columnar`, the old name of columns, is "
        "still accepted.",
        example="columns",
    )
    include: str = param(
        ",".join(MESH_PARTS),
        "Parts to send, comma separated: ranks, groups (empty: the summary only).",
        example="ranks",
        max_length=40,
    )

    def normalised(self) -> MeshQuery:
        """The same query spelt canonically (axes without spaces, parts in a fixed order)."""
        parts = {p.strip() for p in self.include.split(",") if p.strip()}
        bad = sorted(parts - set(MESH_PARTS))
        if bad:
            raise InvalidInput(
                "include", f"unknown part {bad[0]!r}; choose from {', '.join(MESH_PARTS)}"
            )
        return replace(
            self,
            axes=format_axes(parse_axes(self.axes)),
            format="columns" if self.format == "columnar" else self.format,
            include=",".join(p for p in MESH_PARTS if p in parts),
        )


def _rank_records(mesh: Mesh) -> list[dict[str, Any]]:
    coords = _records(mesh.axis_names, *mesh.coords.T.tolist())
    return [
        {"rank": r, "node": n, "local_rank": lr, "coords": c}
        for r, n, lr, c in zip(
            range(mesh.world_size),
            mesh.node.tolist(),
            mesh.local_rank.tolist(),
            coords,
            strict=True,
        )
    ]


def _rank_columns(mesh: Mesh) -> dict[str, Any]:
    coords = {n: np.ascontiguousarray(mesh.coords[:, i]) for i, n in enumerate(mesh.axis_names)}
    return {"node": mesh.node, "local_rank": mesh.local_rank, "coords": coords}


def compute_mesh(query: MeshQuery) -> dict[str, Any]:
    """The /api/v1/mesh payload: summary, degrees, warnings, then the parts `include` asks for.

    For example ``compute_mesh(MeshQuery("pp:2,dp:2,tp:4"))["ranks"][6]["coords"]`` is
    ``{"pp": 0, "dp": 1, "tp": 2}``.
    """
    q = query.normalised()
    mesh = build_mesh(q.axes, q.gpus_per_node)
    payload: dict[str, Any] = {
        "query": effective(q),
        "world_size": mesh.world_size,
        "axis_names": list(mesh.axis_names),
        "shape": list(mesh.shape),
        "gpus_per_node": mesh.gpus_per_node,
        "node_count": mesh.node_count,
        "format": q.format,
        "degrees": mesh_degrees(mesh.axes),
        "axis_stats": list(mesh.axis_stats),
        "warnings": list(mesh.warnings),
        "notes": list(degree_notes(mesh.axes)),
    }
    parts = q.include.split(",")
    if "ranks" in parts:
        with _gc_paused():
            ranks = _rank_records(mesh) if q.format == "records" else _rank_columns(mesh)
        payload["ranks"] = ranks
    if "groups" in parts:
        payload["groups"] = mesh.groups
    return payload


# ---------------------------------------------------------------- shard map


DEFAULT_SHARDING = SHARDING_EXAMPLES[0]
"""The worked example: a [16, 32] tensor on dp:2,tp:4, rows over dp and columns over tp."""


@dataclass(frozen=True)
class ShardingQuery:
    """GET /api/v1/sharding: which device holds which block of one tensor."""

    axes: str = param(DEFAULT_SHARDING.axes, _AXES_HELP, example="dp:2,tp:4", max_length=200)
    shape: str = param(
        DEFAULT_SHARDING.shape,
        f"Tensor shape, comma separated (1 to {limit('tensor_rank')} dimensions).",
        example="16,32",
        max_length=100,
    )
    spec: str | None = param(
        None,
        "One entry per dimension: a mesh axis, several joined by `+` (major to minor) or `_` "
        "(unsharded). Omitted: `_` for every dimension, i.e. replicated (JAX `P()`), except "
        f"for the worked example (axes {DEFAULT_SHARDING.axes}, shape {DEFAULT_SHARDING.shape}"
        f"), whose spec is {DEFAULT_SHARDING.spec}. `query.spec` echoes the spec used.",
        example="dp,tp",
        max_length=200,
    )

    def normalised(self) -> ShardingQuery:
        """Axes, shape and spec spelt canonically, an omitted spec filled in (see `spec`)."""
        axes = format_axes(parse_axes(self.axes))
        dims = parse_shape(self.shape)
        if self.spec is not None:
            spec = format_spec(parse_spec(self.spec))
        elif (axes, format_shape(dims)) == (DEFAULT_SHARDING.axes, DEFAULT_SHARDING.shape):
            spec = DEFAULT_SHARDING.spec
        else:
            spec = format_spec(tuple(() for _ in dims))
        return replace(self, axes=axes, shape=format_shape(dims), spec=spec)


def _devices(sm: ShardMap) -> list[dict[str, Any]]:
    names = [a.name for a in sm.axes]
    ranks = np.arange(sm.world_size, dtype=np.int64)
    coords = np.unravel_index(ranks, [a.size for a in sm.axes])
    index = np.stack([sm.start, sm.stop], axis=2).tolist()
    return [
        {"rank": r, "coords": c, "index": i, "block": b, "block_id": f, "replica": p}
        for r, c, i, b, f, p in zip(
            range(sm.world_size),
            _records(tuple(names), *(c.tolist() for c in coords)),
            index,
            sm.block.tolist(),
            sm.block_id.tolist(),
            sm.replica.tolist(),
            strict=True,
        )
    ]


def _blocks(sm: ShardMap) -> list[dict[str, Any]]:
    block = sm.block_index
    size = np.asarray(sm.shard_shape, dtype=np.int64)
    index = np.stack([block * size, (block + 1) * size], axis=2).tolist()
    return [
        {"block": b, "index": i, "ranks": r}
        for b, i, r in zip(block.tolist(), index, sm.block_ranks.tolist(), strict=True)
    ]


def _device_and_block_records(sm: ShardMap) -> dict[str, list[dict[str, Any]]]:
    with _gc_paused():
        return {"devices": _devices(sm), "blocks": _blocks(sm)}


def compute_sharding(query: ShardingQuery) -> dict[str, Any]:
    """The /api/v1/sharding payload: summary, then one record per device and per block.

    For example on dp:2,tp:4 a [16, 32] tensor with spec dp,tp has shard shape [8, 8] and
    device 6 holds ``index == [[8, 16], [16, 24]]``.
    """
    q = query.normalised()
    assert q.spec is not None
    sm = shard_map(q.axes, q.shape, q.spec)
    elements = int(np.prod(sm.shape, dtype=object))
    per_device = int(np.prod(sm.shard_shape, dtype=object))
    return {
        "query": effective(q),
        "axis_names": [a.name for a in sm.axes],
        "mesh_shape": [a.size for a in sm.axes],
        "world_size": sm.world_size,
        "shape": list(sm.shape),
        "spec": [list(e) for e in sm.spec],
        "spec_text": q.spec,
        "partition_spec": partition_spec(sm.spec),
        "grid": list(sm.grid),
        "block_count": int(sm.block_ranks.shape[0]),
        "shard_shape": list(sm.shard_shape),
        "elements": elements,
        "elements_per_device": per_device,
        "replicated_axes": list(sm.replicated_axes),
        "replication": sm.replication,
        **_device_and_block_records(sm),
    }


# ---------------------------------------------------------------- presets


def parallel_preset_info(p: ParallelPreset) -> dict[str, Any]:
    """A published layout with its world size, its degrees and its /api/v1/memory query.

    `degrees` (from the mesh axes) and `memory_query` count dp the same way: DeepSeek-V3's
    ``pp:16,dp:2,ep:64`` is ``dp=128&ep=64`` in both.
    """
    return {
        **asdict(p),
        "world_size": p.world_size,
        "degrees": mesh_degrees(parse_axes(p.axes)),
        "memory_query": p.memory_query(),
    }


def mesh_presets() -> dict[str, list[dict[str, Any]]]:
    """What the /mesh page offers: the published layouts, then the teaching meshes, and the
    conventional axis names (the ones `degrees` and the warnings understand)."""
    published = [
        {
            "name": p.name,
            "title": p.title,
            "kind": "published",
            "axes": p.axes,
            "gpus_per_node": p.gpus_per_node,
            "source": p.source,
            "notes": p.notes,
            "memory_query": p.memory_query(),
        }
        for p in PARALLEL_PRESETS.values()
    ]
    teaching = [
        {**asdict(m), "kind": "teaching", "source": "", "memory_query": None}
        for m in TEACHING_MESHES
    ]
    return {"meshes": published + teaching, "axes": [asdict(c) for c in AXIS_CONVENTIONS]}


def sharding_examples() -> list[dict[str, Any]]:
    """The shard maps the /sharding page offers as examples (each a valid query)."""
    return [asdict(e) for e in SHARDING_EXAMPLES]
