"""The JSON body of GET /api/v1/throughput, as plain values (what the page draws)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.params import effective
from app.core.planning.conventions import (
    CONVENTION_NAMES,
    PEAK_SOURCE,
    PEAKS,
    REFERENCE,
)

if TYPE_CHECKING:
    from app.core.planning.decoder import ThroughputResult


def _num(x: float) -> str:
    """A figure as a reader writes it: ``_num(8e6) == "8,000,000"``, ``_num(1.5) == "1.5"``."""
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def claim_text(res: ThroughputResult) -> str:
    """The claim in words, e.g. "8,000,000 tokens/s on 1,024 × NVIDIA H100 SXM 80GB"."""
    q, gpu = res.query, res.setup.gpu.title
    on = f" on {q.gpus:,} × {gpu}" if q.gpus is not None else f" per {gpu}"
    if res.claim == "tokens_per_second":
        assert q.tokens_per_second is not None
        return f"{_num(q.tokens_per_second)} tokens/s{on}"
    if res.claim == "tokens_per_second_per_gpu":
        assert q.tokens_per_second_per_gpu is not None
        return f"{_num(q.tokens_per_second_per_gpu)} tokens/s per GPU{on if q.gpus else ''}"
    if res.claim == "step_time":
        assert q.step_time is not None and q.global_batch_tokens is not None
        return f"{_num(q.step_time)} s per step of {q.global_batch_tokens:,} tokens{on}"
    if res.claim == "gpu_hours":
        assert q.gpu_hours is not None and q.gpu_hours_tokens is not None
        return f"{_num(q.gpu_hours)} GPU-hours for {q.gpu_hours_tokens:.3g} tokens{on}"
    assert q.tflops_per_gpu is not None
    return f"{_num(q.tflops_per_gpu)} TFLOP/s per GPU ({q.tflops_convention}){on}"


def _query(res: ThroughputResult) -> dict[str, Any]:
    out = effective(res.query)
    dims = res.setup.dims
    if res.query.model is not None:
        out["model"] = dims.name
    out["gpu"] = res.setup.gpu.name
    out["tflops_convention"] = CONVENTION_NAMES.resolve(res.query.tflops_convention)
    return out


def _peaks(res: ThroughputResult) -> list[dict[str, Any]]:
    names = {r.convention.name for r in res.conventions}
    ref = res.convention(REFERENCE if REFERENCE in names else "6n")
    achieved = ref.tflops_per_gpu * 1e12
    out = []
    for p in PEAKS.values():
        tflops = p.tflops(res.setup.gpu)
        out.append(
            {
                "name": p.name,
                "title": p.title,
                "dtype": p.dtype,
                "sparse": p.sparse,
                "tflops": tflops,
                "mfu": None if tflops is None else achieved / (tflops * 1e12),
                "used": p.name == res.peak_name,
            }
        )
    return out


def _layout(res: ThroughputResult) -> dict[str, Any] | None:
    m = res.setup.memory
    if m is None:
        return None
    return {
        "tp": m.tp,
        "pp": m.pp,
        "dp": m.dp,
        "cp": m.cp,
        "ep": m.ep,
        "zero": m.zero,
        "micro_batch": m.micro_batch,
        "microbatches": res.setup.microbatches,
        "chunks": m.chunks,
        "schedule": m.schedule if m.pp > 1 else None,
        "sequence_parallel": m.sequence_parallel,
        "recompute": m.recompute,
    }


def _notes(res: ThroughputResult) -> list[str]:
    q, dims = res.query, res.setup.dims
    notes = [
        "MFU is per GPU: the claim's tokens are shared out over its GPUs first, never divided "
        "by one GPU's peak.",
        f"N = {dims.params:,.0f}: "
        + (
            "the parameters a token activates." if dims.params < _total(res) else "every parameter."
        ),
    ]
    if not dims.has_architecture:
        notes.append(
            "Only a parameter count was given: conventions that need L, h and V are left out."
        )
    if q.recompute is None:
        notes.append("Say recompute= (none, selective or full) to see the HFU conventions.")
    if res.setup.memory is not None and q.zero is None:
        notes.append("ZeRO stage not given: /memory's default is assumed for the memory check.")
    return notes


def _total(res: ThroughputResult) -> float:
    from app.core.parallel.presets import MODELS

    m = MODELS.get(res.setup.dims.name)
    return float(m.total_params) if m is not None else res.setup.dims.params


def throughput_payload(res: ThroughputResult) -> dict[str, Any]:
    q, s = res.query, res.setup
    peak = PEAKS[res.peak_name]
    return {
        "query": _query(res),
        "model": s.dims.name,
        "model_title": s.dims.title,
        "params": s.dims.params,
        "gpu": s.gpu.name,
        "gpu_title": s.gpu.title,
        "gpus": q.gpus,
        "gpus_per_node": s.gpu.gpus_per_node,
        "seq_len": q.seq_len,
        "claim": {"kind": res.claim, "text": claim_text(res)},
        "tokens_per_second": res.tokens_per_second,
        "tokens_per_second_per_gpu": res.tokens_per_second_per_gpu,
        "step_time": res.step_time,
        "peak": {
            "name": peak.name,
            "title": peak.title,
            "tflops": res.peak / 1e12,
            "source": PEAK_SOURCE,
        },
        "reference": REFERENCE,
        "conventions": [
            {
                "name": r.convention.name,
                "title": r.convention.title,
                "kind": r.convention.kind,
                "flops_per_token": r.flops_per_token,
                "tflops_per_gpu": r.tflops_per_gpu,
                "mfu": r.mfu,
                "formula": r.convention.formula,
                "substituted": r.substituted,
                "source": r.convention.source,
            }
            for r in res.conventions
        ],
        "peaks": _peaks(res),
        "implied": res.implied(),
        "time": [
            {"name": t.name, "title": t.title, "fraction": t.fraction, "detail": t.detail}
            for t in res.time_shares
        ],
        "checks": [
            {
                "name": c.name,
                "title": c.title,
                "ok": c.ok,
                "detail": c.detail,
                "memory_query": c.memory_query,
            }
            for c in res.checks
        ],
        "layout": _layout(res),
        "notes": _notes(res),
    }
