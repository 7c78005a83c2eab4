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


@dataclass(frozen=True)
class AxisConvention:
    """A conventional mesh-axis name and what it means in Megatron-LM / JAX practice."""

    name: str
    title: str
    node_local: bool
    """Collectives on the critical path of every layer: the axis belongs inside a node."""


# Axes whose collectives sit on the critical path of every layer belong inside the fast
# intra-node domain (Megatron-LM, arXiv 2104.04473 §3.3: "tensor model parallelism is best
# used within a server"; expert all-to-all likewise, arXiv 2412.19437 §3.2.2).
AXIS_CONVENTIONS: tuple[AxisConvention, ...] = (
    AxisConvention("dp", "data-parallel", node_local=False),
    AxisConvention("tp", "tensor-parallel", node_local=True),
    AxisConvention("pp", "pipeline-parallel", node_local=False),
    AxisConvention("cp", "context-parallel", node_local=False),
    AxisConvention("ep", "expert-parallel", node_local=True),
    AxisConvention("sp", "sequence-parallel", node_local=True),
    AxisConvention("fsdp", "fully-sharded data-parallel", node_local=False),
)
_NODE_LOCAL_AXES = {c.name: c.title for c in AXIS_CONVENTIONS if c.node_local}
DATA_AXES = ("dp", "fsdp")
"""Axes that replicate the dense weights: with ep, the data-parallel degree (see `mesh_degrees`)."""

DEFAULT_AXES = "pp:2,dp:2,tp:4"
DEFAULT_GPUS_PER_NODE = 8  # DGX / HGX nodes: 8 GPUs on one NVLink switch


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
    """The inverse of `parse_axes`: ``format_axes(parse_axes(" dp:2, tp:4")) == "dp:2,tp:4"``."""
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


def _axis_stats(
    axis: Axis, index: int, shape: tuple[int, ...], groups: IntArray, node: IntArray
) -> AxisStats:
    """How the groups of one axis sit on the nodes."""
    if axis.size > 1:
        # Distinct nodes per group: the rows of node[groups] ascend (ranks ascend along a row).
        distinct = 1 + np.count_nonzero(np.diff(node[groups], axis=1), axis=1)
        nodes_per_group = int(distinct.max())
        spanning = int(np.count_nonzero(distinct > 1))
    else:
        nodes_per_group, spanning = 1, 0
    stride = int(np.prod(shape[index + 1 :], dtype=np.int64))
    return AxisStats(axis.name, axis.size, int(groups.shape[0]), stride, nodes_per_group, spanning)


def _spanning_warning(s: AxisStats, gpus_per_node: int) -> str | None:
    """Why a node-local axis (tp, ep, sp) has groups that leave their node, if it does."""
    kind = _NODE_LOCAL_AXES.get(s.name.lower())
    if not kind or not s.groups_spanning_nodes:
        return None
    if s.size > gpus_per_node:
        why = f"the axis size {s.size} is larger than a node ({gpus_per_node} GPUs)"
    elif s.stride > 1:
        why = (
            f"its ranks are {s.stride} apart (axes inside it multiply to {s.stride}); "
            f"move {s.name} innermost"
        )
    else:
        why = f"{gpus_per_node} GPUs per node is not a multiple of {s.size}"
    return (
        f"{s.groups_spanning_nodes} of {s.group_count} {kind} ({s.name}) groups span "
        f"{s.nodes_per_group} nodes: {why}; their collectives then run over the "
        "inter-node network instead of NVLink"
    )


def _warnings(axes: tuple[Axis, ...], stats: list[AxisStats], gpus_per_node: int) -> list[str]:
    """Layout problems a practitioner would want to know about."""
    world = int(np.prod([a.size for a in axes], dtype=np.int64))
    warnings: list[str] = []
    if world % gpus_per_node:
        warnings.append(
            f"world size {world} is not a multiple of gpus_per_node {gpus_per_node}: the last "
            f"node uses only {world % gpus_per_node} of its {gpus_per_node} GPUs"
        )
    warnings += [w for s in stats if (w := _spanning_warning(s, gpus_per_node))]
    inner = axes[-1]
    tp = next((a for a in axes if a.name.lower() == "tp"), None)
    if tp is not None and tp is not inner and tp.size > 1 and inner.size > 1:
        warnings.append(
            f"tp is not the innermost axis ({inner.name} is): Megatron-LM and Llama 3 "
            "place TP innermost so each TP group is a block of consecutive ranks"
        )
    return warnings


def _build(axes: tuple[Axis, ...], gpus_per_node: int) -> Mesh:
    shape = tuple(a.size for a in axes)
    ranks = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    node = ranks // gpus_per_node
    groups = {a.name: np.ascontiguousarray(axis_groups(shape, i)) for i, a in enumerate(axes)}
    stats = [_axis_stats(a, i, shape, groups[a.name], node) for i, a in enumerate(axes)]
    return Mesh(
        axes=axes,
        gpus_per_node=gpus_per_node,
        coords=np.stack(np.unravel_index(ranks, shape), axis=1).astype(np.int64),
        node=node,
        local_rank=ranks % gpus_per_node,
        groups=groups,
        axis_stats=tuple(stats),
        warnings=tuple(_warnings(axes, stats, gpus_per_node)),
    )


@lru_cache(maxsize=8)
def _cached(axes: tuple[Axis, ...], gpus_per_node: int) -> Mesh:
    return _build(axes, gpus_per_node)


def build_mesh(axes: str | tuple[Axis, ...], gpus_per_node: int = DEFAULT_GPUS_PER_NODE) -> Mesh:
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


def mesh_degrees(axes: tuple[Axis, ...]) -> dict[str, int]:
    """The parallel degrees of a mesh, counted the way /api/v1/memory counts them.

    Expert parallelism is carved out of data parallelism (Megatron-LM): dense weights are
    replicated over the data axes *and* the ep axis, so ``dp`` counts every data-parallel rank
    and ep of them share out the experts. For DeepSeek-V3's ``pp:16,dp:2,ep:64``
    ``mesh_degrees(...) == {"dp": 128, "tp": 1, "pp": 16, "cp": 1, "ep": 64}``.
    """
    sizes = {a.name: a.size for a in axes}
    dp = sizes.get("ep", 1)
    for name in DATA_AXES:
        dp *= sizes.get(name, 1)
    return {"dp": dp, **{n: sizes.get(n, 1) for n in ("tp", "pp", "cp", "ep")}}


def degree_notes(axes: tuple[Axis, ...]) -> tuple[str, ...]:
    """How `mesh_degrees` read these axes, in words (for a response's `notes`)."""
    names = {a.name: a.size for a in axes}
    notes = []
    data = [n for n in DATA_AXES if n in names]
    if "ep" in names:
        parts = " × ".join(f"{n} {names[n]}" for n in (*data, "ep"))
        total = mesh_degrees(axes)["dp"]
        notes.append(
            f"dp = {parts} = {total}: dense weights are replicated over the data axes and ep, "
            f"so every one of those {total} ranks is data-parallel, and the experts are shared "
            f"out over the {names['ep']} ranks of each ep group (Megatron: EP is carved out of "
            "DP). /api/v1/memory and /api/v1/sharding/model count dp the same way."
        )
    known = {c.name for c in AXIS_CONVENTIONS}
    other = [n for n in names if n not in known]
    if other:
        notes.append(
            f"axes {', '.join(other)} have no conventional meaning here and are left out of "
            "`degrees`"
        )
    return tuple(notes)


@dataclass(frozen=True)
class MeshExample:
    """A small mesh that teaches one thing (the real layouts are the parallel presets)."""

    name: str
    title: str
    axes: str
    gpus_per_node: int
    notes: str


TEACHING_MESHES: tuple[MeshExample, ...] = (
    MeshExample(
        "teach-pp-dp-tp",
        "Teaching: pp 2 × dp 2 × tp 4 (16 GPUs)",
        DEFAULT_AXES,
        DEFAULT_GPUS_PER_NODE,
        "The default mesh: TP innermost, so each TP group is four consecutive ranks of a node.",
    ),
    MeshExample(
        "teach-tp-in-node",
        "Teaching: dp 4 × tp 4, TP inside each node",
        "dp:4,tp:4",
        4,
        "One TP group per 4-GPU node; DP groups cross the nodes.",
    ),
    MeshExample(
        "teach-tp-outermost",
        "Teaching: tp outermost, TP groups strided across nodes",
        "tp:4,dp:4",
        4,
        "The same 16 GPUs with the axes swapped: every TP group now spans four nodes.",
    ),
    MeshExample(
        "teach-tp-spans-nodes",
        "Teaching: tp 8 on 4-GPU nodes (TP spans nodes)",
        "dp:2,tp:8",
        4,
        "A TP group larger than a node cannot stay on NVLink.",
    ),
)
