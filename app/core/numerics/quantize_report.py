"""What a quantization costs: error metrics, histograms, code usage and block detail.

Definitions (docs/sources.md, "Block scaling"):
- `mse` = mean((x − q(x))²); `sqnr_db` = 10·log10(Σx² / Σ(x − q(x))²) ("inf" when exact);
  `max_abs_error` = max |x − q(x)|.
- `clipped_fraction`: elements that saturation to the element max changed: |x / scale| past
  the midpoint above max, which rounding alone would have carried beyond it (under the OCP
  rule a block's maximum can do that). A value a hair over max that rounds to max anyway, as an
  FP32 scale's rounding makes a tensor's amax do, is not clipped.
- `zero_fraction`: non-zero inputs that came back as zero (flushed by the scale).
- `bits_per_element`: element bits + scale bits per group, for a full group (the figure the
  formats are quoted with: MXFP4 4.25, NVFP4 4.5, MXFP8 8.25); `bits_per_element_total`
  amortises every stored scale of this tensor, NVFP4's FP32 tensor scale included.
Only finite inputs enter the metrics; `non_finite` counts the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.formats import value_table
from app.core.numerics.quantize import (
    PRESETS,
    Quantized,
    Scheme,
    block_values,
    element,
    element_values,
    quantize,
)

F64 = npt.NDArray[np.float64]
SCALE_BITS: Final = {"float32": 32, "float8_e8m0fnu": 8, "float8_e4m3fn": 8}
DETAIL_BLOCKS: Final = 8  # blocks described in full by default


@dataclass(frozen=True)
class Metrics:
    mse: float
    sqnr_db: float
    max_abs_error: float
    clipped_fraction: float
    zero_fraction: float
    bits_per_element: float
    bits_per_element_total: float
    non_finite: int


@dataclass(frozen=True)
class Histogram:
    """Counts on bin edges (len(edges) = len(counts) + 1); `below` / `above` count the values
    outside the edges (only a central range leaves any out)."""

    edges: F64
    counts: npt.NDArray[np.int64]
    below: int = 0
    above: int = 0


HistRange = Literal["auto", "full", "central"]
HIST_RANGE_NOTES: Final = {
    "auto": "central when the full range is over 2.5× the central one (a few outliers would "
    "squeeze every other value into one bin), else full.",
    "full": "from the smallest to the largest value.",
    "central": "the central 99.8% of the values (0.1% and 99.9% quantiles); the rest are "
    "counted as below and above.",
}
CENTRAL: Final = (0.001, 0.999)  # quantiles bounding the central range
SQUEEZE: Final = 2.5  # auto: central once the full range is this many times wider


@dataclass(frozen=True)
class BlockDetail:
    """One scaling group; the per-element lists hold its first `listed` elements (row-major)."""

    index: int  # row-major index of the scaling group
    row: int
    col: int
    size: int  # real elements (a short last block has fewer)
    listed: int  # elements in the lists below: min(size, the quantize_block_elements limit)
    amax: float
    scale_code: int
    scale_bits: str
    scale_exponent: int | None  # k of a power-of-two (E8M0) scale 2^k
    scale: float  # the stored scale
    multiplier: float  # what each element is multiplied by (× the global scale for NVFP4)
    max_value: float  # the largest value the block can store: element max × multiplier
    clipped: int
    codes: list[int]
    code_bits: list[str]
    elements: list[float]  # element values before scaling
    inputs: list[float]
    dequantized: list[float]
    errors: list[float]  # input − dequantized
    clipped_flags: list[bool]


def nominal_bits(scheme: Scheme) -> float:
    """Element bits plus one scale per full block: MXFP4 4 + 8/32 = 4.25, NVFP4 4 + 8/16 = 4.5.

    Schemes without blocks count the element bits only (their scales depend on the shape).
    """
    elem_bits = element(scheme.format).bits
    if scheme.kind != "block":
        return float(elem_bits)
    return elem_bits + SCALE_BITS[scheme.scale_format] / (scheme.block_rows * scheme.block_size)


def bits_per_element(q: Quantized, n: int) -> tuple[float, float]:
    """(nominal per full group, total over this tensor)."""
    elem_bits = q.element.bits
    if q.scheme.kind == "none":
        return float(elem_bits), float(elem_bits)
    scale_bits = SCALE_BITS[q.scheme.scale_format]
    full = q.groups.rows_per * q.groups.cols_per
    groups = int(np.prod(q.groups.grid))
    total = elem_bits + (groups * scale_bits + (32 if q.scales.global_scale else 0)) / max(n, 1)
    return elem_bits + scale_bits / full, total


def _finite_pairs(x: npt.NDArray[np.float32], q: Quantized) -> tuple[F64, F64, npt.NDArray[Any]]:
    """(inputs, dequantized) as float64 over the finite inputs, and the mask (or a full slice)."""
    xs = np.asarray(x, dtype=np.float64).reshape(q.dequantized.shape)
    deq = q.dequantized.astype(np.float64)
    finite = np.isfinite(xs)
    if finite.all():  # the usual case: no boolean gather, no copies
        return xs.ravel(), deq.ravel(), np.ones(xs.size, dtype=np.bool_)
    return xs[finite], deq[finite], finite.ravel()


def metrics(x: npt.NDArray[np.float32], q: Quantized) -> Metrics:
    xf, dq, finite = _finite_pairs(x, q)
    err = xf - dq
    n = int(xf.size)
    sq = float(np.dot(err, err))
    signal = float(np.dot(xf, xf))
    if sq == 0:
        sqnr = math.inf
    elif signal == 0:
        sqnr = -math.inf
    else:
        sqnr = 10 * math.log10(signal / sq)
    flushed = np.count_nonzero((xf != 0) & (dq == 0))
    clipped = np.count_nonzero(q.clipped.ravel()[finite]) if n < finite.size else q.clipped.sum()
    nominal, total = bits_per_element(q, int(finite.size))
    return Metrics(
        mse=sq / n if n else 0.0,
        sqnr_db=sqnr,
        max_abs_error=float(np.abs(err).max()) if n else 0.0,
        clipped_fraction=int(clipped) / n if n else 0.0,
        zero_fraction=int(flushed) / n if n else 0.0,
        bits_per_element=nominal,
        bits_per_element_total=total,
        non_finite=int(finite.size - n),
    )


def uniform_counts(x: F64, edges: F64) -> npt.NDArray[np.int64]:
    """``np.histogram(x, edges)[0]`` for evenly spaced `edges`, with every x inside them.

    Bin i holds edges[i] <= x < edges[i + 1], the last bin also its right edge, exactly as
    numpy does; the bin is computed by arithmetic (then moved by at most one where rounding put
    it across an edge) instead of numpy's binary search over the edges, 5-10x faster.
    """
    bins = edges.size - 1
    idx = ((x - edges[0]) * (bins / (edges[-1] - edges[0]))).astype(np.intp)
    np.clip(idx, 0, bins - 1, out=idx)
    idx -= x < edges[idx]
    idx += (x >= edges[idx + 1]) & (idx < bins - 1)
    return np.bincount(idx, minlength=bins).astype(np.int64)


def _span(values: F64, how: HistRange) -> tuple[float, float, str]:
    """(lo, hi, range used) of `values` under `how` (see HIST_RANGE_NOTES)."""
    lo, hi = float(values.min()), float(values.max())
    if how != "full" and values.size > 1:
        c_lo, c_hi = (float(v) for v in np.quantile(values, CENTRAL))
        if c_hi > c_lo and (how == "central" or hi - lo > SQUEEZE * (c_hi - c_lo)):
            return c_lo, c_hi, "central"
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi, "full"


def _counted(values: F64, edges: F64) -> Histogram:
    inside = (values >= edges[0]) & (values <= edges[-1])
    counts = uniform_counts(values if inside.all() else values[inside], edges)
    return Histogram(
        edges,
        counts,
        int(np.count_nonzero(values < edges[0])),
        int(np.count_nonzero(values > edges[-1])),
    )


@dataclass(frozen=True)
class Histograms:
    input: Histogram
    dequantized: Histogram  # on the input's edges
    error: Histogram  # on symmetric edges of its own
    range: str  # the range used for the values: "full" or "central"
    error_range: str


def histograms(
    x: npt.NDArray[np.float32], q: Quantized, bins: int, how: HistRange = "full"
) -> Histograms:
    """Input and dequantized values on shared edges; the error on its own symmetric edges.

    `how` picks the range the bins cover (HIST_RANGE_NOTES); the error's range follows the
    same rule on |error|.
    """
    xs, deq, _ = _finite_pairs(x, q)
    ok = np.isfinite(deq)
    if not ok.all():
        xs, deq = xs[ok], deq[ok]
    if xs.size == 0:
        edges = np.linspace(-1.0, 1.0, bins + 1)
        zero = Histogram(edges, np.zeros(bins, dtype=np.int64))
        return Histograms(zero, zero, zero, "full", "full")
    lo, hi, used = _span(xs, how)
    if used == "full":  # the dequantized values may reach past the inputs (a scale rounded up)
        lo, hi = min(lo, float(deq.min())), max(hi, float(deq.max()))
    edges = np.linspace(lo, hi, bins + 1)
    err = xs - deq
    _, e, err_used = _span(np.abs(err), how)
    e = e or 1.0
    err_edges = np.linspace(-e, e, bins + 1)
    return Histograms(
        _counted(xs, edges), _counted(deq, edges), _counted(err, err_edges), used, err_used
    )


@dataclass(frozen=True)
class CodeUsage:
    """How many elements use each code, with the code's element value (before scaling).

    Every code is listed for elements of at most 8 bits (`complete`); for 16-bit elements only
    the codes in use.
    """

    codes: npt.NDArray[np.int64]
    values: npt.NDArray[np.float32]
    counts: npt.NDArray[np.int64]
    complete: bool


def code_usage(q: Quantized) -> npt.NDArray[np.int64]:
    """How many elements use each element code (index = code)."""
    return np.bincount(q.codes.ravel(), minlength=1 << q.element.bits).astype(np.int64)


def code_table(q: Quantized) -> CodeUsage:
    """`code_usage` with each code's element value (the codes in use only, past 8 bits)."""
    counts = code_usage(q)
    codes = np.arange(counts.size, dtype=np.int64)
    complete = q.element.bits <= 8
    if not complete:
        codes = codes[counts > 0]
        counts = counts[codes]
    return CodeUsage(codes, element_values(codes, q.element), counts, complete)


def _scale_bits(code: int, fmt: str) -> str:
    return format(code, f"0{SCALE_BITS[fmt]}b")


def block_detail(
    x: npt.NDArray[np.float32], q: Quantized, index: int, max_elements: int | None = None
) -> BlockDetail:
    """Everything about one scaling group (row-major index over the group grid).

    Per-element lists stop after `max_elements` (default: the quantize_block_elements limit),
    so a per-tensor "block" of a million values is described by its first elements.
    """
    gr, gc = q.groups.grid
    if not 0 <= index < gr * gc:
        raise InvalidInput("block", f"block {index} is outside 0..{gr * gc - 1}")
    r, c = divmod(index, gc)
    g = q.groups
    rows = slice(r * g.rows_per, min((r + 1) * g.rows_per, g.rows))
    cols = slice(c * g.cols_per, min((c + 1) * g.cols_per, g.cols))
    size = (rows.stop - rows.start) * (cols.stop - cols.start)
    listed = min(
        size, max_elements if max_elements is not None else limit("quantize_block_elements")
    )
    head = slice(0, listed)
    xs = np.asarray(x, dtype=np.float32).reshape(q.dequantized.shape)[rows, cols].ravel()[head]
    codes = q.codes[rows, cols].ravel()[head].astype(np.int64)
    deq = q.dequantized[rows, cols].ravel()[head]
    flags = q.clipped[rows, cols].ravel()[head]
    fmt = q.scheme.scale_format
    scaled = q.scheme.kind != "none"
    code = int(q.scales.code[r, c])
    return BlockDetail(
        index=index,
        row=r,
        col=c,
        size=size,
        listed=listed,
        amax=float(q.scales.amax[r, c]),
        scale_code=code,
        scale_bits=_scale_bits(code, fmt) if scaled else "",
        scale_exponent=code - 127 if scaled and fmt == "float8_e8m0fnu" else None,
        scale=float(q.scales.stored[r, c]),
        multiplier=float(q.scales.value[r, c]),
        max_value=float(block_values([q.element.max], q.scales, r, c)[0]),
        clipped=int(q.clipped[rows, cols].sum()),
        codes=codes.tolist(),
        code_bits=[format(k, f"0{q.element.bits}b") for k in codes.tolist()],
        elements=element_values(codes, q.element).astype(np.float64).tolist(),
        inputs=xs.astype(np.float64).tolist(),
        dequantized=deq.astype(np.float64).tolist(),
        errors=(xs.astype(np.float64) - deq.astype(np.float64)).tolist(),
        clipped_flags=flags.tolist(),
    )


def grid_values(q: Quantized) -> list[float]:
    """The non-negative element grid (before scaling), for drawing the representable values."""
    if q.element.integer:
        return [k * q.element.step for k in range(q.element.qmax + 1)]
    table = value_table(q.element.name)
    return sorted({float(v) for v in table.magnitudes.tolist()})


def block_grid(q: Quantized, index: int, lo: float, hi: float) -> list[float]:
    """Every value block `index` can store that lies in [lo, hi], ascending (both signs)."""
    _, gc = q.groups.grid
    r, c = divmod(index, gc)
    grid = np.asarray(grid_values(q), dtype=np.float32)
    values = block_values(np.concatenate([-grid[:0:-1], grid]), q.scales, r, c)  # one zero
    inside = values[(values >= lo) & (values <= hi)].astype(np.float64)
    return sorted(set(inside.tolist()))


@dataclass(frozen=True)
class PresetRow:
    scheme: str
    title: str
    metrics: Metrics


def compare_presets(x: npt.NDArray[np.float32], cols: int) -> list[PresetRow]:
    """Every named preset on the same tensor, in the order of `PRESETS`."""
    rows = []
    mat = x.reshape(-1, cols)
    for scheme in PRESETS.values():
        s = scheme if scheme.block_rows <= mat.shape[0] else replace(scheme, block_rows=1)
        rows.append(PresetRow(s.name, s.title, metrics(mat, quantize(mat, s))))
    return rows
