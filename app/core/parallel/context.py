"""Context parallelism: ring attention over cp ranks, tile by tile, and Ulysses beside it.

The sequence of s tokens is cut into blocks; each rank owns the queries and the K/V of its
blocks. In ring attention (Liu et al. 2023, arXiv 2310.01889) every rank starts with its own
K/V block and, at each of cp steps, computes its queries against the K/V block it holds, then
passes that block to the next rank: at step j rank r holds the K/V of rank (r − j) mod cp.

- **Contiguous** placement: cp blocks, rank r owns block r. Under a causal mask rank r only
  needs the K/V of ranks ≤ r, so rank 0 works one step in cp and the last rank every step.
- **Zig-zag** (load-balanced) placement: 2·cp blocks, rank r owns blocks r and 2·cp − 1 − r
  (Megatron-LM's context parallelism; Llama 3 §3.3.2). Every rank then has the same causal
  work, and every step after the first has two tiles on every rank.

`compute_context` lists every (query block, key block) tile with the rank and step that
computes it, skips tiles the causal mask excludes entirely, and counts work in query–key
pairs (a diagonal tile under the mask is a triangle, b(b+1)/2 pairs of a b-token block).
A step lasts as long as its busiest rank, so the idle time is Σ_step (max − own work).

Ulysses (DeepSpeed-Ulysses, Jacobs et al. 2023, arXiv 2309.14509) instead all-to-alls Q, K
and V from sequence-sharded to head-sharded, runs full attention on heads/cp heads, and
all-to-alls the output back. Per rank and layer, forward:

    ring:    (cp − 1) K/V blocks received, a block = (b·s/cp) · kv_width · bytes
    ulysses: (cp − 1)/cp of (b·s/cp)·(q_width + kv_width)·bytes, then of (b·s/cp)·q_width·bytes

so ring traffic per rank stays near one whole sequence's K/V however large cp, and Ulysses'
falls as 1/cp. For example s = 8192, cp = 4, 8 KV heads of 128 in bf16: a block is
2048 · 2048 · 2 = 8,388,608 bytes and the ring forward moves 3 blocks per rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.dtypes import resolve as resolve_dtype
from app.core.parallel.collective_algorithms import (
    LinkQuery,
    default_algorithm,
    phase_table,
    resolve_links,
)
from app.core.parallel.collective_cost import Links, Placement
from app.core.parallel.network import calibration
from app.core.parallel.presets import ModelPreset, get_gpu, get_model
from app.core.params import param

IntArray = npt.NDArray[np.int64]
PlacementName = Literal["contiguous", "zigzag"]
PLACEMENTS: tuple[PlacementName, ...] = ("contiguous", "zigzag")
DEFAULT_HEADS, DEFAULT_KV_HEADS, DEFAULT_HEAD_DIM = 32, 8, 128

SRC_RING = "Ring attention (Liu et al. 2023, arXiv 2310.01889): K/V blocks passed around the ring"
SRC_ZIGZAG = (
    "Load-balanced (zig-zag) placement: Megatron-LM context parallelism; Llama 3 (arXiv "
    "2407.21783) §3.3.2 cuts the sequence into 2·cp chunks, rank r holding chunks r and 2·cp−1−r"
)
SRC_ULYSSES = "DeepSpeed-Ulysses (Jacobs et al. 2023, arXiv 2309.14509) §3: all-to-all over heads"


# ---------------------------------------------------------------- volumes, as pure functions


def attention_widths(m: ModelPreset) -> tuple[int, int]:
    """(query width, K plus V width) in elements per token per layer, as attention sees them
    (MLA decompressed: every head has its own K and V). Llama 3 70B: (64·128, 2·8·128)."""
    q_width = m.heads * m.head_dim
    if m.mla is not None:
        return q_width, m.heads * (m.mla.qk_head_dim + m.mla.v_head_dim)
    return q_width, 2 * m.kv_heads * m.head_dim


def kv_block_bytes(tokens_per_rank: int, kv_width: int, dtype_bytes: float, tp: int = 1) -> int:
    """One rank's K/V block: its b·s/cp tokens × kv_width elements (split over tp ranks).

    For example 2,048 tokens × 2·8·128 × 2 bytes = 8,388,608 bytes.
    """
    return round(tokens_per_rank * kv_width * dtype_bytes) // tp


def kv_in_flight_bytes(tokens_per_rank: int, kv_width: int, dtype_bytes: float, tp: int = 1) -> int:
    """K/V bytes a ring-attention rank holds beyond its own block: the block it computes with
    and the one arriving for the next step (double buffering, as Megatron-LM's send/recv
    overlaps the compute): 2 blocks. The memory model counts these per layer in flight."""
    return 2 * kv_block_bytes(tokens_per_rank, kv_width, dtype_bytes, tp)


def ulysses_buffers(
    tokens_per_rank: int, q_width: int, kv_width: int, dtype_bytes: float, tp: int = 1
) -> tuple[int, int]:
    """(Q, K, V send buffer, output send buffer) of one rank's two Ulysses all-to-alls, in
    nccl-tests' convention (a rank sends (cp − 1)/cp of each)."""
    qkv = round(tokens_per_rank * (q_width + kv_width) * dtype_bytes) // tp
    return qkv, round(tokens_per_rank * q_width * dtype_bytes) // tp


# ---------------------------------------------------------------- the tiling


def num_blocks(cp: int, placement: PlacementName) -> int:
    """Blocks the sequence is cut into: cp (contiguous) or 2·cp (zig-zag)."""
    return cp if placement == "contiguous" else 2 * cp


def rank_blocks(cp: int, placement: PlacementName) -> IntArray:
    """(cp, 1 or 2): the blocks each rank owns (queries and K/V alike)."""
    r = np.arange(cp, dtype=np.int64)
    if placement == "contiguous":
        return r[:, None]
    return np.stack([r, 2 * cp - 1 - r], axis=1)


@dataclass(frozen=True, eq=False)
class Tiling:
    """Every computed tile, as parallel columns sorted by (step, rank), and the work of each."""

    cp: int
    placement: PlacementName
    causal: bool
    block_tokens: int
    rank: IntArray
    step: IntArray
    q_block: IntArray
    k_block: IntArray
    diagonal: npt.NDArray[np.bool_]
    pairs: IntArray

    @property
    def work(self) -> IntArray:
        """(steps, ranks): query–key pairs each rank computes at each step."""
        out = np.zeros((self.cp, self.cp), dtype=np.int64)
        np.add.at(out, (self.step, self.rank), self.pairs)
        return out

    @property
    def makespan(self) -> int:
        """Σ over steps of the busiest rank's pairs (a step waits for its slowest rank)."""
        return int(self.work.max(axis=1).sum())

    @property
    def idle(self) -> IntArray:
        w = self.work
        return np.asarray((w.max(axis=1, keepdims=True) - w).sum(axis=0), dtype=np.int64)


def tiling(seq_len: int, cp: int, causal: bool, placement: PlacementName) -> Tiling:
    """The tiles ring attention computes (see the module docstring).

    For example ``tiling(8, 2, True, "contiguous")``: rank 0 computes (0, 0) at step 0 (a
    diagonal triangle of 10 pairs); rank 1 computes (1, 1) at step 0 and (1, 0) at step 1.
    """
    blocks = rank_blocks(cp, placement)
    per = blocks.shape[1]
    bs = seq_len // num_blocks(cp, placement)
    r, j, a, b = np.meshgrid(
        np.arange(cp), np.arange(cp), np.arange(per), np.arange(per), indexing="ij"
    )
    holder = (r - j) % cp
    q_block = blocks[r, a].reshape(-1)
    k_block = blocks[holder, b].reshape(-1)
    rank, step = r.reshape(-1), j.reshape(-1)
    keep = k_block <= q_block if causal else np.ones(q_block.size, dtype=bool)
    diagonal = (q_block == k_block) & causal
    pairs = np.where(diagonal, bs * (bs + 1) // 2, bs * bs)
    order = np.lexsort((k_block[keep], q_block[keep], rank[keep], step[keep]))
    cols = [c[keep][order].astype(np.int64) for c in (rank, step, q_block, k_block, pairs)]
    return Tiling(cp, placement, causal, bs, cols[0], cols[1], cols[2], cols[3],
                  diagonal[keep][order], cols[4])  # fmt: skip


# ---------------------------------------------------------------- the query


@dataclass(frozen=True)
class ContextQuery(LinkQuery):
    """Inputs of GET /api/v1/context, with their names, defaults and bounds."""

    model: str | None = param(
        None, "Model preset: heads, KV heads and head size from it.", example="llama3-70b",
        max_length=40,
    )  # fmt: skip
    seq_len: int = param(
        8192, "Sequence length s in tokens; a multiple of the number of blocks.",
        example=8192, ge=1, le=limit("seq_len"),
    )  # fmt: skip
    cp: int = param(4, "Context-parallel ranks.", example=4, ge=1, le=limit("context_cp"))
    causal: bool = param(True, "Causal mask: a query sees only keys at or before it.", example=True)
    placement: PlacementName = param(
        "zigzag", "contiguous: cp blocks, rank r owns block r; zigzag: 2·cp blocks, rank r "
        "owns blocks r and 2·cp − 1 − r.", example="zigzag",
    )  # fmt: skip
    heads: int | None = param(
        None, f"Attention heads (default: the model's, else {DEFAULT_HEADS}).",
        example=32, ge=1, le=limit("model_heads"),
    )  # fmt: skip
    kv_heads: int | None = param(
        None, f"KV heads (default: the model's, else {DEFAULT_KV_HEADS}).",
        example=8, ge=1, le=limit("model_heads"),
    )  # fmt: skip
    head_dim: int | None = param(
        None, f"Head size (default: the model's, else {DEFAULT_HEAD_DIM}).",
        example=128, ge=1, le=limit("model_hidden"),
    )  # fmt: skip
    micro_batch: int = param(
        1, "Sequences per microbatch b.", example=1, ge=1, le=limit("micro_batch")
    )
    dtype: str = param("bfloat16", "Dtype of Q, K, V and the output on the wire.", max_length=40)
    gpu: str = param("h100-sxm", "GPU preset: its links' achievable figures.", max_length=40)


@dataclass(frozen=True)
class Attention:
    """What a query names: the attention shape and the link placement."""

    model: str | None
    model_title: str | None
    heads: int
    kv_heads: int
    head_dim: int
    q_width: int
    kv_width: int
    dtype: str
    dtype_bytes: float
    gpu: str
    gpus_per_node: int
    place: Placement
    links: Links


def _shape(q: ContextQuery) -> tuple[str | None, str | None, int, int, int, int, int]:
    """(model, title, heads, kv_heads, head_dim, q_width, kv_width): the model's, overridden."""
    h, kv, d = DEFAULT_HEADS, DEFAULT_KV_HEADS, DEFAULT_HEAD_DIM
    m = get_model(q.model) if q.model is not None else None
    if m is not None:
        h, kv, d = m.heads, m.kv_heads, m.head_dim
    h, kv, d = (
        x if x is not None else y for x, y in ((q.heads, h), (q.kv_heads, kv), (q.head_dim, d))
    )
    if kv > h or h % kv:
        raise InvalidInput("kv_heads", f"must divide heads ({h})")
    if m is not None and m.mla is not None and (q.heads, q.kv_heads, q.head_dim) == (None,) * 3:
        qw, kvw = attention_widths(m)
    else:
        qw, kvw = h * d, 2 * kv * d
    return (m.name if m else None), (m.title if m else None), h, kv, d, qw, kvw


def resolve(q: ContextQuery) -> Attention:
    """Check `q` (a 422 names the field) and resolve the model, dtype and links."""
    blocks = num_blocks(q.cp, q.placement)
    if q.seq_len % blocks:
        raise InvalidInput(
            "seq_len", f"must be a multiple of the {blocks} blocks of {q.placement} placement"
        )
    name, title, h, kv, d, qw, kvw = _shape(q)
    dt = resolve_dtype(q.dtype)
    gpu = get_gpu(q.gpu)
    cal = calibration(gpu.name)
    per_node = q.gpus_per_node if q.gpus_per_node is not None else cal.gpus_per_node
    links = resolve_links(cal, nvls=False, given=q)
    place = Placement(q.cp, min(q.cp, per_node))
    return Attention(
        name, title, h, kv, d, qw, kvw, dt.name, dt.bits / 8, gpu.name, per_node, place, links
    )


# ---------------------------------------------------------------- volumes and their time


def _time(op: str, algorithm: str, place: Placement, size: int, links: Links) -> float:
    if place.ranks == 1:
        return 0.0
    return phase_table(op, algorithm, place, 0, place.ranks).time(size, links)


def volumes(q: ContextQuery, att: Attention) -> dict[str, Any]:
    """Per rank and layer: ring attention's K/V passes and Ulysses' all-to-alls, with bytes,
    formulas and their time on the collectives' alpha-beta model."""
    cp, tokens = q.cp, q.micro_batch * q.seq_len // q.cp
    block = kv_block_bytes(tokens, att.kv_width, att.dtype_bytes)
    qkv, out = ulysses_buffers(tokens, att.q_width, att.kv_width, att.dtype_bytes)
    ring_alg = default_algorithm("all_gather", att.place)
    ok = att.heads % cp == 0
    a2a = (qkv + out) * (cp - 1) // cp
    return {
        "block_bytes": block,
        "kv_in_flight_bytes": kv_in_flight_bytes(tokens, att.kv_width, att.dtype_bytes),
        "ring": {
            "forward_bytes": (cp - 1) * block,
            "backward_bytes": 2 * (cp - 1) * block,
            "formula": "forward (cp − 1) K/V blocks; backward K/V again and dK/dV back: "
            "2(cp − 1) blocks; a block = b·(s/cp)·kv_width·bytes",
            "time_forward": _time("all_gather", ring_alg, att.place, cp * block, att.links),
            "algorithm": ring_alg,
            "source": SRC_RING,
        },
        "ulysses": {
            "feasible": ok,
            "reason": "" if ok else f"heads ({att.heads}) must be a multiple of cp ({cp})",
            "qkv_bytes": qkv,
            "output_bytes": out,
            "forward_bytes": a2a,
            "backward_bytes": a2a,
            "formula": "(cp − 1)/cp × b·(s/cp)·(q_width + kv_width)·bytes for Q, K, V, then "
            "(cp − 1)/cp × b·(s/cp)·q_width·bytes for the output; the backward mirrors it",
            "time_forward": _time("all_to_all", "direct", att.place, qkv, att.links)
            + _time("all_to_all", "direct", att.place, out, att.links),
            "source": SRC_ULYSSES,
        },
    }


@dataclass(frozen=True, eq=False)
class ContextResult:
    query: ContextQuery
    attention: Attention
    tiling: Tiling
    others: tuple[Tiling, ...]
    """The same sequence under every placement (for the comparison), this one included."""
    volumes: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """The JSON body of GET /api/v1/context (see `app.schemas.moe`)."""
        from app.core.parallel.context_payload import context_payload

        return context_payload(self)


def compute_context(q: ContextQuery) -> ContextResult:
    """Tile ring attention and price both algorithms (see the module docstring).

    For example ``compute_context(ContextQuery(cp=4, placement="zigzag")).tiling.idle`` is
    all zeros: zig-zag placement leaves no rank waiting.
    """
    att = resolve(q)
    others = []
    for p in PLACEMENTS:
        if q.seq_len % num_blocks(q.cp, p) == 0:
            others.append(tiling(q.seq_len, q.cp, q.causal, p))
    mine = next(t for t in others if t.placement == q.placement)
    return ContextResult(q, att, mine, tuple(others), volumes(q, att))
