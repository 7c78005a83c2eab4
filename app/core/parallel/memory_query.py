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


@dataclass(frozen=True)
class MemoryQuery:
    """Inputs, with the API's names and defaults (issue 4)."""

    model: str | None = None
    layers: int | None = None
    hidden: int | None = None
    heads: int | None = None
    kv_heads: int | None = None
    ffn: int | None = None
    vocab: int | None = None
    params: float | None = None
    gpu: str = "h100-sxm"
    dp: int = 1
    tp: int = 1
    pp: int = 1
    cp: int = 1
    ep: int = 1
    chunks: int = 1
    zero: int = 0
    micro_batch: int = 1
    microbatches: int | None = None
    seq_len: int = 4096
    batch: int = 1
    recompute: Recompute = "none"
    sequence_parallel: bool = False
    dtype: str = "bfloat16"
    kv_dtype: str = "bfloat16"
    mode: Mode = "train"


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
