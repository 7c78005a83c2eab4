"""Read what nccl-tests printed, and fit the two numbers the cost model runs on.

`all_reduce_perf`, `all_gather_perf`, `reduce_scatter_perf`, `alltoall_perf` and
`broadcast_perf` print one row per message size:

    #       size         count      type   redop    root     time   algbw   busbw #wrong ...
           1048576        262144     float     sum      -1    31.20   33.61   58.81      0 ...

with the out-of-place (time, algbw, busbw, #wrong) columns and then the in-place ones; older
versions drop `root` or `redop`, and MPI launchers prefix lines with ``[0]``. The parser reads
the last eight fields of each row, so it takes any of these.

The fit is Hockney's (r∞, n½) model, the one the alpha-beta cost reduces to: a collective of
S bytes takes t = a + b·S, so busbw = factor·S/t rises to B = factor/b and reaches half of it
at n½ = a/b. Minimising the relative error of t (weights 1/t) keeps both small and large
messages in view. The per-step latency is a divided by the steps of the algorithm
`app.core.parallel.collectives` uses for this op and rank count, so the fitted figures go
straight back into /collectives and /communication as `bandwidth` and `latency`.

For example the 2-node table of nccl-tests issue #232 (2 MiB: 113 µs ... 32 MiB: 812 µs)
fits B = 47 GB/s, n½ = 3.1 MB.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.names import Registry
from app.core.parallel.collective_algorithms import (
    OPS,
    default_algorithm,
    phase_table,
    resolve_links,
)
from app.core.parallel.collective_cost import FloatArray, Placement
from app.core.parallel.network import calibration
from app.core.parallel.presets import get_gpu

_PERF = re.compile(
    r"\b(all_reduce|all_gather|reduce_scatter|alltoall|broadcast)_perf\b", re.IGNORECASE
)
_OP_OF_BINARY = {
    "all_reduce": "all_reduce",
    "all_gather": "all_gather",
    "reduce_scatter": "reduce_scatter",
    "alltoall": "all_to_all",
    "broadcast": "broadcast",
}
_LAUNCHER_PREFIX = re.compile(r"\[\d+(?:,\d+)?\](?:<std(?:out|err)>:)?")
_RANK_LINE = re.compile(r"^#\s*Rank\s+(\d+)\b")
_INT = re.compile(r"^\d+$")
FITTABLE = Registry(
    "nccl-tests collective", list(_OP_OF_BINARY.values()), {"alltoall": "all_to_all"}
)


@dataclass(frozen=True)
class NcclRows:
    sizes: FloatArray
    times: FloatArray
    """Seconds (the table prints µs)."""
    algbw: FloatArray
    """Bytes/s (the table prints GB/s)."""
    busbw: FloatArray


@dataclass(frozen=True)
class HockneyFit:
    bus_bandwidth: float
    half_bandwidth_bytes: float
    overhead: float
    """a: seconds at zero size."""
    rms_relative_error: float
    points: int


@dataclass(frozen=True)
class NcclTestsResult:
    op: str
    ranks: int
    ranks_from: str
    bus_factor: float
    columns: str
    rows: NcclRows
    fit: HockneyFit
    latency: float
    steps: int
    model_bus_bandwidth: FloatArray
    gpu: str
    calibrated_query: str
    warnings: tuple[str, ...]

    def payload(self) -> dict[str, Any]:
        """The JSON body of POST /api/v1/collectives/nccl-tests."""
        r, f = self.rows, self.fit
        fitted = (
            self.bus_factor * r.sizes / (f.overhead + self.bus_factor * r.sizes / f.bus_bandwidth)
        )
        return {
            "op": self.op,
            "ranks": self.ranks,
            "ranks_from": self.ranks_from,
            "bus_factor": self.bus_factor,
            "columns": self.columns,
            "rows": [
                {
                    "bytes": int(s),
                    "time": t,
                    "algorithm_bandwidth": a,
                    "bus_bandwidth": b,
                    "fitted_bus_bandwidth": fb,
                }
                for s, t, a, b, fb in zip(
                    r.sizes.tolist(),
                    r.times.tolist(),
                    r.algbw.tolist(),
                    r.busbw.tolist(),
                    fitted.tolist(),
                    strict=True,
                )
            ],
            "fit": {
                "bus_bandwidth": f.bus_bandwidth,
                "half_bandwidth_bytes": f.half_bandwidth_bytes,
                "latency": self.latency,
                "overhead": f.overhead,
                "rms_relative_error": f.rms_relative_error,
                "points": f.points,
            },
            "model": {"gpu": self.gpu, "bus_bandwidth": self.model_bus_bandwidth},
            "calibrated_query": self.calibrated_query,
            "warnings": list(self.warnings),
        }


def _number(token: str) -> float | None:
    try:
        x = float(token)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def parse_rows(text: str, in_place: bool = False) -> NcclRows:
    """The (size, time, algbw, busbw) rows of an nccl-tests table, in the order printed."""
    sizes: list[float] = []
    cols: list[tuple[float, float, float]] = []
    for raw in text.splitlines():
        line = _LAUNCHER_PREFIX.sub(" ", raw).strip()
        if not line or line.startswith("#"):
            continue
        tok = line.split()
        if len(tok) < 11 or not (_INT.match(tok[0]) and _INT.match(tok[1])):
            continue
        group = tok[-4:-1] if in_place else tok[-8:-5]
        values = [_number(t) for t in group]
        if any(v is None for v in values):
            continue
        t_us, alg, bus = (float(v) for v in values)  # type: ignore[arg-type]
        if t_us <= 0 or int(tok[0]) <= 0:
            continue
        sizes.append(float(tok[0]))
        cols.append((t_us * 1e-6, alg * 1e9, bus * 1e9))
    if len(sizes) < 2:
        raise InvalidInput(
            "text",
            "found fewer than 2 rows of an nccl-tests table (size, count, type, ..., time, "
            "algbw, busbw, #wrong); paste the output of all_reduce_perf or its siblings",
        )
    arr = np.array(cols, dtype=np.float64)
    return NcclRows(np.array(sizes), arr[:, 0], arr[:, 1], arr[:, 2])


def detect_op(text: str) -> str | None:
    """The collective named in the log ('all_gather_perf', 'Collective test starting: ...')."""
    m = _PERF.search(text)
    return _OP_OF_BINARY[m.group(1).lower()] if m else None


def rank_lines(text: str) -> int | None:
    """Ranks listed under '# Using devices' ('#  Rank  3 Group 0 Pid ...'), if any."""
    ranks = set()
    for raw in text.splitlines():
        m = _RANK_LINE.match(_LAUNCHER_PREFIX.sub(" ", raw).strip())
        if m:
            ranks.add(int(m.group(1)))
    return len(ranks) if len(ranks) >= 2 else None


def ranks_from_factor(op: str, rows: NcclRows) -> int | None:
    """Invert nccl-tests' busbw factor on the largest row: 2(n−1)/n or (n−1)/n."""
    i = int(np.argmax(rows.sizes))
    if rows.algbw[i] <= 0:
        return None
    f = rows.busbw[i] / rows.algbw[i]
    if op == "all_reduce":
        n = 2 / (2 - f) if f < 2 else None
    elif op == "broadcast":
        return None
    else:
        n = 1 / (1 - f) if f < 1 else None
    if n is None or not 2 <= round(n) <= limit("mesh_ranks"):
        return None
    return round(n)


def fit_hockney(sizes: FloatArray, times: FloatArray, factor: float) -> HockneyFit:
    """Fit t = a + b·S minimising Σ((a + b·S)/t − 1)²; B = factor/b, n½ = a/b.

    For example times made by t = 20 µs + S / 100 GB/s give back B = 100 GB/s·factor and
    n½ = 2 MB exactly.
    """
    w = 1.0 / times
    design = np.stack([w, sizes * w], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, np.ones_like(times), rcond=None)
    if a < 0:  # noise below the latency floor: fit the slope alone
        a = 0.0
        b = float(np.sum(sizes * w) / np.sum((sizes * w) ** 2))
    if not b > 0:
        raise InvalidInput("text", "the times do not grow with the size; cannot fit a bandwidth")
    pred = a + b * sizes
    rms = float(np.sqrt(np.mean((pred / times - 1) ** 2)))
    return HockneyFit(factor / b, a / b, float(a), rms, int(sizes.size))


def _short(x: float) -> str:
    """Four significant digits, URL-safe: ``_short(4.4391e11) == "4.439e11"``."""
    return f"{x:.4g}".replace("e+", "e")


def _resolve_ranks(text: str, op: str, rows: NcclRows, ranks: int | None) -> tuple[int, str]:
    if ranks is not None:
        return ranks, "query"
    listed = rank_lines(text)
    if listed is not None:
        return listed, "rank lines"
    inferred = ranks_from_factor(op, rows)
    if inferred is not None:
        return inferred, "busbw/algbw ratio"
    raise InvalidInput("ranks", "cannot tell how many ranks ran the test; give ranks")


def fit_nccl_tests(
    text: str,
    op: str | None = None,
    ranks: int | None = None,
    gpu: str = "h100-sxm",
    in_place: bool = False,
) -> NcclTestsResult:
    """Parse a pasted table, fit B and n½, and say which query reproduces it."""
    if len(text.encode()) > limit("nccl_tests_text_bytes"):
        raise InvalidInput("text", f"at most {limit('nccl_tests_text_bytes'):,} bytes")
    detected = detect_op(text)
    name = FITTABLE.resolve(op, "op") if op is not None else detected or "all_reduce"
    warnings: list[str] = []
    if op is None and detected is None:
        warnings.append("The text does not name its test; read as all_reduce_perf.")
    elif op is not None and detected is not None and detected != name:
        warnings.append(f"The text names {detected}, but op={name} was given; using {name}.")
    rows = parse_rows(text, in_place)
    n, ranks_from = _resolve_ranks(text, name, rows, ranks)
    spec = OPS[name]
    factor = spec.bus_factor(n)
    printed = rows.busbw / np.where(rows.algbw > 0, rows.algbw, np.nan)
    if np.nanmax(np.abs(printed - factor)) > 0.02 * factor and rows.algbw.max() > 0.1e9:
        warnings.append(
            f"busbw/algbw in the table is not {spec.factor} = {factor:.3f} for n = {n}: another "
            "op, rank count, or NVLS's (n−1)/(n+1) factor; the fit uses the times."
        )
    fit = fit_hockney(rows.sizes, rows.times, factor)
    gpu_preset = get_gpu(gpu)
    cal = calibration(gpu_preset.name)
    place = Placement(n, min(n, cal.gpus_per_node))
    algorithm = default_algorithm(name, place)
    table = phase_table(name, algorithm, Placement(n, n), 0, n)
    latency = fit.overhead / table.steps
    links = resolve_links(
        cal,
        nvls=name == "all_reduce"
        and not place.spans_nodes
        and bool(cal.intra_node.nvls_bus_bandwidth),
    )
    model_table = phase_table(name, algorithm, place, 0, n)
    model = factor * rows.sizes / model_table.times(rows.sizes, links)
    b, a = _short(fit.bus_bandwidth), _short(latency)
    figures = f"bandwidth={b}&latency={a}"
    if place.spans_nodes:
        figures = f"network_bandwidth={b}&network_latency={a}"
        warnings.append(
            f"{n} ranks span nodes of {cal.gpus_per_node}: the fit is read as the network's "
            "figures (one flat ring over the NICs)."
        )
    query = f"op={name}&ranks={n}&gpu={gpu_preset.name}&{figures}"
    return NcclTestsResult(
        name,
        n,
        ranks_from,
        factor,
        "in_place" if in_place else "out_of_place",
        rows,
        fit,
        latency,
        table.steps,
        model,
        gpu_preset.name,
        query,
        tuple(warnings),
    )
