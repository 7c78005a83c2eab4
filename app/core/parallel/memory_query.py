"""The memory query: its inputs, the model they name, and which combinations are valid.

A query names a preset model, a custom architecture (layers, hidden, heads, ...) or only a
parameter count; `_resolve_model` turns it into a `ModelPreset` (or None for params= only) and
`_check` rejects parallel layouts the model cannot be split into, naming the field to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.memory_terms import Mode, Recompute
from app.core.parallel.presets import ModelPreset, get_model
from app.core.params import param


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
        "Microbatches per iteration (default: at least pp, so 1F1B has p in flight).",
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


def _resolve_model(q: MemoryQuery) -> ModelPreset | None:
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
