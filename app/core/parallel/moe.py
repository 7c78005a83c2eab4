"""Expert parallelism: a batch of tokens routed to experts on EP ranks, and what it sends.

`compute_moe(MoeQuery(tokens=1024, experts=16, top_k=2, ep=4))` routes `tokens` tokens (the
batch one MoE layer sees across the EP group; rank r holds tokens r·T/ep … (r+1)·T/ep − 1)
to `experts` experts, E/ep of them on each rank (expert e on rank e // (E/ep)), and returns:

- the routing: top-k gating of seeded router logits (or expert-choice routing), every
  token copy's expert, whether it was kept, and the load of each expert before capacity;
- the capacity rule of GShard and Switch: capacity = ceil(capacity_factor · T · k / E) token
  copies per expert; copies past it are dropped (first choices before second choices, then in
  token order, GShard Algorithm 1), unless routing is dropless;
- the dispatch and combine all-to-alls: token copies from each source rank to each
  destination rank (an ep × ep matrix whose diagonal stays on the rank), their bytes
  (copies · hidden · dtype bytes), and their time on the collectives' alpha-beta model
  (`app.core.parallel.collective_cost.evaluate` on explicit steps), flat (every pair at once)
  and hierarchical (`app.core.parallel.moe_dispatch`).

Router logits: logit[t, e] = skew · bias[e] + g[t, e] with g standard Gumbel noise (seeded).
Top-k of Gumbel-perturbed logits draws k distinct experts without replacement with
probabilities ∝ exp(skew · bias) (Kool et al. 2019, the Gumbel-top-k trick), so skew = 0 is
uniform routing; bias is N(0, 1) per expert (`popularity=normal`) or −log(1 + rank) with a
seeded ranking of the experts (`popularity=zipf`, first-choice odds ∝ 1/(1 + rank)^skew).

For example 1,024 tokens, 16 experts, top-2, capacity factor 1.25: capacity =
ceil(1.25 · 1024 · 2 / 16) = 160 copies per expert; an expert chosen by 200 tokens drops 40.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.dtypes import resolve as resolve_dtype
from app.core.parallel.collective_algorithms import LinkQuery, resolve_links
from app.core.parallel.collective_cost import Links, Placement
from app.core.parallel.moe_dispatch import Exchange, flat_exchange, hierarchical_exchange
from app.core.parallel.moe_routing import (
    Popularity,
    Routed,
    node_mask,
    route_expert_choice,
    route_top_k,
    router_logits,
)
from app.core.parallel.network import calibration
from app.core.parallel.presets import get_gpu, get_model
from app.core.params import param

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Routing = Literal["top_k", "expert_choice"]

# Defaults of the architecture fields when no model= names them (a small MoE layer to watch).
DEFAULT_EXPERTS, DEFAULT_TOP_K, DEFAULT_HIDDEN = 16, 2, 4096

SRC_CAPACITY = (
    "GShard (Lepikhin et al. 2020, arXiv 2006.16668) Algorithm 1; Switch Transformer (Fedus "
    "et al. 2021, arXiv 2101.03961) §2.2: capacity = capacity_factor · tokens · k / experts"
)
SRC_NODE_LIMITED = (
    "DeepSeek-V3 (arXiv 2412.19437) §2.1.2: each token goes to at most M nodes, chosen by the "
    "sum of the highest k/M affinities of the experts on each node"
)
SRC_EXPERT_CHOICE = (
    "Expert choice routing (Zhou et al. 2022, arXiv 2202.09368): each expert takes its top "
    "capacity tokens, so loads are equal and a token gets zero, one or several experts"
)
SRC_SHARED = (
    "DeepSeekMoE (arXiv 2401.06066) / DeepSeek-V3 §2.1.2: shared experts see every token "
    "on the rank that holds it, with no all-to-all"
)


# ---------------------------------------------------------------- the rules, as pure functions


def capacity(tokens: int, top_k: int, experts: int, capacity_factor: float) -> int:
    """Token copies one expert accepts: ceil(capacity_factor · tokens · k / experts).

    GShard Algorithm 1 and Switch Transformer §2.2; for example
    ``capacity(1024, 2, 16, 1.25) == 160``. The product is rounded to 12 significant digits
    first so that a factor such as 1.1 does not round 1.1 · 1000 up to 1101.
    """
    return math.ceil(round(capacity_factor * tokens * top_k / experts, 9))


def token_bytes(hidden: int, bits: float) -> int:
    """Bytes of one token's hidden vector in a dtype of `bits` per element (block dtypes
    carry their scales: 4096 × 8.25 bits = 4,224 bytes for mxfp8)."""
    return math.ceil(hidden * bits / 8)


def dispatch_bytes_per_rank(
    tokens_per_rank: int, top_k: int, hidden: int, dtype_bytes: float
) -> int:
    """One rank's dispatch send buffer: its tokens · k copies of h elements (nccl-tests'
    all-to-all size; the combine returns as much). The communication bill's EP entries use it.

    For example Mixtral (h = 4096, k = 2), 4,096 tokens on a rank in bf16:
    4096 · 2 · 4096 · 2 = 67,108,864 bytes.
    """
    return round(tokens_per_rank * top_k * hidden * dtype_bytes)


def expert_buffer_bytes(
    tokens_per_rank: int,
    top_k: int,
    experts: int,
    ep: int,
    hidden: int,
    dtype_bytes: float,
    capacity_factor: float | None = None,
) -> int:
    """Bytes one EP rank holds for the token copies its local experts receive (the dispatch
    buffer the memory model counts).

    Capacity-limited (`capacity_factor` given): E/ep local experts × capacity slots over the
    group's ep · tokens_per_rank tokens, padded as GShard's fixed-size dispatch tensor is.
    Dropless (None): the balanced expectation, tokens_per_rank · k copies (a skewed router
    sends more to a popular rank; `compute_moe` gives the real figure for a seeded batch).

    For example 4,096 tokens per rank, k = 8, 256 experts on ep = 64, h = 7168, bf16,
    capacity factor 1.0: capacity = ceil(262144 · 8 / 256) = 8,192; 4 experts × 8,192 × 7168
    × 2 = 469,762,048 bytes.
    """
    if capacity_factor is None:
        return dispatch_bytes_per_rank(tokens_per_rank, top_k, hidden, dtype_bytes)
    cap = capacity(tokens_per_rank * ep, top_k, experts, capacity_factor)
    return round((experts // ep) * cap * hidden * dtype_bytes)


# ---------------------------------------------------------------- the query


@dataclass(frozen=True)
class MoeQuery(LinkQuery):
    """Inputs of GET /api/v1/moe, with their names, defaults and bounds."""

    model: str | None = param(
        None, "Model preset: experts, top-k, hidden and shared experts from it.",
        example="mixtral-8x7b", max_length=40,
    )  # fmt: skip
    tokens: int = param(
        1024, "Tokens T in the batch routed across the EP group (T/ep on each rank).",
        example=1024, ge=1, le=limit("moe_tokens"),
    )  # fmt: skip
    experts: int | None = param(
        None, f"Routed experts E (default: the model's, else {DEFAULT_EXPERTS}).",
        example=16, ge=1, le=limit("moe_experts"),
    )  # fmt: skip
    top_k: int | None = param(
        None, f"Experts per token k (default: the model's, else {DEFAULT_TOP_K}).",
        example=2, ge=1, le=limit("moe_experts"),
    )  # fmt: skip
    shared_experts: int | None = param(
        None, "Shared experts every token also goes through, locally (default: the model's, "
        "else 0).", example=0, ge=0, le=limit("moe_experts"),
    )  # fmt: skip
    hidden: int | None = param(
        None, f"Hidden size h of a token (default: the model's, else {DEFAULT_HIDDEN}).",
        example=4096, ge=1, le=limit("model_hidden"),
    )  # fmt: skip
    ep: int = param(
        4, "Expert-parallel ranks; E and T must be multiples of it.",
        example=4, ge=1, le=limit("moe_ep"),
    )  # fmt: skip
    capacity_factor: float = param(
        1.25, "Capacity factor: capacity = ceil(factor · T · k / E) copies per expert.",
        example=1.25, gt=0, le=64,
    )  # fmt: skip
    dropless: bool = param(False, "Dropless routing: no capacity, nothing dropped.", example=False)
    routing: Routing = param(
        "top_k", "top_k: each token picks k experts; expert_choice: each expert picks its "
        "top-capacity tokens.", example="top_k",
    )  # fmt: skip
    popularity: Popularity = param(
        "normal", "Expert bias: normal (N(0,1) per expert) or zipf (−log(1 + rank)).",
        example="normal",
    )  # fmt: skip
    skew: float = param(
        0.5, "How strongly the bias tilts the router: 0 routes uniformly.",
        example=1.0, ge=0, le=16,
    )  # fmt: skip
    max_nodes: int | None = param(
        None, "Node-limited routing: each token's experts on at most this many nodes.",
        example=2, ge=1, le=limit("moe_ep"),
    )  # fmt: skip
    seed: int = param(0, "Seed of the router logits.", example=0, ge=0, le=2**32 - 1)
    dispatch_dtype: str = param(
        "bfloat16", "Dtype tokens are dispatched in (DeepSeek-V3: float8_e4m3fn).",
        example="bfloat16", max_length=40,
    )  # fmt: skip
    combine_dtype: str = param(
        "bfloat16", "Dtype expert outputs come back in.", example="bfloat16", max_length=40
    )
    gpu: str = param("h100-sxm", "GPU preset: its links' achievable figures.", max_length=40)
    routes: bool = param(
        False, f"List every token's GPU and every token copy (token, ranks, expert, kept, "
        f"slot, gate), for batches of up to {limit('moe_routes'):,} copies.", example=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Layer:
    """The MoE layer a query names: architecture resolved, placement checked."""

    model: str | None
    model_title: str | None
    experts: int
    top_k: int
    shared_experts: int
    hidden: int
    ep: int
    gpus_per_node: int
    dispatch_bits: float
    combine_bits: float
    dispatch_dtype: str
    combine_dtype: str
    gpu: str

    @property
    def experts_per_rank(self) -> int:
        return self.experts // self.ep

    @property
    def place(self) -> Placement:
        return Placement(self.ep, min(self.ep, self.gpus_per_node))


def _architecture(q: MoeQuery) -> tuple[str | None, str | None, int, int, int, int]:
    """(model, title, E, k, shared, h): the model's values, overridden by explicit ones."""
    e, k, s, h = DEFAULT_EXPERTS, DEFAULT_TOP_K, 0, DEFAULT_HIDDEN
    name = title = None
    if q.model is not None:
        m = get_model(q.model)
        if not m.is_moe:
            raise InvalidInput("model", f"{m.name} is a dense model (no experts); pick a MoE")
        name, title = m.name, m.title
        e, k, s, h = m.experts, m.experts_per_token, m.shared_experts, m.hidden
    pick = [q.experts, q.top_k, q.shared_experts, q.hidden]
    e, k, s, h = (
        given if given is not None else dflt for given, dflt in zip(pick, [e, k, s, h], strict=True)
    )
    return name, title, e, k, s, h


def resolve(q: MoeQuery) -> Layer:
    """Check `q` (a 422 names the field) and resolve the model, dtypes and placement."""
    name, title, e, k, shared, h = _architecture(q)
    if k > e:
        raise InvalidInput("top_k", f"must be at most experts ({e})")
    if e % q.ep:
        raise InvalidInput("ep", f"experts ({e}) must be a multiple of ep ({q.ep})")
    if q.tokens % q.ep:
        raise InvalidInput("tokens", f"must be a multiple of ep ({q.ep}): T/ep on each rank")
    if q.tokens * e > limit("moe_router_cells"):
        raise InvalidInput(
            "tokens",
            f"tokens × experts = {q.tokens * e:,} router logits; at most "
            f"{limit('moe_router_cells'):,}",
        )
    gpu = get_gpu(q.gpu)
    per_node = (
        q.gpus_per_node if q.gpus_per_node is not None else calibration(gpu.name).gpus_per_node
    )
    layer = Layer(
        name, title, e, k, shared, h, q.ep, per_node,
        resolve_dtype(q.dispatch_dtype, "dispatch_dtype").bits,
        resolve_dtype(q.combine_dtype, "combine_dtype").bits,
        resolve_dtype(q.dispatch_dtype, "dispatch_dtype").name,
        resolve_dtype(q.combine_dtype, "combine_dtype").name, gpu.name,
    )  # fmt: skip
    if q.max_nodes is not None:
        per_node_experts = layer.experts_per_rank * layer.place.local
        if q.routing != "top_k":
            raise InvalidInput("max_nodes", "node-limited routing applies to top_k routing")
        if q.max_nodes * per_node_experts < k:
            raise InvalidInput(
                "max_nodes",
                f"{q.max_nodes} node(s) hold {q.max_nodes * per_node_experts} experts, fewer "
                f"than top_k ({k})",
            )
    return layer


# ---------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class MoeResult:
    query: MoeQuery
    layer: Layer
    links: Links
    capacity: int
    routed: Routed
    src: IntArray
    dst: IntArray
    dispatch_tokens: IntArray
    """(ep, ep): kept token copies from source rank (row) to destination rank (column)."""
    flat: tuple[Exchange, Exchange]
    hierarchical: tuple[Exchange, Exchange]
    notes: tuple[str, ...]

    @property
    def dropped(self) -> int:
        return int((~self.routed.kept).sum())

    def payload(self) -> dict[str, Any]:
        """The JSON body of GET /api/v1/moe (see `app.schemas.moe`)."""
        from app.core.parallel.moe_payload import moe_payload

        return moe_payload(self)


def _notes(q: MoeQuery, layer: Layer, copies: int) -> list[str]:
    notes = [
        "Capacity applies per expert over the whole batch of T tokens (one GShard group); "
        "Megatron-LM applies the same rule to each rank's T/ep tokens.",
        "Bytes count one hidden vector per kept token copy: a token sent to two experts on one "
        "rank travels twice, as a per-expert permutation sends it; dropped copies are not sent.",
        "All-to-alls are priced on the collectives' alpha-beta model: each step lasts α plus "
        "the busiest rank's bytes on a link over that link's bus bandwidth.",
    ]
    if q.routing == "expert_choice":
        notes.append(SRC_EXPERT_CHOICE + ".")
    if q.max_nodes is not None:
        notes.append(SRC_NODE_LIMITED + ".")
    if layer.shared_experts:
        notes.append(SRC_SHARED + ".")
    if q.routes and copies > limit("moe_routes"):
        notes.append(
            f"Routes are listed up to {limit('moe_routes'):,} token copies; this batch has "
            f"{copies:,}, so `routes` is null (fewer tokens to see every copy)."
        )
    if q.dropless and q.routing == "top_k":
        notes.append("Dropless: capacity is shown for reference; no copy is dropped.")
    return notes


def compute_moe(q: MoeQuery) -> MoeResult:
    """Route, apply capacity, and price both all-to-alls (see the module docstring).

    For example ``compute_moe(MoeQuery(dropless=True)).dropped == 0``.
    """
    layer = resolve(q)
    cap = capacity(q.tokens, layer.top_k, layer.experts, q.capacity_factor)
    logits = router_logits(q.seed, q.tokens, layer.experts, q.skew, q.popularity)
    if q.routing == "expert_choice":
        routed = route_expert_choice(logits, cap)
    else:
        if q.max_nodes is not None:
            node_mask(logits, layer.experts_per_rank * layer.place.local, layer.top_k, q.max_nodes)
        routed = route_top_k(logits, layer.top_k, cap, q.dropless)
    per_rank = q.tokens // q.ep
    src = routed.token // per_rank
    dst = routed.expert // layer.experts_per_rank
    ep = q.ep
    kept = routed.kept
    matrix = np.bincount(src[kept] * ep + dst[kept], minlength=ep * ep).reshape(ep, ep)
    links = resolve_links(calibration(layer.gpu), nvls=False, given=q)
    d_bytes = token_bytes(layer.hidden, layer.dispatch_bits)
    c_bytes = token_bytes(layer.hidden, layer.combine_bits)
    place = layer.place
    flat = (
        flat_exchange(matrix, d_bytes, place, links),
        flat_exchange(matrix.T, c_bytes, place, links),
    )
    hier = hierarchical_exchange(
        routed.token[kept], src[kept], dst[kept], place, links, (d_bytes, c_bytes)
    )
    return MoeResult(
        query=q, layer=layer, links=links,
        capacity=cap,
        routed=routed, src=src, dst=dst, dispatch_tokens=matrix.astype(np.int64),
        flat=flat, hierarchical=hier, notes=tuple(_notes(q, layer, int(routed.expert.size))),
    )  # fmt: skip
