"""The communication bill against the papers' volumes, and the step-time model on its own.

Volumes are checked on worked examples with the formulas written out here (Megatron TP,
Korthikanti's sequence parallelism, the ZeRO paper's 2Ψ / 3Ψ, GShard dispatch + combine), and
every entry's time against /collectives' model of the same call.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl

import pytest

from app.core.errors import InvalidInput
from app.core.parallel.collectives import CollectiveQuery, compute_collective
from app.core.parallel.communication import (
    CommunicationQuery,
    CommunicationResult,
    compute_communication,
    examples,
)
from app.core.parallel.flops import training_flops_per_token
from app.core.parallel.presets import GPUS, MODELS
from app.core.parallel.step_time import StageCost, StepInput, step_time

# Llama 3 8B: 32 layers, h = 4096; 8,030,261,248 parameters (presets docstring, HF listing 8.03B)
L8B, H8B, PSI_8B = 32, 4096, 8_030_261_248


def bill(**kw: object) -> CommunicationResult:
    return compute_communication(CommunicationQuery(**kw))  # type: ignore[arg-type]


def entries(res: CommunicationResult, axis: str, collective: str) -> list[object]:
    return [p for p in res.bill if p.call.axis == axis and p.call.collective == collective]


def wire(res: CommunicationResult, axis: str) -> float:
    return sum(p.wire_bytes for p in res.bill if p.call.axis == axis)


# ---------------------------------------------------------------- volumes


def test_megatron_tp_is_four_all_reduces_of_bsh_per_layer() -> None:
    s, b, m, t = 4096, 2, 3, 8
    res = bill(model="llama3-8b", tp=t, seq_len=s, micro_batch=b, microbatches=m)
    calls = entries(res, "tp", "all_reduce")
    assert sum(p.call.count for p in calls) == 4 * L8B * m  # 2 forward + 2 backward per layer
    assert {p.call.buffer_bytes for p in calls} == {b * s * H8B * 2}
    # each GPU sends 2(t−1)/t of each buffer in a ring all-reduce
    assert wire(res, "tp") == pytest.approx(4 * L8B * m * 2 * (t - 1) / t * b * s * H8B * 2)


def test_sequence_parallelism_moves_the_same_bytes() -> None:
    # Korthikanti et al. 2022 §4.2.2: all-gather + reduce-scatter in place of each all-reduce
    base = dict(model="llama3-8b", tp=4, seq_len=2048, microbatches=2)
    plain, sp = bill(**base), bill(**base, sequence_parallel=True)
    assert entries(sp, "tp", "all_reduce") == []
    ag = sum(p.call.count for p in entries(sp, "tp", "all_gather"))
    rs = sum(p.call.count for p in entries(sp, "tp", "reduce_scatter"))
    ar = sum(p.call.count for p in entries(plain, "tp", "all_reduce"))
    assert ag == rs == ar
    assert wire(sp, "tp") == pytest.approx(wire(plain, "tp"))


def test_full_recompute_repeats_the_forward_all_reduces() -> None:
    res = bill(model="llama3-8b", tp=2, microbatches=1, recompute="full")
    assert sum(p.call.count for p in entries(res, "tp", "all_reduce")) == 6 * L8B


@pytest.mark.parametrize(("zero", "elements"), [(0, 2), (1, 2), (2, 2), (3, 3)])
def test_zero_paper_volumes(zero: int, elements: int) -> None:
    # ZeRO §7: DP and ZeRO-1/2 move 2Ψ elements per GPU, ZeRO-3 3Ψ (one microbatch);
    # a ring moves (N−1)/N of each buffer, 2 bytes per element
    n = 64
    res = bill(model="llama3-8b", dp=n, zero=zero, microbatches=1)
    assert wire(res, "dp") == pytest.approx(elements * PSI_8B * 2 * (n - 1) / n)


def test_zero_2_reduces_every_microbatch() -> None:
    res = bill(model="llama3-8b", dp=8, zero=2, microbatches=4)
    rs = entries(res, "dp", "reduce_scatter")
    assert [p.call.count for p in rs] == [4] and rs[0].call.buffer_bytes == 2 * PSI_8B


def test_expert_dispatch_and_combine() -> None:
    # Mixtral 8x7B, EP 8: per MoE layer and microbatch a dispatch and a combine all-to-all of
    # the b·s·k token copies of h, forward and backward (GShard); (ep−1)/ep leaves the GPU
    m, s = 2, 4096
    mx = MODELS["mixtral-8x7b"]
    res = bill(model="mixtral-8x7b", dp=8, ep=8, seq_len=s, microbatches=m)
    a2a = entries(res, "ep", "all_to_all")
    assert sum(p.call.count for p in a2a) == 4 * mx.layers * m
    buffer = s * mx.experts_per_token * mx.hidden * 2
    assert {p.call.buffer_bytes for p in a2a} == {buffer}
    assert wire(res, "ep") == pytest.approx(4 * mx.layers * m * 7 / 8 * buffer)


def test_ring_attention_passes_kv_around_the_cp_ring() -> None:
    cp, s = 4, 32768
    res = bill(model="llama3-8b", dp=2, cp=cp, seq_len=s, microbatches=1)
    kv = 2 * 8 * 128  # K and V: kv_heads × head_dim each
    per_pass = (cp - 1) * (s // cp) * kv * 2  # bytes one GPU sends per layer per pass
    passes = 3 * L8B  # forward K/V, backward K/V, backward dK/dV
    assert wire(res, "cp") == pytest.approx(passes * per_pass)


def test_pipeline_sends_one_activation_each_way() -> None:
    res = bill(model="llama3-8b", pp=4, tp=2, seq_len=4096, microbatches=8)
    sends = entries(res, "pp", "send_recv")
    assert sum(p.call.count for p in sends) == 2 * 8
    assert {p.call.buffer_bytes for p in sends} == {4096 * H8B * 2 // 2}


def test_every_entry_costs_what_collectives_says() -> None:
    res = bill(model="mixtral-8x7b", tp=2, pp=2, dp=8, ep=4, zero=1, microbatches=4)
    assert {p.call.axis for p in res.bill} == {"tp", "ep", "pp", "dp"}
    for p in res.bill:
        params = dict(parse_qsl(p.collectives_query))
        q = CollectiveQuery(
            op=params["op"],
            algorithm=params["algorithm"],
            ranks=int(params["ranks"]),
            bytes=int(params["bytes"]),
            gpus_per_node=int(params["gpus_per_node"]),
            chunks=int(params["chunks"]) if "chunks" in params else None,
            steps=False,
        )
        one = compute_collective(q).time
        assert p.time == pytest.approx(p.call.count * one, rel=1e-9), p.call.what


def test_groups_that_span_nodes_use_the_network() -> None:
    res = bill(model="llama3-70b", tp=8, pp=4, dp=2, zero=1, microbatches=8)
    links = {p.call.axis: p.link for p in res.bill}
    assert links == {"tp": "intra_node", "pp": "network", "dp": "network"}


# ---------------------------------------------------------------- compute and step time


def test_compute_time_is_flops_over_peak() -> None:
    # no pipeline, no communication: step = compute, and MFU is the kernel efficiency
    res = bill(model="llama3-8b", seq_len=4096, microbatches=3, compute_efficiency=0.4)
    per_token = training_flops_per_token(MODELS["llama3-8b"], 4096)
    want = 3 * 4096 * per_token / (GPUS["h100-sxm"].bf16_tflops * 1e12 * 0.4)
    assert res.step.compute_time == pytest.approx(want)
    assert res.step.step_time == pytest.approx(want)
    assert res.payload()["flops"]["mfu"] == pytest.approx(0.4)


def test_llama3_70b_flops_per_token() -> None:
    # 6N + 6·L·s·d with N = 70.55e9 − 1.05e9 (input embedding): 449.2e9 at s = 8192
    assert training_flops_per_token(MODELS["llama3-70b"], 8192) == pytest.approx(449.2e9, rel=1e-3)


def test_overlap_hides_tp_behind_compute() -> None:
    base = dict(model="llama3-8b", tp=8, seq_len=8192, microbatches=4)
    exposed = bill(**base)
    hidden = bill(**base, overlap_tp=True)
    tp = sum(p.time for p in exposed.bill if p.call.axis == "tp")
    assert exposed.step.exposed_communication_time == pytest.approx(tp)
    # H100 NVLink is fast enough that every TP all-reduce fits behind its layer's compute
    assert hidden.step.exposed_communication_time == 0.0
    assert hidden.step.step_time == pytest.approx(exposed.step.step_time - tp)


def test_step_time_decomposes() -> None:
    for kw in (
        dict(model="llama3-70b", tp=8, pp=4, dp=2, zero=1, microbatches=8),
        dict(model="mixtral-8x7b", tp=2, pp=2, dp=8, ep=4, zero=3, microbatches=4),
    ):
        st = bill(**kw).step
        total = st.compute_time + st.exposed_communication_time + st.bubble_time
        assert st.step_time == pytest.approx(total)


def test_step_time_model_alone() -> None:
    # GPipe/1F1B (Narayanan et al. 2021): bubble (p − 1)(F + B) with equal stages and p2p = 0
    st = step_time(StepInput((StageCost(1.0, 2.0),) * 4, 4, 1, 8, "1f1b"))
    assert (st.step_time, st.compute_time, st.bubble_time) == (33.0, 24.0, 9.0)
    # interleaving with v = 2 divides the bubble by v
    st2 = step_time(StepInput((StageCost(0.5, 1.0),) * 8, 4, 2, 8, "interleaved_1f1b"))
    assert st2.bubble_time == pytest.approx(4.5)
    # exposed communication in the stages lengthens compute's share of the makespan
    st3 = step_time(StepInput((StageCost(1.0, 2.0, 0.5, 0.5),) * 4, 4, 1, 8, "1f1b"))
    assert st3.exposed_communication_time == pytest.approx(8.0)
    assert st3.step_time == pytest.approx((8 + 3) * 4.0)
    # after the pipeline: the slowest rank decides
    st4 = step_time(StepInput((StageCost(1.0, 2.0),) * 2, 2, 1, 4, "1f1b", after=(0.5, 2.0)))
    assert st4.critical_rank == 1 and st4.step_time == pytest.approx((4 + 1) * 3 + 2.0)


def test_bad_queries_name_their_field() -> None:
    with pytest.raises(InvalidInput) as e:
        bill(params=7e9, dp=8)
    assert e.value.field == "params"
    with pytest.raises(InvalidInput) as e:
        bill(model="llama3-8b", mode="inference")
    assert e.value.field == "mode"
    with pytest.raises(InvalidInput) as e:
        bill(model="llama3-8b", gpu="a100-80gb", compute_dtype="fp8")
    assert e.value.field == "compute_dtype"
    with pytest.raises(InvalidInput) as e:
        bill(model="llama3-8b", pp=4, chunks=2, microbatches=6)
    assert e.value.field == "microbatches"


def test_examples_are_valid_queries() -> None:
    for ex in examples():
        params = dict(parse_qsl(ex.query))
        q = CommunicationQuery()
        typed = {k: type(getattr(q, k))(v) if not isinstance(getattr(q, k), bool | type(None))
                 else v == "true" if isinstance(getattr(q, k), bool) else v
                 for k, v in params.items()}  # fmt: skip
        ints = ("dp", "tp", "pp", "cp", "ep", "zero", "microbatches", "micro_batch", "seq_len")
        for k in (*ints, "global_batch", "chunks"):  # memory parameters whose default is None
            if k in typed:
                typed[k] = int(params[k])
        res = compute_communication(replace(q, **typed))
        assert res.step.step_time > 0


def test_gradients_hide_behind_the_last_backward() -> None:
    # pp = 1, no recompute: per microbatch F = compute/3m and B = 2F. The gradient
    # reduce-scatter overlaps the last backward, the parameter all-gather the first forward.
    base = dict(model="llama3-8b", dp=64, zero=1, microbatches=2, seq_len=1024)
    on = bill(**base)
    rs = entries(on, "dp", "reduce_scatter")[0].time
    ag = entries(on, "dp", "all_gather")[0].time
    f_mb = on.step.compute_time / 2 / 3
    want = max(0.0, rs - 2 * f_mb) + max(0.0, ag - f_mb)
    assert want > 0  # 64 nodes over the network: the gradients do not fit behind one backward
    assert on.step.exposed_communication_time == pytest.approx(want)
    off = bill(**base, overlap_dp=False, overlap_zero=False)
    assert off.step.exposed_communication_time == pytest.approx(rs + ag)
