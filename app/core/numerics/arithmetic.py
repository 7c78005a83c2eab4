"""Accumulation in low precision: running sums and dot products against the exact answer.

Each addition is exact and then rounded once to the accumulator's format (nearest even), as a
hardware adder does. numpy's `cumsum` in an ml_dtypes type does exactly that: it adds in
float32 and rounds to the type after every term. The float32 sum of two values of a narrower
format is exact unless their exponents are far apart, and then the smaller one is below a
quarter of the wider format's ulp, so the float32 rounding can never move the sum onto a
midpoint of the narrower format: the result equals one correct rounding of the exact sum.

`stalled_at` is the first index where adding a non-zero term leaves the running sum unchanged
(the term is below half an ulp of the sum): summing ones in bfloat16 stalls at 256 (8 bits of
precision: 256 + 1 is a tie that rounds back to 256), in float16 at 2048.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.numerics.formats import FORMATS, dtype_of
from app.core.numerics.tensors import Distribution, generate

F64 = npt.NDArray[np.float64]
MAX_POINTS: Final = 2_000  # running sums are decimated to at most this many points
ACCUMULATORS: Final = tuple(n for n, f in FORMATS.items() if f.signed and f.has_zero)


def _check_format(name: str, field: str) -> np.dtype[np.generic]:
    if name not in ACCUMULATORS:
        raise InvalidInput(field, f"{name} cannot hold a signed sum; use one of {ACCUMULATORS}")
    return dtype_of(name)


def decimate(n: int, points: int = MAX_POINTS) -> npt.NDArray[np.int64]:
    """At most `points` indices in 0..n−1, evenly spread, always with the first and last."""
    if n <= points:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, points).round().astype(np.int64))


def pairwise_sum(terms: npt.NDArray[Any]) -> float:
    """Sum by a balanced tree, each partial sum rounded to the terms' own type."""
    level = terms
    while level.size > 1:
        if level.size % 2:
            level = np.concatenate([level, np.zeros(1, dtype=level.dtype)])
        level = level[0::2] + level[1::2]
    return float(level[0]) if level.size else 0.0


@dataclass(frozen=True)
class Accumulation:
    format: str
    accumulator: str
    n: int
    indices: npt.NDArray[np.int64]  # decimated term indices (0-based; sum after term i)
    partial_sums: F64  # running sum in the accumulator, at `indices`
    fp32_sums: F64  # the same terms accumulated in float32
    exact_sums: F64  # the same terms summed in float64 (error < n·2^-53 relative)
    final: float
    fp32_final: float
    pairwise_final: float
    exact: float  # math.fsum of the terms: the correctly rounded exact sum
    stalled_at: int | None
    relative_error: float


def accumulate(
    fmt: str,
    accumulator: str | None,
    n: int,
    distribution: Distribution = "normal",
    seed: int = 0,
    *,
    mean: float = 0.0,
) -> Accumulation:
    """Sum `n` terms rounded to `fmt` in an `accumulator` (default: `fmt` itself)."""
    acc_name = accumulator or fmt
    term_dt = _check_format(fmt, "format")
    acc_dt = _check_format(acc_name, "accumulator")
    raw = generate(distribution, n, seed) + np.float32(mean)
    terms = raw.astype(term_dt)
    running = np.cumsum(terms.astype(acc_dt), dtype=acc_dt)
    exact_terms = terms.astype(np.float64)
    fp32 = np.cumsum(terms.astype(np.float32), dtype=np.float32)
    exact_run = np.cumsum(exact_terms)
    stalled = np.flatnonzero((exact_terms[1:] != 0) & (running[1:] == running[:-1]))
    idx = decimate(n)
    final = float(running[-1]) if n else 0.0
    exact = math.fsum(exact_terms.tolist())
    return Accumulation(
        format=fmt,
        accumulator=acc_name,
        n=n,
        indices=idx,
        partial_sums=running[idx].astype(np.float64),
        fp32_sums=fp32[idx].astype(np.float64),
        exact_sums=exact_run[idx],
        final=final,
        fp32_final=float(fp32[-1]) if n else 0.0,
        pairwise_final=pairwise_sum(terms.astype(acc_dt)),
        exact=exact,
        stalled_at=int(stalled[0]) + 1 if stalled.size else None,
        relative_error=abs(final - exact) / abs(exact) if exact else abs(final),
    )


@dataclass(frozen=True)
class DotGrowth:
    format: str
    accumulator: str
    lengths: npt.NDArray[np.int64]
    relative_error: F64  # |dot − exact| / Σ|a·b| at each length (the standard error measure)
    bound: F64  # the probabilistic bound sqrt(L)·u (Higham & Mary 2019) for reference
    unit_roundoff: float


def dot_growth(
    fmt: str, accumulator: str, n: int, distribution: Distribution = "normal", seed: int = 0
) -> DotGrowth:
    """Error of a·b (inputs rounded to `fmt`, products exact, sums in `accumulator`) by length.

    Products of two values of at most 12 significant bits are exact in float32, so only the
    accumulation rounds; lengths are the powers of two up to `n`.
    """
    in_dt = _check_format(fmt, "format")
    acc_dt = _check_format(accumulator, "accumulator")
    if FORMATS[fmt].mantissa_bits > 11:
        raise InvalidInput("format", "inputs wider than float16 do not have exact float32 products")
    rng = np.random.default_rng(seed)
    a = generate(distribution, n, int(rng.integers(2**31))).astype(in_dt)
    b = generate(distribution, n, int(rng.integers(2**31))).astype(in_dt)
    products = a.astype(np.float32) * b.astype(np.float32)
    running = np.cumsum(products.astype(acc_dt), dtype=acc_dt).astype(np.float64)
    exact = np.cumsum(products.astype(np.float64))
    magnitude = np.cumsum(np.abs(products.astype(np.float64)))
    lengths = 2 ** np.arange(int(math.log2(n)) + 1)
    i = lengths - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(magnitude[i] > 0, np.abs(running[i] - exact[i]) / magnitude[i], 0.0)
    u = 2.0 ** -(FORMATS[accumulator].mantissa_bits + 1)
    return DotGrowth(fmt, accumulator, lengths, rel, np.sqrt(lengths) * u, u)
