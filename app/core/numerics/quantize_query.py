"""The queries of the quantization and arithmetic labs, each parameter declared once.

`QuantizeOptions` is what a quantization needs besides the data (the scheme and the report);
`QuantizeQuery` adds the seeded tensor that GET /api/v1/quantize generates, while POST sends
its own `values` with the options only. `AccumulateQuery` and `DotQuery` are the arithmetic
lab's running sum and dot product. Every default and bound lives here (bounds from
`app.core.limits`); the API builds its request models from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.quantize import ScaleRule, Scheme, resolve_scheme
from app.core.numerics.quantize_report import HistRange
from app.core.numerics.tensors import Distribution, TensorDistribution
from app.core.params import param

SEED_MAX: Final = 2**32 - 1
DATA_FIELDS: Final = ("distribution", "n", "seed", "df", "outlier_fraction", "outlier_scale")


@dataclass(frozen=True)
class QuantizeOptions:
    """The scheme and what to report; preset options stay None until `resolve_options`."""

    scheme: str = param(
        "mxfp4",
        "A preset (mxfp8_e4m3, mxfp8_e5m2, mxfp6_e2m3, mxfp6_e3m2, mxfp4, mxint8, nvfp4, "
        "deepseek_fp8) or a generic scheme: none (plain cast), tensor, channel, block.",
        example="nvfp4",
        max_length=40,
    )
    format: str | None = param(
        None,
        "Element format: a format of at most 16 bits, or int8, int4, mxint8. Default: the "
        "preset's (float8_e4m3fn for a generic scheme).",
        example="float4_e2m1fn",
        max_length=40,
    )
    block_size: int | None = param(
        None,
        "Elements per block along a row (block schemes). Default: the preset's, else 32.",
        example=32,
        ge=1,
        le=limit("quantize_values"),
    )
    block_rows: int | None = param(
        None,
        "Rows per block of a 2-D tensor (128 for DeepSeek's 128×128 weight blocks). Default 1.",
        example=1,
        ge=1,
        le=limit("quantize_values"),
    )
    scale_format: str | None = param(
        None,
        "Format of the stored scales: float32, float8_e8m0fnu (a power of two) or "
        "float8_e4m3fn. Default: the preset's, else float32.",
        example="float8_e8m0fnu",
        max_length=40,
    )
    scale_rule: ScaleRule | None = param(
        None,
        "How a power-of-two scale is chosen: ocp_floor (OCP MX v1.0, default), ceil (nothing "
        "clips) or nearest.",
        example="ocp_floor",
    )
    global_scale: bool | None = param(
        None,
        "An FP32 per-tensor scale above E4M3 block scales (NVFP4's second level).",
        example=True,
    )
    cols: int | None = param(
        None,
        "Row length: the data is a (n / cols) × cols matrix (n must be a multiple). Default: "
        "one row of n.",
        example=4096,
        ge=1,
        le=limit("quantize_values"),
    )
    bins: int = param(64, "Histogram bins.", example=64, ge=2, le=limit("quantize_bins"))
    hist_range: HistRange = param(
        "auto",
        "What the histogram bins cover: full (min to max), central (the 0.1%–99.9% quantiles, "
        "the rest counted as below / above) or auto (central when outliers would squeeze "
        "every other value into one bin).",
        example="full",
    )
    block: int = param(
        0,
        "Scaling group (row-major over the group grid) to describe in full besides the first.",
        example=3,
        ge=0,
        le=limit("quantize_values"),
    )


@dataclass(frozen=True)
class QuantizeQuery(QuantizeOptions):
    """Options plus the seeded tensor to quantize (GET /api/v1/quantize)."""

    distribution: TensorDistribution = param(
        "normal", "Shape of the generated values (see the schemes catalogue).", example="outliers"
    )
    n: int = param(16_384, "How many values.", example=65_536, ge=1, le=limit("quantize_values"))
    seed: int = param(0, "Random seed: the same seed gives the same values.", ge=0, le=SEED_MAX)
    df: float = param(
        3.0, "student_t: degrees of freedom (lower is heavier-tailed).", example=3.0, gt=0, le=1e6
    )
    outlier_fraction: float = param(
        0.001, "outliers: share of the values that are outliers.", example=0.01, ge=0, le=1
    )
    outlier_scale: float = param(
        100.0, "outliers: standard deviation of the outliers.", example=100.0, gt=0, le=1e6
    )


def resolve_options(options: QuantizeOptions) -> tuple[QuantizeOptions, Scheme]:
    """The options with every preset value filled in, and the scheme they name.

    Fields a scheme does not use are None in the result (`used_options`), so the echo says
    what was computed.
    """
    scheme = resolve_scheme(
        options.scheme,
        options.format,
        options.block_size,
        options.block_rows,
        options.scale_format,
        options.scale_rule,
        options.global_scale,
    )
    return replace(options, scheme=scheme.name, **used_options(scheme)), scheme


def used_options(scheme: Scheme) -> dict[str, Any]:
    """The scheme's options, None where the scheme does not use one: a per-tensor scale has no
    block size, only E8M0 scales have a rule, only E4M3 block scales a tensor scale above."""
    blocked = scheme.kind == "block"
    scaled = scheme.kind != "none"
    return {
        "format": scheme.format,
        "block_size": scheme.block_size if blocked else None,
        "block_rows": scheme.block_rows if blocked else None,
        "scale_format": scheme.scale_format if scaled else None,
        "scale_rule": scheme.scale_rule
        if scaled and scheme.scale_format == "float8_e8m0fnu"
        else None,
        "global_scale": (
            scheme.global_scale if scaled and scheme.scale_format == "float8_e4m3fn" else None
        ),
    }


def matrix_shape(options: QuantizeOptions, n: int) -> tuple[int, int]:
    """(rows, cols) of `n` values in rows of `options.cols`; a 422 naming `cols` otherwise."""
    cols = options.cols or n
    if n % cols:
        raise InvalidInput("cols", f"{n} values do not split into rows of {cols}")
    return n // cols, cols


@dataclass(frozen=True)
class AccumulateQuery:
    """A running sum of `n` terms in a low-precision accumulator (GET /api/v1/accumulate)."""

    format: str = param(
        "bfloat16",
        "Format of the terms (and of the sum, unless accumulator names another).",
        example="float16",
        max_length=40,
    )
    accumulator: str | None = param(
        None,
        "Format the running sum is kept in. Default: format.",
        example="float32",
        max_length=40,
    )
    n: int = param(4_096, "Number of terms.", example=1000, ge=1, le=limit("accumulate_terms"))
    distribution: Distribution = param(
        "ones", "Shape of the terms (ones: every term 1.0).", example="uniform"
    )
    seed: int = param(0, "Random seed of the terms.", ge=0, le=SEED_MAX)
    mean: float = param(
        0.0,
        "Added to every term (a positive mean makes the sum grow).",
        example=0.5,
        ge=-1e6,
        le=1e6,
    )


@dataclass(frozen=True)
class DotQuery:
    """Dot products a·b of growing length (GET /api/v1/accumulate/dot)."""

    format: str = param(
        "bfloat16",
        "Format of the inputs a and b (at most float16's precision).",
        example="float8_e4m3fn",
        max_length=40,
    )
    accumulator: str = param(
        "bfloat16",
        "Format the running sum of products is kept in.",
        example="float32",
        max_length=40,
    )
    n: int = param(
        65_536,
        "Longest dot product (lengths are the powers of two up to n).",
        example=16_384,
        ge=1,
        le=limit("accumulate_terms"),
    )
    distribution: TensorDistribution = param("normal", "Shape of the inputs.", example="uniform")
    seed: int = param(0, "Random seed of the inputs.", ge=0, le=SEED_MAX)
