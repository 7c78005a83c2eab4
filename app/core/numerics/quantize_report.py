"""What a quantization costs: error metrics, histograms, code usage and block detail.

Definitions (docs/sources.md, "Block scaling"):
- `mse` = mean((x − q(x))²); `sqnr_db` = 10·log10(Σx² / Σ(x − q(x))²) ("inf" when exact);
  `max_abs_error` = max |x − q(x)|.
- `clipped_fraction`: elements whose scaled value |x / scale| lay past the element max, so
  they were saturated (under the OCP rule a block's maximum can do that).
- `zero_fraction`: non-zero inputs that came back as zero (flushed by the scale).
- `bits_per_element`: element bits + scale bits per group, for a full group (the figure the
  formats are quoted with: MXFP4 4.25, NVFP4 4.5, MXFP8 8.25); `bits_per_element_total`
  amortises every stored scale of this tensor, NVFP4's FP32 tensor scale included.
Only finite inputs enter the metrics; `non_finite` counts the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.numerics.formats import value_table
from app.core.numerics.quantize import PRESETS, Quantized, quantize

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
    """Counts on shared bin edges (len(edges) = len(counts) + 1)."""

    edges: F64
    counts: npt.NDArray[np.int64]


@dataclass(frozen=True)
class BlockDetail:
    index: int  # row-major index of the scaling group
    row: int
    col: int
    size: int  # real elements (a short last block has fewer)
    amax: float
    scale_code: int
    scale_bits: str
    scale: float  # the stored scale
    multiplier: float  # what each element is multiplied by (× the global scale for NVFP4)
    clipped: int
    codes: list[int]
    elements: list[float]  # element values before scaling
    inputs: list[float]
    dequantized: list[float]


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


def metrics(x: npt.NDArray[np.float32], q: Quantized) -> Metrics:
    xs = np.asarray(x, dtype=np.float64).reshape(q.dequantized.shape)
    finite = np.isfinite(xs)
    xf = xs[finite]
    err = xf - q.dequantized.astype(np.float64)[finite]
    n = int(xf.size)
    sq = float(np.dot(err, err))
    signal = float(np.dot(xf, xf))
    if sq == 0:
        sqnr = math.inf
    elif signal == 0:
        sqnr = -math.inf
    else:
        sqnr = 10 * math.log10(signal / sq)
    flushed = (xf != 0) & (q.dequantized[finite] == 0)
    nominal, total = bits_per_element(q, int(xs.size))
    return Metrics(
        mse=sq / n if n else 0.0,
        sqnr_db=sqnr,
        max_abs_error=float(np.abs(err).max()) if n else 0.0,
        clipped_fraction=float(q.clipped[finite].mean()) if n else 0.0,
        zero_fraction=float(flushed.mean()) if n else 0.0,
        bits_per_element=nominal,
        bits_per_element_total=total,
        non_finite=int(xs.size - n),
    )


def histograms(
    x: npt.NDArray[np.float32], q: Quantized, bins: int
) -> tuple[Histogram, Histogram, Histogram]:
    """Input and dequantized values on shared edges; the error on its own symmetric edges."""
    xs = np.asarray(x, dtype=np.float64).ravel()
    deq = q.dequantized.astype(np.float64).ravel()
    ok = np.isfinite(xs) & np.isfinite(deq)
    xs, deq = xs[ok], deq[ok]
    if xs.size == 0:
        edges = np.linspace(-1.0, 1.0, bins + 1)
        zero = np.zeros(bins, dtype=np.int64)
        return Histogram(edges, zero), Histogram(edges, zero), Histogram(edges, zero)
    lo, hi = float(min(xs.min(), deq.min())), float(max(xs.max(), deq.max()))
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    err = xs - deq
    e = float(np.abs(err).max()) or 1.0
    err_edges = np.linspace(-e, e, bins + 1)
    return (
        Histogram(edges, np.histogram(xs, edges)[0]),
        Histogram(edges, np.histogram(deq, edges)[0]),
        Histogram(err_edges, np.histogram(err, err_edges)[0]),
    )


def code_usage(q: Quantized) -> npt.NDArray[np.int64]:
    """How many elements use each element code (index = code)."""
    return np.bincount(q.codes.ravel(), minlength=1 << q.element.bits).astype(np.int64)


def _scale_bits(code: int, fmt: str) -> str:
    return format(code, f"0{SCALE_BITS[fmt]}b")


def block_detail(x: npt.NDArray[np.float32], q: Quantized, index: int) -> BlockDetail:
    """Everything about one scaling group (row-major index over the group grid)."""
    gr, gc = q.groups.grid
    if not 0 <= index < gr * gc:
        raise InvalidInput("block", f"block {index} is outside 0..{gr * gc - 1}")
    r, c = divmod(index, gc)
    g = q.groups
    rows = slice(r * g.rows_per, min((r + 1) * g.rows_per, g.rows))
    cols = slice(c * g.cols_per, min((c + 1) * g.cols_per, g.cols))
    xs = np.asarray(x, dtype=np.float32).reshape(q.dequantized.shape)[rows, cols].ravel()
    codes = q.codes[rows, cols].ravel()
    deq = q.dequantized[rows, cols].ravel()
    mult = float(q.scales.value[r, c])
    fmt = q.scheme.scale_format
    return BlockDetail(
        index=index,
        row=r,
        col=c,
        size=int(xs.size),
        amax=float(q.scales.amax[r, c]),
        scale_code=int(q.scales.code[r, c]),
        scale_bits=_scale_bits(int(q.scales.code[r, c]), fmt) if q.scheme.kind != "none" else "",
        scale=float(q.scales.stored[r, c]),
        multiplier=mult,
        clipped=int(q.clipped[rows, cols].sum()),
        codes=codes.tolist(),
        elements=(deq.astype(np.float64) / mult if mult else deq * 0).tolist(),
        inputs=xs.astype(np.float64).tolist(),
        dequantized=deq.astype(np.float64).tolist(),
    )


def grid_values(q: Quantized) -> list[float]:
    """The non-negative element grid (before scaling), for drawing the representable values."""
    if q.element.integer:
        return [k * q.element.step for k in range(q.element.qmax + 1)]
    table = value_table(q.element.name)
    return sorted({float(v) for v in table.magnitudes.tolist()})


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
