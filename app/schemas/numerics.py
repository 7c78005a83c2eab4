"""Response models (OpenAPI docs) for the number-format endpoints.

Routers return pre-serialised JSON (non-finite floats as "nan", "inf", "-inf"); these models
document the shapes.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# A float that JSON cannot hold travels as one of these strings.
Real = float | str


class FormatInfoModel(BaseModel):
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


class FormatsResponse(BaseModel):
    formats: list[FormatInfoModel] = Field(description="Every format, in display order.")


class ValuesResponse(BaseModel):
    name: str = Field(description="Format name.", examples=["float4_e2m1fn"])
    codes: list[int] = Field(description="Every code, 0..2^bits - 1.", examples=[[0, 1, 2, 3]])
    values: list[Real] = Field(
        description='Value of each code; NaN/Inf as "nan", "inf", "-inf".',
        examples=[[0.0, 0.5, 1.0, 1.5]],
    )
    classes: list[str] = Field(
        description="Class of each code: zero, subnormal, normal, inf, nan.",
        examples=[["zero", "subnormal", "normal", "normal"]],
    )


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
        description="(-1)^s × 2^(e - bias) × 1.m evaluated step by step.",
        examples=[["(-1)^0 × 2^(7 - 7) × 1.001₂", "= +1 × 2^0 × 1.125", "= 1.125"]],
    )


class NeighbourModel(BaseModel):
    code: int = Field(description="Code of the neighbour.", examples=[56])
    value: Real = Field(description="Its value.", examples=[1.0])


class EncodeResponse(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(description="Format name.", examples=["float8_e4m3fn"])
    input: Real = Field(description="The input as a float64.", examples=[1.0625])
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
        description="|value - input|, null when either is not finite.", examples=[0.0625]
    )
    rel_error: Real | None = Field(
        description="abs_error / |input|, null for input 0 or non-finite.", examples=[0.0588]
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
        description="What ml_dtypes' own cast gives (nearest_even/native only).", examples=[56]
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
