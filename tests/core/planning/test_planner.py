"""The planner: every layout it returns is valid and fits by /memory's model, a case whose best
answer is known by hand is found, results are deterministic, and the screen's estimates agree
with the exact model where it prices them."""

from __future__ import annotations

from urllib.parse import parse_qsl

import numpy as np
import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.parallel.memory import MemoryQuery, compute_memory
from app.core.parallel.pipeline import simulate_pipeline
from app.core.parallel.pipeline_closed_form import closed_form
from app.core.planning.plan_screen import _bubble
from app.core.planning.planner import PlanQuery, plan, plan_examples
from app.schemas.query import query_model, to_query


def _memory(query: str) -> MemoryQuery:
    return to_query(MemoryQuery, query_model(MemoryQuery)(**dict(parse_qsl(query))))


@pytest.fixture(scope="module")
def eight_b() -> dict[str, object]:
    return plan(PlanQuery(model="llama3-8b", gpus=8)).payload()


@pytest.fixture(scope="module")
def seventy_b() -> dict[str, object]:
    q = PlanQuery(model="llama3-70b", gpus=64, seq_len=8192, global_batch_tokens=4194304, top=8)
    return plan(q).payload()


@pytest.mark.parametrize("which", ["eight_b", "seventy_b"])
def test_every_layout_is_valid_and_fits(which: str, request: pytest.FixtureRequest) -> None:
    p = request.getfixturevalue(which)
    q = p["query"]
    for lay in p["layouts"]:
        assert lay["tp"] * lay["pp"] * lay["dp"] * lay["cp"] == q["gpus"]
        tokens = lay["dp"] * lay["micro_batch"] * lay["microbatches"] * q["seq_len"]
        assert tokens == q["global_batch_tokens"]
        assert lay["tp"] <= p["gpus_per_node"]
        report = compute_memory(_memory(lay["memory_query"]))
        assert report.verdict == "fits" and report.total == lay["memory_per_gpu"], lay["label"]
        assert lay["step_time"] == pytest.approx(
            lay["compute_time"] + lay["exposed_communication_time"] + lay["bubble_time"]
        )
    times = [lay["step_time"] for lay in p["layouts"]]
    assert times == sorted(times)
    assert p["layouts"][0]["exact"]


def test_a_model_that_fits_on_one_node_needs_no_pipeline(eight_b: dict[str, object]) -> None:
    """Llama 3 8B on 8 H100s (64 sequences of 4,096): with ZeRO every layout of pure data
    parallelism fits, and a pipeline could only add its bubble (p − 1)(F + B) and its sends:
    the fastest layout has pp = 1 and no bubble."""
    best = eight_b["layouts"][0]  # type: ignore[index]
    assert best["pp"] == 1 and best["bubble_time"] == 0
    piped = [lay for lay in eight_b["layouts"] if lay["pp"] > 1]  # type: ignore[attr-defined]
    assert piped and min(lay["step_time"] for lay in piped) > best["step_time"]


def test_results_are_deterministic() -> None:
    q = PlanQuery(model="llama3-8b", gpus=16, max_cp=2, top=6)
    assert plan(q).payload() == plan(q).payload()


def test_exact_steps_are_the_step_time_models(seventy_b: dict[str, object]) -> None:
    """A priced layout's step is /communication's for the same query (pipeline simulated)."""
    from app.core.parallel.communication import CommunicationQuery, compute_communication

    lay = next(x for x in seventy_b["layouts"] if x["exact"] and x["pp"] > 1)  # type: ignore[attr-defined]
    link = dict(parse_qsl(lay["links"]["communication"].split("?", 1)[1]))
    q = to_query(CommunicationQuery, query_model(CommunicationQuery)(**link))
    assert compute_communication(q).step.step_time == lay["step_time"]


def test_estimates_are_close_to_exact(seventy_b: dict[str, object]) -> None:
    for lay in seventy_b["layouts"]:  # type: ignore[attr-defined]
        if lay["exact"]:
            assert lay["estimated_step_time"] == pytest.approx(lay["step_time"], rel=0.05)


def test_links_carry_the_layout(seventy_b: dict[str, object]) -> None:
    lay = seventy_b["layouts"][0]  # type: ignore[index]
    assert lay["links"]["memory"] == f"/memory?{lay['memory_query']}"
    axes = dict(
        a.split(":") for a in dict(parse_qsl(lay["links"]["mesh"].split("?")[1]))["axes"].split(",")
    )
    assert int(axes["tp"]) == lay["tp"] and int(axes["pp"]) == lay["pp"]


def test_infeasible_neighbours_say_why(seventy_b: dict[str, object]) -> None:
    reasons = {r["reason"] for r in seventy_b["infeasible"]}  # type: ignore[attr-defined]
    assert reasons <= {"memory", "divisibility", "tp_across_nodes", "global_batch", "schedule"}
    for r in seventy_b["infeasible"]:  # type: ignore[attr-defined]
        if r["reason"] == "tp_across_nodes":
            assert r["layout"]["tp"] > 8
    assert "memory" in reasons


def test_tp_beyond_a_node_is_a_neighbour_not_a_candidate() -> None:
    """Llama 3 70B on 16 GPUs needs TP 8: doubling it would cross the node."""
    p = plan(PlanQuery(model="llama3-70b", gpus=16, global_batch_tokens=1 << 18, top=3)).payload()
    assert all(lay["tp"] <= 8 for lay in p["layouts"])
    if p["layouts"][0]["tp"] == 8:
        assert any(r["reason"] == "tp_across_nodes" for r in p["infeasible"])


def test_constraints_are_respected() -> None:
    p = plan(
        PlanQuery(
            model="llama3-8b",
            gpus=16,
            schedules="1f1b",
            zero_stages="1",
            recompute="full",
            max_tp=2,
            top=5,
        )
    ).payload()
    for lay in p["layouts"]:
        assert lay["zero"] == 1 and lay["recompute"] == "full" and lay["tp"] <= 2
        assert lay["schedule"] in (None, "1f1b")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"global_batch_tokens": 1000}, "global_batch_tokens"),
        ({"zero_stages": "4"}, "zero_stages"),
        ({"recompute": "some"}, "recompute"),
        ({"gpu": "a100", "compute_dtype": "fp8"}, "compute_dtype"),
    ],
)
def test_bad_constraints_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        plan(PlanQuery(**({"model": "llama3-8b", "gpus": 8} | change)))  # type: ignore[arg-type]
    assert e.value.field == field


def test_schedules_are_matched_as_typed() -> None:
    with pytest.raises(UnknownName):
        plan(PlanQuery(model="llama3-8b", gpus=8, schedules="ZB-H3"))
    p = plan(PlanQuery(model="llama3-8b", gpus=8, schedules="ZB-H1", top=3)).payload()
    assert p["query"]["schedules"] == "zb_h1"


@pytest.mark.parametrize("schedule", ["gpipe", "1f1b", "interleaved_1f1b", "zb_h1", "zb_h2", "zbv"])
@pytest.mark.parametrize("backward", [2.0, 3.0])
def test_screen_bubbles_match_the_simulator(schedule: str, backward: float) -> None:
    """The screen's bubble on equal stages is the simulator's idle time (F = 1, I = W = B/2)."""
    v = {"interleaved_1f1b": 2, "zbv": 2}.get(schedule, 1)
    names = (schedule,)
    for p, m in ((4, 8), (8, 16)):
        col = {"pp": np.array([p]), "chunks": np.array([v]), "schedule": np.array([0])}
        est = _bubble(names, col, np.array([1.0]), np.array([backward]))[0]
        sim = simulate_pipeline(
            schedule,
            p,
            m,
            chunks=v,
            forward=1.0,
            backward_input=backward / 2,
            backward_weight=backward / 2,
        )
        assert est == pytest.approx(sim.makespan - m * (1 + backward)), (p, m)
        form = closed_form(schedule, p, m, v, 1.0, backward / 2, backward / 2, None)
        if form is not None and form.applies:
            assert est == pytest.approx(form.bubble)


def test_examples_plan() -> None:
    first = plan_examples()[0]
    params = dict(parse_qsl(first.query))
    p = plan(PlanQuery(**{k: int(v) if v.isdigit() else v for k, v in params.items()})).payload()  # type: ignore[arg-type]
    assert p["layouts"]
