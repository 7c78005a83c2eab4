"""Request and response models of the quantization and arithmetic labs.

Query models come from the core's dataclasses (`query_model`); the POST body is the options
plus `values`. Non-finite floats travel as "nan", "inf", "-inf" (`Real`).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from app.core.limits import limit
from app.core.numerics.attention import AttentionQuery
from app.core.numerics.quantize_query import (
    AccumulateQuery,
    DotQuery,
    QuantizeOptions,
    QuantizeQuery,
)
from app.schemas.numerics import Real
from app.schemas.query import query_model

QuantizeParams = query_model(QuantizeQuery)
QuantizeOptionsParams = query_model(QuantizeOptions)
AccumulateParams = query_model(AccumulateQuery)
DotParams = query_model(DotQuery)

NON_FINITE: Final = ("nan", "inf", "-inf")


def _reals(values: Any) -> Any:
    """Numbers, or the contract's three strings (made floats here); one pass over the list.

    Anything else is refused with its index: a boolean, or another string (pydantic's lax
    float would read ``true`` as 1.0 and ``"1e3"`` as 1000).
    """
    if not isinstance(values, list):
        return values  # pydantic reports the wrong type
    out = values
    for i, v in enumerate(values):
        kind = type(v)
        if kind is float or kind is int:
            continue
        if kind is str and v in NON_FINITE:
            if out is values:
                out = list(values)
            out[i] = float(v)
            continue
        raise ValueError(
            f'item {i} is {v!r}: each value is a number or one of "nan", "inf", "-inf"'
        )
    return out


RealList = Annotated[
    list[float],
    BeforeValidator(_reals),
    WithJsonSchema(
        {"type": "array", "items": {"anyOf": [{"type": "number"}, {"enum": list(NON_FINITE)}]}}
    ),
]


class QuantizeBody(QuantizeOptionsParams):  # type: ignore[valid-type,misc]
    """The GET's options as JSON, strictly typed (no "32" for 32, no true for 1), plus values."""

    model_config = ConfigDict(extra="forbid", strict=True)

    values: RealList = Field(
        description='The tensor, row-major: numbers, or "nan", "inf", "-inf". At most '
        f"{limit('quantize_posted_values'):,} values (quantize_posted_values).",
        examples=[[0.1, -0.7, 3.3, 1.0, 5.9, "nan"]],
        min_length=1,
        max_length=limit("quantize_posted_values"),
    )


class ElementModel(BaseModel):
    name: str = Field(description="Element format.", examples=["float4_e2m1fn"])
    title: str = Field(description="What it is, in words.", examples=["float4_e2m1fn"])
    bits: int = Field(description="Bits per element.", examples=[4])
    max: float = Field(description="Largest element magnitude.", examples=[6.0])
    emax: int = Field(
        description="Exponent of its largest power of two (OCP emax_elem).", examples=[2]
    )
    integer: bool = Field(
        description="Symmetric integer grid (int8, int4, mxint8).", examples=[False]
    )
    qmax: int = Field(
        description="Integers: the largest code magnitude (0 for floats).", examples=[0]
    )
    step: float = Field(description="Integers: value of one step (mxint8: 2^-6).", examples=[1.0])


class SchemeModel(BaseModel):
    name: str = Field(description="Preset or generic scheme name.", examples=["mxfp4"])
    title: str = Field(description="Display name.", examples=["MXFP4 (E2M1)"])
    source: str = Field(description="Where the definition comes from.", examples=["OCP MX v1.0"])
    kind: str = Field(description="none, tensor, channel or block.", examples=["block"])
    format: str = Field(description="Element format.", examples=["float4_e2m1fn"])
    element: ElementModel = Field(description="The element grid.")
    block_size: int | None = Field(description="Elements per block along a row.", examples=[32])
    block_rows: int | None = Field(description="Rows per block.", examples=[1])
    scale_format: str | None = Field(
        description="Format of stored scales.", examples=["float8_e8m0fnu"]
    )
    scale_rule: str | None = Field(
        description="Rule of power-of-two scales.", examples=["ocp_floor"]
    )
    global_scale: bool = Field(
        description="An FP32 per-tensor scale sits above the blocks.", examples=[False]
    )
    global_scale_value: float | None = Field(
        description="That FP32 tensor scale for this tensor (NVFP4: amax / (6 · 448)).",
        examples=[None],
    )
    modified: list[str] = Field(
        description="Preset options this query overrides (empty for the preset as published).",
        examples=[[]],
    )


class DataModel(BaseModel):
    source: str = Field(description='"generated" (GET) or "posted" (POST).', examples=["generated"])
    n: int = Field(description="Values quantized.", examples=[16384])
    rows: int = Field(description="Rows of the matrix (n / cols).", examples=[1])
    cols: int = Field(description="Row length.", examples=[16384])


class MetricsModel(BaseModel):
    mse: float = Field(description="mean((x − q(x))²) over finite inputs.", examples=[0.0131])
    sqnr_db: Real = Field(
        description='10·log10(Σx² / Σ(x − q(x))²) in dB; "inf" when exact.', examples=[18.79]
    )
    max_abs_error: float = Field(description="max |x − q(x)|.", examples=[0.95])
    clipped_fraction: float = Field(
        description="Share of elements whose |x / scale| was past the element max.",
        examples=[0.022],
    )
    zero_fraction: float = Field(
        description="Share of non-zero inputs that came back as zero.", examples=[0.086]
    )
    bits_per_element: float = Field(
        description="Element bits + scale bits per full group (MXFP4 4.25, NVFP4 4.5).",
        examples=[4.25],
    )
    bits_per_element_total: float = Field(
        description="Every stored scale of this tensor amortised, NVFP4's FP32 scale included.",
        examples=[4.25],
    )
    non_finite: int = Field(description="Inputs that were NaN or ±Inf (left out).", examples=[0])


class HistogramModel(BaseModel):
    edges: list[float] = Field(description="bins + 1 bin edges.", examples=[[-4.0, -3.875]])
    counts: list[int] = Field(description="Values per bin.", examples=[[3]])
    below: int = Field(description="Values below the first edge (central range).", examples=[0])
    above: int = Field(description="Values above the last edge (central range).", examples=[0])


class HistogramsModel(BaseModel):
    input: HistogramModel = Field(description="The input values.")
    dequantized: HistogramModel = Field(description="q(x), on the input's edges.")
    error: HistogramModel = Field(description="x − q(x), on symmetric edges of its own.")
    range: str = Field(
        description='Range of the value bins: "full" or "central".', examples=["full"]
    )
    error_range: str = Field(
        description='Range of the error bins: "full" or "central".', examples=["central"]
    )


class CodeUsageModel(BaseModel):
    codes: list[int] = Field(description="Element codes.", examples=[[0, 1, 2]])
    values: list[Real] = Field(
        description="Each code's element value (before scaling).", examples=[[0.0, 0.5, 1.0]]
    )
    counts: list[int] = Field(
        description="Elements stored with that code.", examples=[[1405, 2300, 2712]]
    )
    complete: bool = Field(
        description="Every code listed (elements of at most 8 bits); else only the codes in use.",
        examples=[True],
    )


class BlockModel(BaseModel):
    index: int = Field(description="Scaling group, row-major over the group grid.", examples=[0])
    row: int = Field(description="Group row.", examples=[0])
    col: int = Field(description="Group column.", examples=[0])
    size: int = Field(
        description="Elements in the group (a short last block has fewer).", examples=[32]
    )
    listed: int = Field(
        description="Elements in the lists below (quantize_block_elements).", examples=[32]
    )
    amax: float = Field(description="Largest finite |x| of the group.", examples=[2.06])
    scale_code: int = Field(description="Code of the stored scale.", examples=[126])
    scale_bits: str = Field(
        description="That code in binary ('' without a scale).", examples=["01111110"]
    )
    scale_exponent: int | None = Field(
        description="k of a power-of-two (E8M0) scale 2^k: the shared exponent.", examples=[-1]
    )
    scale: float = Field(description="The stored scale's value.", examples=[0.5])
    multiplier: float = Field(
        description="What each element is multiplied by (NVFP4: block scale × tensor scale).",
        examples=[0.5],
    )
    max_value: float = Field(
        description="The largest value the block can store: element max × multiplier.",
        examples=[3.0],
    )
    clipped: int = Field(description="Elements saturated to the element max.", examples=[0])
    codes: list[int] = Field(description="Element codes.", examples=[[1, 9, 3]])
    code_bits: list[str] = Field(
        description="Element codes in binary.", examples=[["0001", "1001", "0011"]]
    )
    elements: list[Real] = Field(
        description="Element values before scaling.", examples=[[0.5, -0.5, 1.5]]
    )
    inputs: list[Real] = Field(description="The input values.", examples=[[0.13, -0.13, 0.64]])
    errors: list[Real] = Field(
        description="input − dequantized, per element.", examples=[[-0.12, 0.12, -0.11]]
    )
    dequantized: list[Real] = Field(
        description="element × multiplier.", examples=[[0.25, -0.25, 0.75]]
    )
    clipped_flags: list[bool] = Field(
        description="Which elements were saturated.", examples=[[False, False, False]]
    )


class PresetRowModel(BaseModel):
    scheme: str = Field(description="Preset name.", examples=["nvfp4"])
    title: str = Field(description="Display name.", examples=["NVFP4"])
    metrics: MetricsModel = Field(description="Its metrics on the same data.")


class QuantizeResponse(BaseModel):
    query: QuantizeParams = Field(  # type: ignore[valid-type]
        description="Every parameter used, preset options filled in (null: not used by the scheme)."
    )
    data: DataModel = Field(description="What was quantized.")
    scheme: SchemeModel = Field(description="The scheme as resolved.")
    metrics: MetricsModel = Field(description="What the quantization cost.")
    histograms: HistogramsModel = Field(description="Input, dequantized and error histograms.")
    code_usage: CodeUsageModel = Field(description="How often each element code is used.")
    grid: list[float] = Field(
        description="Non-negative element values (before scaling): the grid every block scales.",
        examples=[[0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]],
    )
    grid_in_block: list[float] = Field(
        description="Every value `block` can store inside the value histogram's range, "
        "ascending: the grid × the block's multiplier, rounded as dequantization rounds.",
        examples=[[-3.0, -2.0, -1.5, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5]],
    )
    block_grid: list[int] = Field(description="[group rows, group columns].", examples=[[1, 512]])
    block_count: int = Field(description="Scaling groups in the tensor.", examples=[512])
    blocks: list[BlockModel] = Field(description="The first groups (up to 8), in full.")
    block: BlockModel = Field(description="The group asked for with `block`.")
    presets: list[PresetRowModel] = Field(description="Every preset on the same data.")


class QuantizePostResponse(QuantizeResponse):
    query: QuantizeOptionsParams = Field(  # type: ignore[valid-type]
        description="Every option used, preset options filled in (the data was posted)."
    )


class NamedNote(BaseModel):
    name: str = Field(description="The name to pass.", examples=["ocp_floor"])
    description: str = Field(description="What it means.", examples=["OCP MX v1.0 rule."])


class ScaleFormatNote(NamedNote):
    bits: int = Field(description="Bits per stored scale.", examples=[8])


class DistributionNote(NamedNote):
    tensor: bool = Field(
        description="Offered by /quantize (false: sums only, e.g. ones).", examples=[True]
    )
    params: list[str] = Field(
        description="The generator parameters this shape reads.", examples=[["df"]]
    )


class PresetInfo(BaseModel):
    name: str = Field(description="Preset name (scheme=).", examples=["mxfp4"])
    title: str = Field(description="Display name.", examples=["MXFP4 (E2M1)"])
    source: str = Field(description="Specification or paper.", examples=["OCP MX v1.0"])
    kind: str = Field(description="Scheme kind.", examples=["block"])
    format: str = Field(description="Element format.", examples=["float4_e2m1fn"])
    block_size: int = Field(description="Elements per block along a row.", examples=[32])
    block_rows: int = Field(description="Rows per block.", examples=[1])
    scale_format: str = Field(description="Stored scale format.", examples=["float8_e8m0fnu"])
    scale_rule: str = Field(description="Power-of-two rule.", examples=["ocp_floor"])
    global_scale: bool = Field(description="FP32 tensor scale above the blocks.", examples=[False])
    bits_per_element: float = Field(
        description="Element + scale bits per element.", examples=[4.25]
    )


class ElementInfo(BaseModel):
    name: str = Field(description="Element format (format=).", examples=["float4_e2m1fn"])
    title: str = Field(description="Display name.", examples=["float4_e2m1fn"])
    bits: int = Field(description="Bits per element.", examples=[4])
    max: float = Field(description="Largest element magnitude.", examples=[6.0])
    integer: bool = Field(description="A symmetric integer grid.", examples=[False])


class SchemesResponse(BaseModel):
    presets: list[PresetInfo] = Field(description="Named schemes, exactly as published.")
    kinds: list[NamedNote] = Field(description="Generic schemes.")
    element_formats: list[ElementInfo] = Field(description="Every element format.")
    scale_formats: list[ScaleFormatNote] = Field(description="Formats a scale is stored in.")
    scale_rules: list[NamedNote] = Field(description="Rules for power-of-two scales.")
    hist_ranges: list[NamedNote] = Field(description="What the histogram bins may cover.")
    distributions: list[DistributionNote] = Field(description="Seeded data shapes.")
    accumulators: list[str] = Field(
        description="Formats a sum can be kept in (/accumulate format and accumulator).",
        examples=[["bfloat16", "float16"]],
    )
    dot_formats: list[str] = Field(
        description="Input formats of /accumulate/dot (products exact in float32).",
        examples=[["bfloat16", "float8_e4m3fn"]],
    )
    attention_formats: list[str] = Field(
        description="Formats of /attention's format and p_format (float32: left unquantized).",
        examples=[["float8_e4m3fn", "float32"]],
    )
    limits: dict[str, int] = Field(
        description="The limits these endpoints enforce (see /api/v1/limits).",
        examples=[{"quantize_values": 1048576}],
    )


class AccumulateResponse(BaseModel):
    query: AccumulateParams = Field(description="Every parameter used.")  # type: ignore[valid-type]
    format: str = Field(description="Format of the terms.", examples=["bfloat16"])
    accumulator: str = Field(description="Format of the running sum.", examples=["bfloat16"])
    n: int = Field(description="Terms summed.", examples=[1000])
    indices: list[int] = Field(
        description="Term indices of the points below (0-based; at most 2,000, both ends kept).",
        examples=[[0, 1, 2]],
    )
    partial_sums: list[Real] = Field(
        description="Running sum in the accumulator.", examples=[[1.0, 2.0, 3.0]]
    )
    fp32_sums: list[Real] = Field(
        description="The same terms in a float32 accumulator.", examples=[[1.0, 2.0, 3.0]]
    )
    exact_sums: list[Real] = Field(
        description="The same terms in float64.", examples=[[1.0, 2.0, 3.0]]
    )
    final: Real = Field(description="Sequential sum in the accumulator.", examples=[256.0])
    fp32_final: Real = Field(description="Sequential sum in float32.", examples=[1000.0])
    pairwise_final: Real = Field(
        description="Pairwise (tree) sum in the accumulator.", examples=[1000.0]
    )
    exact: Real = Field(
        description="The correctly rounded exact sum (math.fsum).", examples=[1000.0]
    )
    stalled_at: int | None = Field(
        description="First index whose non-zero term left the sum unchanged.", examples=[256]
    )
    stall_sum: Real | None = Field(
        description="The sum that term did not change.", examples=[256.0]
    )
    stall_term: Real | None = Field(description="That term.", examples=[1.0])
    stall_ulp: float | None = Field(
        description="The accumulator's spacing at stall_sum: terms below half of it vanish.",
        examples=[2.0],
    )
    unit_roundoff: float = Field(description="u = 2^-p of the accumulator.", examples=[0.00390625])
    relative_error: Real = Field(description="|final − exact| / |exact|.", examples=[0.744])


class DotResponse(BaseModel):
    query: DotParams = Field(description="Every parameter used.")  # type: ignore[valid-type]
    format: str = Field(description="Input format.", examples=["bfloat16"])
    accumulator: str = Field(description="Accumulator format.", examples=["bfloat16"])
    lengths: list[int] = Field(
        description="Dot-product lengths L (powers of two).", examples=[[1, 2, 4]]
    )
    relative_error: list[Real] = Field(
        description="|dot − exact| / Σ|a·b| at each length, in the accumulator.",
        examples=[[0.0, 0.001, 0.002]],
    )
    fp32_relative_error: list[Real] = Field(
        description="The same products in a float32 accumulator.", examples=[[0.0, 0.0, 1e-8]]
    )
    bound: list[float] = Field(
        description="√L · u: the probabilistic error bound (Higham & Mary 2019).",
        examples=[[0.0039, 0.0055, 0.0078]],
    )
    unit_roundoff: float = Field(description="u of the accumulator.", examples=[0.00390625])


AttentionParams = query_model(AttentionQuery)


class ErrorCurveModel(BaseModel):
    output_error: list[Real] = Field(
        description="‖O − O_ref‖_F / ‖O_ref‖_F at each length.", examples=[[0.051, 0.057]]
    )
    weight_error: list[Real] = Field(
        description="‖P̃_q / l − P_ref‖_F / ‖P_ref‖_F: the attention weights used, at each length.",
        examples=[[0.042, 0.046]],
    )


class AttentionResponse(BaseModel):
    query: AttentionParams = Field(description="Every parameter used.")  # type: ignore[valid-type]
    lengths: list[int] = Field(description="Sequence lengths L, ascending.", examples=[[64, 128]])
    clean: ErrorCurveModel = Field(description="K without outliers.")
    outliers: ErrorCurveModel = Field(description="K with the offset channels.")
    outlier_channels: list[int] = Field(
        description="Channels of K that carry the offset.", examples=[[3, 17, 40, 58]]
    )
