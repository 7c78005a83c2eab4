"""Pipeline costs in seconds from a model: checked against a hand count, not the code's own."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.core.parallel.pipeline import PipelineQuery, run_pipeline, simulate_pipeline
from app.core.parallel.pipeline_query import resolve_query

# Llama 3 8B (meta-llama/Meta-Llama-3-8B config.json): hidden 4096, 32 layers, 32 query heads
# and 8 KV heads of 128, MLP 14336 (SwiGLU: gate, up, down).
H, L, HEADS, KV, HD, FFN = 4096, 32, 32, 8, 128, 14336
LAYER_WEIGHTS = (
    H * HEADS * HD  # q
    + 2 * H * KV * HD  # k, v
    + HEADS * HD * H  # o
    + 3 * H * FFN  # gate, up, down
    + 2 * H  # the two RMSNorm scales (4e-5 of the total; within the tolerance either way)
)
# H100 SXM dense BF16: 989 TFLOP/s (NVIDIA H100 Tensor Core GPU datasheet, without sparsity)
H100_BF16 = 989e12


def hand_forward_seconds(seq: int, stages: int, eff: float, mb: int = 1, tp: int = 1) -> float:
    """Kaplan et al. 2020: 2 FLOPs per weight per token forward; PaLM App. B: causal attention
    QKᵀ and AV over s/2 keys on average, 2·2·(s/2)·d = 2·s·d per token per layer, d = 32 × 128.
    One rank holds L / stages layers; tp splits every layer's work."""
    per_token_layer = 2 * LAYER_WEIGHTS + 2 * seq * HEADS * HD
    flops = per_token_layer * (L / stages) * (mb * seq) / tp
    return flops / (H100_BF16 * eff)


def test_llama3_8b_forward_on_h100_equals_a_hand_count() -> None:
    q = resolve_query(PipelineQuery(model="Llama3-8B", gpu="H100", stages=4, microbatches=8))
    # 8 layers × 469.8e6 FLOPs/token × 4096 tokens = 15.39e12 FLOPs at 494.5e12 FLOP/s
    assert q.forward == pytest.approx(hand_forward_seconds(4096, 4, 0.5), rel=1e-4)
    assert q.forward == pytest.approx(0.03113, rel=1e-3)
    # a backward is twice a forward, split I = W = F
    assert q.backward_input == q.backward_weight == q.forward
    assert (q.model, q.gpu, q.efficiency) == ("llama3-8b", "h100-sxm", 0.5)


def test_layout_and_efficiency_scale_the_forward() -> None:
    base = hand_forward_seconds(8192, 8, 0.4, mb=2, tp=4)
    q = resolve_query(
        PipelineQuery(
            model="llama3-8b", stages=8, tp=4, seq_len=8192, micro_batch=2, efficiency=0.4
        )
    )
    assert q.forward == pytest.approx(base, rel=1e-4)


def test_recompute_adds_to_the_input_backward() -> None:
    f = hand_forward_seconds(4096, 4, 0.5)
    full = resolve_query(PipelineQuery(model="llama3-8b", recompute="full"))
    assert full.backward_input == pytest.approx(2 * f, rel=1e-4)
    assert full.backward_weight == pytest.approx(f, rel=1e-4)
    sel = resolve_query(PipelineQuery(model="llama3-8b", recompute="selective"))
    attention = 2 * 4096 * HEADS * HD * (L / 4) * 4096 / (H100_BF16 * 0.5)
    assert sel.backward_input == pytest.approx(f + attention, rel=1e-4)


def test_p2p_is_the_activation_over_nvlink() -> None:
    # one 4096 × 4096 bf16 activation (2 bytes) over NVLink 4: 900 GB/s bidirectional, 450 one way
    q = resolve_query(PipelineQuery(model="llama3-8b", stages=4))
    assert q.p2p == pytest.approx(4096 * 4096 * 2 / 450e9, rel=1e-9)


def test_the_simulation_is_the_same_with_the_derived_costs() -> None:
    r = run_pipeline(PipelineQuery(model="llama3-8b", stages=4, microbatches=8))
    q = r.query
    same = simulate_pipeline(
        "1f1b",
        4,
        8,
        forward=q.forward,
        backward_input=q.backward_input,
        backward_weight=q.backward_weight,
        p2p=q.p2p,
    )
    assert r.makespan == same.makespan
    # 1F1B: (m + p − 1)(F + B) plus the sends on the critical path
    assert r.makespan >= 11 * 3 * hand_forward_seconds(4096, 4, 0.5) * (1 - 1e-4)
    # the echo reads back as the same query
    assert resolve_query(q) == q


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "llama3-8b", "forward": 1.0}, "forward"),
        ({"model": "llama3-8b", "backward_weight": 0.5}, "backward_weight"),
        ({"model": "llama3-8b", "p2p": 0.0}, "p2p"),
        ({"gpu": "b200"}, "gpu"),
        ({"efficiency": 0.4}, "efficiency"),
        ({"model": "llama3-8b", "stages": 33, "microbatches": 33}, "stages"),
        ({"model": "llama3-8b", "cp": 3}, "cp"),
    ],
)
def test_conflicts_name_the_field(params: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        resolve_query(PipelineQuery(**params))  # type: ignore[arg-type]
    assert e.value.field == field
