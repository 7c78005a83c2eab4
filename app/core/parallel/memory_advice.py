"""Step five of the memory pipeline: changes to the query that lower the fullest GPU's bytes.

Each candidate is one change a practitioner would try (more ZeRO, recomputation, sequence
parallelism, a smaller micro batch or dtype, more TP / PP / CP / EP); each is evaluated by
computing its report. When no single change fits, a greedy combination that does leads.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from app.core.errors import InvalidInput
from app.core.parallel.memory_query import MemoryQuery, resolve
from app.core.parallel.memory_report import Advice, MemoryReport, memory_report
from app.core.parallel.memory_terms import resolve_dtype
from app.core.parallel.presets import ModelPreset

Change = dict[str, int | str | bool]

# Block-scaled and FP8 weights an inference stack can load, widest first.
_SMALLER_DTYPES = ("float8_e4m3fn", "mxfp4")


def _train_candidates(q: MemoryQuery, m: ModelPreset | None) -> list[tuple[str, Change]]:
    cands: list[tuple[str, Change]] = []
    if q.dp * q.cp > 1:
        cands += [(f"raise zero to {z}", {"zero": z}) for z in range(q.zero + 1, 4)]
    if m is None:
        return cands
    if q.recompute == "none":
        cands.append(("recompute=selective", {"recompute": "selective"}))
    if q.recompute != "full":
        cands.append(("recompute=full", {"recompute": "full"}))
    if q.tp > 1 and not q.sequence_parallel:
        cands.append(("sequence_parallel=true", {"sequence_parallel": True}))
    if q.micro_batch > 1:
        cands.append((f"micro_batch={q.micro_batch // 2}", {"micro_batch": q.micro_batch // 2}))
    if q.seq_len % (2 * q.cp) == 0:
        cands.append((f"cp={2 * q.cp}", {"cp": 2 * q.cp}))
    return cands


def _inference_candidates(q: MemoryQuery, m: ModelPreset | None) -> list[tuple[str, Change]]:
    cands: list[tuple[str, Change]] = []
    for d in _SMALLER_DTYPES:
        if resolve_dtype(d).bits < resolve_dtype(q.dtype).bits:
            cands.append((f"dtype={d}", {"dtype": d}))
    if m is not None and resolve_dtype(q.kv_dtype, "kv_dtype").bits > 8:
        cands.append(("kv_dtype=float8_e4m3fn", {"kv_dtype": "float8_e4m3fn"}))
    if q.batch > 1:
        cands.append((f"batch={q.batch // 2}", {"batch": q.batch // 2}))
    return cands


def candidates(q: MemoryQuery, m: ModelPreset | None) -> list[tuple[str, Change]]:
    """Single changes worth trying for `q`, each as (label, query parameters to override)."""
    cands = _train_candidates(q, m) if q.mode == "train" else _inference_candidates(q, m)
    cands.append((f"tp={2 * q.tp}", {"tp": 2 * q.tp}))
    cands.append((f"pp={2 * q.pp}", {"pp": 2 * q.pp}))
    if m is not None and m.is_moe and (q.dp * q.cp) % (2 * q.ep) == 0:
        cands.append((f"ep={2 * q.ep}", {"ep": 2 * q.ep}))
    return cands


@lru_cache(maxsize=256)
def _report(q: MemoryQuery) -> MemoryReport | None:
    """The report of a changed query, or None when the change makes it invalid."""
    try:
        return memory_report(q, formulas=False)
    except InvalidInput:
        return None


def _describe(changes: Change) -> str:
    return ", ".join(
        f"raise zero to {v}" if k == "zero" else f"{k}={str(v).lower()}" for k, v in changes.items()
    )


def _combination(q: MemoryQuery, m: ModelPreset | None, total: int) -> Advice | None:
    """Greedy: apply the change that lowers the total most, up to five times, until it fits."""
    cur, best = q, total
    changes: Change = {}
    for _ in range(5):
        step: tuple[Change, MemoryReport] | None = None
        for _, change in candidates(cur, m):
            rep = _report(replace(cur, **change))  # type: ignore[arg-type]
            if rep is not None and rep.total < best:
                best, step = rep.total, (change, rep)
        if step is None:
            return None
        changes.update(step[0])
        cur = replace(cur, **step[0])  # type: ignore[arg-type]
        if step[1].fits:
            rep = step[1]
            return Advice(_describe(changes), dict(changes), rep.total, True, rep.world_size)
    return None


def advise(q: MemoryQuery, report: MemoryReport) -> tuple[Advice, ...]:
    """Single changes that lower the total, best first; if none fits, a combination that does.

    For example Llama 3 70B on dp 8 × tp 8 at 8K tokens needs both ZeRO and recomputation:
    the combined advice reads "recompute=full, raise zero to 3".
    """
    m = resolve(q).model
    out: list[Advice] = []
    for label, change in candidates(q, m):
        rep = _report(replace(q, **change))  # type: ignore[arg-type]
        if rep is not None and rep.total < report.total:
            out.append(Advice(label, change, rep.total, rep.fits, rep.world_size))
    out.sort(key=lambda a: a.total)
    out = out[:8]
    if not report.fits and out and not any(a.fits for a in out):
        combo = _combination(q, m, report.total)
        if combo is not None:
            out.insert(0, combo)
    return tuple(out)
