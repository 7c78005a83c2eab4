"""Shard maps with JAX NamedSharding semantics, checked against an independent construction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import InvalidInput
from app.core.parallel.mesh_query import ShardingQuery, compute_sharding
from app.core.parallel.sharding import (
    SHARDING_EXAMPLES,
    format_spec,
    parse_shape,
    parse_spec,
    shard_map,
)


def test_worked_example() -> None:
    sm = shard_map("dp:2,tp:4", (16, 32), "dp,tp")
    assert sm.shard_shape == (8, 8)
    assert sm.grid == (2, 4)
    assert sm.replication == 1
    assert sm.start[6].tolist() == [8, 16]
    assert sm.stop[6].tolist() == [16, 24]
    assert sm.replica.tolist() == [0] * 8


def test_unnamed_axis_replicates_in_jax_order() -> None:
    sm = shard_map("dp:2,tp:4", (16, 32), "tp,_")
    assert sm.shard_shape == (4, 32)
    assert sm.replicated_axes == ("dp",)
    # replica id = dp coordinate; block i is held by ranks i (replica 0) and 4 + i (replica 1)
    assert sm.replica.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert sm.block_ranks.tolist() == [[0, 4], [1, 5], [2, 6], [3, 7]]


def test_multiple_axes_major_to_minor() -> None:
    a = shard_map("dp:2,tp:4", (16,), "dp+tp")
    assert a.block[:, 0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    b = shard_map("dp:2,tp:4", (16,), "tp+dp")
    # block = tp·2 + dp
    assert b.block[:, 0].tolist() == [0, 2, 4, 6, 1, 3, 5, 7]
    assert b.start[1].tolist() == [4] and b.stop[1].tolist() == [6]


def test_fully_replicated() -> None:
    sm = shard_map("x:3,y:2", (5, 7), "_,_")
    assert sm.shard_shape == (5, 7)
    assert sm.replication == 6
    assert sm.replica.tolist() == list(range(6))
    assert sm.block_ranks.tolist() == [list(range(6))]


def test_three_dimensional() -> None:
    sm = shard_map("a:2,b:2,c:2", (4, 6, 8), "c,_,a")
    assert sm.shard_shape == (2, 6, 4)
    assert sm.replicated_axes == ("b",)
    r = 5  # coords (a 1, b 0, c 1)
    assert sm.start[r].tolist() == [2, 0, 4]
    assert sm.replica[r] == 0


def test_parse_spec_and_shape() -> None:
    assert parse_spec("dp+tp,_") == (("dp", "tp"), ())
    assert parse_spec("dp tp,_") == (("dp", "tp"), ())  # '+' decoded as a space in a URL
    assert format_spec((("dp", "tp"), ())) == "dp+tp,_"
    assert parse_shape("16, 32") == (16, 32)


@pytest.mark.parametrize(
    ("axes", "shape", "spec", "field"),
    [
        ("dp:2,tp:4", "16,30", "dp,tp", "shape"),  # 30 not divisible by 4
        ("dp:2,tp:4", "16,32", "dp,xx", "spec"),  # unknown axis
        ("dp:2,tp:4", "16,32", "dp,dp", "spec"),  # axis used twice
        ("dp:2,tp:4", "16,32", "dp+tp,tp", "spec"),
        ("dp:2,tp:4", "16,32", "dp", "spec"),  # length mismatch
        ("dp:2,tp:4", "16,32", "dp,,", "spec"),
        ("dp:2,tp:4", "2,2,2,2,2", "_,_,_,_,_", "shape"),  # rank 5 > limit 4
        ("dp:2,tp:4", "16,0", "dp,tp", "shape"),
        ("dp:2,tp:4", "16,a", "dp,tp", "shape"),
        ("dp:64,tp:128", "64,128", "dp,tp", "axes"),  # 8192 devices > 4096
        ("dp:2,dp:4", "16,32", "dp,_", "axes"),
    ],
)
def test_invalid(axes: str, shape: str, spec: str, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        shard_map(axes, shape, spec)
    assert e.value.field == field


def test_4096_devices_allowed() -> None:
    sm = shard_map("dp:64,tp:64", (4096, 4096), "dp,tp")
    assert sm.world_size == 4096 and sm.shard_shape == (64, 64)


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[int], list[list[str]], list[int]]:
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    names = [f"a{i}" for i in range(len(sizes))]
    ndim = draw(st.integers(1, 3))
    order = draw(st.permutations(names))
    cut = draw(st.lists(st.integers(0, ndim), min_size=len(names), max_size=len(names)))
    spec: list[list[str]] = [[] for _ in range(ndim)]
    for name, d in zip(order, cut, strict=True):
        if d < ndim:  # d == ndim: the axis stays unnamed (replicates)
            spec[d].append(name)
    mult = draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim))
    size_of = dict(zip(names, sizes, strict=True))
    shape = [int(np.prod([size_of[n] for n in e])) * k for e, k in zip(spec, mult, strict=True)]
    return sizes, spec, shape


@settings(max_examples=150, deadline=None, derandomize=True)
@given(cases())
def test_tiles_exactly_and_matches_jax_construction(
    case: tuple[list[int], list[list[str]], list[int]],
) -> None:
    sizes, spec_l, shape = case
    names = [f"a{i}" for i in range(len(sizes))]
    axes = ",".join(f"{n}:{s}" for n, s in zip(names, sizes, strict=True))
    spec = ",".join("+".join(e) if e else "_" for e in spec_l)
    sm = shard_map(axes, tuple(shape), spec)
    world = int(np.prod(sizes))
    named = [n for e in spec_l for n in e]
    replicated = [n for n in names if n not in named]
    replication = int(np.prod([sizes[names.index(n)] for n in replicated]))
    assert sm.replication == replication

    # Brute force: count how many devices hold each element; every device's slice has
    # shard_shape.
    owners = np.zeros(shape, dtype=np.int64)
    for r in range(world):
        sl = tuple(slice(int(a), int(b)) for a, b in zip(sm.start[r], sm.stop[r], strict=True))
        assert owners[sl].shape == sm.shard_shape
        owners[sl] += 1
    assert (owners == replication).all()

    # Independent construction (how JAX lays out a NamedSharding): transpose the device grid
    # so that the named axes come first in spec order (major to minor), then the replicated
    # axes, and reshape to (*grid, replication).
    perm = [names.index(n) for n in named] + [names.index(n) for n in replicated]
    grid = [int(np.prod([sizes[names.index(n)] for n in e])) for e in spec_l]
    devices = np.arange(world).reshape(sizes).transpose(perm).reshape(*grid, replication)
    for idx in np.ndindex(*grid, replication):
        rank = int(devices[idx])
        block, rep = list(idx[:-1]), idx[-1]
        assert sm.block[rank].tolist() == block
        assert sm.replica[rank] == rep
        flat = int(np.ravel_multi_index(block, grid)) if block else 0
        assert sm.block_ranks[flat, rep] == rank
        assert sm.block_id[rank] == flat
        expected_start = [b * s for b, s in zip(block, sm.shard_shape, strict=True)]
        assert sm.start[rank].tolist() == expected_start


def test_query_defaults_are_the_worked_example_and_echo_the_spec() -> None:
    d = compute_sharding(ShardingQuery())
    assert d["query"] == {"axes": "dp:2,tp:4", "shape": "16,32", "spec": "dp,tp"}
    assert d["shard_shape"] == [16 // 2, 32 // 4] and d["replication"] == 1
    # any other tensor: an omitted spec replicates, as JAX's NamedSharding(mesh, P()) does
    d = compute_sharding(ShardingQuery(shape="16,32,2"))
    assert d["query"]["spec"] == "_,_,_" and d["replication"] == 8 and d["block_count"] == 1
    q = ShardingQuery(" dp:2, tp:4", "16, 32", "dp tp,_").normalised()
    assert (q.axes, q.shape, q.spec) == ("dp:2,tp:4", "16,32", "dp+tp,_")


def test_payload_counts_elements_and_names_each_devices_block() -> None:
    d = compute_sharding(ShardingQuery("dp:2,tp:4", "16,32", "dp,_"))
    assert (d["elements"], d["elements_per_device"]) == (16 * 32, 8 * 32)
    for dev in d["devices"]:
        block = d["blocks"][dev["block_id"]]
        assert block["block"] == dev["block"] and block["index"] == dev["index"]
        assert dev["rank"] in block["ranks"]


@pytest.mark.parametrize("example", SHARDING_EXAMPLES, ids=lambda e: e.title)
def test_every_example_is_a_valid_query(example: object) -> None:
    d = compute_sharding(ShardingQuery(example.axes, example.shape, example.spec))  # type: ignore[attr-defined]
    assert d["query"]["spec"] == example.spec  # type: ignore[attr-defined]
