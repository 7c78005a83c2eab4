"""Closed-form makespans and bubbles from the papers, to set beside the simulation.

Notation: p ranks, m microbatches, v chunks per rank; F, I, W the costs of one microbatch
through one rank's whole share (so B = I + W). The bubble is the idle time of a rank,
makespan − m(F + B), and the bubble fraction is bubble / makespan. All assume p2p = 0 and
equal stages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class ClosedForm:
    makespan: float
    bubble: float  # idle time per rank
    bubble_fraction: float
    formula: str
    source: str
    applies: bool = True
    note: str = ""

    def not_applicable(self, why: str) -> ClosedForm:
        return replace(self, applies=False, note=why if not self.note else f"{self.note}; {why}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "makespan": round(self.makespan, 9),
            "bubble": round(self.bubble, 9),
            "bubble_fraction": round(self.bubble_fraction, 9),
            "formula": self.formula,
            "source": self.source,
            "applies": self.applies,
            "note": self.note,
        }


def _form(work: float, bubble: float, formula: str, source: str, note: str = "") -> ClosedForm:
    makespan = work + bubble
    frac = bubble / makespan if makespan > 0 else 0.0
    return ClosedForm(makespan, bubble, frac, formula, source, True, note)


@dataclass(frozen=True)
class _Costs:
    p: int
    m: int
    v: int
    f: float
    i: float
    w: float
    fb: float | None

    @property
    def work(self) -> float:
        return self.m * (self.f + self.i + self.w)


def _one_f_one_b(c: _Costs) -> ClosedForm:
    # Narayanan et al. 2021 (arXiv 2104.04473) §2.2.1: bubble (p − 1)(F + B),
    # fraction (p − 1)/m of the ideal time, i.e. (p − 1)/(m + p − 1) of the makespan.
    return _form(
        c.work,
        (c.p - 1) * (c.f + c.i + c.w),
        "makespan = (m + p − 1)(F + B); bubble fraction = (p − 1)/(m + p − 1)",
        "Narayanan et al. 2021, arXiv 2104.04473 §2.2.1 (GPipe: Huang et al. 2019)",
    )


def _interleaved(c: _Costs) -> ClosedForm:
    # arXiv 2104.04473 §2.2.2: the bubble shrinks by the number of chunks v.
    return _form(
        c.work,
        (c.p - 1) * (c.f + c.i + c.w) / c.v,
        "makespan = m(F + B) + (p − 1)(F + B)/v; bubble fraction = (p − 1)/(v·m + p − 1)",
        "Narayanan et al. 2021, arXiv 2104.04473 §2.2.2",
    )


def _zb_h1(c: _Costs) -> ClosedForm:
    # Qi et al. 2023 (arXiv 2401.10241) §3.1: ZB-H1 bubble (p − 1)(F + B − W), B = I.
    cf = _form(
        c.work,
        (c.p - 1) * (c.f + c.i - c.w),
        "makespan = m(F + I + W) + (p − 1)(F + I − W)",
        "Qi et al. 2023, Zero Bubble Pipeline Parallelism, arXiv 2401.10241 §3.1",
    )
    # The handcrafted order meets the formula exactly when each deferred W fits in the gap it
    # fills (W ≤ F and W ≤ I) and the steady phase exists (m ≥ p); checked by simulation over
    # a grid of costs in tests/core/parallel/test_pipeline.py.
    if not (c.w <= c.f and c.w <= c.i and c.m >= c.p):
        return cf.not_applicable("the paper's figure assumes W ≤ F, W ≤ I and m ≥ p")
    return cf


def _zb_h2(c: _Costs) -> ClosedForm:
    # arXiv 2401.10241 §3.1: ZB-H2 bubble (p − 1)(F + B − 2W), zero when 2W ≥ F + I.
    # Within one iteration no one-chunk schedule beats m(F + I + W) + (p − 1)F (the last
    # rank cannot start before the first forward reaches it); the paper reaches zero by
    # also relaxing the optimizer step across iterations, which one iteration cannot show.
    cf = _form(
        c.work,
        (c.p - 1) * max(c.f + c.i - 2 * c.w, 0.0),
        "makespan = m(F + I + W) + (p − 1)·max(F + I − 2W, 0)",
        "Qi et al. 2023, Zero Bubble Pipeline Parallelism, arXiv 2401.10241 §3.1",
    )
    if c.i < 2 * c.w or c.w > c.f:
        return cf.not_applicable(
            "exact only for 2W ≤ I and W ≤ F; with 2W > I the paper's bubble falls below "
            "the one-iteration lower bound (p − 1)F and relies on overlapping the next "
            "iteration's warm-up"
        )
    if c.m < 2 * c.p - 1:
        return cf.not_applicable("needs m ≥ 2p − 1 microbatches to fill the warm-up")
    return cf


def _dualpipev(c: _Costs) -> ClosedForm:
    # deepseek-ai/DualPipe README: DualPipe bubble (PP/2 − 1)(F&B + B − 3W) with per-chunk
    # costs; DualPipeV is DualPipe folded onto half the devices, so on p ranks (2p stages)
    # (p − 1)(F&B + B − 3W). Per chunk (v = 2): F/2, (I + W)/2, W/2.
    fc, bc, wc = c.f / 2, (c.i + c.w) / 2, c.w / 2
    fbc = fc + bc if c.fb is None else c.fb
    cf = _form(
        c.work,
        (c.p - 1) * (fbc + bc - 3 * wc),
        "bubble = (p − 1)(F&B + B − 3W) with per-chunk F = forward/2, B = (I + W)/2, "
        "W = backward_weight/2",
        "deepseek-ai/DualPipe README (DualPipe row, PP/2 → p for DualPipeV)",
    )
    if c.fb is not None and c.fb != fc + bc:
        return cf.not_applicable(
            "with an F&B span shorter or longer than F + B the ranks' busy times differ; "
            "compare the bubble with each rank's idle time"
        )
    if not (c.f == c.i and c.w <= c.i):
        return cf.not_applicable("the README's figure is exact here only for F = I, W ≤ I")
    return cf


_FORMS = {
    "gpipe": _one_f_one_b,
    "1f1b": _one_f_one_b,
    "interleaved_1f1b": _interleaved,
    "zb_h1": _zb_h1,
    "zb_h2": _zb_h2,
    "dualpipev": _dualpipev,
}


def closed_form(
    schedule: str,
    p: int,
    m: int,
    v: int,
    f: float,
    i: float,
    w: float,
    fb: float | None,
) -> ClosedForm | None:
    """The paper's figure for `schedule`, or None where no paper gives one (ZB-V).

    For example ``closed_form("1f1b", 4, 8, 1, 1, 1, 1, None).makespan == 33.0``:
    (m + p − 1)(F + B) = 11 × 3.
    """
    form = _FORMS.get(schedule)
    return None if form is None else form(_Costs(p, m, v, f, i, w, fb))
