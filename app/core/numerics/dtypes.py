"""The one table of dtype names: every number format bitmesh knows, its aliases, what it means.

Two kinds of names live here, and every endpoint and page resolves names through this table:

- **element formats**: one code per number, the ml_dtypes registry (``float8_e4m3fn``,
  ``bfloat16``, ...) plus float16 and float32. `/formats` explores them bit by bit.
- **block formats**: elements that share a scale per block (OCP MX ``mxfp8``, ``mxfp6``,
  ``mxfp4``; NVIDIA ``nvfp4``). They are storage dtypes (valid wherever a storage dtype is asked,
  e.g. `/memory`), not element formats: their elements are explored under the element's name.

Short names mean one thing everywhere (docs/dtypes.md): ``fp8`` is float8_e4m3fn (the OCP E4M3
used for weights and activations), ``fp4`` is float4_e2m1fn (the bare 4-bit element; with its
block scales it is ``mxfp4`` or ``nvfp4``). Names match the way people type them
(`app.core.names`): ``BF16``, ``E4M3`` and ``Float8-E4M3FN`` all resolve, and a miss suggests the
closest name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import ml_dtypes
import numpy as np

from app.core.errors import UnknownName
from app.core.names import Registry

Kind = Literal["element", "block"]

_OFP8 = "OCP 8-bit Floating Point Specification (OFP8) rev. 1.0, 2023; arXiv 2209.05433"
_FNUZ = "Noune et al. 2022, arXiv 2206.02915 (Graphcore/AMD); LLVM APFloat"
_MX = "OCP Microscaling Formats (MX) Specification v1.0, 2023"
_IEEE_LIKE = "ml_dtypes (IEEE 754 conventions: Inf and NaN at the top exponent); LLVM APFloat"
_NVFP4 = (
    "NVIDIA NVFP4 (Blackwell): one FP8 E4M3 scale per 16 FP4 E2M1 elements, one FP32 per tensor"
)


@dataclass(frozen=True)
class ElementSpec:
    """An element format as declared: its ml_dtypes type, family, one-line description, source."""

    dtype: Any
    family: str  # "fp8", "fp6", "fp4", "scale", "16-bit", "32-bit"
    description: str
    source: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlockSpec:
    """A block format as declared: its element and scale formats and the block size.

    The element is an element format, except MXINT8's 8-bit integers (× 2^-6), which are not
    a float format: their width and family are declared here.
    """

    element: str
    scale: str
    block_size: int
    description: str
    source: str
    aliases: tuple[str, ...] = ()
    element_bits: int | None = None  # only for an element that is not an element format
    family: str | None = None


#: Element formats in display order, keyed by their ml_dtypes names.
ELEMENTS: Final[dict[str, ElementSpec]] = {
    "float8_e4m3fn": ElementSpec(
        ml_dtypes.float8_e4m3fn,
        "fp8",
        "OCP FP8 E4M3 (NVIDIA H100/B200 FP8 weights and activations); no Inf, NaN at S.1111.111",
        _OFP8,
        ("fp8", "e4m3", "fp8_e4m3", "e4m3fn"),
    ),
    "float8_e4m3fnuz": ElementSpec(
        ml_dtypes.float8_e4m3fnuz,
        "fp8",
        "FP8 E4M3 FNUZ (AMD MI300, Graphcore): bias 8, one NaN at 0x80, no -0, no Inf",
        _FNUZ,
        ("e4m3fnuz",),
    ),
    "float8_e4m3b11fnuz": ElementSpec(
        ml_dtypes.float8_e4m3b11fnuz,
        "fp8",
        "FP8 E4M3 with bias 11, FNUZ (Google TPU; the forward bias of IBM's HFP8)",
        "ml_dtypes; bias 11 as in Sun et al. 2019 (HFP8, NeurIPS)",
        ("e4m3b11fnuz",),
    ),
    "float8_e4m3": ElementSpec(
        ml_dtypes.float8_e4m3,
        "fp8",
        "IEEE-754-style FP8 E4M3 with Inf and NaN (LLVM Float8E4M3)",
        _IEEE_LIKE,
        ("e4m3_ieee",),
    ),
    "float8_e5m2": ElementSpec(
        ml_dtypes.float8_e5m2,
        "fp8",
        "OCP FP8 E5M2 (NVIDIA H100 FP8 gradients); IEEE-like with Inf and NaN",
        _OFP8,
        ("e5m2", "fp8_e5m2"),
    ),
    "float8_e5m2fnuz": ElementSpec(
        ml_dtypes.float8_e5m2fnuz,
        "fp8",
        "FP8 E5M2 FNUZ (AMD MI300, Graphcore): bias 16, one NaN at 0x80, no -0, no Inf",
        _FNUZ,
        ("e5m2fnuz",),
    ),
    "float8_e3m4": ElementSpec(
        ml_dtypes.float8_e3m4,
        "fp8",
        "IEEE-754-style FP8 E3M4 with Inf and NaN: more precision, less range",
        _IEEE_LIKE,
        ("e3m4",),
    ),
    "float8_e8m0fnu": ElementSpec(
        ml_dtypes.float8_e8m0fnu,
        "scale",
        "OCP MX E8M0 block scale: powers of two 2^-127..2^127; no sign, no zero, NaN at 0xFF",
        _MX,
        ("e8m0",),
    ),
    "float6_e2m3fn": ElementSpec(
        ml_dtypes.float6_e2m3fn,
        "fp6",
        "OCP MX FP6 E2M3 element (MXFP6); no Inf, no NaN: casts saturate",
        _MX,
        ("e2m3", "fp6_e2m3"),
    ),
    "float6_e3m2fn": ElementSpec(
        ml_dtypes.float6_e3m2fn,
        "fp6",
        "OCP MX FP6 E3M2 element (MXFP6); no Inf, no NaN: casts saturate",
        _MX,
        ("e3m2", "fp6_e3m2"),
    ),
    "float4_e2m1fn": ElementSpec(
        ml_dtypes.float4_e2m1fn,
        "fp4",
        "FP4 E2M1 element of OCP MXFP4 and NVIDIA NVFP4; values ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}",
        _MX,
        ("fp4", "e2m1", "fp4_e2m1"),
    ),
    "bfloat16": ElementSpec(
        ml_dtypes.bfloat16,
        "16-bit",
        "bfloat16: float32's range with 8 significant bits (TPU, A100/H100 mixed precision)",
        "Kalamkar et al. 2019, arXiv 1905.12322; Google Brain bfloat16",
        ("bf16",),
    ),
    "float16": ElementSpec(
        np.float16,
        "16-bit",
        "IEEE 754 binary16 (half precision; V100-era mixed precision with loss scaling)",
        "IEEE 754-2019 binary16",
        ("fp16", "half"),
    ),
    "float32": ElementSpec(
        np.float32,
        "32-bit",
        "IEEE 754 binary32 (single precision): the reference every format is compared to",
        "IEEE 754-2019 binary32",
        ("fp32", "single"),
    ),
}

#: Block formats, keyed by the names their specifications use. Each is a quantization preset
#: of the same name or alias (app.core.numerics.quantize.PRESETS) and has a page /formats/{preset}.
BLOCKS: Final[dict[str, BlockSpec]] = {
    "mxfp8": BlockSpec(
        "float8_e4m3fn",
        "float8_e8m0fnu",
        32,
        "OCP MXFP8 with E4M3 elements: 32 FP8 elements share one E8M0 scale",
        _MX,
        ("mxfp8_e4m3",),
    ),
    "mxfp8_e5m2": BlockSpec(
        "float8_e5m2",
        "float8_e8m0fnu",
        32,
        "OCP MXFP8 with E5M2 elements (more range, for gradients): 32 share one E8M0 scale",
        _MX,
    ),
    "mxfp6": BlockSpec(
        "float6_e2m3fn",
        "float8_e8m0fnu",
        32,
        "OCP MXFP6 with E2M3 elements: 32 FP6 elements share one E8M0 scale",
        _MX,
        ("mxfp6_e2m3",),
    ),
    "mxfp6_e3m2": BlockSpec(
        "float6_e3m2fn",
        "float8_e8m0fnu",
        32,
        "OCP MXFP6 with E3M2 elements (more range, less precision): 32 share one E8M0 scale",
        _MX,
    ),
    "mxfp4": BlockSpec(
        "float4_e2m1fn",
        "float8_e8m0fnu",
        32,
        "OCP MXFP4: 32 FP4 E2M1 elements share one E8M0 scale (gpt-oss ships its MoE weights so)",
        _MX,
    ),
    "mxint8": BlockSpec(
        "mxint8",
        "float8_e8m0fnu",
        32,
        "OCP MXINT8: 32 8-bit two's-complement integers (each × 2^-6) share one E8M0 scale",
        _MX,
        element_bits=8,
        family="int8",
    ),
    "nvfp4": BlockSpec(
        "float4_e2m1fn",
        "float8_e4m3fn",
        16,
        "NVIDIA NVFP4: 16 FP4 E2M1 elements share one FP8 E4M3 scale (plus one FP32 per tensor)",
        _NVFP4,
    ),
}


@dataclass(frozen=True)
class Dtype:
    """One row of the table, e.g. mxfp4: ``kind="block", bits=4.25, element="float4_e2m1fn",
    scale="float8_e8m0fnu", block_size=32`` (4 bits + an 8-bit scale per 32 elements)."""

    name: str
    kind: Kind
    bits: float  # storage bits per element, shared scales included
    aliases: tuple[str, ...]
    meaning: str
    source: str
    family: str  # the element's family ("fp8", "fp4", ...)
    element: str  # the element format (the name itself for element formats)
    scale: str | None  # the shared scale's format (block formats only)
    block_size: int | None  # elements per scale (block formats only)


def _element_bits(name: str) -> int:
    return int(ml_dtypes.finfo(ELEMENTS[name].dtype).bits)  # type: ignore[no-untyped-call]


def _element_row(name: str, spec: ElementSpec) -> Dtype:
    return Dtype(
        name=name,
        kind="element",
        bits=float(_element_bits(name)),
        aliases=spec.aliases,
        meaning=spec.description,
        source=spec.source,
        family=spec.family,
        element=name,
        scale=None,
        block_size=None,
    )


def _block_row(name: str, spec: BlockSpec) -> Dtype:
    # OCP MX v1.0 §5: k elements share one scale, so each element costs its bits + scale/k.
    element = spec.element_bits or _element_bits(spec.element)
    scale = _element_bits(spec.scale)
    return Dtype(
        name=name,
        kind="block",
        bits=element + scale / spec.block_size,
        aliases=spec.aliases,
        meaning=spec.description,
        source=f"{spec.source} ({element} + {scale}/{spec.block_size} bits per element)",
        family=spec.family or ELEMENTS[spec.element].family,
        element=spec.element,
        scale=spec.scale,
        block_size=spec.block_size,
    )


#: Every dtype, element formats first (display order), then block formats.
DTYPES: Final[dict[str, Dtype]] = {
    **{name: _element_row(name, spec) for name, spec in ELEMENTS.items()},
    **{name: _block_row(name, spec) for name, spec in BLOCKS.items()},
}

#: alias -> canonical name, for every alias of every dtype.
ALIASES: Final[dict[str, str]] = {alias: d.name for d in DTYPES.values() for alias in d.aliases}

_ALL: Final = Registry("dtype", DTYPES, ALIASES)
_ELEMENT_ALIASES: Final = {a: n for a, n in ALIASES.items() if n in ELEMENTS}
_ELEMENTS: Final = Registry("format", ELEMENTS, _ELEMENT_ALIASES)


def resolve(name: str, field: str = "dtype") -> Dtype:
    """Any dtype by name or alias, e.g. ``resolve("FP4").name == "float4_e2m1fn"``,
    ``resolve("mxfp4").bits == 4.25``; `UnknownName` (with a suggestion) otherwise."""
    return DTYPES[_ALL.resolve(name, field)]


def element_name(name: str, field: str = "name") -> str:
    """The canonical name of an element format, e.g. ``element_name("bf16") == "bfloat16"``.

    A block format is not an element format: ``element_name("mxfp4")`` raises `UnknownName`
    whose suggestion is its element, float4_e2m1fn.
    """
    try:
        return _ELEMENTS.resolve(name, field)
    except UnknownName as miss:
        block = BLOCKS.get(_ALL.resolve(name, field)) if _is_dtype(name) else None
        if block is not None:
            raise UnknownName("format", name, ELEMENTS, field, suggestion=block.element) from None
        raise miss from None


def _is_dtype(name: str) -> bool:
    try:
        _ALL.resolve(name)
    except UnknownName:
        return False
    return True


def dtype_names() -> list[str]:
    """Every accepted spelling: canonical names, then aliases."""
    return _ALL.spellings()


@dataclass(frozen=True)
class FormatGroup:
    """A group of formats as the /formats page shows them, e.g. the FP8 formats."""

    key: str
    title: str
    blurb: str
    families: tuple[str, ...]  # the `family` values it gathers
    formats: tuple[str, ...]  # its formats, in display order
    kind: Kind = "element"  # element formats, or the block formats (their own group)


_GROUPS: Final = (
    ("fp8", "FP8", "8-bit floats for training and inference on H100, MI300 and TPU.", ("fp8",)),
    (
        "fp6",
        "FP6 / FP4",
        "Microscaling (MX) and NVFP4 elements: a handful of values, always used with a block "
        "scale (mxfp6, mxfp4, nvfp4).",
        ("fp6", "fp4"),
    ),
    ("scale", "Scale (E8M0)", "The shared power-of-two scale of every MX block.", ("scale",)),
    ("16-bit", "16-bit", "The mixed-precision workhorses.", ("16-bit",)),
    (
        "32-bit",
        "32-bit reference",
        "Single precision, the yardstick for everything above.",
        ("32-bit",),
    ),
)

#: The element formats grouped by family, in display order (every element format once).
GROUPS: Final[tuple[FormatGroup, ...]] = tuple(
    FormatGroup(
        key,
        title,
        blurb,
        families,
        tuple(n for n, spec in ELEMENTS.items() if spec.family in families),
    )
    for key, title, blurb, families in _GROUPS
)
assert sorted(n for g in GROUPS for n in g.formats) == sorted(ELEMENTS)
