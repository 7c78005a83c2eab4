"""The decoder turns each kind of claim into tokens/s per GPU, reads it under every convention,
and checks a stated layout. Expected values are computed here from the claim's own numbers."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput
from app.core.parallel.memory import MemoryQuery, compute_memory
from app.core.planning.decoder import ThroughputQuery, decode

MTNLG = {
    "layers": 105,
    "hidden": 20480,
    "heads": 128,
    "vocab": 51200,
    "params": 530e9,
    "gpu": "a100-80gb",
    "gpus": 2240,
    "seq_len": 2048,
}


def test_global_tokens_are_shared_over_the_gpus_before_the_peak() -> None:
    """8e6 tokens/s of Llama 3 70B on 1,024 H100s: 7,812.5 tokens/s per GPU, and 6N = 6 ×
    70.55e9 FLOPs per token gives 3.31 PFLOP/s per GPU — 334% of 989 TFLOP/s: impossible."""
    r = decode(ThroughputQuery(model="llama3-70b", gpus=1024, seq_len=8192, tokens_per_second=8e6))
    assert r.tokens_per_second_per_gpu == 7812.5
    six_n = r.convention("6n")
    assert six_n.tflops_per_gpu == pytest.approx(7812.5 * 6 * 70.5537e9 / 1e12, rel=1e-5)
    assert six_n.mfu == pytest.approx(six_n.tflops_per_gpu / 989, rel=1e-12)
    plausible = next(c for c in r.checks if c.name == "plausible")
    assert plausible.ok is False


def test_step_time_claim_mt_nlg() -> None:
    """MT-NLG (Smith et al. 2022 §2.4): 1,920 × 2,048 tokens per 60.1 s step on 2,240 A100s.
    Megatron's eq. (3) by hand: 96·L·h²(1 + s/6h + V/16Lh) per token."""
    q = ThroughputQuery(**MTNLG, step_time=60.1, global_batch_tokens=1920 * 2048, recompute="full")
    r = decode(q)
    per_gpu = 1920 * 2048 / 60.1 / 2240
    assert r.tokens_per_second_per_gpu == pytest.approx(per_gpu, rel=1e-12)
    L, h, V, s = 105, 20480, 51200, 2048
    per_token = 96 * L * h * h * (1 + s / (6 * h) + V / (16 * L * h))
    assert r.convention("megatron_hfu").tflops_per_gpu == pytest.approx(per_gpu * per_token / 1e12)
    assert r.step_time == 60.1


def test_gpu_hours_claim_deepseek_v3() -> None:
    """DeepSeek-V3 report Table 1: 2,664K H800 GPU-hours for 14.8T tokens; per trillion tokens
    on 2,048 GPUs that is 2.664e6 / 14.8 / 2048 / 24 days."""
    q = ThroughputQuery(
        model="deepseek-v3",
        gpus=2048,
        seq_len=4096,
        gpu_hours=2.664e6,
        gpu_hours_tokens=14.8e12,
        train_tokens=1e12,
        peak="fp8",
    )
    implied = decode(q).implied()
    assert implied["gpu_hours"] == pytest.approx(2.664e6 / 14.8)
    assert implied["days"] == pytest.approx(2.664e6 / 14.8 / 2048 / 24)


def test_tflops_claim_under_its_convention() -> None:
    """430 TFLOP/s per GPU read by 6N (Llama 3 405B, N = 405.85e9) is 430e12 / (6N) tokens/s."""
    q = ThroughputQuery(
        model="llama3-405b", gpus=8192, seq_len=8192, tflops_per_gpu=430, tflops_convention="6n"
    )
    r = decode(q)
    assert r.tokens_per_second_per_gpu == pytest.approx(430e12 / (6 * 405.8534e9), rel=1e-6)
    assert r.convention("6n").tflops_per_gpu == pytest.approx(430)


@pytest.mark.parametrize(
    ("claim", "field"),
    [
        ({}, "tokens_per_second"),
        ({"tokens_per_second": 1e6, "tokens_per_second_per_gpu": 1e3}, "tokens_per_second_per_gpu"),
        ({"step_time": 10.0}, "global_batch_tokens"),
        ({"gpu_hours": 1e5}, "gpu_hours_tokens"),
        ({"tflops_per_gpu": 400, "tflops_convention": "megatron_hfu"}, "tflops_convention"),
    ],
)
def test_a_claim_must_be_one_and_complete(claim: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        decode(ThroughputQuery(model="llama3-8b", gpus=8, **claim))  # type: ignore[arg-type]
    assert e.value.field == field


def test_global_tokens_need_the_gpu_count() -> None:
    with pytest.raises(InvalidInput) as e:
        decode(ThroughputQuery(model="llama3-8b", tokens_per_second=1e6))
    assert e.value.field == "gpus"


def _checks(**layout: object) -> dict[str, object]:
    base = {
        "model": "llama3-405b",
        "gpus": 8192,
        "seq_len": 8192,
        "tflops_per_gpu": 430,
        "global_batch_tokens": 16 * 1024 * 1024,
        "recompute": "selective",
        "sequence_parallel": True,
        "zero": 1,
    }
    r = decode(ThroughputQuery(**(base | layout)))  # type: ignore[arg-type]
    return {c.name: c for c in r.checks}


def test_llama3_table4_layout_adds_up() -> None:
    """Table 4 row 1: TP 8, PP 16 on 8,192 GPUs leaves DP 64; 16M tokens of 8,192 = 2,048
    sequences, 32 per replica (the table's batch size per DP)."""
    checks = _checks(tp=8, pp=16)
    assert checks["gpus"].ok and "dp inferred" in checks["gpus"].detail  # type: ignore[attr-defined]
    assert checks["global_batch"].ok and "× 32 ×" in checks["global_batch"].detail  # type: ignore[attr-defined]
    assert checks["tp_in_node"].ok
    memory = checks["memory"]
    report = compute_memory(
        MemoryQuery(
            model="llama3-405b",
            tp=8,
            pp=16,
            dp=64,
            zero=1,
            seq_len=8192,
            microbatches=32,
            recompute="selective",
            sequence_parallel=True,
        )
    )
    assert memory.ok == report.fits  # type: ignore[attr-defined]


def test_a_layout_that_does_not_add_up() -> None:
    checks = _checks(tp=16, pp=16, dp=64)
    assert checks["gpus"].ok is False  # 16 × 16 × 64 = 16,384 ≠ 8,192
    assert checks["tp_in_node"].ok is False  # 16 > 8 GPUs per H100 node


def test_time_shares_add_up_to_the_whole() -> None:
    """Model FLOPs (the MFU), recomputation, the 1F1B bubble (p − 1)/(m + p − 1) = 15/47 and
    the rest: at most all of each GPU's time."""
    r = decode(
        ThroughputQuery(
            model="llama3-405b",
            gpus=8192,
            seq_len=8192,
            tflops_per_gpu=430,
            global_batch_tokens=16 * 1024 * 1024,
            tp=8,
            pp=16,
            recompute="selective",
        )
    )
    shares = {t.name: t.fraction for t in r.time_shares}
    assert shares["bubble"] == pytest.approx(15 / 47)
    assert sum(shares.values()) == pytest.approx(1.0)


def test_params_override_the_architectures_count() -> None:
    r = decode(ThroughputQuery(**MTNLG, tokens_per_second=1e5))
    assert r.setup.dims.params == 530e9 and r.setup.dims.layers == 105
