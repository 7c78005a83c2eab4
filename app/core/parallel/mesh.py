"""Device meshes: named axes, rank <-> coordinates, communication groups, nodes.

Semantics follow JAX's `Mesh`: `axes` lists axes outermost first and rank r has the coordinates
of r in ``numpy.arange(world).reshape(sizes)``, so the last axis varies fastest across
consecutive ranks. For example in ``pp:2,dp:2,tp:4`` rank 6 is (pp 0, dp 1, tp 2), its TP group
is [4, 5, 6, 7] and its PP group is [6, 14].

Everything is computed with numpy on whole arrays so a 65,536-rank mesh costs milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit

IntArray = npt.NDArray[np.int64]

_AXIS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")

# Axes whose collectives sit on the critical path of every layer, so they belong inside the
# fast intra-node domain (Megatron-LM, arXiv 2104.04473 §3.3: "tensor model parallelism is
# best used within a server"; expert all-to-all likewise, arXiv 2412.19437 §3.2.2).
_NODE_LOCAL_AXES = {"tp": "tensor-parallel", "ep": "expert-parallel", "sp": "sequence-parallel"}


@dataclass(frozen=True)
class Axis:
    name: str
    size: int


def parse_axes(text: str, field: str = "axes") -> tuple[Axis, ...]:
    """Parse ``"pp:2,dp:2,tp:4"`` into axes, outermost first.

    For example ``parse_axes("dp:2,tp:4") == (Axis("dp", 2), Axis("tp", 4))``.
    """
    text = text.strip()
    if not text:
        raise InvalidInput(field, "give at least one axis as name:size, e.g. dp:2,tp:4")
    axes: list[Axis] = []
    for part in text.split(","):
        name, sep, size_text = part.strip().partition(":")
        name = name.strip()
        size_text = size_text.strip()
        if not sep or not name or not size_text:
            raise InvalidInput(field, f"{part.strip()!r} is not name:size (e.g. tp:8)")
        if not _AXIS_NAME.match(name):
            raise InvalidInput(
                field,
                f"axis name {name!r} must start with a letter and use only letters, digits "
                "and _ (at most 16 characters)",
            )
        if not re.fullmatch(r"[0-9]+", size_text):
            raise InvalidInput(field, f"size of axis {name!r} must be a positive integer")
        if len(size_text) > 9:
            raise InvalidInput(field, f"size of axis {name!r} exceeds {limit('mesh_ranks')} ranks")
        size = int(size_text)
        if size < 1:
            raise InvalidInput(field, f"size of axis {name!r} must be at least 1")
        axes.append(Axis(name, size))
    return validate_axes(axes, field)


def validate_axes(axes: list[Axis] | tuple[Axis, ...], field: str = "axes") -> tuple[Axis, ...]:
    names = [a.name for a in axes]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidInput(field, f"axis {dup[0]!r} appears more than once; name each axis once")
    if len(axes) > limit("mesh_axes"):
        raise InvalidInput(field, f"{len(axes)} axes; at most {limit('mesh_axes')} are allowed")
    world = 1
    for a in axes:
        if a.size < 1:
            raise InvalidInput(field, f"size of axis {a.name!r} must be at least 1")
        world *= a.size
        if world > limit("mesh_ranks"):
            break
    if world > limit("mesh_ranks"):
        raise InvalidInput(
            field,
            f"world size (product of axis sizes) exceeds the limit of {limit('mesh_ranks')} ranks",
        )
    return tuple(axes)


def format_axes(axes: tuple[Axis, ...]) -> str:
    return ",".join(f"{a.name}:{a.size}" for a in axes)


@dataclass(frozen=True, eq=False)
class AxisStats:
    """How one axis's groups sit on the machine."""

    name: str
    size: int
    group_count: int
    stride: int
    """Rank distance between neighbours in a group (product of the sizes of inner axes)."""
    nodes_per_group: int
    """Most distinct nodes any one group touches (1 = every group stays inside a node)."""
    groups_spanning_nodes: int


@dataclass(frozen=True, eq=False)
class Mesh:
    """A device mesh laid out on nodes of `gpus_per_node` GPUs (rank // gpus_per_node)."""

    axes: tuple[Axis, ...]
    gpus_per_node: int
    coords: IntArray
    """(world, n_axes): coordinates of every rank."""
    node: IntArray
    local_rank: IntArray
    groups: dict[str, IntArray]
    """axis -> (group_count, axis size) ranks; each row in ascending order of that axis."""
    axis_stats: tuple[AxisStats, ...]
    warnings: tuple[str, ...]

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.axes)

    @property
    def world_size(self) -> int:
        return int(self.coords.shape[0])

    @property
    def node_count(self) -> int:
        return -(-self.world_size // self.gpus_per_node)

    def rank_of(self, coords: dict[str, int] | tuple[int, ...]) -> int:
        """Rank of a coordinate tuple (or {axis: i}); inverse of `coords`."""
        if isinstance(coords, dict):
            coords = tuple(coords[a.name] for a in self.axes)
        return int(np.ravel_multi_index(coords, self.shape))

    def ranks_of(self, coords: IntArray) -> IntArray:
        """Vectorised rank of an (n, n_axes) coordinate array."""
        return np.ravel_multi_index(tuple(coords.T), self.shape).astype(np.int64)

    def groups_of(self, rank: int) -> dict[str, list[int]]:
        """Every group `rank` belongs to, per axis."""
        out: dict[str, list[int]] = {}
        for i, a in enumerate(self.axes):
            stride = int(np.prod(self.shape[i + 1 :], dtype=np.int64))
            base = rank - int(self.coords[rank, i]) * stride
            out[a.name] = [base + k * stride for k in range(a.size)]
        return out


def axis_groups(shape: tuple[int, ...], axis: int) -> IntArray:
    """Groups along `axis`: ranks agreeing on every other coordinate.

    For example ``axis_groups((2, 4), 0).tolist() == [[0, 4], [1, 5], [2, 6], [3, 7]]``.
    Groups are ordered by their lowest rank; each is in ascending order of the axis coordinate.
    """
    world = int(np.prod(shape, dtype=np.int64))
    ranks = np.arange(world, dtype=np.int64).reshape(shape)
    return np.moveaxis(ranks, axis, -1).reshape(-1, shape[axis])


def _build(axes: tuple[Axis, ...], gpus_per_node: int) -> Mesh:
    shape = tuple(a.size for a in axes)
    world = int(np.prod(shape, dtype=np.int64))
    ranks = np.arange(world, dtype=np.int64)
    coords = np.stack(np.unravel_index(ranks, shape), axis=1).astype(np.int64)
    node = ranks // gpus_per_node
    local_rank = ranks % gpus_per_node
    groups: dict[str, IntArray] = {}
    stats: list[AxisStats] = []
    warnings: list[str] = []
    if world % gpus_per_node:
        warnings.append(
            f"world size {world} is not a multiple of gpus_per_node {gpus_per_node}: the last "
            f"node uses only {world % gpus_per_node} of its {gpus_per_node} GPUs"
        )
    for i, a in enumerate(axes):
        g = axis_groups(shape, i)
        groups[a.name] = g
        gn = node[g]
        if a.size > 1:
            # Distinct nodes per group: the rows of gn are ascending (ranks ascend along a row).
            distinct = 1 + np.count_nonzero(np.diff(gn, axis=1), axis=1)
            nodes_per_group = int(distinct.max())
            spanning = int(np.count_nonzero(distinct > 1))
        else:
            nodes_per_group, spanning = 1, 0
        stride = int(np.prod(shape[i + 1 :], dtype=np.int64))
        stats.append(AxisStats(a.name, a.size, int(g.shape[0]), stride, nodes_per_group, spanning))
        kind = _NODE_LOCAL_AXES.get(a.name.lower())
        if kind and spanning:
            if a.size > gpus_per_node:
                why = f"the axis size {a.size} is larger than a node ({gpus_per_node} GPUs)"
            elif stride > 1:
                why = (
                    f"its ranks are {stride} apart (axes inside it multiply to {stride}); "
                    f"move {a.name} innermost"
                )
            else:
                why = f"{gpus_per_node} GPUs per node is not a multiple of {a.size}"
            warnings.append(
                f"{spanning} of {g.shape[0]} {kind} ({a.name}) groups span "
                f"{nodes_per_group} nodes: {why}; their collectives then run over the "
                "inter-node network instead of NVLink"
            )
    if len(axes) > 1:
        inner = axes[-1]
        tp_axes = [a for a in axes if a.name.lower() == "tp"]
        if tp_axes and tp_axes[0] is not inner and tp_axes[0].size > 1 and inner.size > 1:
            warnings.append(
                f"tp is not the innermost axis ({inner.name} is): Megatron-LM and Llama 3 "
                "place TP innermost so each TP group is a block of consecutive ranks"
            )
    return Mesh(
        axes=axes,
        gpus_per_node=gpus_per_node,
        coords=coords,
        node=node,
        local_rank=local_rank,
        groups=groups,
        axis_stats=tuple(stats),
        warnings=tuple(warnings),
    )


@lru_cache(maxsize=8)
def _cached(axes: tuple[Axis, ...], gpus_per_node: int) -> Mesh:
    return _build(axes, gpus_per_node)


def build_mesh(axes: str | tuple[Axis, ...], gpus_per_node: int = 8) -> Mesh:
    """Build a mesh from ``"dp:64,pp:16,cp:1,tp:8"`` (or parsed axes).

    For example ``build_mesh("pp:2,dp:2,tp:4").groups["pp"][0].tolist() == [0, 8]``.
    Arrays of the result are shared between calls: treat them as read-only.
    """
    axes = parse_axes(axes) if isinstance(axes, str) else validate_axes(axes)
    if gpus_per_node < 1 or gpus_per_node > limit("gpus_per_node"):
        raise InvalidInput(
            "gpus_per_node", f"must be between 1 and {limit('gpus_per_node')} GPUs per node"
        )
    mesh = _cached(axes, gpus_per_node)
    for arr in (mesh.coords, mesh.node, mesh.local_rank, *mesh.groups.values()):
        arr.flags.writeable = False
    return mesh
