"""Each FLOPs convention by hand on a small model, and the peaks it divides by.

The small model: N = 1e9, L = 2, h = d = 64, V = 100, s = 128. The sums below are written out
term by term from the papers' formulas, not from the code.
"""

from __future__ import annotations

import pytest

from app.core.parallel.flops import training_flops_per_token
from app.core.parallel.presets import get_gpu, get_model
from app.core.planning.conventions import (
    CONVENTIONS,
    PEAKS,
    ModelDims,
    get_convention,
)

SMALL = ModelDims("small", "small", 1e9, layers=2, hidden=64, attention_width=64, vocab=100)
S = 128
ATTN_FULL = 12 * 2 * 128 * 64  # PaLM App. B: 12·L·H·Q·T = 196,608
GPT_WEIGHTS = 72 * 2 * 64 * 64  # Korthikanti §6: 72·B·s·L·h² per token = 589,824
GPT_ATTN = 12 * 2 * 128 * 64  # 72Lh² · s/6h = 12·L·s·h = 196,608
GPT_LOGITS = 6 * 64 * 100  # 72Lh² · V/12Lh = 6·h·V = 38,400


@pytest.mark.parametrize(
    ("name", "recompute", "expected"),
    [
        ("6n", None, 6e9),  # Kaplan et al. 2020: 6N
        ("6n_attention", None, 6e9 + ATTN_FULL),
        ("6n_attention_causal", None, 6e9 + ATTN_FULL / 2),  # causal mask: half the scores
        ("megatron", None, GPT_WEIGHTS + GPT_ATTN + GPT_LOGITS),  # 824,832
        ("8n", "full", 8e9),  # Narayanan et al. 2021 eq. (4): 8TP/(nX)
        ("6n_attention_hfu", "full", (6e9 + ATTN_FULL) * 4 / 3),  # llm-foundry: HFU = 4/3 MFU
        ("6n_attention_hfu", "selective", 6e9 + ATTN_FULL + 4 * 2 * 128 * 64),
        # Narayanan eq. (3): 96Lh² + 16·L·s·h + 6·h·V = 786,432 + 262,144 + 38,400
        ("megatron_hfu", "full", 786_432 + 262_144 + 38_400),
        # Korthikanti §6 with selective recompute: 72Lh²(1 + s/3h + V/12Lh)
        ("megatron_hfu", "selective", GPT_WEIGHTS + 2 * GPT_ATTN + GPT_LOGITS),
    ],
)
def test_each_convention_by_hand(name: str, recompute: str | None, expected: float) -> None:
    got = CONVENTIONS[name].flops_per_token(SMALL, S, recompute)  # type: ignore[arg-type]
    assert got == pytest.approx(expected, rel=1e-12)


def test_hfu_conventions_need_the_recompute_they_describe() -> None:
    assert not CONVENTIONS["megatron_hfu"].applies(SMALL, None)
    assert not CONVENTIONS["megatron_hfu"].applies(SMALL, "none")
    assert not CONVENTIONS["8n"].applies(SMALL, "selective")
    assert CONVENTIONS["8n"].applies(SMALL, "full")


def test_a_count_alone_only_reads_6n_and_8n() -> None:
    count = ModelDims("n", "n", 7e10)
    usable = {c.name for c in CONVENTIONS.values() if c.applies(count, "full")}
    assert usable == {"6n", "8n"}


def test_causal_count_is_the_step_time_models_plus_embedding_and_norm() -> None:
    """bitmesh's step-time model (flops.py) counts the same 6N + 6·L·s·d over the weights a
    token multiplies: without the input embedding (a lookup) and the final norm, 6 × (V·h + h)
    less (Llama 3 70B: 6 × (128,256 × 8,192 + 8,192))."""
    m = get_model("llama3-70b")
    ours = CONVENTIONS["6n_attention_causal"].flops_per_token(ModelDims.of(m), 8192, None)
    assert ours - training_flops_per_token(m, 8192) == 6 * (128256 * 8192 + 8192)


def test_llama3_70b_per_token() -> None:
    """6N with N = 70,553,706,496 (computed from config.json, within 0.1% of the 70.6B listed)."""
    dims = ModelDims.of(get_model("llama3-70b"))
    assert CONVENTIONS["6n"].flops_per_token(dims, 8192, None) == pytest.approx(
        6 * 70.55e9, rel=1e-3
    )


def test_names_are_matched_as_typed() -> None:
    assert get_convention("PaLM").name == "6n_attention"
    assert get_convention("Megatron-HFU").name == "megatron_hfu"


def test_peaks_dense_and_sparse() -> None:
    """H100 SXM datasheet: BF16 989 TFLOP/s dense, 1,979 with sparsity; FP8 1,979 / 3,958.
    A100: BF16 312 dense, 624 sparse, no FP8 tensor cores."""
    h100, a100 = get_gpu("h100"), get_gpu("a100")
    assert PEAKS["bf16_dense"].tflops(h100) == 989
    assert PEAKS["bf16_sparse"].tflops(h100) == pytest.approx(1979, rel=1e-3)
    assert PEAKS["fp8_sparse"].tflops(h100) == pytest.approx(3958, rel=1e-3)
    assert PEAKS["bf16_sparse"].tflops(a100) == 624
    assert PEAKS["fp8_dense"].tflops(a100) is None
