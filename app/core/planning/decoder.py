"""Decode a throughput claim: what "8M tokens/s on 1,024 GPUs" means per GPU, under every
FLOPs convention, against every peak, and whether a stated layout adds up.

A claim is one of: tokens/s (global or per GPU), a step time with its global batch, GPU-hours
for a token count, or achieved TFLOP/s per GPU under a named convention. All become tokens/s
per GPU, and from there, for each convention (`conventions.CONVENTIONS`), FLOPs per token ×
tokens/s per GPU = achieved FLOP/s per GPU, and / peak = MFU (HFU for conventions that count
recomputation, listed only when the claim says what was recomputed).

For example 8e6 tokens/s of Llama 3 70B at s = 8,192 on 1,024 H100s: 7,812.5 tokens/s per GPU;
6N gives 3.31 PFLOP/s per GPU — 334% of the BF16 dense peak, so the claim cannot be per 1,024
GPUs of that model (the `plausible` check says so).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.memory import MemoryQuery, compute_memory
from app.core.parallel.memory_query import resolve as resolve_memory
from app.core.parallel.pipeline import simulate_pipeline
from app.core.parallel.pipeline_closed_form import closed_form
from app.core.parallel.presets import GPUPreset
from app.core.params import param
from app.core.planning.conventions import (
    CONVENTIONS,
    PEAK_SOURCE,
    PEAKS,
    REFERENCE,
    Convention,
    ModelDims,
    Recompute,
    get_convention,
)
from app.core.planning.links import memory_query_string
from app.core.planning.query_fields import MODEL_FIELDS, ModelQuery

HOUR = 3600.0
DAY = 86400.0
CLAIMS = (
    "tokens_per_second",
    "tokens_per_second_per_gpu",
    "step_time",
    "gpu_hours",
    "tflops_per_gpu",
)
LAYOUT = ("tp", "pp", "dp", "cp", "ep", "zero", "micro_batch", "microbatches", "chunks", "schedule")


@dataclass(frozen=True)
class ThroughputQuery(ModelQuery):
    """A claim, the model and cluster it is about, and optionally the layout it used."""

    params: float | None = param(
        None,
        "N, the parameters a token uses: alone, only 6N and 8N apply; with a model or "
        "architecture it replaces the count (a published run's own N).",
        example=5.3e11,
        gt=0,
        le=limit("model_params"),
    )
    gpus: int | None = param(
        None, "GPUs the claim ran on.", example=1024, ge=1, le=limit("throughput_gpus")
    )
    tokens_per_second: float | None = param(
        None,
        "Claim: tokens per second over all GPUs.",
        example=8e6,
        gt=0,
        le=limit("throughput_tokens_per_second"),
    )
    tokens_per_second_per_gpu: float | None = param(
        None,
        "Claim: tokens per second per GPU.",
        example=1000,
        gt=0,
        le=limit("throughput_tokens_per_second"),
    )
    step_time: float | None = param(
        None,
        "Claim: seconds per optimizer step (with global_batch_tokens).",
        example=60.1,
        gt=0,
        le=limit("throughput_seconds"),
    )
    global_batch_tokens: int | None = param(
        None,
        "Tokens per optimizer step (the global batch).",
        example=3932160,
        ge=1,
        le=limit("throughput_batch_tokens"),
    )
    gpu_hours: float | None = param(
        None,
        "Claim: GPU-hours spent on gpu_hours_tokens tokens.",
        example=180000,
        gt=0,
        le=limit("throughput_gpu_hours"),
    )
    gpu_hours_tokens: float | None = param(
        None,
        "Tokens the GPU-hours trained.",
        example=1e12,
        gt=0,
        le=limit("throughput_train_tokens"),
    )
    tflops_per_gpu: float | None = param(
        None,
        "Claim: achieved TFLOP/s per GPU, counted by tflops_convention.",
        example=430,
        gt=0,
        le=limit("throughput_tflops"),
    )
    tflops_convention: str = param(
        REFERENCE,
        "How the claimed TFLOP/s were counted (a convention name).",
        example="megatron_hfu",
        max_length=40,
    )
    peak: Literal["bf16", "fp8"] = param(
        "bf16", "Dense tensor-core peak the MFU divides by.", example="bf16"
    )
    recompute: Literal["none", "selective", "full"] | None = param(
        None,
        "Activation recomputation the run used (HFU conventions need it).",
        example="full",
    )
    train_tokens: float = param(
        1e12,
        "Tokens for the implied training time and GPU-hours.",
        example=1.5e13,
        gt=0,
        le=limit("throughput_train_tokens"),
    )
    tp: int | None = param(
        None, "Layout: tensor-parallel degree.", example=8, ge=1, le=limit("parallel_degree")
    )
    pp: int | None = param(
        None, "Layout: pipeline stages.", example=16, ge=1, le=limit("pipeline_stages")
    )
    dp: int | None = param(
        None,
        "Layout: data-parallel degree (default: what the GPUs leave).",
        example=64,
        ge=1,
        le=limit("mesh_ranks"),
    )
    cp: int | None = param(
        None, "Layout: context-parallel degree.", example=1, ge=1, le=limit("parallel_degree")
    )
    ep: int | None = param(
        None,
        "Layout: expert-parallel degree (inside dp·cp).",
        example=1,
        ge=1,
        le=limit("parallel_degree"),
    )
    zero: int | None = param(None, "Layout: ZeRO stage.", example=1, ge=0, le=3)
    micro_batch: int | None = param(
        None, "Layout: sequences per microbatch.", example=1, ge=1, le=limit("micro_batch")
    )
    microbatches: int | None = param(
        None,
        "Layout: microbatches per step (default: what the global batch implies).",
        example=32,
        ge=1,
        le=limit("pipeline_microbatches"),
    )
    schedule: str | None = param(
        None,
        "Layout: pipeline schedule (default: /memory's).",
        example="interleaved_1f1b",
        max_length=40,
    )
    chunks: int | None = param(
        None,
        "Layout: model chunks per pipeline rank.",
        example=1,
        ge=1,
        le=limit("pipeline_chunks"),
    )
    sequence_parallel: bool | None = param(
        None, "Layout: Megatron sequence parallelism.", example=True
    )


@dataclass(frozen=True)
class Check:
    """One consistency check of the stated layout (`ok` None: not enough given to tell)."""

    name: str
    title: str
    ok: bool | None
    detail: str
    memory_query: str | None = None


@dataclass(frozen=True)
class Setup:
    dims: ModelDims
    gpu: GPUPreset
    memory: MemoryQuery | None
    """The stated layout as a /memory query (None when no layout was given)."""
    dp: int | None
    microbatches: int | None


def _memory_base(q: ThroughputQuery) -> dict[str, Any]:
    names = (*MODEL_FIELDS, "params", "gpu", "seq_len")
    return {n: getattr(q, n) for n in names}


def _layout_given(q: ThroughputQuery) -> bool:
    return any(getattr(q, n) is not None for n in LAYOUT) or q.sequence_parallel is not None


def _inferred(q: ThroughputQuery) -> tuple[int | None, int | None]:
    """dp from the GPUs left by tp·pp·cp, and microbatches from the global batch, when whole."""
    tp, pp, cp = q.tp or 1, q.pp or 1, q.cp or 1
    dp = q.dp
    if dp is None and q.gpus is not None and q.gpus % (tp * pp * cp) == 0:
        dp = q.gpus // (tp * pp * cp)
    m = q.microbatches
    mb = q.micro_batch or 1
    if m is None and dp is not None and q.global_batch_tokens is not None:
        per = dp * mb * q.seq_len
        if q.global_batch_tokens % per == 0:
            m = q.global_batch_tokens // per
    return dp, m


def _dims(q: ThroughputQuery) -> tuple[ModelDims, GPUPreset]:
    """The model's dimensions; `params` with a model or an architecture overrides N."""
    fields = _memory_base(q)
    if any(getattr(q, n) is not None for n in MODEL_FIELDS):
        fields["params"] = None
    resolved = resolve_memory(MemoryQuery(**fields))
    m = resolved.model
    if m is None:
        assert q.params is not None  # resolve demands a model, an architecture or params
        return ModelDims("params", f"{q.params:.3g} parameters", q.params), resolved.gpu
    dims = ModelDims.of(m)
    if q.model is None:
        dims = replace(dims, title=f"custom: {m.layers} layers, hidden {m.hidden}")
    if q.params is not None:
        dims = replace(dims, params=q.params)
    return dims, resolved.gpu


def _setup(q: ThroughputQuery) -> Setup:
    dims, gpu = _dims(q)
    if not _layout_given(q):
        return Setup(dims, gpu, None, None, None)
    dp, m = _inferred(q)
    fields: dict[str, Any] = {"dp": dp or 1, "microbatches": m}
    for n in (
        "tp",
        "pp",
        "cp",
        "ep",
        "zero",
        "micro_batch",
        "chunks",
        "schedule",
        "sequence_parallel",
    ):
        if getattr(q, n) is not None:
            fields[n] = getattr(q, n)
    if q.recompute is not None:
        fields["recompute"] = q.recompute
    memory = _memory_base(q) | {"params": None if dims.has_architecture else q.params}
    return Setup(dims, gpu, MemoryQuery(**memory, **fields), dp, m)


def _need(q: ThroughputQuery, name: str, why: str) -> Any:
    value = getattr(q, name)
    if value is None:
        raise InvalidInput(name, f"give {name} {why}")
    return value


def _claim(q: ThroughputQuery, dims: ModelDims) -> tuple[str, float]:
    """(kind, tokens/s per GPU) of the one claim given."""
    given = [c for c in CLAIMS if getattr(q, c) is not None]
    if len(given) != 1:
        field = given[1] if given else "tokens_per_second"
        raise InvalidInput(
            field,
            "give exactly one claim: tokens_per_second, tokens_per_second_per_gpu, step_time "
            "(with global_batch_tokens), gpu_hours (with gpu_hours_tokens) or tflops_per_gpu"
            + (f" (got {', '.join(given)})" if given else ""),
        )
    kind = given[0]
    value = float(getattr(q, kind))
    if kind == "tokens_per_second":
        return kind, value / _need(q, "gpus", "to share the tokens out")
    if kind == "tokens_per_second_per_gpu":
        return kind, value
    if kind == "step_time":
        batch = _need(q, "global_batch_tokens", "with step_time")
        return kind, batch / value / _need(q, "gpus", "with step_time")
    if kind == "gpu_hours":
        return kind, _need(q, "gpu_hours_tokens", "with gpu_hours") / (value * HOUR)
    conv = get_convention(q.tflops_convention, "tflops_convention")
    if not conv.applies(dims, q.recompute):
        raise InvalidInput(
            "tflops_convention",
            f"{conv.name} needs "
            + ("an architecture" if not dims.has_architecture else "recompute= (it is HFU)"),
        )
    per_token = conv.flops_per_token(dims, q.seq_len, q.recompute)
    return kind, value * 1e12 / per_token


@dataclass(frozen=True)
class ConventionResult:
    convention: Convention
    flops_per_token: float
    tflops_per_gpu: float
    mfu: float
    substituted: str


def _substituted(c: Convention, dims: ModelDims, s: int, r: Recompute | None, flops: float) -> str:
    if dims.has_architecture:
        values = (
            f"N = {dims.params:.4g}, L = {dims.layers}, h = {dims.hidden}, "
            f"d = {dims.attention_width}, V = {dims.vocab}, s = {s}"
        )
    else:
        values = f"N = {dims.params:.4g}"
    extra = f", {r} recomputation" if c.kind == "hfu" else ""
    return f"{c.formula} with {values}{extra} = {flops:.4g} FLOPs per token"


def _conventions(
    dims: ModelDims, q: ThroughputQuery, per_gpu: float, peak: float
) -> list[ConventionResult]:
    out = []
    for c in CONVENTIONS.values():
        if not c.applies(dims, q.recompute):
            continue
        flops = c.flops_per_token(dims, q.seq_len, q.recompute)
        achieved = flops * per_gpu
        sub = _substituted(c, dims, q.seq_len, q.recompute, flops)
        out.append(ConventionResult(c, flops, achieved / 1e12, achieved / peak, sub))
    return out


def _peak_flops(gpu: GPUPreset, name: str) -> float:
    tflops = PEAKS[name].tflops(gpu)
    if tflops is None:
        raise InvalidInput("peak", f"{gpu.name} has no FP8 tensor cores; use peak=bf16")
    return tflops * 1e12


# ---------------------------------------------------------------- checks on a stated layout


def _check_world(q: ThroughputQuery, s: Setup) -> Check:
    assert s.memory is not None
    m = s.memory
    product = m.tp * m.cp * m.pp * m.dp
    formula = f"tp·cp·pp·dp = {m.tp} × {m.cp} × {m.pp} × {m.dp} = {product:,}"
    if q.gpus is None:
        return Check("gpus", "Degrees multiply to the GPUs", None, formula + "; gpus not given")
    ok = product == q.gpus
    verdict = "the" if ok else "not the"
    note = "" if q.dp is not None or not ok else " (dp inferred)"
    return Check(
        "gpus",
        "Degrees multiply to the GPUs",
        ok,
        f"{formula}: {verdict} {q.gpus:,} GPUs claimed{note}",
    )


def _check_batch(q: ThroughputQuery, s: Setup) -> Check:
    assert s.memory is not None
    m, title = s.memory, "Global batch = dp × micro batch × microbatches × seq"
    if q.global_batch_tokens is None or s.microbatches is None:
        missing = "global_batch_tokens" if q.global_batch_tokens is None else "microbatches"
        return Check("global_batch", title, None, f"give {missing} to check it")
    product = m.dp * m.micro_batch * s.microbatches * q.seq_len
    ok = product == q.global_batch_tokens
    formula = f"{m.dp} × {m.micro_batch} × {s.microbatches} × {q.seq_len} = {product:,} tokens"
    verdict = "the" if ok else "not the"
    note = " (microbatches inferred)" if q.microbatches is None else ""
    return Check(
        "global_batch",
        title,
        ok,
        f"{formula}: {verdict} {q.global_batch_tokens:,} of the batch{note}",
    )


def _check_memory(s: Setup) -> Check:
    assert s.memory is not None
    query = memory_query_string(s.memory)
    title = "Fits in memory (/memory's model)"
    try:
        report = compute_memory(s.memory)
    except InvalidInput as e:
        return Check("memory", title, False, f"the layout cannot be split: {e.msg}", query)
    gb = report.total / 1e9
    cap = report.capacity / 1e9
    return Check(
        "memory",
        title,
        report.fits,
        f"{gb:.1f} GB of {cap:.1f} GB per GPU on the fullest stage ({report.verdict})",
        query,
    )


def _check_tp(s: Setup) -> Check:
    assert s.memory is not None
    tp, node = s.memory.tp, s.gpu.gpus_per_node
    ok = tp <= node
    where = "inside one node" if ok else "across nodes: every layer's collectives cross the network"
    return Check("tp_in_node", "TP inside a node", ok, f"tp = {tp}, {node} GPUs per node: {where}")


def _check_plausible(results: list[ConventionResult], peak_title: str) -> Check:
    lowest = min((r for r in results if r.convention.kind == "mfu"), key=lambda r: r.mfu)
    ok = lowest.mfu <= 1
    detail = f"{lowest.convention.title}: {lowest.mfu:.1%} of the {peak_title} peak" + (
        "" if ok else " — above 100%: the tokens cannot be per this many GPUs of this model"
    )
    return Check("plausible", "Below the peak under the leanest count", ok, detail)


# ---------------------------------------------------------------- where the GPU's time goes


@dataclass(frozen=True)
class TimeShare:
    name: str
    title: str
    fraction: float
    detail: str


def _bubble_fraction(s: Setup, recompute: Recompute | None) -> float | None:
    """The layout's schedule on equal stages (F = 1, B = 2, or 3 with full recomputation)."""
    if s.memory is None or s.memory.pp == 1 or s.microbatches is None:
        return None
    try:
        layout = resolve_memory(s.memory)  # the schedule and chunks /memory resolves
    except InvalidInput:
        return None
    backward = 3.0 if recompute == "full" else 2.0
    return _equal_stage_bubble(
        layout.schedule, s.memory.pp, s.microbatches, layout.chunks, backward
    )


@lru_cache(maxsize=256)
def _equal_stage_bubble(schedule: str, p: int, m: int, v: int, backward: float) -> float | None:
    """The paper's closed form where it holds, else the simulator (same F, I = W = B/2)."""
    half = backward / 2
    form = closed_form(schedule, p, m, v, 1.0, half, half, None)
    if form is not None and form.applies:
        return form.bubble_fraction
    try:
        sim = simulate_pipeline(
            schedule, p, m, chunks=v, forward=1.0, backward_input=half, backward_weight=half
        )
    except InvalidInput:
        return None
    return sim.bubble_fraction


def _time_shares(results: list[ConventionResult], s: Setup, q: ThroughputQuery) -> list[TimeShare]:
    """Model FLOPs at peak, recomputation at peak, the pipeline bubble, and the rest."""
    by = {r.convention.name: r for r in results}
    ref = by.get(REFERENCE) or by["6n"]
    shares = [
        TimeShare("model_flops", "model FLOPs at peak", ref.mfu, f"{ref.convention.title}: the MFU")
    ]
    if q.recompute in ("selective", "full") and s.dims.has_architecture:
        # full: one more forward (a third of the counted FLOPs); selective: the causal
        # attention scores' forward, 2·L·s·d per token (app/core/parallel/flops.py)
        assert s.dims.layers and s.dims.attention_width
        extra = (
            ref.flops_per_token / 3
            if q.recompute == "full"
            else (2 * s.dims.layers * q.seq_len * s.dims.attention_width)
        )
        share = ref.mfu * extra / ref.flops_per_token
        shares.append(
            TimeShare("recompute", "recomputation at peak", share, f"{q.recompute} recomputation")
        )
    bubble = _bubble_fraction(s, q.recompute)
    if bubble is not None:
        assert s.memory is not None
        shares.append(
            TimeShare(
                "bubble",
                "pipeline bubble",
                bubble,
                f"p = {s.memory.pp}, m = {s.microbatches}, equal stages",
            )
        )
    rest = 1 - sum(x.fraction for x in shares)
    shares.append(
        TimeShare(
            "other",
            "kernels below peak, exposed communication, stalls",
            max(0.0, rest),
            "what the claim leaves"
            + ("" if rest >= 0 else " (none: the claim beats the shares above)"),
        )
    )
    return shares


# ---------------------------------------------------------------- the answer


@dataclass(frozen=True, eq=False)
class ThroughputResult:
    query: ThroughputQuery
    setup: Setup
    claim: str
    tokens_per_second_per_gpu: float
    peak_name: str
    peak: float
    conventions: tuple[ConventionResult, ...]
    checks: tuple[Check, ...]
    time_shares: tuple[TimeShare, ...]

    def convention(self, name: str) -> ConventionResult:
        return next(r for r in self.conventions if r.convention.name == name)

    @property
    def tokens_per_second(self) -> float | None:
        gpus = self.query.gpus
        return None if gpus is None else self.tokens_per_second_per_gpu * gpus

    @property
    def step_time(self) -> float | None:
        q, tps = self.query, self.tokens_per_second
        if q.step_time is not None:
            return q.step_time
        return None if q.global_batch_tokens is None or tps is None else q.global_batch_tokens / tps

    def implied(self) -> dict[str, Any]:
        q = self.query
        gpu_hours = q.train_tokens / self.tokens_per_second_per_gpu / HOUR
        tps = self.tokens_per_second
        seconds = None if tps is None else q.train_tokens / tps
        return {
            "train_tokens": q.train_tokens,
            "gpu_hours": gpu_hours,
            "seconds": seconds,
            "days": None if seconds is None else seconds / DAY,
            "tokens_per_gpu_hour": self.tokens_per_second_per_gpu * HOUR,
        }

    def payload(self) -> dict[str, Any]:
        from app.core.planning.decoder_payload import throughput_payload

        return throughput_payload(self)


def decode(q: ThroughputQuery) -> ThroughputResult:
    """Every convention's reading of the claim in `q`, and checks on its layout.

    For example Megatron-Turing NLG 530B (L = 105, h = 20,480, V = 51,200, s = 2,048): 60.1 s
    per step of 1,920 × 2,048 tokens on 2,240 A100s is 29.2 tokens/s per GPU, and Megatron's
    96·L·h²(…) with full recomputation gives 125.7 TFLOP/s per GPU (the paper: 126).
    """
    setup = _setup(q)
    kind, per_gpu = _claim(q, setup.dims)
    peak_name = f"{q.peak}_dense"
    peak = _peak_flops(setup.gpu, peak_name)
    results = _conventions(setup.dims, q, per_gpu, peak)
    checks = [_check_plausible(results, PEAKS[peak_name].title)]
    if setup.memory is not None:
        checks = [
            _check_world(q, setup),
            _check_batch(q, setup),
            _check_tp(setup),
            _check_memory(setup),
            *checks,
        ]
    return ThroughputResult(
        q,
        setup,
        kind,
        per_gpu,
        peak_name,
        peak,
        tuple(results),
        tuple(checks),
        tuple(_time_shares(results, setup, q)),
    )


def with_claim(q: ThroughputQuery, **claim: Any) -> ThroughputQuery:
    """`q` with its claim replaced (the other claim fields cleared)."""
    cleared = {c: None for c in CLAIMS}
    return replace(q, **(cleared | claim))


__all__ = ["PEAK_SOURCE", "Check", "ThroughputQuery", "ThroughputResult", "decode", "with_claim"]
