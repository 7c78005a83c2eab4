"""What every inference view starts from: a model, a GPU, a parallel layout and the dtypes.

A serving query names a preset model (or a custom architecture with the memory endpoint's
names), a GPU preset, the degrees tp, pp, ep and dp, the weight and KV-cache dtypes and,
optionally, sliding-window attention. `resolve` checks that the model splits that way, naming
the field to change when it does not, and returns a `Serving`: the architecture, the GPU,
the storage bytes per element (block scales included: mxfp4 is 4.25 bits) and the attention
kind and pipeline stage of every layer.

Rank order is Megatron-LM's: TP innermost, then EP (carved out of the DP ranks), DP, PP. A
replica is the tp·pp GPUs that hold one copy of the dense weights; dp replicas serve
independent batches, and ep of them share their experts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics import dtypes
from app.core.parallel.memory_layout import layers_per_stage
from app.core.parallel.memory_query import MemoryQuery
from app.core.parallel.presets import GPUPreset, ModelPreset, custom_model, get_gpu, get_model
from app.core.params import effective, param

DEFAULT_MODEL = "llama3-8b"
ACTIVATION_BYTES = 2  # bf16 activations, hidden states and logits between kernels
NORM_BYTES = 2  # norm and router weights stay 16-bit whatever the matmul weights are
LayerKind = Literal["full", "sliding"]
_FULL: tuple[LayerKind] = ("full",)


def _as_on_memory(name: str) -> Any:
    """The memory endpoint's own declaration of a parameter both endpoints take (its default,
    description and bounds, declared once in `MemoryQuery`)."""
    f = MemoryQuery.__dataclass_fields__[name]
    return dataclasses.field(default=f.default, metadata=f.metadata)


@dataclass(frozen=True)
class ServingQuery:
    """Model, GPU, layout and dtypes, with the memory endpoint's names where they overlap."""

    model: str | None = param(
        None,
        f"Model preset (case and dashes do not matter); default {DEFAULT_MODEL} unless a custom "
        "architecture is given.",
        example="llama3-70b",
        max_length=60,
    )
    layers: int | None = _as_on_memory("layers")
    hidden: int | None = _as_on_memory("hidden")
    heads: int | None = _as_on_memory("heads")
    kv_heads: int | None = _as_on_memory("kv_heads")
    ffn: int | None = _as_on_memory("ffn")
    vocab: int | None = _as_on_memory("vocab")
    sliding_window: int | None = param(
        None,
        "Tokens a sliding-window layer attends to and caches (default: the preset's; 0: every "
        "layer attends to the whole context).",
        example=4096,
        ge=0,
        le=limit("seq_len"),
    )
    full_every: int | None = param(
        None,
        "With a window: every full_every-th layer attends to the whole context and the others "
        "slide (2 alternates, as gpt-oss; 6 is Gemma 3's 5:1; 0: all slide). Default: the "
        "preset's pattern, else all slide.",
        example=2,
        ge=0,
        le=limit("model_layers"),
    )
    gpu: str = _as_on_memory("gpu")
    tp: int = _as_on_memory("tp")
    pp: int = _as_on_memory("pp")
    ep: int = param(
        1,
        "Expert-parallel degree: experts split over ep ranks carved out of the dp replicas, "
        "each expert over tp.",
        example=8,
        ge=1,
        le=limit("parallel_degree"),
    )
    dp: int = param(
        1,
        "Data-parallel replicas (each serves its own batch; ep divides dp).",
        example=8,
        ge=1,
        le=limit("mesh_ranks"),
    )
    dtype: str = param(
        "bfloat16",
        "Storage dtype of every matmul weight: a format name or alias (see /api/v1/dtypes), "
        "mxfp4 or nvfp4 (block scales counted).",
        example="float8_e4m3fn",
        max_length=40,
    )
    kv_dtype: str = param("bfloat16", "KV-cache dtype.", example="float8_e4m3fn", max_length=40)


def _custom_model(q: ServingQuery) -> ModelPreset:
    assert q.layers is not None and q.hidden is not None and q.heads is not None
    title = f"custom ({q.layers} × {q.hidden})"
    return custom_model(q.layers, q.hidden, q.heads, q.kv_heads, q.ffn, q.vocab, title=title)


_CUSTOM = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab")


def _model(q: ServingQuery) -> ModelPreset:
    given = [n for n in _CUSTOM if getattr(q, n) is not None]
    if q.model is not None:
        if given:
            raise InvalidInput(given[0], "give either model= or a custom architecture, not both")
        return get_model(q.model)
    if not given:
        return get_model(DEFAULT_MODEL)
    for need in ("layers", "hidden", "heads"):
        if getattr(q, need) is None:
            raise InvalidInput(need, "a custom architecture needs layers, hidden and heads")
    return _custom_model(q)


def _check_layout(q: ServingQuery, m: ModelPreset) -> None:
    world = q.tp * q.pp * q.dp
    if world > limit("mesh_ranks"):
        degrees = {"dp": q.dp, "tp": q.tp, "pp": q.pp}
        field = max(degrees, key=lambda k: degrees[k])
        raise InvalidInput(field, f"tp·pp·dp = {world} exceeds {limit('mesh_ranks')} GPUs")
    if q.pp > m.layers:
        raise InvalidInput("pp", f"pp ({q.pp}) exceeds the model's {m.layers} layers")
    if m.heads % q.tp:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide the {m.heads} attention heads")
    if m.mla is None and m.kv_heads % q.tp and q.tp % m.kv_heads:
        raise InvalidInput(
            "tp", f"tp ({q.tp}) must divide the {m.kv_heads} KV heads or be a multiple of them"
        )
    if m.n_dense_layers and m.ffn % q.tp:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide ffn ({m.ffn})")
    if m.is_moe and m.expert_ffn % q.tp:
        raise InvalidInput("tp", f"tp ({q.tp}) must divide the expert ffn ({m.expert_ffn})")
    if q.ep > 1 and not m.is_moe:
        raise InvalidInput("ep", f"{m.name} is dense: expert parallelism needs an MoE model")
    if m.is_moe and m.experts % q.ep:
        raise InvalidInput("ep", f"ep ({q.ep}) must divide the {m.experts} experts")
    if q.dp % q.ep:
        raise InvalidInput("ep", f"ep ({q.ep}) must divide dp ({q.dp}): EP is carved out of DP")


def _layer_kinds(q: ServingQuery, m: ModelPreset) -> tuple[int, tuple[LayerKind, ...]]:
    """The window (0: none) and each layer's attention kind.

    A preset's own window and pattern are read where the preset states them
    (`sliding_window`, `layer_pattern`); the query's `sliding_window` and `full_every`
    override them.
    """
    window = q.sliding_window
    if window is None:
        window = int(getattr(m, "sliding_window", 0) or 0)
    if window == 0:
        if q.full_every is not None and q.sliding_window is not None:
            raise InvalidInput("full_every", "full_every needs a sliding_window above 0")
        return 0, _FULL * m.layers
    if m.mla is not None:
        raise InvalidInput("sliding_window", "MLA models here have no sliding-window layers")
    pattern: tuple[str, ...] = tuple(getattr(m, "layer_pattern", ()) or ())
    if q.full_every is not None or not pattern:
        k = q.full_every or 0
        kinds = tuple("full" if k and (i + 1) % k == 0 else "sliding" for i in range(m.layers))
    else:
        kinds = tuple(pattern[i % len(pattern)] for i in range(m.layers))
    out: tuple[LayerKind, ...] = tuple("sliding" if k == "sliding" else "full" for k in kinds)
    return window, out


@dataclass(frozen=True)
class Stage:
    """One pipeline stage: its first layer, its layer count, embedding and LM head."""

    index: int
    first: int
    layers: int
    has_embedding: bool
    has_lm_head: bool


@dataclass(frozen=True)
class Serving:
    """A checked serving query and everything it names."""

    query: ServingQuery
    model: ModelPreset
    gpu: GPUPreset
    weights: dtypes.Dtype
    kv: dtypes.Dtype
    window: int
    kinds: tuple[LayerKind, ...]
    stages: tuple[Stage, ...]

    @property
    def weight_bytes(self) -> float:
        """Bytes per stored matmul weight, shared block scales included (mxfp4: 0.53125)."""
        return self.weights.bits / 8

    @property
    def kv_bytes(self) -> float:
        return self.kv.bits / 8

    @property
    def replica_gpus(self) -> int:
        """GPUs holding one copy of the dense weights: tp·pp."""
        return self.query.tp * self.query.pp

    @property
    def world_size(self) -> int:
        return self.replica_gpus * self.query.dp

    @property
    def kv_heads_per_gpu(self) -> int:
        """KV heads each TP rank caches: kv_heads/tp, or one (replicated) when tp > kv_heads."""
        return max(1, self.model.kv_heads // self.query.tp)

    def is_moe_layer(self, i: int) -> bool:
        return i >= self.model.n_dense_layers and self.model.is_moe

    def effective(self) -> dict[str, Any]:
        """Every parameter as computed; sent back as the same query it gives the same answer."""
        out = effective(self.query)
        m = self.model
        if self.query.model is not None or m.name != "custom":
            out["model"] = m.name
        else:
            out.update(kv_heads=m.kv_heads, ffn=m.ffn, vocab=m.vocab)
        out.update(gpu=self.gpu.name, dtype=self.weights.name, kv_dtype=self.kv.name)
        out["sliding_window"] = self.window
        return out


def _stages(m: ModelPreset, pp: int) -> tuple[Stage, ...]:
    out, first = [], 0
    for r, n in enumerate(layers_per_stage(m.layers, pp)):
        out.append(Stage(r, first, n, r == 0, r == pp - 1))
        first += n
    return tuple(out)


def resolve_serving(q: ServingQuery) -> Serving:
    """Check `q` and look up what it names (`InvalidInput` / `UnknownName` name the field).

    For example ``resolve_serving(ServingQuery(pp=4)).stages[1].first == 8`` (Llama 3 8B).
    """
    gpu = get_gpu(q.gpu)
    m = _model(q)
    _check_layout(q, m)
    weights = dtypes.resolve(q.dtype, "dtype")
    kv = dtypes.resolve(q.kv_dtype, "kv_dtype")
    window, kinds = _layer_kinds(q, m)
    return Serving(q, m, gpu, weights, kv, window, kinds, _stages(m, q.pp))
