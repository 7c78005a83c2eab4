"""Device meshes: JAX/numpy rank order, groups, nodes and warnings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import InvalidInput
from app.core.parallel.mesh import (
    TEACHING_MESHES,
    Axis,
    axis_groups,
    build_mesh,
    degree_notes,
    format_axes,
    mesh_degrees,
    parse_axes,
)
from app.core.parallel.mesh_query import MeshQuery, _gc_paused, compute_mesh


def test_parse_axes() -> None:
    assert parse_axes("pp:2, dp:2,tp:4") == (Axis("pp", 2), Axis("dp", 2), Axis("tp", 4))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tp",
        "tp:",
        ":4",
        "tp:4,tp:2",  # duplicate
        "tp:0",
        "tp:-1",
        "tp:x",
        "1tp:2",
        "t-p:2",
        "dp:256,tp:257",  # 65,792 ranks > 65,536
        "tp:12345678901234",
        "a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1",  # 9 axes > 8
    ],
)
def test_parse_axes_rejects(text: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_axes(text)
    assert e.value.field == "axes"


def test_largest_allowed_mesh() -> None:
    mesh = build_mesh("dp:256,tp:256")
    assert mesh.world_size == 65_536


def test_worked_example() -> None:
    mesh = build_mesh("pp:2,dp:2,tp:4", gpus_per_node=8)
    assert mesh.world_size == 16
    assert mesh.coords[6].tolist() == [0, 1, 2]
    assert mesh.rank_of({"pp": 0, "dp": 1, "tp": 2}) == 6
    assert mesh.groups["tp"].tolist() == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
        [12, 13, 14, 15],
    ]
    assert mesh.groups["dp"].tolist() == [
        [0, 4], [1, 5], [2, 6], [3, 7], [8, 12], [9, 13], [10, 14], [11, 15],
    ]  # fmt: skip
    assert mesh.groups["pp"].tolist() == [[i, i + 8] for i in range(8)]
    assert mesh.groups_of(6) == {"pp": [6, 14], "dp": [2, 6], "tp": [4, 5, 6, 7]}
    assert mesh.node.tolist() == [0] * 8 + [1] * 8
    assert mesh.local_rank.tolist() == list(range(8)) * 2
    assert mesh.warnings == ()


def test_axis_groups_docstring() -> None:
    assert axis_groups((2, 4), 0).tolist() == [[0, 4], [1, 5], [2, 6], [3, 7]]


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(shape=shapes, gpn=st.integers(1, 9))
def test_mesh_properties(shape: list[int], gpn: int) -> None:
    axes = ",".join(f"a{i}:{n}" for i, n in enumerate(shape))
    mesh = build_mesh(axes, gpus_per_node=gpn)
    world = int(np.prod(shape))
    grid = np.arange(world).reshape(shape)
    # Coordinates: where each rank sits in arange(world).reshape(shape) (numpy / JAX order).
    for r in range(world):
        assert tuple(mesh.coords[r]) == tuple(int(x) for x in np.argwhere(grid == r)[0])
        assert mesh.rank_of(tuple(int(c) for c in mesh.coords[r])) == r
    assert np.array_equal(mesh.ranks_of(mesh.coords), np.arange(world))
    assert np.array_equal(mesh.node, np.arange(world) // gpn)
    assert np.array_equal(mesh.local_rank, np.arange(world) % gpn)
    for i, name in enumerate(mesh.axis_names):
        groups = mesh.groups[name]
        assert groups.shape == (world // shape[i], shape[i])
        # The groups partition the ranks.
        assert sorted(groups.ravel().tolist()) == list(range(world))
        others = [j for j in range(len(shape)) if j != i]
        for g in groups:
            c = mesh.coords[g]
            # Members agree on every other coordinate and run 0..size-1 along the axis.
            assert (c[:, others] == c[0, others]).all()
            assert c[:, i].tolist() == list(range(shape[i]))
        stats = mesh.axis_stats[i]
        spans = sum(len(set((g // gpn).tolist())) > 1 for g in groups)
        assert stats.groups_spanning_nodes == spans
        # stride: the rank distance between neighbours, read off the numpy grid
        if shape[i] > 1:
            assert stats.stride == int(np.take(grid, 1, axis=i).flat[0]) == int(groups[0][1])


def test_llama3_405b_preset() -> None:
    # Llama 3 paper Table 4: TP 8, CP 1, PP 16, DP 64, [TP, CP, PP, DP] innermost first.
    mesh = build_mesh("dp:64,pp:16,cp:1,tp:8", gpus_per_node=8)
    assert mesh.world_size == 8192
    assert mesh.node_count == 1024
    tp = mesh.groups["tp"]
    assert tp.shape == (1024, 8)
    # Every TP group is one whole node.
    assert (mesh.node[tp] == mesh.node[tp][:, :1]).all()
    assert tp[5].tolist() == list(range(40, 48))
    assert mesh.groups["pp"][0].tolist() == list(range(0, 128, 8))
    assert mesh.groups["dp"][0].tolist() == list(range(0, 8192, 128))
    assert mesh.groups["cp"].shape == (8192, 1)
    assert mesh.axis_stats[3].nodes_per_group == 1
    assert mesh.axis_stats[1].nodes_per_group == 16
    assert mesh.warnings == ()


def test_warning_tp_spans_nodes_when_not_innermost() -> None:
    mesh = build_mesh("tp:8,dp:4", gpus_per_node=8)
    assert any("tensor-parallel (tp) groups span" in w for w in mesh.warnings)
    assert any("tp is not the innermost axis" in w for w in mesh.warnings)


def test_warning_tp_larger_than_node() -> None:
    mesh = build_mesh("dp:2,tp:16", gpus_per_node=8)
    assert any("larger than a node" in w for w in mesh.warnings)


def test_warning_partial_node() -> None:
    mesh = build_mesh("dp:3,tp:4", gpus_per_node=8)
    assert any("not a multiple of gpus_per_node 8" in w for w in mesh.warnings)


def test_expert_parallel_across_nodes_warns() -> None:
    mesh = build_mesh("pp:16,dp:2,ep:64", gpus_per_node=8)
    assert mesh.world_size == 2048
    assert any("expert-parallel (ep)" in w for w in mesh.warnings)
    assert mesh.axis_stats[2].nodes_per_group == 8


def test_gpus_per_node_bounds() -> None:
    with pytest.raises(InvalidInput) as e:
        build_mesh("tp:8", gpus_per_node=0)
    assert e.value.field == "gpus_per_node"


def test_65536_ranks() -> None:
    # how long this takes is bench/bench_parallel.py's business, not a test's
    mesh = build_mesh("dp:128,pp:16,cp:4,tp:8", gpus_per_node=8)
    assert mesh.world_size == 65_536
    assert mesh.groups["cp"][1].tolist() == [1, 9, 17, 25]


def test_format_axes_inverts_parse_axes() -> None:
    assert format_axes(parse_axes(" dp:2 , tp:4")) == "dp:2,tp:4"


# ---------------------------------------------------------------- degrees (memory's dp)


def test_deepseek_v3_degrees_count_dp_as_memory_does() -> None:
    # DeepSeek-V3 report (arXiv 2412.19437 §3.2): 2,048 GPUs, PP 16, EP 64, no TP. Attention
    # (dense) weights are data-parallel over every rank of a stage: 2,048 / 16 = 128.
    axes = parse_axes("pp:16,dp:2,ep:64")
    degrees = mesh_degrees(axes)
    assert degrees == {"dp": 2048 // 16, "tp": 1, "pp": 16, "cp": 1, "ep": 64}
    # world = dp·tp·pp·cp with ep inside dp, as /api/v1/memory computes it
    assert degrees["dp"] * degrees["tp"] * degrees["pp"] * degrees["cp"] == 2048
    (note,) = degree_notes(axes)
    assert "dp = dp 2 × ep 64 = 128" in note and "carved out of DP" in note


def test_degrees_without_ep_are_the_axis_sizes() -> None:
    # Llama 3 405B (arXiv 2407.21783 Table 4, row 1): TP 8, CP 1, PP 16, DP 64
    axes = parse_axes("dp:64,pp:16,cp:1,tp:8")
    assert mesh_degrees(axes) == {"dp": 64, "tp": 8, "pp": 16, "cp": 1, "ep": 1}
    assert degree_notes(axes) == ()
    assert mesh_degrees(parse_axes("fsdp:4,dp:2,tp:2"))["dp"] == 8
    assert "x" in degree_notes(parse_axes("x:2,tp:2"))[0]


# ---------------------------------------------------------------- the mesh query


def test_query_is_normalised() -> None:
    q = MeshQuery(" dp:2, tp:4", 8, "columnar", "groups,ranks").normalised()
    assert (q.axes, q.format, q.include) == ("dp:2,tp:4", "columns", "ranks,groups")
    assert MeshQuery(include=" ").normalised().include == ""
    with pytest.raises(InvalidInput) as e:
        MeshQuery(include="ranks,nodes").normalised()
    assert e.value.field == "include"


def test_records_and_columns_hold_the_same_ranks() -> None:
    rec = compute_mesh(MeshQuery("dp:3,tp:4", 8, "records", "ranks"))
    col = compute_mesh(MeshQuery("dp:3,tp:4", 8, "columns", "ranks"))["ranks"]
    grid = np.arange(12).reshape(3, 4)
    for r in rec["ranks"]:
        i = r["rank"]
        ((dp, tp),) = np.argwhere(grid == i).tolist()
        assert r == {"rank": i, "node": i // 8, "local_rank": i % 8, "coords": {"dp": dp, "tp": tp}}
        assert (col["node"][i], col["local_rank"][i]) == (r["node"], r["local_rank"])
        assert (col["coords"]["dp"][i], col["coords"]["tp"][i]) == (dp, tp)
    assert rec["query"] == {
        "axes": "dp:3,tp:4",
        "gpus_per_node": 8,
        "format": "records",
        "include": "ranks",
    }
    assert "groups" not in rec


def test_default_query_is_the_worked_example() -> None:
    d = compute_mesh(MeshQuery())
    assert d["query"]["axes"] == "pp:2,dp:2,tp:4" and d["world_size"] == 16
    assert d["node_count"] == 2 and d["degrees"] == {"dp": 2, "tp": 4, "pp": 2, "cp": 1, "ep": 1}


def test_teaching_meshes_are_valid_and_distinct() -> None:
    assert len({(m.axes, m.gpus_per_node) for m in TEACHING_MESHES}) == len(TEACHING_MESHES)
    for m in TEACHING_MESHES:
        build_mesh(m.axes, m.gpus_per_node)


def test_gc_pause_nests_and_restores() -> None:
    import gc

    assert gc.isenabled()
    with _gc_paused():
        with _gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with _gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
