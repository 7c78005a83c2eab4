"""The pipeline query: every parameter of GET /api/v1/pipeline, declared once, and its checks.

`PipelineQuery` holds the parameters as a person gives them (``schedule="ZB-H1"``, chunks left
out); `resolve_query` turns it into the canonical query that is simulated, cached and echoed:
names spelt as the registry spells them, chunks resolved per schedule, stage multipliers
written one way, and every value checked against the schedule's rules and the limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.names import Registry
from app.core.parallel.pipeline_model import EXPLICIT, MODEL_ONLY, CostModel, model_costs
from app.core.parallel.pipeline_schedules import SCHEDULE_NAMES, SCHEDULES, check_sizes
from app.core.parallel.presets import GPU_NAMES, MODEL_NAMES
from app.core.params import param

FORMAT_TITLES = {
    "json": "ops as records, one object per op",
    "columns": "ops as parallel arrays (smaller and faster for large schedules)",
    "chrome_trace": "Chrome trace / Perfetto JSON (1 cost unit = 1 ms)",
}
FORMATS = Registry("format", FORMAT_TITLES)
RECOMPUTE_TITLES = {
    "none": "keep every activation",
    "selective": "recompute the attention part of the forward",
    "full": "recompute the whole forward",
}
RECOMPUTES = Registry("recompute", RECOMPUTE_TITLES)


def _chunk_defaults() -> str:
    by_default: dict[int, list[str]] = {}
    for s in SCHEDULES.values():
        by_default.setdefault(s.chunks.default, []).append(s.name)
    return "; ".join(f"{v} for {', '.join(names)}" for v, names in sorted(by_default.items()))


@dataclass(frozen=True)
class PipelineQuery:
    """Inputs of a simulated schedule, with the API's names, defaults, descriptions and bounds."""

    schedule: str = param(
        "1f1b",
        "Schedule name, matched as typed (ZB-H1, zb-h1 and zb_h1 are one): "
        + ", ".join(SCHEDULES)
        + ". GET /api/v1/pipeline/schedules lists them with their rules.",
        example="zb_h1",
        max_length=40,
    )
    stages: int = param(
        4, "Pipeline ranks (devices) p.", example=4, ge=1, le=limit("pipeline_stages")
    )
    microbatches: int = param(
        8, "Microbatches m per iteration.", example=8, ge=1, le=limit("pipeline_microbatches")
    )
    chunks: int | None = param(
        None,
        f"Model chunks per rank v; default per schedule ({_chunk_defaults()}).",
        example=2,
        ge=1,
        le=limit("pipeline_chunks"),
    )
    forward: float | None = param(
        None,
        "Cost of one microbatch's forward through one rank's whole share; null: 1, or, with "
        "model, derived in seconds.",
        example=1.0,
        ge=0,
    )
    backward_input: float | None = param(
        None,
        "Cost of the backward for inputs (I), same share; null: 1, or derived from model.",
        example=1.5,
        ge=0,
    )
    backward_weight: float | None = param(
        None,
        "Cost of the backward for weights (W), same share; null: 1, or derived from model.",
        example=0.5,
        ge=0,
    )
    p2p: float | None = param(
        None,
        "Latency of a send between two ranks; null: 0, or, with model, the activation's bytes "
        "over the link.",
        example=0.1,
        ge=0,
    )
    forward_backward: float | None = param(
        None,
        "dualpipev only: duration of one overlapped F&B span (per chunk); null means the "
        "chunk's F + B, i.e. (forward + backward_input + backward_weight)/2.",
        example=1.2,
        ge=0,
    )
    stage_costs: str | None = param(
        None,
        "Optional per-stage multipliers, comma-separated, one per stage (stages × chunks of "
        "them), e.g. 1.3,1,1,1.6 for a heavy embedding and LM head; null means all 1.",
        example="1.3,1,1,1.6",
        max_length=4096,
    )
    model: str | None = param(
        None,
        "Model preset (GET /api/v1/presets): costs become seconds, forward FLOPs of the rank's "
        "layers over the GPU's dense BF16 peak × efficiency, B = 2F split I = W = F; giving "
        "forward, backward_input, backward_weight or p2p as well is a 422.",
        example="llama3-8b",
        max_length=40,
    )
    gpu: str = param("h100-sxm", "GPU preset (with model).", example="h100-sxm", max_length=40)
    tp: int = param(
        1, "Tensor-parallel degree (with model).", example=1, ge=1, le=limit("parallel_degree")
    )
    cp: int = param(
        1,
        "Context-parallel degree (with model; divides seq_len).",
        example=1,
        ge=1,
        le=limit("parallel_degree"),
    )
    seq_len: int = param(
        4096, "Sequence length in tokens (with model).", example=8192, ge=1, le=limit("seq_len")
    )
    micro_batch: int = param(
        1, "Sequences per microbatch (with model).", example=1, ge=1, le=limit("micro_batch")
    )
    efficiency: float = param(
        0.5,
        "Fraction of the dense BF16 peak the kernels reach (with model).",
        example=0.5,
        gt=0,
        le=1,
    )
    recompute: str = param(
        "none",
        "Activation recomputation (with model): " + ", ".join(RECOMPUTE_TITLES) + "; it adds to I.",
        example="full",
        max_length=20,
    )
    format: str = param(
        "json",
        "; ".join(f"{k}: {v}" for k, v in FORMAT_TITLES.items()) + ".",
        example="columns",
        max_length=20,
    )

    @property
    def costs(self) -> tuple[float, float, float, float]:
        """(forward, backward_input, backward_weight, p2p) of a resolved query."""
        f, i, w, p2p = self.forward, self.backward_input, self.backward_weight, self.p2p
        if f is None or i is None or w is None or p2p is None:
            raise ValueError("costs are filled in by resolve_query")
        return f, i, w, p2p


@dataclass(frozen=True)
class CostPreset:
    """A named set of costs the page offers as one click."""

    name: str
    label: str
    values: dict[str, Any]
    source: str

    @property
    def title(self) -> str:
        """The label with the costs it sets, equal neighbours joined: "(F = I = W = 1, p2p = 0)"."""
        short = {"forward": "F", "backward_input": "I", "backward_weight": "W", "p2p": "p2p"}
        groups: list[tuple[list[str], float]] = []
        for k, v in self.values.items():
            if k not in short:
                continue
            if groups and groups[-1][1] == v and k != "p2p":
                groups[-1][0].append(short[k])
            else:
                groups.append(([short[k]], v))
        shown = ", ".join(" = ".join([*names, _num(v)]) for names, v in groups)
        return f"{self.label} ({shown})"


_IDEAL = {"forward": 1.0, "backward_input": 1.0, "backward_weight": 1.0, "p2p": 0.0}
COST_PRESETS = (
    CostPreset(
        "ideal",
        "paper ideal",
        {**_IDEAL, "forward_backward": None, "stage_costs": None, "model": None},
        "the closed forms' assumptions: equal costs, p2p = 0",
    ),
    CostPreset(
        "zb",
        "ZB paper",
        {"forward": 1.0, "backward_input": 1.5, "backward_weight": 0.5, "model": None},
        "Qi et al. 2023, arXiv 2401.10241: W cheaper than I, which is where deferring W pays",
    ),
    CostPreset(
        "p2p",
        "with latency",
        {"p2p": 0.1, "model": None},
        "a send costing a tenth of a forward",
    ),
)


def _num(x: float) -> str:
    """A float as the shortest text that reads back exactly: ``_num(1.0) == "1"``."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _check_cost(field: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInput(field, "must be a finite number")
    if value < 0:
        raise InvalidInput(field, f"must be ≥ 0 (got {value:g}); costs are durations")
    if value > limit("pipeline_cost"):
        raise InvalidInput(field, f"must be at most {limit('pipeline_cost'):g} (got {value:g})")
    return value


def parse_stage_costs(
    text: str | Sequence[float] | None, num_stages: int, field: str = "stage_costs"
) -> list[float] | None:
    """Per-stage multipliers from ``"1.5,1,1,2"`` (one per stage, 0..p·v−1), or None."""
    if text is None:
        return None
    if isinstance(text, str):
        if not text.strip():
            return None
        try:
            values = [float(x) for x in text.split(",")]
        except ValueError:
            raise InvalidInput(
                field, "give comma-separated numbers, one per stage, e.g. 1.2,1,1,1.5"
            ) from None
    else:
        values = [float(x) for x in text]
    if len(values) != num_stages:
        raise InvalidInput(
            field,
            f"needs exactly {num_stages} multipliers (one per stage = stages × chunks), "
            f"got {len(values)}",
        )
    top = limit("pipeline_stage_multiplier")
    for v in values:
        if not math.isfinite(v) or v < 0 or v > top:
            raise InvalidInput(
                field, f"multipliers must be finite, ≥ 0 and at most {top} (got {v:g})"
            )
    if max(values) == 0:
        raise InvalidInput(field, "at least one stage multiplier must be positive")
    return values


def _check_counts(q: PipelineQuery) -> None:
    if not 1 <= q.stages <= limit("pipeline_stages"):
        raise InvalidInput("stages", f"must be between 1 and {limit('pipeline_stages')}")
    if not 1 <= q.microbatches <= limit("pipeline_microbatches"):
        raise InvalidInput(
            "microbatches", f"must be between 1 and {limit('pipeline_microbatches')}"
        )
    if q.chunks is not None and not 1 <= q.chunks <= limit("pipeline_chunks"):
        raise InvalidInput("chunks", f"must be between 1 and {limit('pipeline_chunks')}")


def _check_op_count(q: PipelineQuery, v: int) -> None:
    per_mb = 3 if SCHEDULES[q.schedule].split_backward else 2
    ops = q.stages * v * q.microbatches * per_mb
    if ops > limit("pipeline_ops"):
        raise InvalidInput(
            "microbatches",
            f"{q.stages} stages × {v} chunks × {q.microbatches} microbatches make {ops:,} ops, "
            f"over the limit of {limit('pipeline_ops'):,}; use fewer microbatches or stages",
        )


_DEFAULTS = {f.name: f.default for f in fields(PipelineQuery)}


def cost_model(q: PipelineQuery) -> CostModel | None:
    """The model-related parameters of `q` (chunks resolved), or None without a model."""
    if q.model is None:
        return None
    assert q.chunks is not None
    return CostModel(
        model=MODEL_NAMES.resolve(q.model, "model"),
        gpu=GPU_NAMES.resolve(q.gpu, "gpu"),
        tp=q.tp,
        cp=q.cp,
        seq_len=q.seq_len,
        micro_batch=q.micro_batch,
        efficiency=float(q.efficiency),
        recompute=RECOMPUTES.resolve(q.recompute, "recompute"),
        stages=q.stages,
        chunks=q.chunks,
    )


def _with_costs(q: PipelineQuery) -> PipelineQuery:
    """`q` with its costs filled in: the defaults, or derived from its model (seconds).

    A cost given with a model is a conflict unless it is the derived value itself (the echo
    of an answer reads back as the same query); a model-only parameter given without a model
    is one too, since nothing would read it.
    """
    cm = cost_model(q)
    if cm is None:
        for name in MODEL_ONLY:
            if getattr(q, name) != _DEFAULTS[name]:
                raise InvalidInput(name, f"{name} is read only with model=; give a model preset")
        given = {k: getattr(q, k) for k in EXPLICIT}
        f, i, w, p2p = (_IDEAL[k] if v is None else float(v) for k, v in given.items())
        return replace(q, forward=f, backward_input=i, backward_weight=w, p2p=p2p)
    if not 0 < q.efficiency <= 1:
        raise InvalidInput("efficiency", "must be in (0, 1]: a fraction of the peak")
    derived = model_costs(cm)
    for name in EXPLICIT:
        given = getattr(q, name)
        if given is not None and given != getattr(derived, name):
            raise InvalidInput(
                name,
                f"give either model= (costs derived in seconds) or {name}=, not both",
            )
    return replace(
        q,
        model=cm.model,
        gpu=cm.gpu,
        recompute=cm.recompute,
        forward=derived.forward,
        backward_input=derived.backward_input,
        backward_weight=derived.backward_weight,
        p2p=derived.p2p,
    )


def resolve_query(q: PipelineQuery) -> PipelineQuery:
    """The canonical query: names resolved, chunks filled in, every rule checked.

    For example ``resolve_query(PipelineQuery(schedule="ZB-V")).chunks == 2``. Raises
    `UnknownName` for a schedule or format that does not exist and `InvalidInput` naming the
    field for anything a schedule cannot run.
    """
    schedule = SCHEDULE_NAMES.resolve(q.schedule, "schedule")
    fmt = FORMATS.resolve(q.format, "format")
    _check_counts(q)
    spec = SCHEDULES[schedule]
    v = spec.chunks.default if q.chunks is None else int(q.chunks)
    check_sizes(spec, q.stages, q.microbatches, v)
    fb = q.forward_backward
    q = _with_costs(replace(q, chunks=v))
    assert q.forward is not None and q.backward_input is not None
    assert q.backward_weight is not None and q.p2p is not None
    resolved = replace(
        q,
        schedule=schedule,
        format=fmt,
        forward=_check_cost("forward", q.forward),
        backward_input=_check_cost("backward_input", q.backward_input),
        backward_weight=_check_cost("backward_weight", q.backward_weight),
        p2p=_check_cost("p2p", q.p2p),
        forward_backward=None if fb is None else _check_cost("forward_backward", fb),
    )
    if sum(resolved.costs[:3]) == 0:
        raise InvalidInput("forward", "forward, backward_input and backward_weight cannot all be 0")
    _check_op_count(resolved, v)
    mult = parse_stage_costs(q.stage_costs, q.stages * v)
    return replace(resolved, stage_costs=None if mult is None else ",".join(map(_num, mult)))


def query_of(schedule: str, stages: int, microbatches: int, **params: Any) -> PipelineQuery:
    """A `PipelineQuery` from keyword values; `stage_costs` may also be a list of numbers."""
    costs = params.get("stage_costs")
    if costs is not None and not isinstance(costs, str):
        params["stage_costs"] = ",".join(_num(x) for x in costs)
    return PipelineQuery(schedule=schedule, stages=stages, microbatches=microbatches, **params)
