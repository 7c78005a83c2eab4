"""GET /api/v1/inference: every op of prefill and decode on the GPU's roofline, for a model
split over TP, PP, EP and DP, with the request figures that follow.

`compute_inference(InferenceQuery(model="llama3-70b", tp=8, batch=16, context=4096))` costs a
prefill of `batch` prompts of `context` tokens and one decode step of `batch` sequences with
`context` tokens cached (`app.core.inference.cost`), op by op, and returns:

- `phases.prefill` / `phases.decode`: each op's FLOPs, bytes (weights, KV cache, activations),
  arithmetic intensity, the bound and the time, collectives included; stage times; the time
  split into compute-bound, memory-bound and communication;
- `ops`, `time` of the chosen `phase` (the contract's minimum), `critical_batch`;
- the request figures (`app.core.inference.requests`), the latency–throughput curve against
  the SLO, what one GPU holds and what repeats (`app.core.inference.layout`), and the same
  figures at every tensor-parallel degree the model allows.

Prefill is compute bound: each weight meets batch·context tokens. Decode reads every weight
and the whole KV cache for one token per sequence, so it is memory bound until the batch
passes the critical batch; attention at decode stays memory bound at any batch (about one
FLOP per byte per query head sharing a KV head).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from app.core.errors import InvalidInput, UnknownName
from app.core.inference.cost import SRC_ROOFLINE, CostModel, CostQuery, PassCost, build_cost
from app.core.inference.kv import KVQuery, compute_kv
from app.core.inference.layout import split_or_duplicated, weights_per_gpu
from app.core.inference.requests import (
    critical_batch,
    critical_batch_step,
    curve_batches,
    figures,
    latency_throughput,
    passes,
)
from app.core.inference.setup import Serving, ServingQuery, resolve_serving
from app.core.limits import limit
from app.core.params import effective, param

Phase = Literal["prefill", "decode"]
SRC_BOOK = (
    "JAX scaling book, 'All about Transformer inference': a matmul is compute bound once the "
    "batch exceeds peak / bandwidth (bf16 weights), half of it with 8-bit weights"
)


@dataclass(frozen=True)
class InferenceQuery(CostQuery):
    """Inputs of GET /api/v1/inference."""

    phase: Phase = param("decode", "Phase whose ops are `ops` and `time`.", example="prefill")
    batch: int = param(
        1,
        "Sequences per pass: prompts prefilled together, or sequences decoding together.",
        example=16,
        ge=1,
        le=limit("inference_batch"),
    )
    context: int = param(
        4096,
        "Prefill: tokens per prompt. Decode: tokens already in each sequence's cache.",
        example=8192,
        ge=1,
        le=limit("seq_len"),
    )
    slo: float = param(
        0.05,
        "Time-per-output-token target in seconds: the curve's SLO (0.05 = 20 tokens/s a user).",
        example=0.03,
        gt=0,
        le=3600,
    )


def _op_rows(cost: CostModel, p: PassCost, i: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    total = cost.counts.sum(axis=0)
    for j, op in enumerate(cost.ops):
        flops, nbytes = float(p.flops[i, j]), float(p.bytes[i, j])
        if flops == 0 and nbytes == 0:
            continue
        ct, mt = float(p.compute_time[i, j]), float(p.memory_time[i, j])
        rows.append({
            "name": op.name, "title": op.title, "kind": op.kind, "layers": int(total[j]),
            "flops": flops, "bytes": nbytes, "weight_bytes": float(p.weight_bytes[i, j]),
            "kv_bytes": float(p.kv_bytes[i, j]),
            "activation_bytes": float(p.activation_bytes[i, j]),
            "intensity": flops / nbytes if nbytes else 0.0, "compute_time": ct,
            "memory_time": mt, "time": float(p.time[i, j]),
            "bound": "compute" if ct >= mt else "memory", "formula": op.formula,
            "collective": None, "algorithm": None, "group_size": None, "calls": None,
            "buffer_bytes": None, "source": SRC_ROOFLINE,
        })  # fmt: skip
    calls = cost.comm_counts.sum(axis=0)
    for j, c in enumerate(cost.comms):
        buf = float(p.comm_bytes[i, j])
        rows.append({
            "name": c.name, "title": c.title, "kind": "communication",
            "layers": int(calls[j]), "flops": 0.0, "bytes": buf * int(calls[j]) * c.count,
            "weight_bytes": 0.0, "kv_bytes": 0.0, "activation_bytes": 0.0, "intensity": 0.0,
            "compute_time": 0.0, "memory_time": 0.0, "time": float(p.comm_time[i, j]),
            "bound": "communication", "formula": c.formula, "collective": c.collective,
            "algorithm": p.comm_algorithm[j][i], "group_size": c.group.size,
            "calls": int(calls[j]) * c.count, "buffer_bytes": buf, "source": c.source,
        })  # fmt: skip
    return rows


def _phase(
    cost: CostModel, p: PassCost, i: int, name: Phase, batch: int, context: int
) -> dict[str, Any]:
    ops = _op_rows(cost, p, i)
    by = {"compute": 0.0, "memory": 0.0, "communication": 0.0}
    for o in ops:
        by[o["bound"]] += o["time"]
    tokens = batch * context if name == "prefill" else batch
    return {
        "name": name, "batch": batch, "context": context, "tokens": tokens,
        "time": float(p.latency[i]), "bottleneck_time": float(p.bottleneck[i]),
        "stage_times": [float(t) for t in p.stage_time[i]], "time_by_bound": by,
        "flops": float(p.flops[i].sum()), "bytes": float(p.bytes[i].sum()),
        "weight_bytes": float(p.weight_bytes[i].sum()), "kv_bytes": float(p.kv_bytes[i].sum()),
        "activation_bytes": float(p.activation_bytes[i].sum()),
        "communication_bytes": sum(o["bytes"] for o in ops if o["kind"] == "communication"),
        "ops": ops,
    }  # fmt: skip


def _tp_options(s: Serving) -> list[int]:
    """Every power-of-two TP degree the model splits into (heads, KV heads, MLP widths)."""
    out = []
    t = 1
    while t <= min(s.model.heads, limit("parallel_degree")):
        try:
            resolve_serving(dataclasses.replace(s.query, tp=t))
        except (InvalidInput, UnknownName):
            pass
        else:
            out.append(t)
        t *= 2
    return out


def _tp_sweep(q: InferenceQuery, s: Serving) -> list[dict[str, Any]]:
    out = []
    for t in _tp_options(s):
        q_t = dataclasses.replace(q, tp=t)
        cost = build_cost(resolve_serving(q_t), q_t)
        pre, dec = passes(cost, np.array([float(q.batch)]), q.context)
        f = figures(cost, pre, dec, 0, q.batch, q.context)
        out.append({
            "tp": t, "ttft": f.ttft, "tpot": f.tpot,
            "tokens_per_second_per_gpu": f.tokens_per_second_per_gpu,
            "weights_per_gpu": weights_per_gpu(cost),
            "communication_time": float(dec.comm_time[0].sum()),
        })  # fmt: skip
    return out


def _max_concurrency(q: InferenceQuery) -> float:
    """vLLM's maximum concurrency at context + 1 tokens per sequence (the curve's `fits`)."""
    fields = {f.name: getattr(q, f.name) for f in dataclasses.fields(ServingQuery)}
    kv = compute_kv(KVQuery(**fields, max_model_len=q.context + 1))
    return kv.tightest.max_concurrency


def _notes(q: InferenceQuery, s: Serving, cost: CostModel) -> list[str]:
    notes = [
        "TTFT is the prefill pass alone: time spent queueing for it is not counted.",
        "Ops run one after another and collectives are not overlapped with compute; "
        "FlashAttention keeps attention scores on chip.",
        f"Every op runs at the {q.compute_dtype} dense tensor-core peak × {q.compute_efficiency:g}"
        f" and the HBM bandwidth × {q.memory_efficiency:g}; activations are bf16.",
    ]
    if q.pp > 1:
        notes.append(
            f"With {q.pp} stages, a pass crosses them in turn (the latencies); {q.pp} batches "
            "in flight keep every stage busy (the throughput), so the KV cache holds "
            f"{q.pp} × batch sequences."
        )
    if s.model.is_moe:
        notes.append(
            "Experts: tokens are routed uniformly; a pass reads the weights of the experts its "
            "tokens reach, on average 1 − (1 − k/E)^(T·ep) of them."
        )
    if s.model.mla is not None:
        notes.append("MLA: prefill decompresses the latent; decode absorbs the up-projections.")
    return notes


def compute_inference(q: InferenceQuery) -> dict[str, Any]:
    """The /inference answer (see the module docstring).

    For example Llama 3 8B at batch 1 decodes a token in about 4.6 ms on one H100.
    """
    s = resolve_serving(q)
    cost = build_cost(s, q)
    batches = curve_batches(q.batch)
    pre, dec = passes(cost, batches, q.context)
    i = int(np.searchsorted(batches, q.batch))
    phases = {
        "prefill": _phase(cost, pre, i, "prefill", q.batch, q.context),
        "decode": _phase(cost, dec, i, "decode", q.batch, q.context),
    }
    curve = latency_throughput(cost, batches, pre, dec, q.context, q.slo, _max_concurrency(q))
    chosen = phases[q.phase]
    m, g = s.model, s.gpu
    return {
        "query": {**effective(q), **s.effective()},
        "model": {"name": m.name, "title": m.title, "layers": m.layers, "hidden": m.hidden,
                  "heads": m.heads, "kv_heads": m.kv_heads, "attention": "mla" if m.mla else "gqa",
                  "experts": m.experts, "experts_per_token": m.experts_per_token,
                  "sliding_window": s.window,
                  "sliding_layers": sum(1 for k in s.kinds if k == "sliding")},
        "gpu": {"name": g.name, "title": g.title, "memory_bytes": g.memory_bytes},
        "roofline": {"peak": cost.peak, "bandwidth": cost.bandwidth, "ridge": cost.ridge,
                     "compute_dtype": q.compute_dtype, "weight_bytes_per_element": s.weight_bytes,
                     "kv_bytes_per_element": s.kv_bytes, "source": SRC_ROOFLINE},
        "world_size": s.world_size, "replica_gpus": s.replica_gpus,
        "phase": q.phase, "ops": chosen["ops"], "time": chosen["time"],
        "critical_batch": critical_batch(cost),
        "critical_batch_formula": "(peak / bandwidth) · weight bytes / 2",
        "critical_batch_source": SRC_BOOK,
        "critical_batch_step": critical_batch_step(cost, q.context),
        "phases": phases,
        "requests": dataclasses.asdict(figures(cost, pre, dec, i, q.batch, q.context)),
        "curve": dataclasses.asdict(curve),
        "layout": [dataclasses.asdict(r) for r in split_or_duplicated(cost, q.batch, q.context)],
        "weights_per_gpu": weights_per_gpu(cost),
        "tp_sweep": _tp_sweep(q, s),
        "notes": _notes(q, s, cost),
    }  # fmt: skip
