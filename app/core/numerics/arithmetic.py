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
from app.core.numerics.dtypes import element_name
from app.core.numerics.formats import FORMATS, dtype_of
from app.core.numerics.tensors import Distribution, generate

F64 = npt.NDArray[np.float64]
MAX_POINTS: Final = 2_000  # running sums are decimated to at most this many points
ACCUMULATORS: Final = tuple(n for n, f in FORMATS.items() if f.signed and f.has_zero)
# Products of two such inputs are exact in float32 (at most 2 x 11 significant bits)
DOT_FORMATS: Final = tuple(n for n in ACCUMULATORS if FORMATS[n].mantissa_bits <= 11)


def resolve_format(name: str, field: str) -> str:
    """The registry name of `name` (aliases such as bf16 work); a 404 with a suggestion if
    unknown, a 422 for a format that cannot hold a signed sum (E8M0 has no zero and no sign).
    """
    canonical = element_name(name, field)
    if canonical not in ACCUMULATORS:
        raise InvalidInput(
            field, f"{canonical} cannot hold a signed sum; use one of {ACCUMULATORS}"
        )
    return canonical


def ulp(name: str, value: float) -> float:
    """The gap between `value` and the next larger magnitude of format `name`.

    For example ``ulp("bfloat16", 256.0) == 2.0`` (8 significant bits: 2^(8 - 7)); below the
    smallest normal it is the subnormal spacing.
    """
    info = FORMATS[name]
    a = abs(value)
    if a < info.min_normal or a == 0:
        return info.min_subnormal or info.min_normal
    return math.ldexp(1.0, math.frexp(a)[1] - 1 - info.mantissa_bits)


def decimate(n: int, points: int = MAX_POINTS) -> npt.NDArray[np.int64]:
    """At most `points` indices in 0..n−1, evenly spread, always with the first and last."""
    if n <= points:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, points).round().astype(np.int64))


def pairwise_sum(terms: npt.NDArray[Any]) -> float:
    """Sum by a balanced tree, each partial sum rounded to the terms' own type."""
    level: npt.NDArray[Any] = terms
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
    stall_sum: float | None  # the running sum that the term at stalled_at did not change
    stall_term: float | None  # that term
    stall_ulp: float | None  # the accumulator's spacing at stall_sum (the term was below half)
    unit_roundoff: float  # 2^-p of the accumulator (p significant bits)
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
    fmt = resolve_format(fmt, "format")
    acc_name = resolve_format(accumulator, "accumulator") if accumulator else fmt
    term_dt = dtype_of(fmt)
    acc_dt = dtype_of(acc_name)
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
    stall = int(stalled[0]) + 1 if stalled.size else None
    stall_sum = float(running[stall - 1]) if stall is not None else None
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
        stalled_at=stall,
        stall_sum=stall_sum,
        stall_term=float(exact_terms[stall]) if stall is not None else None,
        stall_ulp=ulp(acc_name, stall_sum) if stall_sum is not None else None,
        unit_roundoff=2.0 ** -(FORMATS[acc_name].mantissa_bits + 1),
        relative_error=abs(final - exact) / abs(exact) if exact else abs(final),
    )


@dataclass(frozen=True)
class DotGrowth:
    format: str
    accumulator: str
    lengths: npt.NDArray[np.int64]
    relative_error: F64  # |dot − exact| / Σ|a·b| at each length (the standard error measure)
    fp32_relative_error: F64  # the same products summed in a float32 accumulator
    bound: F64  # the probabilistic bound sqrt(L)·u (Higham & Mary 2019) for reference
    unit_roundoff: float


def dot_growth(
    fmt: str, accumulator: str, n: int, distribution: Distribution = "normal", seed: int = 0
) -> DotGrowth:
    """Error of a·b (inputs rounded to `fmt`, products exact, sums in `accumulator`) by length.

    Products of two values of at most 12 significant bits are exact in float32, so only the
    accumulation rounds; lengths are the powers of two up to `n`.
    """
    fmt = resolve_format(fmt, "format")
    accumulator = resolve_format(accumulator, "accumulator")
    in_dt = dtype_of(fmt)
    acc_dt = dtype_of(accumulator)
    if fmt not in DOT_FORMATS:
        raise InvalidInput("format", "inputs wider than float16 do not have exact float32 products")
    rng = np.random.default_rng(seed)
    a = generate(distribution, n, int(rng.integers(2**31))).astype(in_dt)
    b = generate(distribution, n, int(rng.integers(2**31))).astype(in_dt)
    products = a.astype(np.float32) * b.astype(np.float32)
    running = np.cumsum(products.astype(acc_dt), dtype=acc_dt).astype(np.float64)
    fp32 = np.cumsum(products, dtype=np.float32).astype(np.float64)
    exact = np.cumsum(products.astype(np.float64))
    magnitude = np.cumsum(np.abs(products.astype(np.float64)))
    lengths = 2 ** np.arange(int(math.log2(n)) + 1)
    i = lengths - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(magnitude[i] > 0, np.abs(running[i] - exact[i]) / magnitude[i], 0.0)
        rel32 = np.where(magnitude[i] > 0, np.abs(fp32[i] - exact[i]) / magnitude[i], 0.0)
    u = 2.0 ** -(FORMATS[accumulator].mantissa_bits + 1)
    return DotGrowth(fmt, accumulator, lengths, rel, rel32, np.sqrt(lengths) * u, u)
