"""Response models (OpenAPI docs) for the number-format endpoints.

Routers return pre-serialised JSON (non-finite floats as "nan", "inf", "-inf"); these models
document the shapes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.numerics.catalogue import CompareQuery
from app.core.numerics.codec import DecodeQuery, EncodeQuery
from app.core.numerics.formats import ValuesQuery
from app.schemas.query import query_model

DecodeParams = query_model(DecodeQuery)
EncodeParams = query_model(EncodeQuery)
ValuesParams = query_model(ValuesQuery)
CompareParams = query_model(CompareQuery)

# A float that JSON cannot hold travels as one of these strings.
Real = float | str


class BitFieldModel(BaseModel):
    name: Literal["sign", "exponent", "mantissa", "integer"] = Field(
        description="integer: MXINT8's two's-complement elements (block formats only).",
        examples=["exponent"],
    )
    high: int = Field(description="Index of its most significant bit.", examples=[6])
    low: int = Field(description="Index of its least significant bit.", examples=[3])


class BinadesModel(BaseModel):
    exponent: list[int] = Field(
        description="Binade i is [2^exponent[i], 2^(exponent[i]+1)).", examples=[[-1, 0, 1, 2]]
    )
    count: list[int] = Field(description="Positive finite values in it.", examples=[[1, 2, 2, 2]])
    spacing: list[int] = Field(
        description="log2 of the step between them: they are 2^exponent + j·2^spacing.",
        examples=[[-1, -1, 0, 1]],
    )
    subnormal: int = Field(description="The first this many binades are subnormal.", examples=[1])


class LandmarkModel(BaseModel):
    label: str = Field(examples=["max"])
    code: int = Field(examples=[126])


class FormatInfoModel(BaseModel):
    kind: Literal["element"] = Field(
        description="element: one code per number (block formats answer a BlockFormatModel).",
        examples=["element"],
    )
    name: str = Field(description="ml_dtypes name, used in URLs.", examples=["float8_e4m3fn"])
    bits: int = Field(description="Bits per code.", examples=[8])
    exponent_bits: int = Field(description="Width of the exponent field.", examples=[4])
    mantissa_bits: int = Field(description="Width of the mantissa field.", examples=[3])
    bias: int = Field(description="Exponent bias (exponent field of 1.0).", examples=[7])
    max: float = Field(description="Largest finite value.", examples=[448.0])
    min_normal: float = Field(description="Smallest positive normal value.", examples=[0.015625])
    min_subnormal: float | None = Field(
        description="Smallest positive subnormal; null when there are none (float8_e8m0fnu).",
        examples=[0.001953125],
    )
    eps: float = Field(description="Gap between 1.0 and the next value.", examples=[0.125])
    has_inf: bool = Field(description="Has ±Inf codes.", examples=[False])
    has_nan: bool = Field(description="Has NaN codes.", examples=[True])
    has_negative_zero: bool = Field(description="Has a -0 code.", examples=[True])
    nan_codes: list[int] | None = Field(
        description="Every NaN code; null for float32 (see nan_code_ranges).", examples=[[127, 255]]
    )
    inf_codes: list[int] = Field(description="+Inf and -Inf codes (empty if none).", examples=[[]])
    finite_count: int = Field(description="Finite codes, both zeros counted.", examples=[254])
    overflow: str = Field(
        description='What an ml_dtypes cast gives past max: "nan", "inf" or "saturate".',
        examples=["nan"],
    )
    description: str = Field(
        description="Who uses the format, in one line.",
        examples=["OCP FP8 E4M3 (NVIDIA H100/B200 FP8 weights and activations)"],
    )
    family: str = Field(
        description='"fp8", "fp6", "fp4", "scale", "16-bit" or "32-bit".', examples=["fp8"]
    )
    signed: bool = Field(description="Has a sign bit (false for float8_e8m0fnu).", examples=[True])
    has_zero: bool = Field(description="Can represent zero.", examples=[True])
    min_code: int = Field(description="Smallest valid code (0).", examples=[0])
    max_code: int = Field(description="Largest valid code, 2^bits - 1.", examples=[255])
    source: str = Field(
        description="Specification or paper.",
        examples=["OCP 8-bit Floating Point Specification (OFP8) rev. 1.0, 2023"],
    )
    aliases: list[str] = Field(description="Other accepted names.", examples=[["e4m3"]])
    nan_code_ranges: list[list[int]] = Field(
        description="Inclusive [first, last] runs of NaN codes.",
        examples=[[[127, 127], [255, 255]]],
    )
    nan_count: int = Field(description="Number of NaN codes.", examples=[2])
    max_finite_code: int = Field(description="Code of +max.", examples=[126])
    min_normal_code: int = Field(description="Code of +min_normal.", examples=[8])
    min_subnormal_code: int | None = Field(description="Code of +min_subnormal.", examples=[1])
    exponent_min: int = Field(description="Unbiased exponent of min_normal.", examples=[-6])
    exponent_max: int = Field(description="Unbiased exponent of max.", examples=[8])
    sign_bits: int = Field(description="1, or 0 for float8_e8m0fnu.", examples=[1])
    fields: list[BitFieldModel] = Field(
        description="The bit fields, most significant first (bit 0 is the lowest)."
    )
    min_positive: float = Field(
        description="Smallest positive value: min_subnormal, else min_normal.",
        examples=[0.001953125],
    )
    dynamic_range: float = Field(
        description="log2(max / min_positive): the binades the format spans.", examples=[17.8]
    )
    values_per_binade: int = Field(
        description="2^mantissa_bits: values in each full normal binade.", examples=[8]
    )
    binades: BinadesModel = Field(
        description="Every positive finite value, binade by binade, as columns."
    )
    landmarks: list[LandmarkModel] = Field(
        description="Codes worth jumping to: ±0, min subnormal, min normal, 1, ±max, +Inf, NaN."
    )
    past_max: str = Field(
        description="What a cast past max gives, in words (`overflow` as a label).",
        examples=["→ NaN"],
    )
    full_table: bool = Field(
        description="/values lists every code (at most value_table_bits bits); wider formats "
        "list windows (start, count).",
        examples=[True],
    )


class FormatGroupModel(BaseModel):
    key: str = Field(description="Group key.", examples=["fp8"])
    title: str = Field(description="Heading.", examples=["FP8"])
    blurb: str = Field(description="One line on what the group is for.")
    families: list[str] = Field(description="The `family` values it gathers.", examples=[["fp8"]])
    formats: list[str] = Field(description="Its formats, in display order.")
    kind: Literal["element", "block"] = Field(
        description="element: names in `formats`; block: names in `blocks`.", examples=["element"]
    )


class BlockFormatModel(BaseModel):
    kind: Literal["block"] = Field(description="A block format.", examples=["block"])
    name: str = Field(
        description="The quantization preset, and the page /formats/{name}.", examples=["mxfp4"]
    )
    title: str = Field(description="Display name.", examples=["MXFP4 (E2M1)"])
    dtype: str = Field(
        description="Its row in /api/v1/dtypes (how /memory stores it).", examples=["mxfp4"]
    )
    aliases: list[str] = Field(
        description="Other names of the page (the dtype and its aliases).", examples=[["mxfp8"]]
    )
    description: str = Field(description="What it is, in one line.")
    source: str = Field(description="Specification.")
    element: str = Field(description="Element format.", examples=["float4_e2m1fn"])
    element_title: str = Field(description="The element in words.", examples=["float4_e2m1fn"])
    element_bits: int = Field(description="Bits per element code.", examples=[4])
    element_max: float = Field(description="Largest element magnitude.", examples=[6.0])
    element_format: str | None = Field(
        description="The element's own /formats page (null for MXINT8's integers).",
        examples=["float4_e2m1fn"],
    )
    scale: str = Field(description="The shared scale's format.", examples=["float8_e8m0fnu"])
    scale_bits: int = Field(description="Bits of the shared scale.", examples=[8])
    scale_rule: str | None = Field(
        description="How a power-of-two scale is chosen (E8M0 scales only).", examples=["ocp_floor"]
    )
    global_scale: bool = Field(
        description="An FP32 scale per tensor sits above the block scales (NVFP4).",
        examples=[False],
    )
    block_size: int = Field(description="Elements per scale.", examples=[32])
    bits_per_element: float = Field(
        description="Element bits + scale bits / block size: the dtype table's bits.",
        examples=[4.25],
    )
    storage: str = Field(
        description="That sum in words.",
        examples=["8 + 32 × 4 = 136 bits per block of 32: 4.25 bits per element"],
    )
    scale_fields: list[BitFieldModel] = Field(description="The scale's bit fields.")
    element_fields: list[BitFieldModel] = Field(description="An element code's bit fields.")


class FormatsResponse(BaseModel):
    formats: list[FormatInfoModel] = Field(description="Every element format, in display order.")
    blocks: list[BlockFormatModel] = Field(description="Every block format, in display order.")
    groups: list[FormatGroupModel] = Field(
        description="How /formats groups them, in order (the block formats last)."
    )


class ValuesResponse(BaseModel):
    name: str = Field(description="Format name.", examples=["float4_e2m1fn"])
    query: ValuesParams = Field(description="The window used (start, count); null for every code.")  # type: ignore[valid-type]
    codes: list[int] = Field(
        description="Every code, 0..2^bits - 1, or the window's codes.", examples=[[0, 1, 2, 3]]
    )
    values: list[Real] = Field(
        description='Value of each code; NaN/Inf as "nan", "inf", "-inf".',
        examples=[[0.0, 0.5, 1.0, 1.5]],
    )
    classes: list[str] = Field(
        description="Class of each code: zero, subnormal, normal, inf, nan.",
        examples=[["zero", "subnormal", "normal", "normal"]],
    )


class NeighbourModel(BaseModel):
    code: int = Field(description="Code of the neighbour.", examples=[56])
    value: Real = Field(description="Its value.", examples=[1.0])


class PartModel(BaseModel):
    text: str = Field(examples=["2⁰"])
    field: Literal["sign", "exponent", "mantissa"] | None = Field(
        description="The bit field this part shows (null: plain text).", examples=["exponent"]
    )


class StepModel(BaseModel):
    parts: list[PartModel]
    note: str | None = Field(description="What the line says, in words.")
    result: bool = Field(description="The last line: the value.")


class DecodeResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(description="Format name.", examples=["float8_e4m3fn"])
    code: int = Field(description="The code.", examples=[57])
    hex: str = Field(description="The code in hex.", examples=["0x39"])
    bits: str = Field(description="The code as 0/1 digits, sign first.", examples=["00111001"])
    sign: int | None = Field(description="Sign bit; null if the format has none.", examples=[0])
    exponent: int = Field(description="Raw exponent field.", examples=[7])
    mantissa: int = Field(description="Raw mantissa field.", examples=[1])
    cls: str = Field(
        alias="class", description="zero, subnormal, normal, inf or nan.", examples=["normal"]
    )
    value: Real = Field(description="The value.", examples=[1.125])
    exact: str = Field(description="Exact decimal expansion of the value.", examples=["1.125"])
    exponent_unbiased: int | None = Field(
        description="Power of two applied (null for zero, Inf, NaN).", examples=[0]
    )
    significand: str | None = Field(description="Exact decimal of 1.m or 0.m.", examples=["1.125"])
    significand_bits: str | None = Field(description="1.m or 0.m in binary.", examples=["1.001"])
    is_subnormal: bool = Field(description="The code is subnormal.", examples=[False])
    formula: list[str] = Field(
        description="(−1)^s × 2^(e − bias) × 1.m evaluated step by step: the text of `steps`.",
        examples=[
            [
                "(−1)^s × 2^(e − 7) × 1.m₂",
                "= (−1)^0 × 2^(7 − 7) × 1.001₂",
                "= +1 × 2⁰ × 1.125",
                "= 1.125",
            ]
        ],
    )
    steps: list[StepModel] = Field(
        description="The same lines, each part naming the bit field it shows."
    )
    next_up: NeighbourModel | None = Field(
        description="The next larger representable value (null past the top and for NaN)."
    )
    next_down: NeighbourModel | None = Field(description="The next smaller representable value.")
    gap: float | None = Field(
        description="Distance to the next larger distinct value (one ULP above; null when it "
        "is not finite).",
        examples=[0.125],
    )
    query: DecodeParams = Field(description="The parameters used.")  # type: ignore[valid-type]


class EncodeResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(description="Format name.", examples=["float8_e4m3fn"])
    input: Real = Field(
        description="The input's nearest float64 (±Inf past float64's range).", examples=[1.0625]
    )
    exact_input: str = Field(
        description="The input exactly, as a decimal: what was rounded (not its float64).",
        examples=["464.0000000000000004"],
    )
    input_is_float64: bool = Field(
        description="The input is a float64 (`input` is exactly `exact_input`).",
        examples=[False],
    )
    rounding: str = Field(description="Rounding mode used.", examples=["nearest_even"])
    overflow: str = Field(description="Overflow policy used.", examples=["native"])
    seed: int | None = Field(
        description="Seed used by stochastic rounding (null otherwise).", examples=[None]
    )
    code: int = Field(description="The chosen code.", examples=[56])
    hex: str = Field(description="The code in hex.", examples=["0x38"])
    bits: str = Field(description="The code as 0/1 digits.", examples=["00111000"])
    value: Real = Field(description="The chosen value.", examples=[1.0])
    exact_value: str = Field(description="Exact decimal of the chosen value.", examples=["1"])
    cls: str = Field(alias="class", description="Class of the chosen value.", examples=["normal"])
    abs_error: Real | None = Field(
        description="|value − exact input|, computed exactly, then rounded to a float64; null "
        "when either is not finite.",
        examples=[0.0625],
    )
    rel_error: Real | None = Field(
        description="abs_error / |exact input|, null for input 0 or non-finite.",
        examples=[0.0588],
    )
    below: NeighbourModel | None = Field(
        description="Largest representable value strictly below the input."
    )
    above: NeighbourModel | None = Field(
        description="Smallest representable value strictly above the input."
    )
    exact: bool = Field(description="The input is representable.", examples=[False])
    overflowed: bool = Field(description="Rounding went past max.", examples=[False])
    ml_dtypes_code: int | None = Field(
        description="What ml_dtypes' own cast of the input's float64 gives (through float32; "
        "nearest_even/native only).",
        examples=[56],
    )
    note: str | None = Field(
        description="Anything special that happened (overflow, no NaN, double rounding...).",
        examples=["464 is past max 448 but within half a step: rounds to 448"],
    )
    interval: list[Real] | None = Field(
        description="[low, high]: every input this rounding and overflow policy can send to "
        "`value` (null when value is NaN or ±Inf).",
        examples=[[0.96875, 1.0625]],
    )
    interval_closed: list[bool] | None = Field(
        description="Whether low and high themselves belong to the interval.",
        examples=[[True, True]],
    )
    tie: str | None = Field(
        description="Why an input exactly halfway between two values went where it went "
        "(nearest_even only): to the even mantissa, or, for E8M0 (no mantissa), up.",
        examples=[
            "1.0625 is exactly halfway between 1 and 1.125. Ties go to the neighbour "
            "whose last mantissa bit is 0 (ties to even): 1, mantissa 000."
        ],
    )
    p_above: float | None = Field(
        description="Stochastic rounding only: the probability of rounding to `above`, "
        "(input − below) / (above − below).",
        examples=[0.4],
    )
    stochastic: str | None = Field(
        description="Stochastic rounding only: that probability worked out, and the draw."
    )
    query: EncodeParams = Field(description="Every parameter used, defaults filled in.")  # type: ignore[valid-type]


class DtypeModel(BaseModel):
    name: str = Field(description="Canonical name.", examples=["mxfp4"])
    kind: Literal["element", "block"] = Field(
        description="element: one code per number (explored on /formats); block: elements "
        "sharing a scale per block (a storage dtype).",
        examples=["block"],
    )
    bits: float = Field(
        description="Storage bits per element, shared scales included.", examples=[4.25]
    )
    aliases: list[str] = Field(description="Other accepted names.", examples=[["fp4"]])
    meaning: str = Field(description="What the name means, in one line.")
    source: str = Field(description="Specification or paper.")
    family: str = Field(description="The element's family.", examples=["fp4"])
    element: str = Field(description="Its element format.", examples=["float4_e2m1fn"])
    scale: str | None = Field(description="The shared scale's format.", examples=["float8_e8m0fnu"])
    block_size: int | None = Field(description="Elements per scale.", examples=[32])


class ModeModel(BaseModel):
    name: str = Field(description="The parameter value.", examples=["nearest_even"])
    title: str = Field(description="What a picker shows.", examples=["nearest, ties to even"])
    explanation: str = Field(description="What it does.")
    seeded: bool = Field(description="It draws random numbers: `seed` counts.", examples=[False])


class DtypesResponse(BaseModel):
    dtypes: list[DtypeModel] = Field(description="Element formats, then block formats.")
    aliases: dict[str, str] = Field(
        description="Every alias and the name it means (names also match without regard to "
        "case, '-', '_', '.' or spaces).",
        examples=[{"fp8": "float8_e4m3fn", "fp4": "float4_e2m1fn", "bf16": "bfloat16"}],
    )
    rounding: list[ModeModel] = Field(description="The encoder's rounding modes.")
    overflow: list[ModeModel] = Field(description="The encoder's overflow policies.")


class CompareResponse(BaseModel):
    query: CompareParams = Field(description="The formats compared, names canonical.")  # type: ignore[valid-type]
    formats: list[FormatInfoModel] = Field(description="Those formats, in the order asked.")
