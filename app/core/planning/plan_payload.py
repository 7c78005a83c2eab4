"""The JSON body of GET /api/v1/plan, as plain values (what the /plan page draws)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.parallel.pipeline_schedules import SCHEDULES
from app.core.params import effective
from app.core.planning.decoder import ThroughputQuery
from app.core.planning.links import memory_query_string, mesh_axes, query_string
from app.core.planning.plan_search import MARGIN
from app.core.planning.plan_space import LAYOUT_KEYS, NO_PIPELINE, RECOMPUTE, ZERO_STAGES, Rejected
from app.core.planning.query_fields import MODEL_FIELDS

if TYPE_CHECKING:
    from app.core.planning.plan_search import Priced
    from app.core.planning.planner import PlanResult


def label(row: dict[str, Any]) -> str:
    """A layout in a few words: ``TP 8 · PP 2 · DP 4 · ZeRO-1 · selective · 1F1B``."""
    parts = [f"TP {row['tp']}", f"PP {row['pp']}", f"DP {row['dp']}"]
    parts += [f"{k.upper()} {row[k]}" for k in ("cp", "ep") if row[k] > 1]
    parts += [f"ZeRO-{row['zero']}", f"{row['recompute']} recompute", f"mb {row['micro_batch']}"]
    if row["schedule"] != NO_PIPELINE:
        v = f" v={row['chunks']}" if row["chunks"] > 1 else ""
        parts.append(SCHEDULES[row["schedule"]].label + v)
    return " · ".join(parts)


def _links(p: Priced, res: PlanResult) -> dict[str, str | None]:
    q, row = res.setup.query, p.row
    mq = memory_query_string(p.memory_query)
    comm = f"{mq}&compute_dtype={q.compute_dtype}&compute_efficiency={q.compute_efficiency}"
    if row["schedule"] != NO_PIPELINE:
        comm += f"&schedule={row['schedule']}"
    pipeline = None
    if row["pp"] > 1:
        pipeline = (
            f"/pipeline?schedule={row['schedule']}&stages={row['pp']}"
            f"&microbatches={row['microbatches']}&chunks={row['chunks']}"
        )
    per_node = res.setup.constraints.gpus_per_node
    axes = mesh_axes(row["tp"], row["cp"], row["pp"], row["dp"], row["ep"])
    return {
        "memory": f"/memory?{mq}",
        "communication": f"/communication?{comm}",
        "pipeline": pipeline,
        "mesh": f"/mesh?axes={axes}&gpus_per_node={per_node}",
        "throughput": f"/throughput?{_claim(p, res)}",
    }


def _claim(p: Priced, res: PlanResult) -> str:
    """The layout's throughput as a /throughput claim, with the layout it runs."""
    q, row = res.setup.query, p.row
    tokens = row["dp"] * row["microbatches"] * row["micro_batch"] * q.seq_len
    model = {n: getattr(q, n) for n in MODEL_FIELDS}
    claim = ThroughputQuery(
        **model, gpu=res.setup.gpu.name, gpus=q.gpus, seq_len=q.seq_len,
        step_time=p.step_time, global_batch_tokens=tokens, peak=q.compute_dtype,
        recompute=row["recompute"], sequence_parallel=row["tp"] > 1,
        schedule=None if row["schedule"] == NO_PIPELINE else row["schedule"],
        **{k: row[k] for k in LAYOUT_KEYS if k != "recompute"},
    )  # fmt: skip
    return query_string(claim, ThroughputQuery())


def seconds(x: float) -> str:
    """A duration as read: ``seconds(62.85) == "62.85 s"``, ``seconds(0.0125) == "12.5 ms"``."""
    return f"{x:.4g} s" if abs(x) >= 1 else f"{x * 1e3:.3g} ms"


def _pareto(layouts: list[Priced]) -> list[bool]:
    """On the memory-time front: no other layout is at least as fast and as small, and
    strictly better in one."""
    pts = [(p.step_time, p.memory.total) for p in layouts]
    return [not any(t2 <= t and m2 <= m and (t2 < t or m2 < m) for t2, m2 in pts) for t, m in pts]


def _versus(p: Priced, best: Priced) -> str:
    """Why `p` is slower than the best, by its largest extra part."""
    if p is best:
        return "fastest"
    names = ("compute", "exposed communication", "pipeline bubble")
    parts = {n: x - y for n, x, y in zip(names, p.parts(), best.parts(), strict=True)}
    slower = p.step_time / best.step_time - 1
    if slower < 5e-4:
        more = (p.memory.total - best.memory.total) / 1e9
        if abs(more) < 0.05:
            return "as fast, with the same memory per GPU"
        return f"as fast, {abs(more):.1f} GB {'more' if more > 0 else 'less'} memory per GPU"
    name = max(parts, key=lambda k: parts[k])
    return f"{slower:+.1%}; most of it {name} (+{seconds(parts[name])})"


def _layout(p: Priced, res: PlanResult, rank: int, pareto: bool, best: Priced) -> dict[str, Any]:
    mem, q = p.memory, res.setup.query
    tokens = p.row["dp"] * p.row["microbatches"] * p.row["micro_batch"] * q.seq_len
    compute, exposed, bubble = p.parts()
    step = p.step_time
    return {
        "rank": rank,
        **{k: p.row[k] for k in LAYOUT_KEYS},
        "schedule": None if p.row["schedule"] == NO_PIPELINE else p.row["schedule"],
        "sequence_parallel": p.row["tp"] > 1,
        "label": label(p.row),
        "exact": p.exact,
        "step_time": step,
        "compute_time": compute,
        "exposed_communication_time": exposed,
        "bubble_time": bubble,
        "bubble_fraction": bubble / step,
        "estimated_step_time": p.estimate.step,
        "mfu": tokens * res.flops_per_token / (q.gpus * step * res.setup.peak),
        "tokens_per_second": tokens / step,
        "tokens_per_second_per_gpu": tokens / step / q.gpus,
        "memory_per_gpu": mem.total,
        "memory_capacity": mem.capacity,
        "memory_verdict": mem.verdict,
        "pareto": pareto,
        "versus_best": _versus(p, best),
        "memory_query": memory_query_string(p.memory_query),
        "links": _links(p, res),
    }


def _rejected(r: Rejected) -> dict[str, Any]:
    return {
        "label": label(r.layout) if "schedule" in r.layout else _degrees(r.layout),
        "reason": r.reason,
        "field": r.field,
        "detail": r.detail,
        "layout": {k: v for k, v in r.layout.items()},
    }


def _degrees(row: dict[str, Any]) -> str:
    return " · ".join(
        f"{k.upper()} {v}" for k, v in row.items() if k in ("tp", "cp", "pp", "dp", "ep")
    )


def _why(layouts: list[dict[str, Any]], res: PlanResult) -> list[str]:
    best = layouts[0]
    step = best["step_time"]
    out = [
        f"Fastest: {best['label']}, {seconds(step)} per step — "
        f"{best['compute_time'] / step:.0%} compute, "
        f"{best['exposed_communication_time'] / step:.0%} exposed communication, "
        f"{best['bubble_time'] / step:.0%} pipeline bubble; {best['mfu']:.1%} MFU."
    ]
    out += [f"#{x['rank']} {x['label']}: {x['versus_best']}." for x in layouts[1:4]]
    over = [r for r in res.infeasible if r.reason == "memory"]
    if over:
        out.append(f"Not taken: {over[0].detail} ({label(over[0].layout)}).")
    return out


def plan_payload(res: PlanResult) -> dict[str, Any]:
    s, q = res.setup, res.setup.query
    flags = _pareto(list(res.layouts))
    best = res.layouts[0]
    layouts = [
        _layout(p, res, k + 1, flag, best)
        for k, (p, flag) in enumerate(zip(res.layouts, flags, strict=True))
    ]
    query = effective(q) | {
        "model": s.model.name if q.model is not None else None,
        "gpu": s.gpu.name,
        "schedules": ",".join(x for x in s.constraints.schedules if x != NO_PIPELINE),
    }
    return {
        "query": query,
        "model": s.model.name,
        "model_title": s.model.title,
        "gpu": s.gpu.name,
        "gpu_title": s.gpu.title,
        "gpus": q.gpus,
        "gpus_per_node": s.constraints.gpus_per_node,
        "sequences": s.constraints.sequences,
        "peak_tflops": s.peak / 1e12,
        "searched": {
            "structures": len(res.space.structures),
            "candidates": res.space.size,
            "memory_checks": res.memory_checks,
            "pruned": res.walk.pruned,
            "tied": res.walk.tied,
            "fits_found": len(res.walk.fits),
            "priced": len(res.layouts),
            "budget_spent": res.walk.exhausted,
        },
        "layouts": layouts,
        "infeasible": [_rejected(r) for r in res.infeasible],
        "why": _why(layouts, res),
        "options": {
            "schedules": [{"name": k, "label": v.label} for k, v in SCHEDULES.items()],
            "zero_stages": list(ZERO_STAGES),
            "recompute": list(RECOMPUTE),
        },
        "notes": _notes(res),
    }


def _notes(res: PlanResult) -> list[str]:
    return [
        "Candidates are ranked by an estimate of the step (the fullest pipeline rank, "
        "closed-form bubbles) and checked by /memory's model, fastest first. Layouts without a "
        f"pipeline, and those whose estimate is within {MARGIN:.0%} of the best exact step, are "
        "priced by "
        "/communication's step-time model with their pipeline simulated (`exact`); the others "
        "show the estimate.",
        "Sequence parallelism is on wherever tp > 1; overlap follows /communication's defaults.",
        "A layout that does not fit also rules out its variants with a lower ZeRO stage or "
        "less recomputation (they keep more), which are not asked again; one that only ties a "
        "listed layout with a lower ZeRO stage (its communication hides fully) is left out.",
    ]
