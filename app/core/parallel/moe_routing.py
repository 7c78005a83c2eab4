"""Routing a batch of tokens to experts, from seeded router logits (see `app.core.parallel.moe`
for the model and its sources): top-k gating with capacity, node-limited routing, expert
choice. Plain arrays in, a `Routed` table of token copies out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Logits = npt.NDArray[np.float32]
Popularity = Literal["normal", "zipf"]


@dataclass(frozen=True, eq=False)
class Routed:
    """Every token copy that routing made: parallel columns, in choice-major order for top-k
    (all first choices, then all second choices...), expert-major for expert choice."""

    token: IntArray
    expert: IntArray
    choice: IntArray
    gate: FloatArray
    kept: npt.NDArray[np.bool_]
    slot: IntArray
    expert_load: IntArray
    """Copies routed to each expert before capacity."""


def router_logits(
    seed: int, tokens: int, experts: int, skew: float, popularity: Popularity
) -> Logits:
    """(T, E) seeded logits: skew · bias[e] + standard Gumbel noise.

    The bias is N(0, 1) per expert, or −log(1 + rank) over a seeded ranking (Zipf-like). The
    top k of Gumbel-perturbed logits are k draws without replacement with odds ∝
    exp(skew · bias) (Kool et al. 2019), so skew = 0 routes uniformly.
    """
    rng = np.random.default_rng(seed)
    if popularity == "zipf":
        bias = -np.log1p(rng.permutation(experts).astype(np.float64))
    else:
        bias = rng.standard_normal(experts)
    # −log of a standard exponential is standard Gumbel; float32 halves the work
    e = rng.standard_exponential((tokens, experts), dtype=np.float32)
    noise = -np.log(np.maximum(e, np.float32(1e-30)))
    noise += np.float32(skew) * bias.astype(np.float32)
    return noise


def node_mask(logits: Logits, experts_per_node: int, top_k: int, max_nodes: int) -> None:
    """Node-limited routing, in place: experts outside each token's best `max_nodes` nodes get
    −inf. A node's score is the sum of its highest k/M logits (DeepSeek-V3 §2.1.2); experts
    are numbered node by node (`experts_per_node` consecutive experts on each)."""
    t, experts = logits.shape
    nodes = -(-experts // experts_per_node)
    if max_nodes >= nodes:
        return
    padded = np.full((t, nodes * experts_per_node), -np.inf, dtype=np.float32)
    padded[:, :experts] = logits
    grouped = padded.reshape(t, nodes, experts_per_node)
    top = max(1, min(experts_per_node, top_k // max_nodes))
    best = -np.sort(-grouped, axis=2)[:, :, :top]
    score = np.where(np.isfinite(best), best, 0.0).sum(axis=2)
    keep = np.argsort(-score, axis=1, kind="stable")[:, :max_nodes]
    allowed = np.zeros((t, nodes), dtype=bool)
    np.put_along_axis(allowed, keep, True, axis=1)
    mask = np.repeat(allowed, experts_per_node, axis=1)[:, :experts]
    logits[~mask] = -np.inf


def _softmax_rows(x: Logits) -> FloatArray:
    z = x.astype(np.float64) - x.max(axis=1, keepdims=True)
    ez = np.exp(z)
    return np.asarray(ez / ez.sum(axis=1, keepdims=True))


def _slots(expert: IntArray, experts: int) -> IntArray:
    """Each copy's position in its expert's buffer, in the order the copies are listed."""
    order = np.argsort(expert, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(expert, minlength=experts))[:-1]])
    slot = np.empty_like(expert)
    slot[order] = np.arange(expert.size) - starts[expert[order]]
    return slot


def route_top_k(logits: Logits, top_k: int, capacity: int, dropless: bool) -> Routed:
    """Top-k gating: each token's k highest logits, gates softmaxed over those k (Mixtral).
    Copies past `capacity` in their expert are dropped, first choices last (GShard Algorithm
    1: all first choices queue before any second choice), unless `dropless`."""
    t, experts = logits.shape
    k = top_k
    top = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(logits, top, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    top, vals = np.take_along_axis(top, order, axis=1), np.take_along_axis(vals, order, axis=1)
    gates = _softmax_rows(vals)
    token = np.tile(np.arange(t, dtype=np.int64), k)  # choice-major: GShard's priority order
    expert = top.T.reshape(-1).astype(np.int64)
    choice = np.repeat(np.arange(k, dtype=np.int64), t)
    slot = _slots(expert, experts)
    kept = np.ones(expert.size, dtype=bool) if dropless else slot < capacity
    load = np.bincount(expert, minlength=experts).astype(np.int64)
    return Routed(token, expert, choice, gates.T.reshape(-1), kept, slot, load)


def route_expert_choice(logits: Logits, capacity: int) -> Routed:
    """Each expert takes the `capacity` tokens with the highest router probability for it
    (Zhou et al. 2022); every expert is full, tokens get zero or several experts."""
    t, experts = logits.shape
    probs = _softmax_rows(logits)
    c = min(t, capacity)
    picked = np.argpartition(-probs, max(c - 1, 0), axis=0)[:c, :]  # (c, E)
    score = np.take_along_axis(probs, picked, axis=0)
    order = np.argsort(-score, axis=0, kind="stable")
    picked = np.take_along_axis(picked, order, axis=0)
    token = picked.T.reshape(-1).astype(np.int64)  # expert-major
    expert = np.repeat(np.arange(experts, dtype=np.int64), c)
    gate = np.take_along_axis(probs, picked, axis=0).T.reshape(-1)
    slot = np.tile(np.arange(c, dtype=np.int64), experts)
    n = token.size
    return Routed(
        token, expert, np.full(n, -1, dtype=np.int64), gate, np.ones(n, dtype=bool), slot,
        np.full(experts, c, dtype=np.int64),
    )  # fmt: skip
