"""Step one of the memory pipeline: the query, and what it resolves to.

A query names a preset model, a custom architecture (layers, hidden, heads, ...) or only a
parameter count, a GPU, dtypes and a parallel layout. `resolve` checks that the model can be
split that way (naming the field to change when not) and returns a `MemorySetup`: the model
(None for params= only), the GPU, the dtypes, each pipeline rank's layers, and the query with
every default filled in, which the response echoes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.memory_layout import (
    StageLayout,
    pipeline_filling_microbatches,
    stage_layouts,
)
from app.core.parallel.memory_terms import Mode, Recompute, WeightDtype, resolve_dtype
from app.core.parallel.presets import GPUPreset, ModelPreset, get_gpu, get_model
from app.core.params import effective, param


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
    chunks: int = param(
        1,
        "Model chunks per pipeline rank (interleaving).",
        example=1,
        ge=1,
        le=limit("pipeline_chunks"),
    )
    zero: int = param(0, "ZeRO stage (0-3).", example=1, ge=0, le=3)
    micro_batch: int = param(
        1, "Sequences per microbatch.", example=1, ge=1, le=limit("micro_batch")
    )
    microbatches: int | None = param(
        None,
        "Microbatches per iteration (default: enough to fill the pipeline, pp for 1F1B and "
        "2·pp when interleaved; the response's `microbatches` says how many).",
        example=8,
        ge=1,
        le=limit("pipeline_microbatches"),
    )
    seq_len: int = param(4096, "Sequence length (tokens).", example=8192, ge=1, le=limit("seq_len"))
    batch: int = param(
        1,
        "Inference: sequences in the KV cache (train uses micro_batch).",
        example=1,
        ge=1,
        le=limit("inference_batch"),
    )
    recompute: Recompute = param("none", "Activation recomputation.", example="selective")
    sequence_parallel: bool = param(False, "Megatron sequence parallelism.", example=True)
    dtype: str = param(
        "bfloat16",
        "Weight dtype: a format name or alias (see /api/v1/dtypes), mxfp4 or nvfp4. In train "
        "mode it sets the working weight copy; gradients stay 16-bit and Adam keeps fp32 states.",
        example="bfloat16",
        max_length=40,
    )
    kv_dtype: str = param("bfloat16", "KV-cache dtype.", example="bfloat16", max_length=40)
    mode: Mode = param("train", "train or inference.", example="train")


def _custom_model(q: MemoryQuery) -> ModelPreset:
    assert q.layers is not None and q.hidden is not None and q.heads is not None
    if q.hidden % q.heads:
        raise InvalidInput("heads", f"hidden ({q.hidden}) must be a multiple of heads")
    kv = q.kv_heads if q.kv_heads is not None else q.heads
    if q.heads % kv:
        raise InvalidInput("kv_heads", f"heads ({q.heads}) must be a multiple of kv_heads ({kv})")
    return ModelPreset(
        name="custom",
        title="custom",
        layers=q.layers,
        hidden=q.hidden,
        ffn=q.ffn if q.ffn is not None else 4 * q.hidden,
        heads=q.heads,
        kv_heads=kv,
        head_dim=q.hidden // q.heads,
        vocab=q.vocab if q.vocab is not None else 32000,
        tied_embeddings=False,
    )


def _model(q: MemoryQuery) -> ModelPreset | None:
    custom = [n for n in ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab") if getattr(q, n)]
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
    if q.chunks > 1 and q.pp == 1:
        raise InvalidInput("chunks", "interleaving (chunks > 1) needs pp > 1")
    if q.ep > 1 and (q.dp * q.cp) % q.ep:
        raise InvalidInput(
            "ep",
            f"ep ({q.ep}) must divide dp·cp ({q.dp * q.cp}): experts are spread over "
            "data-parallel ranks (Megatron convention)",
        )
    if q.seq_len % q.cp:
        raise InvalidInput("cp", f"cp ({q.cp}) must divide seq_len ({q.seq_len})")
    if m is None:
        if q.ep > 1:
            raise InvalidInput("ep", "expert parallelism needs a model architecture, not params=")
        return
    if q.pp * q.chunks > m.layers:
        raise InvalidInput(
            "pp" if q.chunks == 1 else "chunks",
            f"pp·chunks = {q.pp * q.chunks} exceeds the model's {m.layers} layers",
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


@dataclass(frozen=True)
class MemorySetup:
    """A checked query and what it names: model, GPU, dtypes and each rank's layers."""

    query: MemoryQuery
    model: ModelPreset | None
    gpu: GPUPreset
    weights: WeightDtype
    kv: WeightDtype
    stages: tuple[StageLayout, ...]
    microbatches: int
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

    def effective(self) -> dict[str, Any]:
        """Every parameter as computed: defaults filled in, names as the registries spell them.

        Sent back as the same query, it gives the same answer. `microbatches` stays as given:
        left out, it means "enough to fill the pipeline" whatever pp a change leads to (the
        count that assumes is `microbatches` on the setup).
        """
        out = effective(self.query)
        m = self.model
        if m is not None and self.query.model is not None:
            out["model"] = m.name
        elif m is not None:  # a custom architecture: its defaulted dimensions
            out.update(kv_heads=m.kv_heads, ffn=m.ffn, vocab=m.vocab)
        out.update(gpu=self.gpu.name, dtype=self.weights.name, kv_dtype=self.kv.name)
        return out


def resolve(q: MemoryQuery) -> MemorySetup:
    """Check `q` and look up what it names; raises `InvalidInput` / `UnknownName` naming a field.

    For example ``resolve(MemoryQuery(model="llama3-8b", pp=4)).stages[0].layers == 8``.
    """
    gpu = get_gpu(q.gpu)
    m = _model(q)
    _check(q, m)
    weights = resolve_dtype(q.dtype)
    kv = resolve_dtype(q.kv_dtype, field="kv_dtype")
    stages = stage_layouts(m.layers if m else 0, m.n_dense_layers if m else 0, q.pp, q.chunks)
    filling = pipeline_filling_microbatches(q.pp, q.chunks)
    microbatches = q.microbatches if q.microbatches is not None else filling
    return MemorySetup(q, m, gpu, weights, kv, stages, microbatches)
