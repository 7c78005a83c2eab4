"""Layer anatomy: the tensors one transformer layer keeps for its backward pass, on one GPU.

Activation memory is the sum of the tensors autograd saves between a layer's forward and its
backward. Two anatomies:

- ``model`` (default): the layer the model actually has, tensor by tensor: its norms (input
  kept, plus fp32 statistics: rstd for RMSNorm, mean and rstd for LayerNorm), Q/K/V with the
  GQA head counts, the attention kernel (FlashAttention keeps the output and an fp32
  logsumexp per row and head, never the s×s scores; eager attention keeps the softmax
  output), the output projection's input, the MLP (GELU: two matrices; SwiGLU: gate and up
  kept, their product is the down projection's input), dropout masks only where the model
  uses dropout, MoE routing (fp32 router probabilities, top-k indices and weights, the token
  copies dispatched to this GPU's experts and their SwiGLU tensors, shared experts) and MLA
  (the q and kv latents, the rope key, then per-head Q, K, V, O).
- ``gpt``: Korthikanti et al. 2022's GPT layer (4h GELU MLP, multi-head attention, dropout),
  whose sum under eager attention is Table 2 exactly.

Tensors in the sequence domain (the residual stream, norms and their outputs, dropout masks)
are replicated on the t TP ranks, or split t ways with sequence parallelism; head- and
ffn-wide tensors are always split t ways; CP splits every tensor's tokens (s = seq_len/cp).

Recomputation keeps its meaning: ``selective`` recomputes what is cheap to recompute and
large to keep — Korthikanti's attention core (eager attention's s×s scores; FlashAttention
already recomputes them and keeps only its small logsumexp), and for the model's own layer
also the norm outputs, the activation-function outputs and MLA's up-projections
(Megatron-Core's recompute modules core_attn, layernorm, moe_act / mlp activation and
mla_up_proj; DeepSeek-V3 §3.2.3); ``full`` keeps only each layer's input.

Left out: transient buffers that die inside one op (a matmul's workspace, the NCCL
all-to-all staging), RNG state, the bf16 logits before their fp32 upcast, CUDA-graph pools,
and allocator fragmentation (see the `overhead` of the memory query).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache, reduce
from operator import add
from typing import Literal

from app.core.parallel.memory_terms import Recompute, activation_per_layer
from app.core.symbolic import Const, Expr, Quantity, define

Anatomy = Literal["model", "gpt"]
Attention = Literal["flash", "eager"]
Part = Literal["attention", "mlp", "moe", "layer"]

SRC_FLASH = "Dao et al. 2022 (FlashAttention, arXiv 2205.14135) §3.1: saves O and logsumexp"
SRC_KORTHIKANTI_T2 = "Korthikanti et al. 2022 (arXiv 2205.05198) §4.1 and Table 2"
SRC_SWIGLU = "Shazeer 2020 (arXiv 2002.05202); Megatron-Core fused bias_swiglu keeps its input"
SRC_NORM = "RMSNorm / LayerNorm backward needs the input and the fp32 per-token statistics"
SRC_MOE = (
    "Megatron-Core MoE (router in fp32, top-k, token permutation; probabilities applied "
    "inside the expert activation, v0.13)"
)
SRC_MLA = "DeepSeek-V2 (arXiv 2405.04434) §2.1; DeepSeek-V3 (arXiv 2412.19437) §3.2.3"
SRC_FP8_CACHE = "DeepSeek-V3 (arXiv 2412.19437) §3.3.3: linear inputs cached in FP8, 1×128 tiles"
SRC_RECOMPUTE = "Megatron-Core --recompute-modules (core_attn, layernorm, moe_act, mla_up_proj)"


@dataclass(frozen=True)
class LayerShape:
    """Everything a layer's activation bytes depend on (a hashable cache key)."""

    tokens: int  # s: tokens of one sequence on one GPU (seq_len / cp)
    keys: int  # tokens every query attends to in eager attention (the whole sequence)
    micro_batch: int
    tp: int
    sequence_parallel: bool
    recompute: Recompute
    attention: Attention
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    norm: str = "rmsnorm"
    mlp: str = "swiglu"
    dropout: bool = False
    qk_norm: bool = False
    fp8: bool = False  # linear-layer inputs cached in FP8 with 1×128 tile scales
    # MoE (experts == 0: dense)
    experts: int = 0
    top_k: int = 0
    expert_ffn: int = 0
    shared_experts: int = 0
    capacity_factor: Fraction | None = None  # None: dropless, balanced routing
    # MLA (q_lora == 0: not MLA)
    q_lora: int = 0
    kv_lora: int = 0
    rope_dim: int = 0
    nope_dim: int = 0
    v_dim: int = 0


@dataclass(frozen=True)
class Kept:
    """Tensors kept for the backward pass: bytes per layer per microbatch on one GPU."""

    name: str
    part: Part
    expr: Expr
    source: str
    recomputed: bool = False  # dropped by selective recompute (kept when True is not set)


@dataclass(frozen=True)
class LayerAnatomy:
    """One layer's kept tensors and their sum `total` (a defined quantity, e.g. A_dense), and
    the tensors the recompute mode drops (recomputed in the backward instead)."""

    kind: Literal["dense", "moe"]
    anatomy: Anatomy
    kept: tuple[Kept, ...]
    total: Quantity
    dropped: tuple[Kept, ...] = ()


class _Sym:
    """The named quantities of one shape, and the two ways a tensor splits over TP."""

    def __init__(self, x: LayerShape) -> None:
        self.x = x
        self.s = Quantity("s", x.tokens)
        self.b = Quantity("b", x.micro_batch)
        self.h = Quantity("h", x.hidden)
        self.t = Quantity("t", x.tp)
        self.a = Quantity("a", x.heads)
        self.d = Quantity("d", x.head_dim)
        self.lin: Expr = (
            Quantity("q8", Fraction(33, 32)) if x.fp8 else Const(2)
        )  # bytes of a cached linear input: FP8 + an fp32 scale per 128 elements

    def seq(self, width: Expr | None = None) -> Expr:
        """Elements of a sequence-domain tensor: s·b·width (s·b: one per token), split t ways
        under SP."""
        e = self.s * self.b if width is None else self.s * self.b * width
        return e / self.t if self.x.sequence_parallel and self.x.tp > 1 else e

    def heads(self, width: Expr) -> Expr:
        """Elements of a head- or ffn-wide tensor: s·b·width/t."""
        e = self.s * self.b * width
        return e / self.t if self.x.tp > 1 else e


def _norm(y: _Sym, where: str, part: Part) -> list[Kept]:
    stats = 2 if y.x.norm == "layernorm" else 1
    what = "mean and rstd" if stats == 2 else "rstd"
    return [
        Kept(f"{where} norm input (residual stream)", part, 2 * y.seq(y.h), SRC_NORM),
        Kept(f"{where} norm statistics (fp32 {what})", part, 4 * stats * y.seq(), SRC_NORM),
    ]


def _attention_core(y: _Sym) -> list[Kept]:
    """What the attention kernel itself keeps: its output and softmax state."""
    x = y.x
    out: list[Kept] = []
    if x.attention == "flash":  # too small to be worth a second flash forward: never dropped
        out.append(
            Kept(
                "softmax statistics (fp32 logsumexp per row and head)",
                "attention",
                4 * y.heads(y.a),
                SRC_FLASH,
            )
        )
        return out
    scores = y.heads(y.a * Quantity("s_k", x.keys))
    out.append(
        Kept(
            "attention probabilities (softmax output, s × s_k per head)",
            "attention",
            2 * scores,
            SRC_KORTHIKANTI_T2,
            recomputed=True,
        )
    )
    if x.dropout:
        out.append(
            Kept(
                "attention dropout mask",
                "attention",
                1 * scores,
                SRC_KORTHIKANTI_T2,
                recomputed=True,
            )
        )
        out.append(
            Kept(
                "attention probabilities after dropout",
                "attention",
                2 * scores,
                SRC_KORTHIKANTI_T2,
                recomputed=True,
            )
        )
    return out


def _attention(y: _Sym) -> list[Kept]:
    x = y.x
    kv = Quantity("a_kv", x.kv_heads)
    out = _norm(y, "attention", "attention")
    out.append(
        Kept(
            "QKV projection input (norm output)",
            "attention",
            y.lin * y.seq(y.h),
            SRC_RECOMPUTE,
            recomputed=True,
        )
    )
    if x.qk_norm:
        out.append(
            Kept(
                "Q and K before QK-norm, and its fp32 rstd",
                "attention",
                2 * y.heads((y.a + kv) * y.d) + 4 * y.heads(y.a + kv),
                SRC_NORM,
            )
        )
    out += [
        Kept(
            "Q (after RoPE)", "attention", 2 * y.heads(y.a * y.d), SRC_FLASH, recomputed=x.qk_norm
        ),
        Kept(
            "K (a_kv heads, after RoPE)",
            "attention",
            2 * y.heads(kv * y.d),
            SRC_FLASH,
            recomputed=x.qk_norm,
        ),
        Kept("V (a_kv heads)", "attention", 2 * y.heads(kv * y.d), SRC_FLASH),
        Kept(
            "attention output O (the output projection's input)",
            "attention",
            2 * y.heads(y.a * y.d),
            SRC_FLASH,
        ),
    ]
    out += _attention_core(y)
    if x.dropout:
        out.append(
            Kept("dropout mask after attention", "attention", 1 * y.seq(y.h), SRC_KORTHIKANTI_T2)
        )
    return out


def _mla(y: _Sym) -> list[Kept]:
    x = y.x
    rq, rkv = Quantity("r_q", x.q_lora), Quantity("r_kv", x.kv_lora)
    dr, dn, dv = Quantity("d_r", x.rope_dim), Quantity("d_n", x.nope_dim), Quantity("d_v", x.v_dim)
    out = _norm(y, "attention", "attention")
    out += [
        Kept(
            "q and kv down-projection input (norm output)",
            "attention",
            y.lin * y.seq(y.h),
            SRC_RECOMPUTE,
            recomputed=True,
        ),
        Kept(
            "q latent (q norm input) and its fp32 rstd",
            "attention",
            2 * y.seq(rq) + 4 * y.seq(),
            SRC_MLA,
        ),
        Kept(
            "q up-projection input (normed q latent)",
            "attention",
            y.lin * y.seq(rq),
            SRC_MLA,
            recomputed=True,
        ),
        Kept(
            "kv latent (kv norm input) and its fp32 rstd",
            "attention",
            2 * y.seq(rkv) + 4 * y.seq(),
            SRC_MLA,
        ),
        Kept("rope key (one head, shared)", "attention", 2 * y.seq(dr), SRC_MLA),
        Kept(
            "kv up-projection input (normed kv latent)",
            "attention",
            y.lin * y.seq(rkv),
            SRC_MLA,
            recomputed=True,
        ),
        Kept(
            "Q (nope + rope)", "attention", 2 * y.heads(y.a * (dn + dr)), SRC_MLA, recomputed=True
        ),
        Kept(
            "K (nope + rope)", "attention", 2 * y.heads(y.a * (dn + dr)), SRC_MLA, recomputed=True
        ),
        Kept("V", "attention", 2 * y.heads(y.a * dv), SRC_MLA, recomputed=True),
        Kept(
            "attention output O (the output projection's input)",
            "attention",
            2 * y.heads(y.a * dv),
            SRC_FLASH,
        ),
    ]
    return out + _attention_core(y)


def _swiglu(y: _Sym, width: Expr, part: Part, whose: str) -> list[Kept]:
    """A SwiGLU of `width` columns on every token: gate and up kept, their product recomputed
    under selective recompute."""
    return [
        Kept(
            f"{whose}gate and up projections (SwiGLU input)",
            part,
            2 * y.lin * y.heads(width),
            SRC_SWIGLU,
        ),
        Kept(
            f"{whose}SwiGLU output (down projection input)",
            part,
            y.lin * y.heads(width),
            SRC_SWIGLU,
            recomputed=True,
        ),
    ]


def _dense_mlp(y: _Sym) -> list[Kept]:
    x = y.x
    f = Quantity("f", x.ffn)
    out = _norm(y, "MLP", "mlp")
    out.append(
        Kept("MLP input (norm output)", "mlp", y.lin * y.seq(y.h), SRC_RECOMPUTE, recomputed=True)
    )
    if x.mlp == "gelu":
        out += [
            Kept(
                "GELU input (first projection's output)", "mlp", 2 * y.heads(f), SRC_KORTHIKANTI_T2
            ),
            Kept(
                "GELU output (second projection's input)",
                "mlp",
                y.lin * y.heads(f),
                SRC_KORTHIKANTI_T2,
                recomputed=True,
            ),
        ]
    else:
        out += _swiglu(y, f, "mlp", "")
    if x.dropout:
        out.append(Kept("dropout mask after the MLP", "mlp", 1 * y.seq(y.h), SRC_KORTHIKANTI_T2))
    return out


def routed_copies(x: LayerShape) -> Quantity:
    """R: token copies this GPU's experts process per microbatch, k·s·b (× C with a capacity).

    Balanced routing spreads the k·s·b copies of each of the ep ranks' microbatches evenly,
    so each rank receives k·s·b on average; a capacity factor C pads every expert to
    C × its fair share (Megatron's pad-to-capacity). With TP the copies are replicated on the
    t ranks (expert TP = TP). Dropless routing can exceed the average on a hot rank.
    """
    s, b, k = Quantity("s", x.tokens), Quantity("b", x.micro_batch), Quantity("k", x.top_k)
    if x.capacity_factor is None:
        return define("R", k * s * b, "token copies routed to this GPU (dropless, balanced)")
    c = Quantity("C", x.capacity_factor)
    return define("R", c * k * s * b, "token copies routed to this GPU (capacity C)")


def _moe(y: _Sym) -> list[Kept]:
    x = y.x
    e, k, fe = Quantity("E", x.experts), Quantity("k", x.top_k), Quantity("f_e", x.expert_ffn)
    r = routed_copies(x)
    t = y.t if x.tp > 1 else Const(1)
    out = _norm(y, "MoE", "moe")
    out += [
        Kept(
            "router and dispatch input (norm output)",
            "moe",
            y.lin * y.seq(y.h),
            SRC_RECOMPUTE,
            recomputed=True,
        ),
        Kept("router probabilities (fp32)", "moe", 4 * y.seq(e), SRC_MOE),
        Kept("top-k expert indices (int64) and weights (fp32)", "moe", 12 * y.seq(k), SRC_MOE),
        Kept("dispatched tokens (expert inputs)", "moe", y.lin * r * y.h, SRC_MOE),
        Kept("token permutation map (int32)", "moe", 4 * r, SRC_MOE),
        Kept(
            "expert gate and up projections (SwiGLU input)", "moe", 2 * y.lin * r * fe / t, SRC_MOE
        ),
        Kept(
            "expert SwiGLU output × router weight (down projection input)",
            "moe",
            y.lin * r * fe / t,
            SRC_MOE,
            recomputed=True,
        ),
    ]
    if x.shared_experts:
        out += _swiglu(y, Quantity("n_s", x.shared_experts) * fe, "moe", "shared expert ")
    return out


def _gpt(y: _Sym) -> list[Kept]:
    """Korthikanti's GPT layer: §4.1's tensors, which add up to Table 2 under eager attention."""
    h = y.h
    src = SRC_KORTHIKANTI_T2
    out = [
        Kept("LayerNorm inputs (two norms)", "layer", 4 * y.seq(h), src),
        Kept("QKV projection input", "attention", 2 * y.seq(h), src),
        Kept("Q and K", "attention", 4 * y.heads(h), src),
        Kept("V", "attention", 2 * y.heads(h), src),
        Kept("attention output (output projection input)", "attention", 2 * y.heads(h), src),
    ]
    out += _attention_core(_Sym(replace(y.x, dropout=True)))  # eager: Table 2's 5as/h
    out += [
        Kept("attention dropout mask", "attention", 1 * y.seq(h), src),
        Kept("MLP input", "mlp", 2 * y.seq(h), src),
        Kept("GELU input (4h wide)", "mlp", 8 * y.heads(h), src),
        Kept("GELU output (second linear's input)", "mlp", 8 * y.heads(h), src),
        Kept("MLP dropout mask", "mlp", 1 * y.seq(h), src),
    ]
    return out


@lru_cache(maxsize=512)  # every stage of a layout and every advice candidate asks again
def layer_anatomy(x: LayerShape, kind: Literal["dense", "moe"], anatomy: Anatomy) -> LayerAnatomy:
    """The kept tensors of one dense or MoE layer and their sum.

    For example a Llama-style dense layer with FlashAttention, no TP and no recompute keeps
    per token 2h (norm input) + 4 (rstd) + 2h (QKV input) + 2·a·d (Q) + 4·a_kv·d (K, V) +
    2·a·d (O) + 4a (logsumexp), then 2h + 4 + 2h + 4f + 2f for the SwiGLU MLP (the tests count
    the same tensors by hand). ``anatomy="gpt"`` with eager attention sums to Korthikanti's
    Table 2 row for the layout and is returned as that formula.
    """
    y = _Sym(x)
    name = "A_dense" if kind == "dense" else "A_moe"
    if anatomy == "gpt":
        kept = _gpt(y)
    else:
        attn = _mla(y) if x.q_lora else _attention(y)
        kept = attn + (_moe(y) if kind == "moe" else _dense_mlp(y))
    every = kept
    if x.recompute == "full":
        kept = [
            Kept(
                "layer input (everything else is recomputed)",
                "layer",
                2 * y.seq(y.h),
                SRC_KORTHIKANTI_T2,
            )
        ]
    elif x.recompute == "selective":
        kept = [k for k in kept if not k.recomputed]
    dropped = tuple(k for k in every if k not in kept) if x.recompute != "none" else ()
    if anatomy == "gpt" and x.attention == "eager" and x.keys == x.tokens:
        a = activation_per_layer(
            x.tokens, x.micro_batch, x.hidden, x.heads, x.tp, x.sequence_parallel, x.recompute
        )
        assert a.definition is not None
        total = define(name, a.definition, a.note)
    else:
        what = "Korthikanti's GPT layer" if anatomy == "gpt" else f"the model's {kind} layer"
        total = define(
            name,
            reduce(add, (k.expr for k in kept)),
            f"bytes per layer per microbatch on one GPU: {what}",
        )
    return LayerAnatomy(kind, anatomy, tuple(kept), total, dropped)
