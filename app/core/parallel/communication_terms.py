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
from app.core.parallel.context import attention_widths, kv_block_bytes, ulysses_buffers
from app.core.parallel.memory_query import MemorySetup
from app.core.parallel.memory_terms import GRAD_BYTES
from app.core.parallel.moe import dispatch_bytes_per_rank

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


# (collective, what, phase, count, buffer bytes, formula)
Row = tuple[str, str, Phase, int, int, str]


def _calls(
    axis: Axis, group: Group, overlap: str, per_mb: bool, source: str, rows: list[Row]
) -> list[Call]:
    return [
        Call(axis, coll, what, phase, per_mb, overlap, group, count, buf, formula, source)
        for coll, what, phase, count, buf, formula in rows
        if count > 0
    ]


def _tp(setup: MemorySetup, share: RankShare, mb: int, act: int) -> list[Call]:
    q = setup.query
    g = Group("tp", q.tp, 1)
    fwd = 2 * share.layers * mb
    bwd = (2 + 2 * (q.recompute == "full")) * share.layers * mb
    per = "2 per layer × L × m; b·s·h·2 B"
    if not q.sequence_parallel:
        return _calls("tp", g, "tp", True, SRC_TP, [
            ("all_reduce", "attention and MLP outputs", "forward", fwd, act, per),
            ("all_reduce", "input gradients", "backward", bwd, act, per + " (+2 recomputed)"),
        ])  # fmt: skip
    return _calls("tp", g, "tp", True, SRC_SP, [
        ("all_gather", "layer inputs (sequence parallel)", "forward", fwd, act, per),
        ("reduce_scatter", "layer outputs (sequence parallel)", "forward", fwd, act, per),
        ("all_gather", "output gradients (sequence parallel)", "backward", bwd, act, per),
        ("reduce_scatter", "input gradients (sequence parallel)", "backward", bwd, act, per),
    ])  # fmt: skip


def _cp(setup: MemorySetup, share: RankShare, mb: int, tokens: int, algorithm: str) -> list[Call]:
    q, m = setup.query, setup.model
    assert m is not None
    g = Group("cp", q.cp, q.tp)
    n = share.layers * mb
    q_width, kv_width = attention_widths(m)
    if algorithm == "ring":
        # the K/V blocks of every CP rank pass around the ring: an all-gather of cp blocks
        kv = q.cp * kv_block_bytes(tokens, kv_width, ACTIVATION_BYTES, q.tp)
        per = "1 pass per layer × L × m; cp·b·(s/cp)·2·kv·2 B"
        fwd = n * (1 + (q.recompute == "full"))
        return _calls("cp", g, "cp", True, SRC_CP, [
            ("all_gather", "K/V blocks around the ring", "forward", fwd, kv, per),
            ("all_gather", "K/V blocks around the ring", "backward", n, kv, per),
            ("reduce_scatter", "dK/dV blocks around the ring", "backward", n, kv, per),
        ])  # fmt: skip
    qkv, out = ulysses_buffers(tokens, q_width, kv_width, ACTIVATION_BYTES, q.tp)
    per = "1 per layer × L × m"
    return _calls("cp", g, "cp", True, SRC_ULYSSES, [
        (c, what, phase, n, buf, per)
        for phase in PASSES
        for c, what, buf in (("all_to_all", "Q, K, V: heads ↔ sequence", qkv),
                             ("all_to_all", "attention output", out))
    ])  # fmt: skip


def _ep(setup: MemorySetup, share: RankShare, mb: int, tokens: int) -> list[Call]:
    q, m = setup.query, setup.model
    assert m is not None
    local = tokens // (q.tp if q.sequence_parallel else 1)
    buf = dispatch_bytes_per_rank(local, m.experts_per_token, m.hidden, ACTIVATION_BYTES)
    n = share.moe_layers * mb
    per = "1 per MoE layer × L × m; b·s·k·h·2 B"
    return _calls("ep", Group("ep", q.ep, q.tp), "ep", True, SRC_EP, [
        ("all_to_all", what, phase, n, buf, per)
        for phase in PASSES
        for what in ("dispatch tokens to experts", "combine expert outputs")
    ])  # fmt: skip


def layer_calls(
    setup: MemorySetup, share: RankShare, microbatches: int, cp_algorithm: str
) -> list[Call]:
    """TP, CP and EP collectives inside the layers of one rank, for one step."""
    q, m = setup.query, setup.model
    assert m is not None
    tokens = q.micro_batch * setup.tokens
    out: list[Call] = []
    if q.tp > 1:
        out += _tp(setup, share, microbatches, tokens * m.hidden * ACTIVATION_BYTES)
    if q.cp > 1:
        out += _cp(setup, share, microbatches, tokens, cp_algorithm)
    if q.ep > 1 and share.moe_layers:
        out += _ep(setup, share, microbatches, tokens)
    return out


def pipeline_calls(setup: MemorySetup, microbatches: int) -> list[Call]:
    """The point-to-point sends of one pipeline rank (activations forward, gradients back)."""
    q, m = setup.query, setup.model
    assert m is not None
    if q.pp == 1:
        return []
    act = q.micro_batch * setup.tokens * m.hidden // q.tp * ACTIVATION_BYTES
    n = microbatches * setup.chunks
    per = "1 per microbatch × chunk; b·(s/cp)·h·2/t B"
    return _calls("pp", Group("pp", 2, q.tp * q.cp * q.dp), "pp", True, SRC_PP, [
        ("send_recv", "activations to the next stage", "forward", n, act, per),
        ("send_recv", "activation gradients to the previous stage", "backward", n, act, per),
    ])  # fmt: skip


def _zero(zero: int, kind: str, mb: int, grads: int, params: int) -> list[tuple[Row, bool, str]]:
    """(row, inside the pipeline, overlap switch) of one parameter group under ZeRO `zero`."""
    g, p = f"{kind}gradients", f"updated {kind}parameters"
    once, each = "1 per step", "1 per microbatch"
    if zero == 0:
        return [(("all_reduce", g, "step", 1, grads, once + "; 2Ψ B"), False, "dp")]
    if zero == 1:
        return [
            (("reduce_scatter", g, "step", 1, grads, once + "; 2Ψ B"), False, "dp"),
            (("all_gather", p, "step", 1, params, once + "; Ψ × weight bytes"), False, "zero"),
        ]
    if zero == 2:
        return [
            (("reduce_scatter", g + " (each microbatch)", "backward", mb, grads, each), True, "dp"),
            (("all_gather", p, "step", 1, params, once), False, "zero"),
        ]  # fmt: skip
    return [
        (("all_gather", f"{kind}parameters", "forward", mb, params, each), True, "zero"),
        (("all_gather", f"{kind}parameters", "backward", mb, params, each), True, "zero"),
        (("reduce_scatter", g, "backward", mb, grads, each + "; 2Ψ B"), True, "dp"),
    ]  # fmt: skip


def data_parallel_calls(setup: MemorySetup, share: RankShare, microbatches: int) -> list[Call]:
    """Gradient reduction and parameter gathers of one rank under ZeRO stage `zero`."""
    q = setup.query
    n_d = setup.data_parallel
    groups = [(Group("dp", n_d, q.tp), share.psi_dense, "")]
    if share.psi_expert:
        groups.append((Group("dp", n_d // q.ep, q.tp * q.ep), share.psi_expert, "expert "))
    out: list[Call] = []
    for g, psi, kind in groups:
        if g.size == 1 or psi == 0:
            continue
        params = round(psi * setup.weights.bits / 8)
        for row, per_mb, overlap in _zero(q.zero, kind, microbatches, psi * GRAD_BYTES, params):
            out += _calls("dp", g, overlap, per_mb, SRC_ZERO, [row])
    return out
