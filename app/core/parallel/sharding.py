"""Shard maps: which device holds which slice of a tensor, with JAX `NamedSharding` semantics.

A spec has one entry per tensor dimension: a mesh axis name, several joined by ``+`` (major to
minor, like ``P(('dp', 'tp'))``) or ``_`` (not sharded). Mesh axes the spec does not name
replicate the tensor. For example on ``dp:2,tp:4`` a (16, 32) tensor with spec ``dp,tp`` has
shard shape (8, 8); rank 6 = (dp 1, tp 2) holds rows [8, 16) and columns [16, 24).

`replica` follows JAX (`jax._src.sharding_impls.device_replica_id_map`): devices are visited in
mesh order and each device holding an index already seen gets the next replica id, which equals
the mixed-radix number of the replicated axes' coordinates, major to minor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.mesh import Axis, IntArray, parse_axes, validate_axes

Spec = tuple[tuple[str, ...], ...]


def parse_shape(text: str, field: str = "shape") -> tuple[int, ...]:
    """Parse ``"16,32"`` into (16, 32)."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    if not parts:
        raise InvalidInput(field, "give at least one dimension, e.g. 16,32")
    if len(parts) > limit("tensor_rank"):
        raise InvalidInput(
            field, f"{len(parts)} dimensions; at most {limit('tensor_rank')} are allowed"
        )
    dims: list[int] = []
    for p in parts:
        # ASCII only: str.isdigit() is also true for "²", which int() rejects
        if not (p.isascii() and p.isdigit()) or len(p) > 16:
            raise InvalidInput(
                field, f"{p!r} is not a positive integer dimension: use digits 0-9, e.g. 16,32"
            )
        d = int(p)
        if d < 1 or d > limit("tensor_dim"):
            raise InvalidInput(field, f"each dimension must be between 1 and {limit('tensor_dim')}")
        dims.append(d)
    return tuple(dims)


def format_shape(shape: tuple[int, ...]) -> str:
    """The inverse of `parse_shape`: ``format_shape((16, 32)) == "16,32"``."""
    return ",".join(map(str, shape))


def parse_spec(text: str, field: str = "spec") -> Spec:
    """Parse ``"dp+tp,_"`` into (("dp", "tp"), ()); ``"dp tp"`` means the same."""
    entries: list[tuple[str, ...]] = []
    for part in text.split(","):
        part = part.strip()
        if part in ("_", "None", "none"):
            entries.append(())
            continue
        # "+" arrives as a space when a URL query is not percent-encoded (dp+tp -> "dp tp").
        names = tuple(re.split(r"\s*\+\s*|\s+", part))
        if not part or any(not n for n in names):
            raise InvalidInput(
                field, f"{part!r} is not an axis name, names joined by '+', or '_' (unsharded)"
            )
        entries.append(names)
    return tuple(entries)


def format_spec(spec: Spec) -> str:
    """The inverse of `parse_spec`: ``format_spec((("dp", "tp"), ())) == "dp+tp,_"``."""
    return ",".join("+".join(e) if e else "_" for e in spec)


def partition_spec(spec: Spec) -> str:
    """The spec as JAX writes it.

    For example ``partition_spec((("dp", "tp"), ())) == "P(('dp', 'tp'), None)"``.
    """

    def entry(names: tuple[str, ...]) -> str:
        if not names:
            return "None"
        if len(names) == 1:
            return f"'{names[0]}'"
        return "(" + ", ".join(f"'{n}'" for n in names) + ")"

    return "P(" + ", ".join(entry(e) for e in spec) + ")"


@dataclass(frozen=True, eq=False)
class ShardMap:
    axes: tuple[Axis, ...]
    shape: tuple[int, ...]
    spec: Spec
    grid: tuple[int, ...]
    """Shards per tensor dimension."""
    shard_shape: tuple[int, ...]
    replicated_axes: tuple[str, ...]
    replication: int
    """Devices holding each block."""
    block: IntArray
    """(world, ndim) block coordinates of each device."""
    start: IntArray
    stop: IntArray
    replica: IntArray
    block_ranks: IntArray
    """(blocks, replication): ranks holding each block (row-major block order), by replica id."""
    block_id: IntArray
    """(world,) row-major index of the block each device holds (its row in `block_ranks`)."""

    @property
    def world_size(self) -> int:
        return int(self.block.shape[0])

    @property
    def block_index(self) -> IntArray:
        """(blocks, ndim) block coordinates in row-major order."""
        return np.stack(np.unravel_index(np.arange(self.block_ranks.shape[0]), self.grid), axis=1)


def _check(axes: tuple[Axis, ...], shape: tuple[int, ...], spec: Spec) -> tuple[int, ...]:
    """Reject a spec the mesh and tensor cannot take; return the shard grid (shards per dim)."""
    if len(shape) > limit("tensor_rank"):
        raise InvalidInput("shape", f"at most {limit('tensor_rank')} dimensions are allowed")
    sizes = {a.name: a.size for a in axes}
    world = int(np.prod([a.size for a in axes], dtype=np.int64))
    if world > limit("sharding_devices"):
        raise InvalidInput(
            "axes",
            f"world size {world} exceeds the shard-map limit of {limit('sharding_devices')} "
            "devices; use /api/v1/mesh for larger meshes",
        )
    if len(spec) != len(shape):
        raise InvalidInput(
            "spec", f"spec has {len(spec)} entries but the tensor has {len(shape)} dimensions"
        )
    seen: set[str] = set()
    for name in (n for entry in spec for n in entry):
        if name not in sizes:
            raise InvalidInput(
                "spec", f"unknown mesh axis {name!r}; the mesh has {', '.join(sizes)}"
            )
        if name in seen:
            raise InvalidInput("spec", f"mesh axis {name!r} is used more than once")
        seen.add(name)
    grid = tuple(int(np.prod([sizes[n] for n in e], dtype=np.int64)) for e in spec)
    for d, (n, g, entry) in enumerate(zip(shape, grid, spec, strict=True)):
        if n % g:
            raise InvalidInput(
                "shape",
                f"dimension {d} (size {n}) does not divide evenly into {g} shards "
                f"({'+'.join(entry)}); make it a multiple of {g}",
            )
    return grid


def shard_map(
    axes: str | tuple[Axis, ...], shape: str | tuple[int, ...], spec: str | Spec
) -> ShardMap:
    """Per-device index map of a tensor `shape` sharded by `spec` over the mesh `axes`.

    For example ``shard_map("dp:2,tp:4", (16, 32), "dp,tp").start[6].tolist() == [8, 16]``.
    """
    axes = parse_axes(axes) if isinstance(axes, str) else validate_axes(axes)
    shape = parse_shape(shape) if isinstance(shape, str) else tuple(shape)
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    grid = _check(axes, shape, spec)
    shard_shape = tuple(n // g for n, g in zip(shape, grid, strict=True))
    sizes = {a.name: a.size for a in axes}
    world = int(np.prod(list(sizes.values()), dtype=np.int64))
    named = {n for entry in spec for n in entry}

    names = [a.name for a in axes]
    coords = np.stack(
        np.unravel_index(np.arange(world, dtype=np.int64), [a.size for a in axes]), axis=1
    ).astype(np.int64)
    block = np.zeros((world, len(shape)), dtype=np.int64)
    for d, entry in enumerate(spec):
        for name in entry:  # major to minor: mixed radix over the named axes
            block[:, d] = block[:, d] * sizes[name] + coords[:, names.index(name)]
    replicated = tuple(n for n in names if n not in named)
    replica = np.zeros(world, dtype=np.int64)
    for name in replicated:
        replica = replica * sizes[name] + coords[:, names.index(name)]
    replication = int(np.prod([sizes[n] for n in replicated], dtype=np.int64))
    ss = np.asarray(shard_shape, dtype=np.int64)
    start = block * ss
    stop = start + ss
    flat: IntArray = np.zeros(world, np.int64)
    if shape:
        flat = np.asarray(np.ravel_multi_index(tuple(block.T), grid), dtype=np.int64)
    order = np.argsort(flat, kind="stable")
    block_ranks = order.reshape(-1, replication).astype(np.int64)
    return ShardMap(
        axes=axes,
        shape=shape,
        spec=spec,
        grid=grid,
        shard_shape=shard_shape,
        replicated_axes=replicated,
        replication=replication,
        block=block,
        start=start,
        stop=stop,
        replica=replica,
        block_ranks=block_ranks,
        block_id=flat,
    )


@dataclass(frozen=True)
class ShardingExample:
    """A shard map that teaches one thing, in JAX `PartitionSpec` terms."""

    title: str
    axes: str
    shape: str
    spec: str


# The first example is /api/v1/sharding's default (the API's worked example).
SHARDING_EXAMPLES: tuple[ShardingExample, ...] = (
    ShardingExample(
        "2-D: rows over dp, columns over tp — P('dp', 'tp')", "dp:2,tp:4", "16,32", "dp,tp"
    ),
    ShardingExample(
        "2-D: rows over dp, replicated over tp — P('dp', None)", "dp:2,tp:4", "16,32", "dp,_"
    ),
    ShardingExample(
        "2-D: rows over dp then tp — P(('dp', 'tp'), None)", "dp:2,tp:4", "16,32", "dp+tp,_"
    ),
    ShardingExample(
        "2-D: columns over tp then dp — P(None, ('tp', 'dp'))",
        "dp:2,tp:4",
        "16,32",
        "_,tp+dp",
    ),
    ShardingExample("2-D: fully replicated — P(None, None)", "dp:2,tp:4", "16,32", "_,_"),
    ShardingExample("1-D: a bias over tp — P('tp')", "dp:2,tp:4", "32", "tp"),
    ShardingExample("1-D: over dp and tp — P(('dp', 'tp'))", "dp:2,tp:4", "64", "dp+tp"),
    ShardingExample(
        "3-D: experts over ep, hidden over tp — P('ep', None, 'tp')",
        "ep:4,tp:2",
        "8,16,32",
        "ep,_,tp",
    ),
    ShardingExample(
        "3-D: [batch, seq, hidden] over dp, cp, tp", "dp:2,cp:2,tp:2", "4,8,16", "dp,cp,tp"
    ),
    ShardingExample(
        "3-D: [batch, seq, hidden], batch over dp only", "dp:2,cp:2,tp:2", "4,8,16", "dp,_,_"
    ),
    ShardingExample(
        "Large: 4,096 devices, [4096, 4096] over dp, tp",
        "dp:64,tp:64",
        "4096,4096",
        "dp,tp",
    ),
)
