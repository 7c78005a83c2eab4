"""Shard maps: which device holds which slice of a tensor, with JAX `NamedSharding` semantics.

A spec has one entry per tensor dimension: a mesh axis name, several joined by ``+`` (major to
minor, like ``P(('dp', 'tp'))``) or ``_`` (not sharded). Mesh axes the spec does not name
replicate the tensor. For example on ``dp:2,tp:4`` a (16, 32) tensor with spec ``dp,tp`` has
shard shape (8, 8); rank 6 = (dp 1, tp 2) holds rows [8, 16) and columns [16, 24).

`replica` follows JAX (`jax._src.sharding_impls.device_replica_id_map`): devices are visited in
mesh order and each device holding an index already seen gets the next replica id, which equals
the mixed-radix number of the replicated axes' coordinates, major to minor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.parallel.memory import layers_per_stage, resolve_dtype
from app.core.parallel.mesh import Axis, IntArray, parse_axes, validate_axes
from app.core.parallel.presets import get_model

Spec = tuple[tuple[str, ...], ...]


def parse_shape(text: str, field: str = "shape") -> tuple[int, ...]:
    """Parse ``"16,32"`` into (16, 32)."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    if not parts:
        raise InvalidInput(field, "give at least one dimension, e.g. 16,32")
    if len(parts) > limit("tensor_rank"):
        raise InvalidInput(
            field, f"{len(parts)} dimensions; at most {limit('tensor_rank')} are allowed"
        )
    dims: list[int] = []
    for p in parts:
        # ASCII only: str.isdigit() is also true for "²", which int() rejects
        if not (p.isascii() and p.isdigit()) or len(p) > 16:
            raise InvalidInput(
                field, f"{p!r} is not a positive integer dimension: use digits 0-9, e.g. 16,32"
            )
        d = int(p)
        if d < 1 or d > limit("tensor_dim"):
            raise InvalidInput(field, f"each dimension must be between 1 and {limit('tensor_dim')}")
        dims.append(d)
    return tuple(dims)


def parse_spec(text: str, field: str = "spec") -> Spec:
    """Parse ``"dp+tp,_"`` into (("dp", "tp"), ()); ``"dp tp"`` means the same."""
    entries: list[tuple[str, ...]] = []
    for part in text.split(","):
        part = part.strip()
        if part in ("_", "None", "none"):
            entries.append(())
            continue
        # "+" arrives as a space when a URL query is not percent-encoded (dp+tp -> "dp tp").
        names = tuple(re.split(r"\s*\+\s*|\s+", part))
        if not part or any(not n for n in names):
            raise InvalidInput(
                field, f"{part!r} is not an axis name, names joined by '+', or '_' (unsharded)"
            )
        entries.append(names)
    return tuple(entries)


def format_spec(spec: Spec) -> str:
    return ",".join("+".join(e) if e else "_" for e in spec)


@dataclass(frozen=True, eq=False)
class ShardMap:
    axes: tuple[Axis, ...]
    shape: tuple[int, ...]
    spec: Spec
    grid: tuple[int, ...]
    """Shards per tensor dimension."""
    shard_shape: tuple[int, ...]
    replicated_axes: tuple[str, ...]
    replication: int
    """Devices holding each block."""
    block: IntArray
    """(world, ndim) block coordinates of each device."""
    start: IntArray
    stop: IntArray
    replica: IntArray
    block_ranks: IntArray
    """(blocks, replication): ranks holding each block (row-major block order), by replica id."""

    @property
    def world_size(self) -> int:
        return int(self.block.shape[0])

    @property
    def block_index(self) -> IntArray:
        """(blocks, ndim) block coordinates in row-major order."""
        return np.stack(np.unravel_index(np.arange(self.block_ranks.shape[0]), self.grid), axis=1)


def shard_map(
    axes: str | tuple[Axis, ...], shape: str | tuple[int, ...], spec: str | Spec
) -> ShardMap:
    """Per-device index map of a tensor `shape` sharded by `spec` over the mesh `axes`.

    For example ``shard_map("dp:2,tp:4", (16, 32), "dp,tp").start[6].tolist() == [8, 16]``.
    """
    axes = parse_axes(axes) if isinstance(axes, str) else validate_axes(axes)
    shape = parse_shape(shape) if isinstance(shape, str) else tuple(shape)
    if len(shape) > limit("tensor_rank"):
        raise InvalidInput("shape", f"at most {limit('tensor_rank')} dimensions are allowed")
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    sizes = {a.name: a.size for a in axes}
    world = int(np.prod([a.size for a in axes], dtype=np.int64))
    if world > limit("sharding_devices"):
        raise InvalidInput(
            "axes",
            f"world size {world} exceeds the shard-map limit of {limit('sharding_devices')} "
            "devices; use /api/v1/mesh for larger meshes",
        )
    if len(spec) != len(shape):
        raise InvalidInput(
            "spec", f"spec has {len(spec)} entries but the tensor has {len(shape)} dimensions"
        )
    seen: set[str] = set()
    for entry in spec:
        for name in entry:
            if name not in sizes:
                raise InvalidInput(
                    "spec", f"unknown mesh axis {name!r}; the mesh has {', '.join(sizes)}"
                )
            if name in seen:
                raise InvalidInput("spec", f"mesh axis {name!r} is used more than once")
            seen.add(name)
    grid = tuple(int(np.prod([sizes[n] for n in e], dtype=np.int64)) for e in spec)
    for d, (n, g, entry) in enumerate(zip(shape, grid, spec, strict=True)):
        if n % g:
            raise InvalidInput(
                "shape",
                f"dimension {d} (size {n}) does not divide evenly into {g} shards "
                f"({'+'.join(entry)}); make it a multiple of {g}",
            )
    shard_shape = tuple(n // g for n, g in zip(shape, grid, strict=True))

    names = [a.name for a in axes]
    coords = np.stack(
        np.unravel_index(np.arange(world, dtype=np.int64), [a.size for a in axes]), axis=1
    ).astype(np.int64)
    block = np.zeros((world, len(shape)), dtype=np.int64)
    for d, entry in enumerate(spec):
        for name in entry:  # major to minor: mixed radix over the named axes
            block[:, d] = block[:, d] * sizes[name] + coords[:, names.index(name)]
    replicated = tuple(n for n in names if n not in seen)
    replica = np.zeros(world, dtype=np.int64)
    for name in replicated:
        replica = replica * sizes[name] + coords[:, names.index(name)]
    replication = int(np.prod([sizes[n] for n in replicated], dtype=np.int64))
    ss = np.asarray(shard_shape, dtype=np.int64)
    start = block * ss
    stop = start + ss
    flat = np.ravel_multi_index(tuple(block.T), grid) if shape else np.zeros(world, np.int64)
    order = np.argsort(flat, kind="stable")
    block_ranks = order.reshape(-1, replication).astype(np.int64)
    return ShardMap(
        axes=axes,
        shape=shape,
        spec=spec,
        grid=grid,
        shard_shape=shard_shape,
        replicated_axes=replicated,
        replication=replication,
        block=block,
        start=start,
        stop=stop,
        replica=replica,
        block_ranks=block_ranks,
    )


# ---------------------------------------------------------------- model mode


@dataclass(frozen=True)
class WeightShard:
    name: str
    part: str
    """embedding, attention, mlp, moe, norm or head."""
    layers: int
    """How many layers of the model hold this weight (1 for embedding / head)."""
    shape: tuple[int, ...]
    spec: str
    style: str
    """column, row, vocab, expert or replicated (Megatron-LM terms)."""
    shard_shape: tuple[int, ...]
    bytes: int
    bytes_per_rank: int


@dataclass(frozen=True)
class ModelLayout:
    model: str
    axes: str
    dtype: str
    bits_per_element: float
    pp: int
    layers_per_stage: tuple[int, ...]
    weights: tuple[WeightShard, ...]
    bytes_per_rank: dict[str, int]
    notes: tuple[str, ...]


def model_layout(
    model: str,
    tp: int = 1,
    dp: int = 1,
    ep: int = 1,
    pp: int = 1,
    zero: int = 0,
    dtype: str = "bfloat16",
) -> ModelLayout:
    """Megatron-style specs for every weight of one transformer layer (and the embeddings).

    Matrices are [in, out] (``y = x @ W``): column-parallel layers (q, k, v, gate, up) split
    `out` over tp, row-parallel layers (o, down) split `in` (Shoeybi et al. 2019, arXiv
    1909.08053 §3); embeddings split the vocabulary; experts split over ep (dim 0). With zero=3
    (FSDP) weights are also split over the data-parallel axes on a dimension tp leaves alone.
    The stage's mesh is ``dp:dp/ep,ep:ep,tp:tp`` (EP carved out of DP, Megatron convention).
    For example llama3-8b, tp=4: q_proj [4096, 4096] has spec ``_,tp`` and shard [4096, 1024].
    """
    m = get_model(model)
    dt = resolve_dtype(dtype)
    for name, val in (("tp", tp), ("dp", dp), ("ep", ep), ("pp", pp)):
        if val < 1:
            raise InvalidInput(name, "must be at least 1")
    if m.heads % tp:
        raise InvalidInput("tp", f"tp ({tp}) must divide the {m.heads} attention heads")
    if m.mla is None and m.kv_heads % tp:
        raise InvalidInput("tp", f"tp ({tp}) must divide the {m.kv_heads} KV heads")
    if ep > 1 and not m.is_moe:
        raise InvalidInput("ep", f"{m.name} is dense: expert parallelism needs an MoE model")
    if m.is_moe and m.experts % ep:
        raise InvalidInput("ep", f"ep ({ep}) must divide the {m.experts} experts")
    if dp % ep:
        raise InvalidInput("ep", f"ep ({ep}) must divide dp ({dp}): EP is carved out of DP")
    if pp > m.layers:
        raise InvalidInput("pp", f"pp ({pp}) exceeds the model's {m.layers} layers")
    axes: list[Axis] = [Axis("dp", dp // ep)]
    if ep > 1:
        axes.append(Axis("ep", ep))
    axes.append(Axis("tp", tp))
    sizes = {a.name: a.size for a in axes}
    world = dp * tp
    data = "dp+ep" if ep > 1 else "dp"
    fsdp = zero >= 3
    h = m.hidden
    bits = dt.bits
    weights: list[WeightShard] = []

    def add(
        name: str, part: str, layers: int, shape: tuple[int, ...], spec: list[str], style: str
    ) -> None:
        if fsdp:  # FSDP / ZeRO-3: data axes on the first dimension nothing else splits
            extra = "dp" if style == "expert" else data
            for d, entry in enumerate(spec):
                n = int(np.prod([sizes[a] for a in extra.split("+")]))
                if entry == "_" and shape[d] % n == 0 and n > 1:
                    spec = [*spec[:d], extra, *spec[d + 1 :]]
                    break
        shard = []
        for d, entry in enumerate(spec):
            n = 1 if entry == "_" else int(np.prod([sizes[a] for a in entry.split("+")]))
            if shape[d] % n:
                field = "tp" if "tp" in entry else ("ep" if entry == "ep" else "dp")
                raise InvalidInput(
                    field, f"{name}: dimension {d} (size {shape[d]}) does not split {n} ways"
                )
            shard.append(shape[d] // n)
        elems = int(np.prod(shape, dtype=np.int64))
        per = int(np.prod(shard, dtype=np.int64))
        weights.append(
            WeightShard(
                name=name,
                part=part,
                layers=layers,
                shape=shape,
                spec=",".join(spec),
                style=style,
                shard_shape=tuple(shard),
                bytes=round(elems * bits / 8),
                bytes_per_rank=round(per * bits / 8),
            )
        )

    L = m.layers
    vocab = -(-m.vocab // tp) * tp  # Megatron pads the vocabulary to a multiple of tp
    add("embedding", "embedding", 1, (vocab, h), ["tp", "_"], "vocab")
    add("attn_norm", "norm", L, (h,), ["_"], "replicated")
    if m.mla is not None:
        a = m.mla
        # Megatron-Core MLA: down-projections replicated ("duplicated"), up-projections
        # column-parallel by heads, output row-parallel.
        add("q_a_proj", "attention", L, (h, a.q_lora_rank), ["_", "_"], "replicated")
        add("q_a_norm", "norm", L, (a.q_lora_rank,), ["_"], "replicated")
        add(
            "q_b_proj", "attention", L, (a.q_lora_rank, m.heads * a.qk_head_dim),
            ["_", "tp"], "column",
        )  # fmt: skip
        add(
            "kv_a_proj", "attention", L, (h, a.kv_lora_rank + a.qk_rope_head_dim),
            ["_", "_"], "replicated",
        )  # fmt: skip
        add("kv_a_norm", "norm", L, (a.kv_lora_rank,), ["_"], "replicated")
        add(
            "kv_b_proj", "attention", L,
            (a.kv_lora_rank, m.heads * (a.qk_nope_head_dim + a.v_head_dim)), ["_", "tp"], "column",
        )  # fmt: skip
        add("o_proj", "attention", L, (m.heads * a.v_head_dim, h), ["tp", "_"], "row")
    else:
        q, kv = m.heads * m.head_dim, m.kv_heads * m.head_dim
        add("q_proj", "attention", L, (h, q), ["_", "tp"], "column")
        add("k_proj", "attention", L, (h, kv), ["_", "tp"], "column")
        add("v_proj", "attention", L, (h, kv), ["_", "tp"], "column")
        if m.attention_bias:
            add("q_bias", "attention", L, (q,), ["tp"], "column")
            add("k_bias", "attention", L, (kv,), ["tp"], "column")
            add("v_bias", "attention", L, (kv,), ["tp"], "column")
        if m.qk_norm:
            add("q_norm", "norm", L, (m.head_dim,), ["_"], "replicated")
            add("k_norm", "norm", L, (m.head_dim,), ["_"], "replicated")
        if m.attention_sinks:
            add("sinks", "attention", L, (m.heads,), ["tp"], "column")
        add("o_proj", "attention", L, (q, h), ["tp", "_"], "row")
        if m.attention_bias:
            add("o_bias", "attention", L, (h,), ["_"], "replicated")
    add("mlp_norm", "norm", L, (h,), ["_"], "replicated")
    nd, nm = m.n_dense_layers, m.n_moe_layers
    if nd:
        add("gate_proj", "mlp", nd, (h, m.ffn), ["_", "tp"], "column")
        add("up_proj", "mlp", nd, (h, m.ffn), ["_", "tp"], "column")
        add("down_proj", "mlp", nd, (m.ffn, h), ["tp", "_"], "row")
    if nm:
        e, f = m.experts, m.expert_ffn
        espec = "ep" if ep > 1 else "_"
        add("router", "moe", nm, (h, e), ["_", "_"], "replicated")
        add("experts.gate_proj", "moe", nm, (e, h, f), [espec, "_", "tp"], "expert")
        add("experts.up_proj", "moe", nm, (e, h, f), [espec, "_", "tp"], "expert")
        add("experts.down_proj", "moe", nm, (e, f, h), [espec, "tp", "_"], "expert")
        if m.shared_experts:
            sf = m.shared_experts * f
            add("shared.gate_proj", "moe", nm, (h, sf), ["_", "tp"], "column")
            add("shared.up_proj", "moe", nm, (h, sf), ["_", "tp"], "column")
            add("shared.down_proj", "moe", nm, (sf, h), ["tp", "_"], "row")
    add("final_norm", "norm", 1, (h,), ["_"], "replicated")
    if not m.tied_embeddings:
        add("lm_head", "head", 1, (h, vocab), ["_", "tp"], "column")

    def per_rank(parts: set[str], dense: bool) -> int:
        total = 0
        for w in weights:
            if w.part not in parts or w.name in ("final_norm",):
                continue
            if w.part == "mlp" and not dense:
                continue
            if w.part == "moe" and dense:
                continue
            total += w.bytes_per_rank
        return total

    layer_parts = {"attention", "norm", "mlp", "moe"}
    totals = {
        "embedding": sum(w.bytes_per_rank for w in weights if w.part == "embedding"),
        "head": sum(w.bytes_per_rank for w in weights if w.part == "head"),
    }
    if nd:
        totals["dense_layer"] = per_rank(layer_parts, dense=True)
    if nm:
        totals["moe_layer"] = per_rank(layer_parts, dense=False)
    notes = [
        "Matrices are [in, out]; column-parallel splits out, row-parallel splits in.",
        f"Mesh for one pipeline stage: {','.join(f'{a.name}:{a.size}' for a in axes)} "
        f"({world} GPUs); pp={pp} stages hold layers {list(layers_per_stage(L, pp))}.",
    ]
    if fsdp:
        notes.append("zero=3: weights also split over the data-parallel axes (FSDP).")
    if m.mla is not None:
        notes.append("MLA down-projections are replicated over tp (Megatron-Core 'duplicated').")
    if m.vocab != vocab:
        notes.append(f"Vocabulary padded from {m.vocab} to {vocab} to split over tp.")
    return ModelLayout(
        model=m.name,
        axes=",".join(f"{a.name}:{a.size}" for a in axes),
        dtype=dt.name,
        bits_per_element=bits,
        pp=pp,
        layers_per_stage=tuple(layers_per_stage(L, pp)),
        weights=tuple(weights),
        bytes_per_rank=totals,
        notes=tuple(notes),
    )
