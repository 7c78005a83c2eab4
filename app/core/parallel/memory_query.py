"""Step one of the memory pipeline: the query, and what it resolves to.

A query names a preset model, a custom architecture (layers, hidden, heads, ...) or only a
parameter count, a GPU, dtypes, a parallel layout, a pipeline schedule and the assumptions
that move the total (attention kernel, layer anatomy, logits, gradient and optimizer
precision, accounting convention, overhead). `resolve` checks that the model can be split
that way (naming the field to change when not), simulates the schedule (`memory_schedule`)
and returns a `MemorySetup`: the model (None for params= only), the GPU, the dtypes, each
pipeline rank's layers, and the query with every default filled in, which the response
echoes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.memory_anatomy import Anatomy, Attention, LayerShape
from app.core.parallel.memory_layout import StageLayout, stage_layouts
from app.core.parallel.memory_schedule import (
    SchedulePlan,
    default_microbatches,
    resolve_schedule,
    schedule_plan,
)
from app.core.parallel.memory_states import (
    CONVENTIONS,
    WEIGHT_CLASSES,
    Convention,
    ConventionSpec,
    StateDtypes,
    WeightClass,
    resolve_storage,
)
from app.core.parallel.memory_terms import Mode, Recompute, WeightDtype, resolve_dtype
from app.core.parallel.pipeline import SCHEDULES
from app.core.parallel.presets import GPUPreset, ModelPreset, custom_model, get_gpu, get_model
from app.core.params import effective, param

Logits = Literal["fp32", "bf16", "chunked"]
GB = 10**9


@dataclass(frozen=True)
class MemoryQuery:
    """Inputs, with the API's names, defaults, descriptions and bounds (one declaration each)."""

    model: str | None = param(
        None, "Model preset (case and dashes do not matter).", example="llama3-70b", max_length=60
    )
    layers: int | None = param(
        None, "Custom: transformer layers.", example=32, ge=1, le=limit("model_layers")
    )
    hidden: int | None = param(
        None, "Custom: hidden size.", example=4096, ge=1, le=limit("model_hidden")
    )
    heads: int | None = param(
        None, "Custom: attention heads.", example=32, ge=1, le=limit("model_heads")
    )
    kv_heads: int | None = param(
        None, "Custom: KV heads (default heads).", example=8, ge=1, le=limit("model_heads")
    )
    ffn: int | None = param(
        None, "Custom: MLP size (default 4·hidden).", example=14336, ge=1, le=limit("model_ffn")
    )
    vocab: int | None = param(
        None, "Custom: vocabulary (default 32000).", example=128256, ge=1, le=limit("model_vocab")
    )
    mlp: Literal["swiglu", "gelu"] | None = param(
        None, "Custom: MLP kind (default swiglu: gate, up, down).", example="swiglu"
    )
    norm: Literal["rmsnorm", "layernorm"] | None = param(
        None, "Custom: normalisation (default rmsnorm).", example="rmsnorm"
    )
    dropout: bool | None = param(
        None,
        "Keep dropout masks (default: as the model trains; the presets use no dropout).",
        example=False,
    )
    params: float | None = param(
        None,
        "Parameter count only (model states, no architecture).",
        example=7.5e9,
        gt=0,
        le=limit("model_params"),
    )
    gpu: str = param("h100-sxm", "GPU preset.", example="h100-sxm", max_length=40)
    dp: int = param(
        1, "Data-parallel degree (ep divides dp·cp).", example=8, ge=1, le=limit("mesh_ranks")
    )
    tp: int = param(1, "Tensor-parallel degree.", example=8, ge=1, le=limit("parallel_degree"))
    pp: int = param(1, "Pipeline stages.", example=4, ge=1, le=limit("pipeline_stages"))
    cp: int = param(
        1,
        "Context-parallel degree (divides seq_len).",
        example=1,
        ge=1,
        le=limit("parallel_degree"),
    )
    ep: int = param(
        1,
        "Expert-parallel degree: experts split over ep ranks carved out of dp·cp, and each "
        "expert over tp (Megatron, expert TP = TP).",
        example=1,
        ge=1,
        le=limit("parallel_degree"),
    )
    schedule: str | None = param(  # None as 1f1b: a subclass (communication) defaults to None
        "1f1b",
        "Pipeline schedule (as GET /api/v1/pipeline names them); microbatches in flight per "
        "stage are the simulator's peak activations.",
        example="zbv",
        max_length=40,
    )
    chunks: int | None = param(
        None,
        "Model chunks per pipeline rank (default: the schedule's, 1 without a pipeline).",
        example=2,
        ge=1,
        le=limit("pipeline_chunks"),
    )
    zero: int = param(0, "ZeRO stage (0-3).", example=1, ge=0, le=3)
    convention: Convention = param(
        "zero_paper",
        "Model-state accounting: zero_paper, megatron (fp32 main gradients), deepspeed "
        "(estimate_zero2/3_model_states_mem_needs) or fsdp (fp32 sharded parameters).",
        example="megatron",
    )
    micro_batch: int = param(
        1, "Sequences per microbatch.", example=1, ge=1, le=limit("micro_batch")
    )
    microbatches: int | None = param(
        None,
        "Microbatches per iteration (default: from global_batch, else the fewest that fill "
        "the pipeline; the response's `microbatches` says how many).",
        example=8,
        ge=1,
        le=limit("pipeline_microbatches"),
    )
    global_batch: int | None = param(
        None,
        "Tokens per iteration; microbatches = global_batch / (dp · micro_batch · seq_len).",
        example=16777216,
        ge=1,
    )
    seq_len: int = param(4096, "Sequence length (tokens).", example=8192, ge=1, le=limit("seq_len"))
    batch: int = param(
        1,
        "Inference: sequences in the KV cache (train uses micro_batch).",
        example=1,
        ge=1,
        le=limit("inference_batch"),
    )
    recompute: Recompute = param(
        "none",
        "Activation recomputation: selective recomputes the attention core (and, for the "
        "model's own layer, norm outputs, activation outputs and MLA up-projections); full "
        "keeps only each layer's input.",
        example="selective",
    )
    sequence_parallel: bool = param(False, "Megatron sequence parallelism.", example=True)
    anatomy: Anatomy = param(
        "model",
        "Layer whose activations are counted: model (its own tensors) or gpt (Korthikanti "
        "et al. 2022's GPT layer, Table 2).",
        example="gpt",
    )
    attention: Attention = param(
        "flash",
        "Attention kernel: flash keeps the output and an fp32 logsumexp (no s×s scores); "
        "eager keeps the softmax output.",
        example="eager",
    )
    logits: Logits = param(
        "fp32",
        "Loss on the last stage: fp32 keeps the s·b·V logits upcast to fp32, bf16 keeps "
        "them in bf16, chunked fuses the LM head and the loss in chunks (no full logits).",
        example="chunked",
    )
    capacity_factor: float | None = param(
        None,
        "MoE: tokens per expert capped at this × the fair share, padded (default: dropless, "
        "balanced routing).",
        example=1.25,
        gt=0,
    )
    fp8_activations: bool = param(
        False,
        "Cache linear-layer inputs in FP8 with 1×128 tile scales (DeepSeek-V3 §3.3.3).",
        example=True,
    )
    dtype: str | None = param(
        None,
        "Weight dtype of every tensor class (see /api/v1/dtypes; also mxfp4, nvfp4, "
        "deepseek_fp8). Default: bfloat16 in training; as the checkpoint ships in inference.",
        example="bfloat16",
        max_length=40,
    )
    dtype_attention: str | None = param(
        None,
        "Weight dtype of the attention projections (default: dtype).",
        example="bfloat16",
        max_length=40,
    )
    dtype_mlp: str | None = param(
        None,
        "Weight dtype of the MLP and expert projections (default: dtype).",
        example="mxfp4",
        max_length=40,
    )
    dtype_embedding: str | None = param(
        None,
        "Weight dtype of the embedding and LM head (default: dtype).",
        example="bfloat16",
        max_length=40,
    )
    dtype_router: str | None = param(
        None,
        "Weight dtype of routers and norms (default: dtype).",
        example="bfloat16",
        max_length=40,
    )
    grad_dtype: str | None = param(
        None,
        "Gradient dtype (default: the convention's; Megatron keeps fp32).",
        example="float32",
        max_length=40,
    )
    optimizer_dtype: str = param(
        "float32",
        "Adam moment dtype (master weights stay fp32; DeepSeek-V3 keeps bf16 moments).",
        example="bfloat16",
        max_length=40,
    )
    kv_dtype: str = param("bfloat16", "KV-cache dtype.", example="bfloat16", max_length=40)
    overhead: float = param(
        4.0,
        "GB (10⁹ bytes) the terms do not count — CUDA context, NCCL buffers, allocator "
        "fragmentation — that must stay free for a layout to 'fit' (less: 'fits, barely').",
        example=4.0,
        ge=0,
    )
    mode: Mode = param("train", "train or inference.", example="train")


_CUSTOM = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "mlp", "norm")


def _custom_model(q: MemoryQuery) -> ModelPreset:
    assert q.layers is not None and q.hidden is not None and q.heads is not None
    return custom_model(
        q.layers,
        q.hidden,
        q.heads,
        q.kv_heads,
        q.ffn,
        q.vocab,
        mlp=q.mlp or "swiglu",
        norm=q.norm or "rmsnorm",
    )


def _model(q: MemoryQuery) -> ModelPreset | None:
    custom = [n for n in _CUSTOM if getattr(q, n) is not None]
    if q.model is not None:
        if custom:
            raise InvalidInput(custom[0], "give either model= or a custom architecture, not both")
        if q.params is not None:
            raise InvalidInput("params", "give either model= or params=, not both")
        return get_model(q.model)
    if custom:
        for need in ("layers", "hidden", "heads"):
            if getattr(q, need) is None:
                raise InvalidInput(need, "a custom architecture needs layers, hidden and heads")
        if q.params is not None:
            raise InvalidInput("params", "give either a custom architecture or params=, not both")
        return _custom_model(q)
    if q.params is None:
        raise InvalidInput(
            "model",
            "give model= (a preset), a custom architecture (layers, hidden, heads) or params=",
        )
    return None


def _check(q: MemoryQuery, m: ModelPreset | None) -> None:
    world = q.dp * q.tp * q.pp * q.cp
    if world > limit("mesh_ranks"):
        # blame the largest degree: with the others at their default 1, it is the one given
        degrees = {"dp": q.dp, "tp": q.tp, "pp": q.pp, "cp": q.cp}
        field = max(degrees, key=lambda k: degrees[k])
        raise InvalidInput(
            field,
            f"dp·tp·pp·cp = {world} exceeds {limit('mesh_ranks')} GPUs; lower {field} "
            f"({degrees[field]}) or another degree",
        )
    if q.chunks is not None and q.chunks > 1 and q.pp == 1:
        raise InvalidInput("chunks", "interleaving (chunks > 1) needs pp > 1")
    if q.ep > 1 and (q.dp * q.cp) % q.ep:
        raise InvalidInput(
            "ep",
            f"ep ({q.ep}) must divide dp·cp ({q.dp * q.cp}): experts are spread over "
            "data-parallel ranks (Megatron convention)",
        )
    if q.seq_len % q.cp:
        raise InvalidInput("cp", f"cp ({q.cp}) must divide seq_len ({q.seq_len})")
    for name in ("overhead", "capacity_factor"):
        value = getattr(q, name)
        if value is not None and not math.isfinite(value):
            raise InvalidInput(name, "must be a finite number")
    if m is None:
        if q.ep > 1:
            raise InvalidInput("ep", "expert parallelism needs a model architecture, not params=")
        return
    _check_model(q, m)


def _check_model(q: MemoryQuery, m: ModelPreset) -> None:
    chunks = q.chunks or 1
    if q.pp * chunks > m.layers:
        raise InvalidInput(
            "pp" if chunks == 1 else "chunks",
            f"pp·chunks = {q.pp * chunks} exceeds the model's {m.layers} layers",
        )
    if m.heads % q.tp:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide the {m.heads} attention heads")
    if m.mla is None and m.kv_heads % q.tp and (q.mode == "train" or q.tp % m.kv_heads):
        raise InvalidInput(
            "tp",
            f"tp ({q.tp}) must divide the {m.kv_heads} KV heads"
            + ("" if q.mode == "train" else " (or be a multiple of them)"),
        )
    if m.ffn % q.tp and m.n_dense_layers:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide ffn ({m.ffn})")
    if m.is_moe and m.expert_ffn % q.tp:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide the expert ffn ({m.expert_ffn})")
    if q.ep > 1 and not m.is_moe:
        raise InvalidInput("ep", f"{m.name} is dense: expert parallelism needs an MoE model")
    if m.is_moe and m.experts % q.ep:
        raise InvalidInput("ep", f"ep ({q.ep}) must divide the {m.experts} experts")


def microbatch_count(q: MemoryQuery, schedule: str, chunks: int) -> int:
    """Microbatches per iteration: given, from the global batch, or the schedule's default.

    For example Llama 3 405B (Table 4, row 1): 16M tokens over dp 64 × 8,192 tokens is 32.
    """
    if q.global_batch is None:
        if q.microbatches is not None:
            return q.microbatches
        return default_microbatches(schedule, q.pp, chunks)
    per = q.dp * q.micro_batch * q.seq_len
    if q.global_batch % per:
        lo = max(per, q.global_batch - q.global_batch % per)
        raise InvalidInput(
            "global_batch",
            f"{q.global_batch:,} tokens is not a whole number of microbatches of dp·micro_batch"
            f"·seq_len = {per:,} tokens; try {lo:,} or {lo + per:,}",
        )
    m = q.global_batch // per
    if q.microbatches is not None and q.microbatches != m:
        raise InvalidInput(
            "global_batch",
            f"{q.global_batch:,} tokens over dp·micro_batch·seq_len = {per:,} make {m:,} "
            f"microbatches, not the {q.microbatches:,} given; give one of the two",
        )
    if m > limit("pipeline_microbatches"):
        raise InvalidInput(
            "global_batch",
            f"{m:,} microbatches per pipeline exceed {limit('pipeline_microbatches'):,}; raise "
            "micro_batch or dp, or lower global_batch",
        )
    return m


@dataclass(frozen=True)
class MemorySetup:
    """A checked query and what it names: model, GPU, dtypes, schedule and each rank's layers."""

    query: MemoryQuery
    model: ModelPreset | None
    gpu: GPUPreset
    states: StateDtypes
    kv: WeightDtype
    convention: ConventionSpec
    stages: tuple[StageLayout, ...]
    microbatches: int
    schedule: str
    chunks: int
    plan: SchedulePlan | None  # training only
    dropout: bool
    formulas: bool = True  # print every term's formula (advice needs only the bytes)

    @property
    def data_parallel(self) -> int:
        """N_d = dp·cp: the ranks ZeRO shards over (CP ranks hold identical weights)."""
        return self.query.dp * self.query.cp

    @property
    def gpus_per_stage(self) -> int:
        """dp·tp·cp GPUs share each pipeline stage's bytes (EP is carved out of dp·cp)."""
        return self.query.dp * self.query.tp * self.query.cp

    @property
    def world_size(self) -> int:
        return self.gpus_per_stage * self.query.pp

    @property
    def tokens(self) -> int:
        """Tokens of one sequence on one GPU: seq_len/cp."""
        return self.query.seq_len // self.query.cp

    @property
    def weights(self) -> WeightDtype:
        """The weights' dtype when every class shares one, else the MLP class's (which holds
        most parameters); `states.weights` has each class's."""
        return self.states.uniform or self.states.weights["mlp"]

    @property
    def overhead(self) -> int:
        """Bytes that must stay free: the query's overhead in GB."""
        return round(Fraction(self.query.overhead) * GB)

    def shape(self) -> LayerShape:
        """What one layer's activations depend on (see `memory_anatomy`)."""
        q, m = self.query, self.model
        assert m is not None
        a = m.mla
        cf = q.capacity_factor
        return LayerShape(
            tokens=self.tokens,
            keys=q.seq_len,
            micro_batch=q.micro_batch,
            tp=q.tp,
            sequence_parallel=q.sequence_parallel,
            recompute=q.recompute,
            attention=q.attention,
            hidden=m.hidden,
            heads=m.heads,
            kv_heads=m.kv_heads,
            head_dim=m.head_dim,
            ffn=m.ffn,
            norm=m.norm,
            mlp=m.mlp,
            dropout=self.dropout,
            qk_norm=m.qk_norm,
            fp8=q.fp8_activations,
            experts=m.experts,
            top_k=m.experts_per_token,
            expert_ffn=m.expert_ffn,
            shared_experts=m.shared_experts,
            capacity_factor=None if cf is None else Fraction(cf).limit_denominator(1000),
            q_lora=a.q_lora_rank if a else 0,
            kv_lora=a.kv_lora_rank if a else 0,
            rope_dim=a.qk_rope_head_dim if a else 0,
            nope_dim=a.qk_nope_head_dim if a else 0,
            v_dim=a.v_head_dim if a else 0,
        )

    def effective(self) -> dict[str, Any]:
        """Every parameter as computed: defaults filled in, names as the registries spell them.

        Sent back as the same query, it gives the same answer. `microbatches` stays as given:
        left out, it means "from global_batch, else enough to fill the pipeline" whatever a
        change leads to (the count that assumes is `microbatches` on the setup).
        """
        out = effective(self.query)
        m, q = self.model, self.query
        if m is not None and q.model is not None:
            out["model"] = m.name
        elif m is not None:  # a custom architecture: its defaulted dimensions
            out.update(kv_heads=m.kv_heads, ffn=m.ffn, vocab=m.vocab, mlp=m.mlp, norm=m.norm)
        # a class's own dtype only when given: otherwise it follows `dtype`, which in
        # inference defaults to the checkpoint's classes (null) and in training to bfloat16
        given = {f"dtype_{c}": getattr(q, f"dtype_{c}") for c in WEIGHT_CLASSES}
        w = self.states.weights
        out.update(
            gpu=self.gpu.name,
            kv_dtype=self.kv.name,
            schedule=self.schedule,
            chunks=self.chunks,
            dropout=self.dropout,
            dtype=None if q.dtype is None and q.mode == "inference" else self._dtype_name(),
            grad_dtype=self.states.grads.name,
            optimizer_dtype=self.states.moments.name,
            **{k: None if v is None else w[k[6:]].name for k, v in given.items()},  # type: ignore[index]
        )
        return out

    def _dtype_name(self) -> str:
        q = self.query
        return resolve_storage(q.dtype, "dtype").name if q.dtype else "bfloat16"


def _weights(q: MemoryQuery, m: ModelPreset | None) -> dict[WeightClass, WeightDtype]:
    """Each class's dtype: its own parameter, else `dtype`, else the checkpoint (inference)
    or bfloat16 (training)."""
    out: dict[WeightClass, WeightDtype] = {}
    for cls in WEIGHT_CLASSES:
        own = getattr(q, f"dtype_{cls}")
        if own is not None:
            out[cls] = resolve_storage(own, f"dtype_{cls}")
        elif q.dtype is not None:
            out[cls] = resolve_storage(q.dtype, "dtype")
        elif m is not None and q.mode == "inference":
            out[cls] = resolve_storage(getattr(m.checkpoint, cls), "model")
        else:
            out[cls] = resolve_dtype("bfloat16")
    return out


def _states(q: MemoryQuery, m: ModelPreset | None, conv: ConventionSpec) -> StateDtypes:
    grads = resolve_dtype(q.grad_dtype or conv.grad_dtype, "grad_dtype")
    moments = resolve_dtype(q.optimizer_dtype, "optimizer_dtype")
    return StateDtypes(_weights(q, m), grads, moments)


def _window_layers(m: ModelPreset | None) -> frozenset[int]:
    if m is None or not m.sliding_window:
        return frozenset()
    return frozenset(i for i in range(m.layers) if m.layer_kind(i) == "sliding")


def resolve(q: MemoryQuery, timeline: bool = True) -> MemorySetup:
    """Check `q`, look up what it names and simulate its schedule; raises `InvalidInput` /
    `UnknownName` naming a field. Without `timeline` the schedule's in-flight counts and
    bubble are exact but its activation strip is left out (`schedule_plan`).

    For example ``resolve(MemoryQuery(model="llama3-8b", pp=4)).stages[0].layers == 8``.
    """
    gpu = get_gpu(q.gpu)
    m = _model(q)
    _check(q, m)
    conv = CONVENTIONS[q.convention]
    states = _states(q, m, conv)
    kv = resolve_dtype(q.kv_dtype, field="kv_dtype")
    schedule = resolve_schedule(q.schedule or "1f1b")  # a subclass may leave it None
    if schedule == "1f1b" and q.chunks is not None and q.chunks > 1:
        schedule = "interleaved_1f1b"  # Megatron's 1F1B with a virtual pipeline
    spec: Any = SCHEDULES[schedule]  # main: default_chunks; the pipeline refactor: chunks.default
    sched_chunks = getattr(spec, "default_chunks", None) or spec.chunks.default
    chunks = q.chunks if q.chunks is not None else (sched_chunks if q.pp > 1 else 1)
    microbatches = microbatch_count(q, schedule, chunks)
    plan: SchedulePlan | None = None
    if q.mode == "train":
        plan = schedule_plan(schedule, q.pp, microbatches, chunks, timeline)
        stage_to_rank = plan.stage_to_rank
    else:
        stage_to_rank = tuple(s % q.pp for s in range(q.pp * chunks))
    if m is not None and q.pp * chunks > m.layers:
        raise InvalidInput("chunks", f"pp·chunks = {q.pp * chunks} exceeds {m.layers} layers")
    layers = (m.layers, m.n_dense_layers) if m else (0, 0)
    stages = stage_layouts(*layers, stage_to_rank, _window_layers(m))
    overhead = round(Fraction(q.overhead) * GB)
    if overhead >= gpu.memory_bytes:
        raise InvalidInput("overhead", f"{q.overhead:g} GB leaves nothing of the {gpu.title}")
    dropout = q.dropout if q.dropout is not None else bool(m and m.dropout > 0)
    return MemorySetup(
        q, m, gpu, states, kv, conv, stages, microbatches, schedule, chunks, plan, dropout
    )
