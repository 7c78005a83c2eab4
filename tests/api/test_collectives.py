"""GET /api/v1/collectives and POST /api/v1/collectives/nccl-tests as a client sees them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.limits import limit
from app.main import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def get(client: TestClient, query: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/collectives?{query}")
    assert r.status_code == 200, r.text[:300]
    data: dict[str, Any] = r.json()
    return data


def test_default_is_a_ring_all_reduce_on_one_h100_node(client: TestClient) -> None:
    d = get(client, "")
    assert (d["op"], d["algorithm"], d["ranks"], d["nodes"]) == ("all_reduce", "ring", 8, 1)
    assert d["query"]["algorithm"] == "auto" and d["query"]["nvls"] is True
    assert len(d["steps"]) == 14 == d["num_steps"]
    first = d["steps"][0]["transfers"][0]
    assert set(first) == {"src", "dst", "chunk", "bytes", "op"}
    assert first["bytes"] == d["bytes"] // 8
    # nccl-tests: busbw = algbw × 2(n−1)/n, algbw = S/t
    assert d["algorithm_bandwidth"] == pytest.approx(d["bytes"] / d["time"])
    assert d["bus_bandwidth"] == pytest.approx(d["algorithm_bandwidth"] * 1.75)
    assert sum(s["time"] for s in d["steps"]) == pytest.approx(d["time"], rel=1e-9)


def test_columns_hold_the_same_transfers(client: TestClient) -> None:
    q = "op=reduce_scatter&ranks=6&bytes=6000"
    a, b = get(client, q), get(client, q + "&format=columns")
    rows = [(s["step"], t["src"], t["dst"], t["chunk"], t["bytes"], t["op"])
            for s in a["steps"] for t in s["transfers"]]  # fmt: skip
    c = b["columns"]
    names = c["op_names"]
    cols = list(zip(c["step"], c["src"], c["dst"], c["chunk"], c["bytes"],
                    [names[o] for o in c["op"]], strict=True))  # fmt: skip
    assert rows == cols and b["steps"] is None and a["columns"] is None
    assert a["time"] == b["time"]


def test_view_is_aligned_with_the_transfers(client: TestClient) -> None:
    d = get(client, "op=all_gather&ranks=4&view=true")
    v = d["view"]
    count = sum(len(s["transfers"]) for s in d["steps"])
    assert len(v["holds"]) == len(v["dst_cell"]) == count == 12
    # all-gather: each rank starts with its own chunk and ends with all four
    assert v["initial_holds"] == [[1 if c == r else 0 for c in range(4)] for r in range(4)]


def test_time_only_beyond_the_step_list_limit(client: TestClient) -> None:
    n = limit("collective_ranks") * 2
    d = get(client, f"ranks={n}")
    assert d["steps"] is None and d["num_chunks"] is None
    assert d["algorithm"] == "hierarchical" and d["nodes"] == n // 8
    assert any("time only" in note for note in d["notes"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("ranks=1", "ranks"),
        (f"ranks={limit('mesh_ranks') + 1}", "ranks"),
        ("op=all_to_all&algorithm=tree", "algorithm"),
        ("ranks=12&algorithm=hierarchical", "ranks"),
        ("op=broadcast&root=8", "root"),
        ("gpu=a100-80gb&nvls=true", "nvls"),
        ("ranks=1024", "format"),
        ("bandwidth=0", "bandwidth"),
        ("byte=1", "byte"),
    ],
)
def test_bad_queries_name_the_field(client: TestClient, query: str, field: str) -> None:
    r = client.get(f"/api/v1/collectives?{query}")
    assert r.status_code == 422, r.text[:200]
    assert field in {item["loc"][-1] for item in r.json()["detail"]}


def test_unknown_names_list_the_valid_ones(client: TestClient) -> None:
    r = client.get("/api/v1/collectives?op=allgatherv")
    assert r.status_code == 404
    assert "all_gather" in r.json()["detail"][0]["valid"]
    d = get(client, "op=AllGather&algorithm=Hierarchical&ranks=16")
    assert (d["op"], d["algorithm"]) == ("all_gather", "hierarchical")


def test_etag_answers_304(client: TestClient) -> None:
    r = client.get("/api/v1/collectives?ranks=4")
    again = client.get("/api/v1/collectives?ranks=4", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_nccl_tests_round_trip(client: TestClient) -> None:
    rows = "\n".join(
        f"{s:12d} {s // 4:12d} float sum -1 {t:8.2f} 1.00 1.75 0 {t:8.2f} 1.00 1.75 0"
        for s, t in ((1 << 20, 40.0), (1 << 26, 400.0), (1 << 30, 5000.0))
    )
    r = client.post("/api/v1/collectives/nccl-tests", json={"text": rows, "ranks": 8})
    assert r.status_code == 200, r.text[:300]
    d = r.json()
    assert (d["op"], d["ranks"], d["ranks_from"]) == ("all_reduce", 8, "query")
    assert len(d["rows"]) == 3 and d["rows"][0]["time"] == pytest.approx(40e-6)
    assert "bandwidth=" in d["calibrated_query"] and len(d["model"]["bus_bandwidth"]) == 3
    follow = client.get("/api/v1/collectives?" + d["calibrated_query"])
    assert follow.status_code == 200


# ---------------------------------------------------------------- GET /communication


def test_communication_needs_a_model_and_echoes_its_query(client: TestClient) -> None:
    r = client.get("/api/v1/communication")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "model"
    q = "model=llama3-70b&tp=8&pp=4&dp=2&zero=1&microbatches=8"
    d = client.get(f"/api/v1/communication?{q}").json()
    assert d["query"]["model"] == "llama3-70b" and d["query"]["overlap_dp"] is True
    assert d["step_time"] == pytest.approx(
        d["compute_time"] + d["exposed_communication_time"] + d["bubble_time"]
    )
    assert {a["axis"] for a in d["axes"]} == {"tp", "pp", "dp"}
    # the echoed query gives the same answer
    again = client.get(
        "/api/v1/communication",
        params={k: str(v).lower() if isinstance(v, bool) else v
                for k, v in d["query"].items() if v is not None},
    )  # fmt: skip
    assert again.status_code == 200, again.text[:300]
    assert again.json()["step_time"] == d["step_time"]


def test_communication_examples_answer(client: TestClient) -> None:
    ex = client.get("/api/v1/communication/examples").json()["examples"]
    assert ex and all("microbatches=" in e["query"] for e in ex)
    r = client.get(f"/api/v1/communication?{ex[0]['query']}")
    assert r.status_code == 200, r.text[:300]
    assert r.json()["world_size"] == 8192
