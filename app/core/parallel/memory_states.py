"""Model states per GPU: parameters by tensor class, and the accounting conventions.

Ψ counts the parameters one GPU holds after TP (attention, MLP and vocabulary split t ways,
norms and routers replicated), PP (the rank's layers; embedding with the first virtual stage,
LM head with the last) and EP (each GPU holds experts/ep of every MoE layer), split by tensor
class — attention, MLP (dense and shared experts), routed experts, embeddings, router and
norms — so that each class can be stored in its own dtype (gpt-oss ships its experts in
MXFP4 and the rest in bf16; DeepSeek-V3 ships FP8 with one fp32 scale per 128×128 block).

Training keeps weights, gradients and optimizer states, each sharded over N_d = dp·cp ranks
once the ZeRO stage reaches it (expert weights over N_d/ep, Megatron's expert-data-parallel
group). How many bytes each holds depends on the framework, so the accounting is a named
convention (`CONVENTIONS`):

- ``zero_paper``: Rajbhandari et al. 2019 §3.1 and §5: 2Ψ + 2Ψ + KΨ, K = 12;
- ``megatron``: Megatron-LM's distributed optimizer keeps fp32 main gradients: 2 + 4 + 12
  bytes per parameter (docs: "bf16 param, fp32 grads: 18 → 6 + 12/d");
- ``deepspeed``: DeepSpeed's estimate_zero2/3_model_states_mem_needs: ZeRO-1/2 hold
  4Ψ + 16Ψ/N (16-bit weights and gradients, then fp32 gradient partitions, master weights and
  Adam states), ZeRO-3 holds 18Ψ/N + 4·Ψ_L (Ψ_L: the largest layer, gathered whole);
- ``fsdp``: PyTorch FSDP2 with fp32 sharded parameters as the master copy and a bf16
  `MixedPrecisionPolicy`: 4 + 4 + 8 bytes per sharded parameter, plus the bf16 copies of the
  unit being computed and the one prefetched (FULL_SHARD = ZeRO-3; SHARD_GRAD_OP = ZeRO-2
  keeps every unit's bf16 copy from forward to backward).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, reduce
from operator import add
from typing import Literal

from app.core.errors import InvalidInput
from app.core.numerics.formats import FORMATS
from app.core.numerics.quantize import PRESETS as SCHEMES
from app.core.parallel.memory_terms import WeightDtype, resolve_dtype
from app.core.parallel.presets import ModelPreset, ParamCounts
from app.core.symbolic import Const, Expr, Quantity, define, number

Convention = Literal["zero_paper", "megatron", "deepspeed", "fsdp"]
WeightClass = Literal["attention", "mlp", "embedding", "router"]
WEIGHT_CLASSES: tuple[WeightClass, ...] = ("attention", "mlp", "embedding", "router")


@dataclass(frozen=True)
class ConventionSpec:
    name: Convention
    label: str
    title: str
    source: str
    grad_dtype: str  # the gradient dtype it assumes unless the query says otherwise
    grad_note: str


CONVENTIONS: dict[str, ConventionSpec] = {
    c.name: c
    for c in (
        ConventionSpec(
            "zero_paper",
            "ZeRO paper",
            "ZeRO paper: 16-bit weights and gradients, fp32 Adam (K = 12)",
            "Rajbhandari et al. 2019 (ZeRO, arXiv 1910.02054) §3.1 and §5",
            "bfloat16",
            "16-bit gradients, as in the paper's 2Ψ + 2Ψ + KΨ",
        ),
        ConventionSpec(
            "megatron",
            "Megatron-LM",
            "Megatron-LM distributed optimizer: fp32 main gradients",
            "Megatron-LM docs, distributed optimizer (bf16 params, fp32 grads: 6 + 12/d bytes)",
            "float32",
            "fp32 main gradients (Megatron accumulates in fp32)",
        ),
        ConventionSpec(
            "deepspeed",
            "DeepSpeed estimator",
            "DeepSpeed estimate_zero2/3_model_states_mem_needs",
            "DeepSpeed deepspeed/runtime/zero stage_1_and_2.py and stage3.py "
            "estimate_zero2/3_model_states_mem_needs (GPU memory, no offload)",
            "bfloat16",
            "16-bit gradients plus fp32 gradient partitions",
        ),
        ConventionSpec(
            "fsdp",
            "PyTorch FSDP2",
            "PyTorch FSDP2, fp32 sharded parameters, bf16 compute",
            "PyTorch FSDP2 fully_shard with MixedPrecisionPolicy(param_dtype=bfloat16, "
            "reduce_dtype=float32); torchtitan",
            "float32",
            "fp32 sharded gradients (reduce_dtype float32)",
        ),
    )
}


def resolve_storage(name: str, field: str) -> WeightDtype:
    """A storage dtype, or a block-scaled scheme of the quantization core stored as weights.

    ``deepseek_fp8`` is DeepSeek-V3's weight format: FP8 E4M3 with one fp32 scale per
    128×128 block, 8 + 32/16,384 bits per element. Everything else resolves as a dtype.
    """
    scheme = SCHEMES.get(name.lower())
    if scheme is not None and scheme.name == "deepseek_fp8":
        rows = cols = scheme.block_size  # weights: 128×128 blocks (activations use 1×128)
        elem, scale = FORMATS[scheme.format].bits, FORMATS[scheme.scale_format].bits
        return WeightDtype(
            scheme.name,
            elem + scale / (rows * cols),
            f"{scheme.source}: {elem}-bit E4M3 + one {scale}-bit scale per {rows}×{cols} block",
        )
    return resolve_dtype(name, field)


@dataclass(frozen=True)
class ParameterCount:
    """Ψ of one GPU, and its parts by class (routed experts apart: they shard over N_d/ep)."""

    psi: Quantity
    parts: tuple[tuple[str, WeightClass, Quantity], ...]  # (key, class, Ψ_part), nonzero
    largest: int = 0  # Ψ_L: the largest single weight matrix held (DeepSpeed's layer)
    unit: int = 0  # Ψ_U: the largest FSDP unit held (a layer, the embedding or the head)

    @property
    def expert(self) -> Quantity | None:
        return next((q for key, _, q in self.parts if key == "expert"), None)

    @property
    def dense(self) -> Quantity | None:
        """Ψ less the routed experts (sharded over N_d), when there are experts."""
        e = self.expert
        return None if e is None else define("Ψ_dense", self.psi - e, "non-expert parameters")

    def bare(self) -> ParameterCount:
        """The same counts cited by name and value, without repeating their definitions."""
        parts = tuple((k, c, Quantity(q.name, q.value)) for k, c, q in self.parts)
        return ParameterCount(
            Quantity(self.psi.name, self.psi.value), parts, self.largest, self.unit
        )


@lru_cache(maxsize=64)  # every stage of every report asks; presets are frozen
def counts(m: ModelPreset) -> ParamCounts:
    """`m.param_counts()`, computed once per model."""
    return m.param_counts()


def _sum(parts: list[Expr]) -> Expr:
    return reduce(add, parts)


@dataclass(frozen=True)
class StageHolding:
    """What one GPU of a stage holds: layers by kind, and the embedding / LM head copies."""

    dense_layers: int
    moe_layers: int
    embedding: bool
    lm_head: bool  # a separate LM head matrix (tied embeddings share it without a pipeline)
    final_norm: bool


def parameter_count(m: ModelPreset, st: StageHolding, tp: int, ep: int) -> ParameterCount:
    """Ψ on one GPU, class by class, e.g. Llama 3 8B on pp 4, first stage: 8 dense layers of
    attention/t + norms + MLP/t, plus the ⌈V/t⌉·h embedding."""
    pc = counts(m)
    t = Quantity("t", tp)

    def div(q: Expr) -> Expr:
        return q / t if tp > 1 else q

    ld, lm = Quantity("L_dense", st.dense_layers), Quantity("L_moe", st.moe_layers)
    layers = Quantity("L", st.dense_layers + st.moe_layers)
    raw: list[tuple[str, WeightClass, Expr, str]] = []
    if st.dense_layers + st.moe_layers:
        raw.append(
            (
                "attn",
                "attention",
                layers * div(Quantity("P_attn", pc.attention_per_layer)),
                "attention projections",
            )
        )
    mlp: list[Expr] = []
    if st.dense_layers:
        mlp.append(ld * div(Quantity("P_mlp", pc.dense_mlp_per_layer)))
    if st.moe_layers and pc.shared_expert_per_layer:
        mlp.append(lm * div(Quantity("P_shared", pc.shared_expert_per_layer)))
    if mlp:
        raw.append(("mlp", "mlp", _sum(mlp), "dense MLP and shared experts"))
    if st.moe_layers:
        experts = lm * Quantity("E", m.experts) / Quantity("ep", ep)
        raw.append(
            (
                "expert",
                "mlp",
                experts * div(Quantity("P_expert", pc.expert_params_per_expert)),
                "routed experts on this GPU",
            )
        )
    vocab = Quantity("⌈V/t⌉", -(-m.vocab // tp))  # Megatron pads the vocabulary to t
    h = Quantity("h", m.hidden)
    emb: list[Expr] = []
    if st.embedding:
        emb.append(vocab * h)
    if st.lm_head:
        emb.append(vocab * h)
    if st.final_norm:
        emb.append(h)
    if emb:
        raw.append(("embedding", "embedding", _sum(emb), "embedding, LM head, final norm"))
    router: list[Expr] = []
    if st.dense_layers + st.moe_layers:
        router.append(layers * Quantity("P_norm", pc.norms_per_layer))
    if st.moe_layers:
        router.append(lm * Quantity("P_router", pc.router_per_layer))
    if router:
        raw.append(("router", "router", _sum(router), "routers and norms, replicated"))
    parts = tuple((k, c, define(f"Ψ_{k}", e, note)) for k, c, e, note in raw if e.value)
    psi = define(
        "Ψ", _sum([q for _, _, q in parts]) if parts else Const(0), "parameters on this GPU"
    )
    return ParameterCount(psi, parts, *_largest(m, st, tp, ep))


def _largest(m: ModelPreset, st: StageHolding, tp: int, ep: int) -> tuple[int, int]:
    """(Ψ_L, Ψ_U): the largest weight matrix and the largest FSDP unit on one GPU."""
    pc = counts(m)
    mats = [0]
    vocab_h = -(-m.vocab // tp) * m.hidden
    if st.embedding or st.lm_head:
        mats.append(vocab_h)
    layer_units = [0]
    if st.dense_layers + st.moe_layers:
        q = m.heads * m.head_dim if m.mla is None else m.heads * m.mla.qk_head_dim
        mats.append(m.hidden * q // tp)
        attn = pc.attention_per_layer // tp + pc.norms_per_layer
        if st.dense_layers:
            mats.append(m.hidden * m.ffn // tp)
            layer_units.append(attn + pc.dense_mlp_per_layer // tp)
        if st.moe_layers:
            mats.append(m.hidden * m.expert_ffn // tp)
            local = m.experts // ep * pc.expert_params_per_expert // tp
            layer_units.append(
                attn + pc.router_per_layer + pc.shared_expert_per_layer // tp + local
            )
    # torchtitan wraps the embedding, and the final norm with the LM head, as units of their own
    ends = max(
        vocab_h * int(st.embedding), vocab_h * int(st.lm_head) + m.hidden * int(st.final_norm)
    )
    return max(mats), max(max(layer_units), ends)


def even_split(params: int, tp: int, pp: int) -> ParameterCount:
    """Ψ of a parameter count alone, split evenly over TP and PP (no architecture)."""
    split = Quantity("P", params) / (Quantity("t", tp) * Quantity("p", pp))
    psi = define("Ψ", split, "parameters per GPU, even split assumed")
    return ParameterCount(psi, (("all", "attention", psi),))


# ---------------------------------------------------------------- bytes of each state


@dataclass(frozen=True)
class StateDtypes:
    """Storage of each class of weights, of gradients and of Adam's two moments."""

    weights: dict[WeightClass, WeightDtype]
    grads: WeightDtype
    moments: WeightDtype

    def weight_bytes(self, cls: WeightClass) -> Fraction:
        return Fraction(self.weights[cls].bits) / 8

    @property
    def uniform(self) -> WeightDtype | None:
        """The one weight dtype when every class uses it, else None."""
        names = {w.name for w in self.weights.values()}
        return next(iter(self.weights.values())) if len(names) == 1 else None


def _nd(nd: int, ep: int, expert: bool) -> Expr:
    n = Quantity("N_d", nd)
    return n / Quantity("ep", ep) if expert and ep > 1 else n


def weights_expr(
    dt: StateDtypes, count: ParameterCount, nd: int, ep: int, sharded: bool, fp32: bool = False
) -> Expr:
    """Bytes of the weights, class by class (each in its dtype; all fp32 when `fp32`).

    One dtype for every class prints as ``2·Ψ``; mixed classes print their sum. Sharded
    weights divide by N_d, routed experts by N_d/ep.
    """
    uniform = dt.uniform
    if fp32 or uniform is not None:
        per = Fraction(4) if fp32 else Fraction(uniform.bits) / 8  # type: ignore[union-attr]
        return states_expr(per, count, nd, ep, sharded)
    terms: list[Expr] = []
    for key, cls, q in count.parts:
        e: Expr = Quantity(f"w_{cls}", dt.weight_bytes(cls)) * q
        if sharded:
            e = e / _nd(nd, ep, key == "expert")
        terms.append(e)
    return _sum(terms)


def states_expr(per: Fraction, count: ParameterCount, nd: int, ep: int, sharded: bool) -> Expr:
    """per bytes × Ψ, divided over N_d ranks (expert weights over N_d/ep) if sharded."""
    if not sharded:
        return per * count.psi
    expert = count.expert
    if expert is None or ep == 1:
        return per * count.psi / Quantity("N_d", nd)
    dense = count.psi - expert
    return per * (dense / Quantity("N_d", nd) + expert / _nd(nd, ep, True))


def optimizer_k(dt: StateDtypes) -> Fraction:
    """Adam's bytes per parameter: fp32 master weights (4) and two moments."""
    return 4 + 2 * Fraction(dt.moments.bits) / 8


def weights_source(w: WeightDtype) -> str:
    if w.name in FORMATS:
        return f"{w.name} stores {number(w.bits)} bits per element"
    return w.source


# ---------------------------------------------------------------- the conventions


@dataclass(frozen=True)
class StateTerm:
    """One model-state term before it becomes a `Term`: segment, expression, note."""

    name: str
    segment: Literal["parameters", "gradients", "optimizer_states"]
    expr: Expr
    note: str


def _psi(name: str, value: int, note: str) -> Quantity:
    return Quantity(name, value, None, note)


@dataclass(frozen=True)
class _Ctx:
    """One GPU's parameters and how its states shard: what every convention needs."""

    dt: StateDtypes
    count: ParameterCount
    nd: int
    ep: int
    zero: int

    @property
    def cited(self) -> ParameterCount:  # the weights define Ψ; the other terms cite it
        return self.count.bare()

    def weights(self, sharded: bool, fp32: bool = False) -> Expr:
        return weights_expr(self.dt, self.count, self.nd, self.ep, sharded, fp32)

    def per(self, bytes_each: Fraction, sharded: bool, over: int | None = None) -> Expr:
        """bytes_each × Ψ, divided over `over` (default N_d) ranks when sharded."""
        n = self.nd if over is None else over
        return states_expr(bytes_each, self.cited, n, self.ep, sharded)

    @property
    def w(self) -> Fraction:
        """Bytes of one gathered compute copy: the weights' dtype (16 bits when mixed)."""
        return Fraction(self.dt.uniform.bits) / 8 if self.dt.uniform else Fraction(2)


def _three(
    params: tuple[Expr, str], grads: tuple[Expr, str], optim: tuple[Expr, str]
) -> list[StateTerm]:
    return [
        StateTerm("parameters", "parameters", *params),
        StateTerm("gradients", "gradients", *grads),
        StateTerm("optimizer_states", "optimizer_states", *optim),
    ]


def model_states(
    conv: Convention, dt: StateDtypes, count: ParameterCount, nd: int, ep: int, zero: int
) -> list[StateTerm]:
    """Weights, gradients and optimizer states of one GPU under convention `conv`.

    ZeRO paper §5 (``zero_paper``): Ψ = 7.5B on N_d = 64 holds 120 GB (stage 0), 31.4 GB (1),
    16.6 GB (2), 1.88 GB (3). DeepSpeed's ZeRO-3 estimate is 18Ψ/N + 4·Ψ_L.
    """
    if conv == "fsdp" and zero == 1:
        raise InvalidInput(
            "zero",
            "FSDP has no optimizer-only sharding: use zero 3 (FULL_SHARD), 2 "
            "(SHARD_GRAD_OP) or 0 (NO_SHARD)",
        )
    c = _Ctx(dt, count, nd, ep, zero)
    g, k = Fraction(dt.grads.bits) / 8, optimizer_k(dt)
    k_note = f"Adam: fp32 master weights + two {dt.moments.name} moments, K = {number(k)}"
    if conv in ("zero_paper", "megatron"):
        return _three(
            (c.weights(zero >= 3), "weights"),
            (c.per(g, zero >= 2), f"{dt.grads.name} gradients"),
            (c.per(k, zero >= 1), k_note),
        )
    if conv == "deepspeed":
        return _deepspeed(c, g, k, k_note)
    return _fsdp(c, g)


def _deepspeed(c: _Ctx, g: Fraction, k: Fraction, k_note: str) -> list[StateTerm]:
    """estimate_zero2 (ZeRO 0-2): 4Ψ + 16Ψ/N; estimate_zero3: 18Ψ/N + 4·Ψ_L."""
    grads = c.dt.grads.name
    if c.zero <= 2:
        n = c.nd if c.zero >= 1 else 1
        return _three(
            (c.weights(False), "16-bit weights, whole"),
            (
                c.per(g, False) + c.per(Fraction(4), c.zero >= 1, n),
                f"whole {grads} gradients + fp32 gradient partitions",
            ),
            (c.per(k, c.zero >= 1, n), k_note),
        )
    psi_l = _psi("Ψ_L", c.count.largest, "largest layer on this GPU, gathered whole")
    return _three(
        (c.weights(True) + c.w * psi_l, "weight shards + the largest layer gathered"),
        (
            c.per(Fraction(4), True) + g * psi_l,
            f"fp32 gradient partitions + the largest layer's {grads} gradients",
        ),
        (c.per(k, True), k_note),
    )


def _fsdp(c: _Ctx, g: Fraction) -> list[StateTerm]:
    """fp32 sharded parameters (the master copy), bf16 compute copies of the units in use."""
    sharded = c.zero >= 2
    psi_u = _psi("Ψ_U", c.count.unit, "largest FSDP unit on this GPU (a layer, embedding or head)")
    if c.zero == 2:  # reshard_after_forward=False: every unit stays gathered until its backward
        gathered: Expr = c.w * c.cited.psi
        what = "every unit's compute copy, kept from forward to backward"
    else:
        gathered = 2 * c.w * psi_u
        what = "compute copies of the unit in use and the prefetched one"
    moments = 2 * Fraction(c.dt.moments.bits) / 8
    return _three(
        (
            c.weights(sharded, fp32=True) + gathered,
            f"fp32 parameter shards (the master copy) + {what}",
        ),
        (
            c.per(g, sharded) + c.w * psi_u,
            f"{c.dt.grads.name} gradient shards + one unit's unsharded gradients",
        ),
        (
            c.per(moments, sharded),
            f"Adam: two {c.dt.moments.name} moments, {number(moments)} bytes",
        ),
    )
