"""Which collectives each parallelism axis runs in one training step, how often and how big.

Per GPU of one pipeline rank, for m microbatches of b sequences of s tokens (s/cp on a GPU),
hidden size h, 16-bit activations and gradients (nccl-tests' size convention for
`buffer_bytes`: the all-reduced buffer, the gathered output, the reduce-scatter input, a rank's
all-to-all send buffer):

- TP (Megatron, Shoeybi et al. 2019 §3; Korthikanti et al. 2022 §4.2.2): 2 all-reduces of the
  b·s·h layer output per layer forward and 2 backward (2 more forward with full recompute);
  sequence parallelism replaces each by an all-gather and a reduce-scatter of the same buffer.
- CP, ring attention (Liu et al. 2023; Megatron-LM context parallelism): each layer passes the
  K and V blocks around the cp ranks — the traffic of a ring all-gather — forward, and again
  with the dK, dV reduce-scatter backward. Ulysses (Jacobs et al. 2023): all-to-alls of Q, K, V
  and of the output, forward and backward.
- EP (GShard, Lepikhin et al. 2020; DeepSeek-V3 §3.2): per MoE layer a dispatch and a combine
  all-to-all of the b·s·k routed token copies of h, forward and backward.
- PP: one send of the b·s·h/t activation per microbatch per chunk forward, one of its gradient
  backward (Megatron scatters it over TP: 1/t each).
- DP / ZeRO (Rajbhandari et al. 2019 §7): plain DP all-reduces the 2Ψ-byte gradients once;
  ZeRO-1 reduce-scatters them and all-gathers the updated parameters (2Ψ elements moved, as DP);
  ZeRO-2 reduce-scatters every microbatch (only a shard of gradients is kept); ZeRO-3 also
  all-gathers the parameters forward and backward of every microbatch (3Ψ with m = 1).

Groups follow Megatron-LM's rank order, TP innermost, then CP, EP (inside DP), DP, PP: a TP
group is tp consecutive ranks, a CP or DP group strides over tp, PP over tp·cp·dp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.core.parallel.collective_cost import Placement
from app.core.parallel.memory_query import MemorySetup
from app.core.parallel.memory_terms import GRAD_BYTES
from app.core.parallel.presets import ModelPreset

ACTIVATION_BYTES = 2  # bf16 activations and activation gradients on the wire
Phase = Literal["forward", "backward", "step"]
Axis = Literal["tp", "cp", "ep", "pp", "dp"]
PASSES: tuple[Phase, Phase] = ("forward", "backward")

SRC_TP = "Megatron-LM (arXiv 1909.08053 §3): 2 all-reduces per layer forward, 2 backward"
SRC_SP = (
    "Korthikanti et al. 2022 (arXiv 2205.05198) §4.2.2: all-reduce → all-gather + reduce-scatter"
)
SRC_CP = (
    "Ring attention (arXiv 2310.01889); Megatron-LM context parallelism: K/V around the CP ring"
)
SRC_ULYSSES = "DeepSpeed-Ulysses (arXiv 2309.14509): all-to-all of Q, K, V and of the output"
SRC_EP = "GShard (arXiv 2006.16668); DeepSeek-V3 (arXiv 2412.19437) §3.2: dispatch + combine"
SRC_PP = (
    "Megatron-LM (arXiv 2104.04473 §4.1): one activation per microbatch and stage, split over TP"
)
SRC_ZERO = "ZeRO (arXiv 1910.02054) §7: DP 2Ψ, ZeRO-1/2 2Ψ (reduce-scatter + all-gather), ZeRO-3 3Ψ"


@dataclass(frozen=True)
class Group:
    """The ranks one collective runs over: `size` of them, `stride` apart in rank order."""

    axis: Axis
    size: int
    stride: int

    def placement(self, gpus_per_node: int) -> Placement:
        """Ranks of the group per node: consecutive blocks of gpus_per_node ranks."""
        local = 1 if self.stride >= gpus_per_node else min(self.size, gpus_per_node // self.stride)
        return Placement(self.size, max(1, local))


@dataclass(frozen=True)
class Call:
    """`count` calls per step, on one GPU, of one collective with a `buffer_bytes` buffer."""

    axis: Axis
    collective: str
    what: str
    phase: Phase
    per_microbatch: bool
    """True: inside the pipeline (forward / backward of each microbatch); False: after it."""
    overlap: str
    """The overlap switch that can hide it (overlap_<name>)."""
    group: Group
    count: int
    buffer_bytes: int
    formula: str
    source: str


@dataclass(frozen=True)
class RankShare:
    """What one pipeline rank holds: its layers (all chunks) and its parameters."""

    dense_layers: int
    moe_layers: int
    psi_dense: int
    """Parameters reduced over all dp·cp ranks (everything when there is no EP)."""
    psi_expert: int
    """Expert parameters, reduced over the dp·cp/ep expert-data-parallel ranks."""

    @property
    def layers(self) -> int:
        return self.dense_layers + self.moe_layers


def _kv_width(m: ModelPreset) -> int:
    """Elements of K plus V per token per layer as attention sees them (MLA: decompressed)."""
    if m.mla is not None:
        return m.heads * (m.mla.qk_head_dim + m.mla.v_head_dim)
    return 2 * m.kv_heads * m.head_dim


def layer_calls(
    setup: MemorySetup, share: RankShare, microbatches: int, cp_algorithm: str
) -> list[Call]:
    """TP, CP and EP collectives inside the layers of one rank, for one step."""
    q, m = setup.query, setup.model
    assert m is not None
    mb, tokens, h = microbatches, q.micro_batch * setup.tokens, m.hidden
    full = q.recompute == "full"
    out: list[Call] = []
    if q.tp > 1:
        g = Group("tp", q.tp, 1)
        act = tokens * h * ACTIVATION_BYTES
        fwd, bwd = 2 * share.layers * mb, (2 + 2 * full) * share.layers * mb
        if q.sequence_parallel:
            for coll, name in (("all_gather", "layer inputs"), ("reduce_scatter", "layer outputs")):
                out += [
                    Call(
                        "tp",
                        coll,
                        f"{name} (sequence parallel)",
                        "forward",
                        True,
                        "tp",
                        g,
                        fwd,
                        act,
                        "2 per layer × L × m; b·s·h·2 B",
                        SRC_SP,
                    ),
                    Call(
                        "tp",
                        coll,
                        f"{name} gradients (sequence parallel)",
                        "backward",
                        True,
                        "tp",
                        g,
                        bwd,
                        act,
                        "2 per layer × L × m (+2 with full recompute)",
                        SRC_SP,
                    ),
                ]
        else:
            out += [
                Call(
                    "tp",
                    "all_reduce",
                    "attention and MLP outputs",
                    "forward",
                    True,
                    "tp",
                    g,
                    fwd,
                    act,
                    "2 per layer × L × m; b·s·h·2 B",
                    SRC_TP,
                ),
                Call(
                    "tp",
                    "all_reduce",
                    "input gradients (+ recomputed forward)" if full else "input gradients",
                    "backward",
                    True,
                    "tp",
                    g,
                    bwd,
                    act,
                    "2 per layer × L × m (+2 with full recompute)",
                    SRC_TP,
                ),
            ]
    if q.cp > 1:
        g = Group("cp", q.cp, q.tp)
        if cp_algorithm == "ring":
            kv = q.cp * tokens * _kv_width(m) // q.tp * ACTIVATION_BYTES
            n = share.layers * mb
            out += [
                Call(
                    "cp",
                    "all_gather",
                    "K/V blocks around the ring (ring attention)",
                    "forward",
                    True,
                    "cp",
                    g,
                    n * (1 + full),
                    kv,
                    "1 pass per layer × L × m; cp·b·(s/cp)·2·kv·2 B",
                    SRC_CP,
                ),
                Call(
                    "cp",
                    "all_gather",
                    "K/V blocks again (backward)",
                    "backward",
                    True,
                    "cp",
                    g,
                    n,
                    kv,
                    "1 pass per layer × L × m",
                    SRC_CP,
                ),
                Call(
                    "cp",
                    "reduce_scatter",
                    "dK/dV blocks around the ring",
                    "backward",
                    True,
                    "cp",
                    g,
                    n,
                    kv,
                    "1 pass per layer × L × m",
                    SRC_CP,
                ),
            ]
        else:
            q_width = m.heads * m.head_dim
            qkv = tokens * (q_width + _kv_width(m)) // q.tp * ACTIVATION_BYTES
            o = tokens * q_width // q.tp * ACTIVATION_BYTES
            n = share.layers * mb
            for phase in PASSES:
                out += [
                    Call(
                        "cp",
                        "all_to_all",
                        f"Q, K, V heads ↔ sequence ({phase})",
                        phase,
                        True,
                        "cp",
                        g,
                        n,
                        qkv,
                        "1 per layer × L × m",
                        SRC_ULYSSES,
                    ),
                    Call(
                        "cp",
                        "all_to_all",
                        f"attention output ({phase})",
                        phase,
                        True,
                        "cp",
                        g,
                        n,
                        o,
                        "1 per layer × L × m",
                        SRC_ULYSSES,
                    ),
                ]
    if q.ep > 1 and share.moe_layers:
        g = Group("ep", q.ep, q.tp)
        routed = (tokens // (q.tp if q.sequence_parallel else 1)) * m.experts_per_token
        buf = routed * h * ACTIVATION_BYTES
        n = share.moe_layers * mb
        for phase in PASSES:
            out += [
                Call(
                    "ep",
                    "all_to_all",
                    f"dispatch tokens to experts ({phase})",
                    phase,
                    True,
                    "ep",
                    g,
                    n,
                    buf,
                    "1 per MoE layer × L × m; b·s·k·h·2 B",
                    SRC_EP,
                ),
                Call(
                    "ep",
                    "all_to_all",
                    f"combine expert outputs ({phase})",
                    phase,
                    True,
                    "ep",
                    g,
                    n,
                    buf,
                    "1 per MoE layer × L × m",
                    SRC_EP,
                ),
            ]
    return out


def pipeline_calls(setup: MemorySetup, microbatches: int) -> list[Call]:
    """The point-to-point sends of one pipeline rank (activations forward, gradients back)."""
    q, m = setup.query, setup.model
    assert m is not None
    if q.pp == 1:
        return []
    g = Group("pp", 2, q.tp * q.cp * q.dp)
    act = q.micro_batch * setup.tokens * m.hidden // q.tp * ACTIVATION_BYTES
    n = microbatches * q.chunks
    return [
        Call(
            "pp",
            "send_recv",
            "activations to the next stage",
            "forward",
            True,
            "pp",
            g,
            n,
            act,
            "1 per microbatch × chunk; b·(s/cp)·h·2/t B",
            SRC_PP,
        ),
        Call(
            "pp",
            "send_recv",
            "activation gradients to the previous stage",
            "backward",
            True,
            "pp",
            g,
            n,
            act,
            "1 per microbatch × chunk",
            SRC_PP,
        ),
    ]


def data_parallel_calls(setup: MemorySetup, share: RankShare, microbatches: int) -> list[Call]:
    """Gradient reduction and parameter gathers of one rank under ZeRO stage `zero`."""
    q = setup.query
    n_d = setup.data_parallel
    param_bytes = setup.weights.bits / 8
    groups = [(Group("dp", n_d, q.tp), share.psi_dense, "")]
    if share.psi_expert:
        groups.append((Group("dp", n_d // q.ep, q.tp * q.ep), share.psi_expert, "expert "))
    out: list[Call] = []
    mb = microbatches
    for g, psi, kind in groups:
        if g.size == 1 or psi == 0:
            continue
        grads = psi * GRAD_BYTES
        params = round(psi * param_bytes)
        if q.zero == 0:
            out.append(
                Call(
                    "dp",
                    "all_reduce",
                    f"{kind}gradients",
                    "step",
                    False,
                    "dp",
                    g,
                    1,
                    grads,
                    "1 per step; 2Ψ B",
                    SRC_ZERO,
                )
            )
        elif q.zero == 1:
            out += [
                Call(
                    "dp",
                    "reduce_scatter",
                    f"{kind}gradients",
                    "step",
                    False,
                    "dp",
                    g,
                    1,
                    grads,
                    "1 per step; 2Ψ B",
                    SRC_ZERO,
                ),
                Call(
                    "dp",
                    "all_gather",
                    f"updated {kind}parameters",
                    "step",
                    False,
                    "zero",
                    g,
                    1,
                    params,
                    "1 per step; Ψ × weight bytes",
                    SRC_ZERO,
                ),
            ]
        elif q.zero == 2:
            out += [
                Call(
                    "dp",
                    "reduce_scatter",
                    f"{kind}gradients (every microbatch)",
                    "backward",
                    True,
                    "dp",
                    g,
                    mb,
                    grads,
                    "1 per microbatch; 2Ψ B",
                    SRC_ZERO,
                ),
                Call(
                    "dp",
                    "all_gather",
                    f"updated {kind}parameters",
                    "step",
                    False,
                    "zero",
                    g,
                    1,
                    params,
                    "1 per step",
                    SRC_ZERO,
                ),
            ]
        else:
            out += [
                Call(
                    "dp",
                    "all_gather",
                    f"{kind}parameters for the forward",
                    "forward",
                    True,
                    "zero",
                    g,
                    mb,
                    params,
                    "1 per microbatch",
                    SRC_ZERO,
                ),
                Call(
                    "dp",
                    "all_gather",
                    f"{kind}parameters for the backward",
                    "backward",
                    True,
                    "zero",
                    g,
                    mb,
                    params,
                    "1 per microbatch",
                    SRC_ZERO,
                ),
                Call(
                    "dp",
                    "reduce_scatter",
                    f"{kind}gradients",
                    "backward",
                    True,
                    "dp",
                    g,
                    mb,
                    grads,
                    "1 per microbatch; 2Ψ B",
                    SRC_ZERO,
                ),
            ]
    return out
