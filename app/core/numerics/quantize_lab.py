"""The quantization and arithmetic labs as payloads: one query in, one report out.

`quantize_report` runs a scheme on a tensor and gathers everything the /quantize page draws
(metrics, histograms on shared edges, code usage, the element grid, block detail, every preset
on the same data); `catalogue` lists every name the labs accept, with what it means, so a page
builds its controls from it and writes none of them itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from app.core.limits import limit
from app.core.numerics.arithmetic import (
    ACCUMULATORS,
    DOT_FORMATS,
    Accumulation,
    DotGrowth,
    accumulate,
    dot_growth,
)
from app.core.numerics.attention import UNQUANTIZED
from app.core.numerics.quantize import (
    ELEMENT_FORMATS,
    KIND_NOTES,
    PRESETS,
    SCALE_FORMAT_NOTES,
    SCALE_RULE_NOTES,
    Element,
    Scheme,
    element,
    quantize,
)
from app.core.numerics.quantize_query import (
    DATA_FIELDS,
    AccumulateQuery,
    DotQuery,
    QuantizeOptions,
    QuantizeQuery,
    matrix_shape,
    resolve_options,
    used_options,
)
from app.core.numerics.quantize_report import (
    DETAIL_BLOCKS,
    HIST_RANGE_NOTES,
    SCALE_BITS,
    BlockDetail,
    CodeUsage,
    Histograms,
    Metrics,
    PresetRow,
    block_detail,
    block_grid,
    code_table,
    compare_presets,
    grid_values,
    histograms,
    metrics,
    nominal_bits,
)
from app.core.numerics.tensors import (
    DISTRIBUTION_NOTES,
    DISTRIBUTION_PARAMS,
    TENSOR_DISTRIBUTIONS,
    generate,
)
from app.core.params import effective

OPTIONS: Final = (
    "format",
    "block_size",
    "block_rows",
    "scale_format",
    "scale_rule",
    "global_scale",
)


@dataclass(frozen=True)
class SchemeInfo:
    """The scheme as resolved: a preset's values, or the generic kind with its options."""

    name: str
    title: str
    source: str
    kind: str
    format: str
    element: Element
    block_size: int | None
    block_rows: int | None
    scale_format: str | None
    scale_rule: str | None
    global_scale: bool
    global_scale_value: float | None  # NVFP4's FP32 tensor scale for this tensor
    modified: list[str]  # preset options this query overrides (empty for a plain preset)


@dataclass(frozen=True)
class DataInfo:
    source: str  # "generated" (GET) or "posted" (POST values)
    n: int
    rows: int
    cols: int


@dataclass(frozen=True)
class QuantizeReport:
    query: dict[str, Any]
    data: DataInfo
    scheme: SchemeInfo
    metrics: Metrics
    histograms: Histograms
    code_usage: CodeUsage
    grid: list[float]
    grid_in_block: list[float]  # values `block` can store, inside the value histogram's range
    block_grid: tuple[int, int]
    block_count: int
    blocks: list[BlockDetail]
    block: BlockDetail
    presets: list[PresetRow]


def _scheme_info(scheme: Scheme, global_value: float | None) -> SchemeInfo:
    preset = PRESETS.get(scheme.name)
    used = used_options(scheme)
    return SchemeInfo(
        name=scheme.name,
        title=scheme.title or f"{scheme.kind} scaling, {scheme.format} elements",
        source=scheme.source,
        kind=scheme.kind,
        element=element(scheme.format),
        **{**used, "global_scale": scheme.global_scale},
        global_scale_value=global_value,
        modified=[k for k in OPTIONS if preset and getattr(scheme, k) != getattr(preset, k)],
    )


def quantize_report(
    options: QuantizeOptions, values: npt.NDArray[np.float32], source: str = "posted"
) -> QuantizeReport:
    """Quantize `values` (reshaped by `options.cols`) and report everything about it."""
    resolved, scheme = resolve_options(options)
    rows, cols = matrix_shape(options, int(values.size))
    x = np.asarray(values, dtype=np.float32).reshape(rows, cols)
    q = quantize(x, scheme)
    hists = histograms(x, q, options.bins, options.hist_range)
    grid_rows, grid_cols = q.groups.grid
    count = grid_rows * grid_cols
    chosen = block_detail(x, q, options.block)  # a 422 naming `block` when out of range
    query = effective(resolved)
    if source == "posted":
        query = {k: v for k, v in query.items() if k not in DATA_FIELDS}
    return QuantizeReport(
        query=query,
        data=DataInfo(source, int(x.size), rows, cols),
        scheme=_scheme_info(scheme, q.scales.global_scale),
        metrics=metrics(x, q),
        histograms=hists,
        code_usage=code_table(q),
        grid=grid_values(q),
        grid_in_block=block_grid(
            q, chosen.index, float(hists.input.edges[0]), float(hists.input.edges[-1])
        ),
        block_grid=(grid_rows, grid_cols),
        block_count=count,
        blocks=[
            chosen if i == chosen.index else block_detail(x, q, i)
            for i in range(min(DETAIL_BLOCKS, count))
        ],
        block=chosen,
        presets=compare_presets(x, cols),
    )


def generated(query: QuantizeQuery) -> npt.NDArray[np.float32]:
    """The seeded tensor a GET describes."""
    return generate(
        query.distribution,
        query.n,
        query.seed,
        df=query.df,
        outlier_fraction=query.outlier_fraction,
        outlier_scale=query.outlier_scale,
    )


def run_quantize(query: QuantizeQuery) -> QuantizeReport:
    """GET /api/v1/quantize: generate the tensor, then `quantize_report`."""
    report = quantize_report(query, generated(query), source="generated")
    data = {k: getattr(query, k) for k in DATA_FIELDS}
    return dataclasses.replace(report, query={**report.query, **data})


def run_accumulate(query: AccumulateQuery) -> dict[str, Any]:
    acc: Accumulation = accumulate(
        query.format, query.accumulator, query.n, query.distribution, query.seed, mean=query.mean
    )
    echo = {**effective(query), "format": acc.format, "accumulator": acc.accumulator}
    return {"query": echo, **{f.name: getattr(acc, f.name) for f in dataclasses.fields(acc)}}


def run_dot(query: DotQuery) -> dict[str, Any]:
    dot: DotGrowth = dot_growth(
        query.format, query.accumulator, query.n, query.distribution, query.seed
    )
    echo = {**effective(query), "format": dot.format, "accumulator": dot.accumulator}
    return {"query": echo, **{f.name: getattr(dot, f.name) for f in dataclasses.fields(dot)}}


def catalogue() -> dict[str, Any]:
    """Every name the quantization and arithmetic labs accept, with what it means."""
    presets = [
        {
            **{k: getattr(s, k) for k in ("name", "title", "source", "kind", *OPTIONS)},
            "bits_per_element": nominal_bits(s),
        }
        for s in PRESETS.values()
    ]
    elements = [
        {k: getattr(element(n), k) for k in ("name", "title", "bits", "max", "integer")}
        for n in ELEMENT_FORMATS
    ]
    return {
        "presets": presets,
        "kinds": [{"name": k, "description": d} for k, d in KIND_NOTES.items()],
        "element_formats": elements,
        "scale_formats": [
            {"name": k, "bits": SCALE_BITS[k], "description": d}
            for k, d in SCALE_FORMAT_NOTES.items()
        ],
        "scale_rules": [{"name": k, "description": d} for k, d in SCALE_RULE_NOTES.items()],
        "hist_ranges": [{"name": k, "description": d} for k, d in HIST_RANGE_NOTES.items()],
        "distributions": [
            {
                "name": k,
                "description": d,
                "tensor": k in TENSOR_DISTRIBUTIONS,
                "params": list(DISTRIBUTION_PARAMS.get(k, ())),
            }
            for k, d in DISTRIBUTION_NOTES.items()
        ],
        "accumulators": list(ACCUMULATORS),
        "dot_formats": list(DOT_FORMATS),
        "attention_formats": [*ELEMENT_FORMATS, UNQUANTIZED],
        "limits": {
            k: limit(k)
            for k in (
                "quantize_values",
                "quantize_posted_values",
                "quantize_bins",
                "quantize_block_elements",
                "accumulate_terms",
            )
        },
    }
