"""Step five of the memory pipeline: changes to the query that lower the fullest GPU's bytes.

The candidates are ranked the way a practitioner tries them — sequence parallelism with TP
(free), selective recomputation, a higher ZeRO stage, more pipeline stages, more context
parallelism, a smaller micro batch, more expert parallelism, more TP, and full recomputation
last — and each says what it costs (recomputed FLOPs, extra communication, a bigger bubble).
Changes that add a parallel degree keep the GPU budget by halving dp (cp 2 with dp halved,
not cp 2 on twice the GPUs); when dp cannot be halved the advice says it needs more GPUs.
Each candidate is evaluated by computing its report. When no single change fits, the changes
are combined in the same order until the total fits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from app.core.errors import InvalidInput
from app.core.parallel.memory_query import MemoryQuery, MemorySetup, resolve
from app.core.parallel.memory_report import Advice, MemoryReport, memory_report
from app.core.parallel.memory_states import counts
from app.core.parallel.memory_terms import resolve_dtype
from app.core.parallel.presets import ModelPreset

Change = dict[str, int | str | bool]

# Block-scaled and FP8 weights an inference stack can load, widest first.
_SMALLER_DTYPES = ("float8_e4m3fn", "mxfp4")


@dataclass(frozen=True)
class Candidate:
    rank: int  # the order a practitioner would try it in
    label: str
    change: Change


def _fewer_dp(q: MemoryQuery, change: Change) -> Change:
    """The change with dp halved to keep the GPU count, when dp can be halved."""
    if q.dp % 2 == 0:
        change = {**change, "dp": q.dp // 2}
    return change


def _keep_batch(q: MemoryQuery, change: Change, factor: int) -> Change:
    """With explicit microbatches, `factor` times as many keep the tokens per iteration."""
    if q.microbatches is not None:
        change = {**change, "microbatches": q.microbatches * factor}
    return change


def _train_candidates(q: MemoryQuery, m: ModelPreset | None) -> list[Candidate]:
    out: list[Candidate] = []
    if m is not None and q.tp > 1 and not q.sequence_parallel:
        out.append(Candidate(1, "sequence_parallel=true", {"sequence_parallel": True}))
    if m is not None and q.recompute == "none":
        out.append(Candidate(2, "recompute=selective", {"recompute": "selective"}))
    if q.dp * q.cp > 1:
        out += [Candidate(3, f"raise zero to {z}", {"zero": z}) for z in range(q.zero + 1, 4)]
    if m is None:
        return out
    halves = 2 if q.dp % 2 == 0 else 1
    out.append(Candidate(4, "", _keep_batch(q, _fewer_dp(q, {"pp": 2 * q.pp}), halves)))
    if q.seq_len % (2 * q.cp) == 0:
        out.append(Candidate(5, "", _keep_batch(q, _fewer_dp(q, {"cp": 2 * q.cp}), halves)))
    if q.micro_batch > 1:
        out.append(Candidate(6, "", _keep_batch(q, {"micro_batch": q.micro_batch // 2}, 2)))
    if m.is_moe and (q.dp * q.cp) % (2 * q.ep) == 0:
        out.append(Candidate(7, "", {"ep": 2 * q.ep}))
    out.append(Candidate(8, "", _keep_batch(q, _fewer_dp(q, {"tp": 2 * q.tp}), halves)))
    if q.recompute != "full":
        out.append(Candidate(9, "recompute=full", {"recompute": "full"}))
    return out


def _inference_candidates(q: MemoryQuery, m: ModelPreset | None) -> list[Candidate]:
    out: list[Candidate] = []
    current = resolve(q).states.weights["mlp"].bits
    for d in _SMALLER_DTYPES:
        if resolve_dtype(d).bits < current:
            out.append(Candidate(1, f"dtype={d}", {"dtype": d}))
    if m is not None and resolve_dtype(q.kv_dtype, "kv_dtype").bits > 8:
        out.append(Candidate(2, "kv_dtype=float8_e4m3fn", {"kv_dtype": "float8_e4m3fn"}))
    if q.batch > 1:
        out.append(Candidate(3, f"batch={q.batch // 2}", {"batch": q.batch // 2}))
    out.append(Candidate(4, "", {"tp": 2 * q.tp}))
    out.append(Candidate(5, "", {"pp": 2 * q.pp}))
    return out


def candidates(q: MemoryQuery, m: ModelPreset | None) -> list[Candidate]:
    """Single changes worth trying for `q`, in the order a practitioner tries them."""
    cands = _train_candidates(q, m) if q.mode == "train" else _inference_candidates(q, m)
    return [replace(c, label=c.label or describe(c.change)) for c in cands]


@lru_cache(maxsize=256)
def _report(q: MemoryQuery) -> MemoryReport | None:
    """The report of a changed query, or None when the change makes it invalid."""
    try:
        return memory_report(q, formulas=False)
    except InvalidInput:
        return None


def describe(changes: Change) -> str:
    return ", ".join(
        f"raise zero to {v}" if k == "zero" else f"{k}={str(v).lower()}" for k, v in changes.items()
    )


def _pct(x: float) -> str:
    return "0%" if x <= 0 else f"{100 * x:.1f}%" if x >= 0.001 else "<0.1%"


def cost(setup: MemorySetup, before: MemoryReport, after: MemoryReport, change: Change) -> str:
    """What the change costs, in words and numbers."""
    q, m = setup.query, setup.model
    if "sequence_parallel" in change:
        return "no extra traffic: each TP all-reduce becomes a reduce-scatter + all-gather"
    if change.get("recompute") == "selective":
        return _selective_cost(setup)
    if change.get("recompute") == "full":
        return "≈ +33% FLOPs: every layer's forward runs again in the backward"
    if "zero" in change:
        z = int(change["zero"])
        return (
            "+50% data-parallel traffic (weights all-gathered in forward and backward)"
            if z == 3
            else "no extra traffic (reduce-scatter + all-gather of the gradients)"
        )
    bubble = ""
    if before.schedule and after.schedule and max(q.pp, after.schedule["stages"]) > 1:
        b0, b1 = before.schedule["bubble_fraction"], after.schedule["bubble_fraction"]
        bubble = f"pipeline bubble {_pct(b0)} → {_pct(b1)}"
    if "pp" in change:
        return bubble or "more pipeline stages"
    if "cp" in change and m is not None:
        kv = 2 * 2 * m.kv_heads * m.head_dim * q.seq_len // (2 * q.cp) * q.micro_batch
        ring = f"ring attention passes {kv / 1e6:,.0f} MB of K and V per layer per step"
        return f"{ring}; {bubble}" if bubble else ring
    if "micro_batch" in change:
        return f"smaller matmuls; {bubble}" if bubble else "smaller matmuls"
    if "ep" in change:
        return "all-to-all over twice as many ranks"
    if "tp" in change:
        node = setup.gpu.gpus_per_node
        far = " and TP leaves the NVLink domain" if 2 * q.tp > node else ""
        return f"2 all-reduces of b·s·h per layer each way over {2 * q.tp} GPUs{far}"
    if "dtype" in change or "kv_dtype" in change:
        return "lower precision: check the accuracy"
    return ""


def _selective_cost(setup: MemorySetup) -> str:
    """Recomputed FLOPs over the layer's training FLOPs (3 × forward)."""
    q, m = setup.query, setup.model
    assert m is not None
    s, b = setup.tokens, q.micro_batch
    ffn = m.expert_ffn * (m.experts_per_token + m.shared_experts) if m.is_moe else m.ffn
    forward = 2 * b * s * (counts(m).attention_per_layer + 3 * m.hidden * ffn)
    forward += 2 * b * s * q.seq_len * m.heads * m.head_dim  # causal QK^T and AV
    what, extra = "norms and activation functions", 0
    if q.attention == "eager":
        extra += 2 * b * s * q.seq_len * m.heads * m.head_dim
        what = "the attention scores, norms and activation functions"
    if m.mla is not None:
        a = m.mla
        extra += (
            2
            * b
            * s
            * m.heads
            * (a.q_lora_rank * a.qk_head_dim + a.kv_lora_rank * (a.qk_nope_head_dim + a.v_head_dim))
        )
        what += " and MLA's up-projections"
    return f"+{_pct(extra / (3 * forward))} FLOPs (recomputes {what})"


def _advice(setup: MemorySetup, report: MemoryReport, c: Candidate, rep: MemoryReport) -> Advice:
    return Advice(
        c.label,
        c.change,
        rep.total,
        rep.fits,
        rep.verdict,
        rep.world_size,
        cost(setup, report, rep, c.change),
        c.rank,
    )


def _combination(setup: MemorySetup, report: MemoryReport) -> Advice | None:
    """Apply helpful changes in the practitioner's order until the total fits."""
    cur, best = setup.query, report.total
    changes: Change = {}
    for _ in range(6):
        step = None
        for c in candidates(cur, setup.model):
            rep = _report(replace(cur, **c.change))  # type: ignore[arg-type]
            if rep is not None and rep.total < best:
                step = (c, rep)
                break
        if step is None:
            return None
        c, rep = step
        best = rep.total
        changes.update(c.change)
        cur = replace(cur, **c.change)  # type: ignore[arg-type]
        if rep.verdict == "fits":
            return Advice(
                describe(changes),
                dict(changes),
                rep.total,
                True,
                rep.verdict,
                rep.world_size,
                "the changes below, combined in this order",
                0,
            )
    return None


def advise(q: MemoryQuery, report: MemoryReport) -> tuple[Advice, ...]:
    """Single changes that lower the total, in the practitioner's order; if none fits, first a
    combination that does.

    For example Llama 3 70B on dp 8 × tp 8 at 8K tokens without sequence parallelism reads
    "sequence_parallel=true" first.
    """
    setup = resolve(q)
    out: list[Advice] = []
    for c in candidates(q, setup.model):
        rep = _report(replace(q, **c.change))  # type: ignore[arg-type]
        if rep is not None and rep.total < report.total:
            out.append(_advice(setup, report, c, rep))
    out.sort(key=lambda a: a.rank)
    if report.verdict != "fits" and not any(a.verdict == "fits" for a in out):
        combo = _combination(setup, report)
        if combo is not None:
            out.insert(0, combo)
    return tuple(out[:9])
