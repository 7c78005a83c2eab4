"""The MoE all-to-alls as explicit steps, priced on the collectives' alpha-beta model.

A routed batch leaves each source rank s with some token copies for each destination rank d
(`matrix[s, d]`, the diagonal staying on the rank). Two ways to move them:

- **Flat**: one step in which every rank sends each other rank its copies at once (NCCL's
  all-to-all, `direct` on /collectives, with uneven blocks). Copies between nodes go over the
  NIC, the rest over NVLink.
- **Hierarchical**: (1) inside each source node, the copies bound for node n' are gathered on
  one relay rank, local index n' mod g, and a token with several experts on n' is gathered
  once; (2) each relay sends its bundle over the network to a relay on n' (local index
  n mod g): one exchange per node pair, each token once per destination node; (3) the
  receiving relay forwards every copy to the rank of its expert over NVLink. Copies that stay
  inside their node go directly in step (1). Deduplicating per node is what makes it pay:
  DeepSeek-V3 (arXiv 2412.19437 §3.2.2) sends each token once over InfiniBand per node and
  fans it out over NVLink. The combine runs the same steps backwards (expert outputs of one
  token are summed on the relay before they cross the network).

Each step's time is `app.core.parallel.collective_cost.evaluate`: α plus the busiest rank's
bytes on each link over that link's bandwidth, the slower link if a step uses both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.core.parallel.collective_cost import Links, Placement, evaluate, step_links
from app.core.parallel.collective_steps import COPY, StepList

IntArray = npt.NDArray[np.int64]

FLAT_STEPS = ("all pairs at once",)
HIERARCHICAL_STEPS = (
    "gather on the node's relay (NVLink)",
    "one exchange per node pair (network)",
    "fan out to the experts' ranks (NVLink)",
)
COMBINE_STEPS = (
    "collect expert outputs on the relay (NVLink)",
    "one exchange per node pair (network)",
    "back to each token's rank (NVLink)",
)
_LINK = {(True, False): "intra_node", (False, True): "network", (True, True): "both"}


@dataclass(frozen=True)
class StepCost:
    label: str
    link: str
    time: float
    bytes: int
    """Bytes all ranks send in this step together."""


@dataclass(frozen=True)
class Exchange:
    """One all-to-all (dispatch or combine) moved one way (flat or hierarchical)."""

    steps: tuple[StepCost, ...]
    intra_node_bytes: int
    network_bytes: int

    @property
    def time(self) -> float:
        return sum(s.time for s in self.steps)


def _price(
    step: IntArray, src: IntArray, dst: IntArray, nbytes: IntArray, place: Placement,
    links: Links, labels: tuple[str, ...],
) -> Exchange:  # fmt: skip
    """Cost a list of transfers (already one per (step, src, dst)) with `evaluate`."""
    keep = (src != dst) & (nbytes > 0)
    step, src, dst, nbytes = step[keep], src[keep], dst[keep], nbytes[keep]
    order = np.argsort(step, kind="stable")
    step, src, dst, nbytes = step[order], src[order], dst[order], nbytes[order]
    zeros = np.zeros(step.size, dtype=np.int64)
    steps = StepList(
        place.ranks, 1, len(labels), step, src, dst, zeros, np.full(step.size, COPY, np.int64)
    )
    times = evaluate(steps, place, nbytes, links) if step.size else np.zeros(len(labels))
    used = step_links(steps, place) if step.size else np.zeros((len(labels), 2), dtype=bool)
    per_step = np.bincount(step, weights=nbytes, minlength=len(labels))
    crosses = place.node_of(src) != place.node_of(dst)
    out = tuple(
        StepCost(label, _LINK.get((bool(a), bool(b)), "none"), float(t), int(v))
        for label, t, (a, b), v in zip(
            labels, times.tolist(), used.tolist(), per_step.tolist(), strict=True
        )
    )
    return Exchange(out, int(nbytes[~crosses].sum()), int(nbytes[crosses].sum()))


def flat_exchange(matrix: IntArray, token_bytes: int, place: Placement, links: Links) -> Exchange:
    """All pairs at once: rank s sends `matrix[s, d]` copies of `token_bytes` to rank d."""
    n = matrix.shape[0]
    s, d = np.divmod(np.arange(n * n, dtype=np.int64), n)
    nbytes = matrix.reshape(-1).astype(np.int64) * token_bytes
    return _price(np.zeros(n * n, dtype=np.int64), s, d, nbytes, place, links, FLAT_STEPS)


def _local_count(node: IntArray, place: Placement) -> IntArray:
    """Ranks on each node (the last node may hold fewer)."""
    return np.minimum(place.local, place.ranks - node * place.local)


def hierarchical_legs(
    token: IntArray, src: IntArray, dst: IntArray, place: Placement
) -> tuple[IntArray, IntArray, IntArray]:
    """The dispatch's transfers of single token copies: (step, from, to), one row per copy
    and leg (see the module docstring). Copies inside a node are one leg in step 0."""
    g = place.local
    ns, nd = src // g, dst // g
    same = ns == nd
    legs = [(np.zeros(int(same.sum()), np.int64), src[same], dst[same])]
    cross = ~same
    t, s, d, a, b = token[cross], src[cross], dst[cross], ns[cross], nd[cross]
    relay_out = a * g + b % _local_count(a, place)
    relay_in = b * g + a % _local_count(b, place)
    # one copy of a token per destination node crosses to the relays and the network
    _, first = np.unique(t * place.nodes + b, return_index=True)
    legs.append((np.zeros(first.size, np.int64), s[first], relay_out[first]))
    legs.append((np.ones(first.size, np.int64), relay_out[first], relay_in[first]))
    legs.append((np.full(t.size, 2, np.int64), relay_in, d))
    return (
        np.concatenate([x[0] for x in legs]),
        np.concatenate([x[1] for x in legs]),
        np.concatenate([x[2] for x in legs]),
    )


def _aggregate(
    step: IntArray, src: IntArray, dst: IntArray, n: int
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Copies per (step, src, dst): one transfer each."""
    key = (step * n + src) * n + dst
    uniq, count = np.unique(key, return_counts=True)
    rest, d = np.divmod(uniq, n)
    st, s = np.divmod(rest, n)
    return st, s, d, count.astype(np.int64)


def hierarchical_exchange(
    token: IntArray, src: IntArray, dst: IntArray, place: Placement, links: Links,
    token_bytes: tuple[int, int],
) -> tuple[Exchange, Exchange]:  # fmt: skip
    """(dispatch, combine) of the kept copies `token` from rank `src` to rank `dst`, moved
    hierarchically; `token_bytes` is (dispatch, combine) bytes per copy."""
    step, a, b = hierarchical_legs(token, src, dst, place)
    st, s, d, count = _aggregate(step, a, b, place.ranks)
    dispatch = _price(st, s, d, count * token_bytes[0], place, links, HIERARCHICAL_STEPS)
    combine = _price(2 - st, d, s, count * token_bytes[1], place, links, COMBINE_STEPS)
    return dispatch, combine
