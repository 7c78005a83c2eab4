"""What one memory term is: storage dtypes, sources, the `Term` and Table 2 per layer.

The bottom of the memory pipeline (query -> layout -> per-layer terms -> per-stage totals ->
verdict and advice). A `Term` is built from one `app.core.symbolic` expression, so its bytes
and its printed formula cannot disagree; `memory_stages` builds the terms of one stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from app.core.errors import InvalidInput, UnknownName
from app.core.numerics import dtypes
from app.core.numerics.dtypes import ALIASES, DTYPES
from app.core.symbolic import Expr, Quantity, define, explain

Mode = Literal["train", "inference"]
Recompute = Literal["none", "selective", "full"]

K_ADAM = 12  # fp32 master weights + momentum + variance: ZeRO paper §3.1 ("K = 12")
GRAD_BYTES = 2  # 16-bit gradients, as in the ZeRO paper's 2Ψ + 2Ψ + KΨ

SRC_ZERO = "Rajbhandari et al. 2019 (ZeRO, arXiv 1910.02054) §3.1 and §5, Figure 1"
SRC_KORTHIKANTI = "Korthikanti et al. 2022 (arXiv 2205.05198) Table 2"
SRC_1F1B = (
    "Narayanan et al. 2021 (arXiv 2104.04473) §2.2; Megatron-LM theoretical_memory_usage.py "
    "(1F1B: first stage holds p microbatches; interleaved: × (1 + (p−1)/(p·v)))"
)
SRC_MEGATRON_EMB = "Megatron-LM megatron/training/theoretical_memory_usage.py"
SRC_KV = "KV cache: 2 · bytes · head_dim · kv_heads · layers · tokens · batch (GQA/MQA)"
SRC_MLA = "DeepSeek-V2 (arXiv 2405.04434) §2.1: MLA caches the kv latent + rope key per token"


@dataclass(frozen=True)
class WeightDtype:
    name: str
    bits: float
    source: str


# Storage dtypes resolve through the one dtype table (app.core.numerics.dtypes, docs/dtypes.md):
# "fp8" is float8_e4m3fn and "fp4" the bare float4_e2m1fn (4 bits); with block scales it is
# mxfp4 (4.25 bits) or nvfp4 (4.5).
_BLOCK_FORMATS = {
    d.name: WeightDtype(d.name, d.bits, d.source) for d in DTYPES.values() if d.kind == "block"
}
_ALIASES = dict(ALIASES)


def dtype_names() -> list[str]:
    return sorted(dtypes.dtype_names())


# The storage choices a memory picker offers, widest first (each resolves through resolve_dtype).
PICKER_DTYPES = (
    "float32",
    "bfloat16",
    "float16",
    "mxfp8",
    "float8_e4m3fn",
    "float8_e5m2",
    "mxfp6",
    "nvfp4",
    "mxfp4",
    "float4_e2m1fn",
)


def picker_dtypes() -> list[WeightDtype]:
    """The picker's dtypes with their storage bits, e.g. ``("mxfp4", 4.25)``."""
    return [resolve_dtype(name) for name in PICKER_DTYPES]


def resolve_dtype(name: str, field: str = "dtype") -> WeightDtype:
    """Storage cost of a weight / cache dtype, e.g. ``resolve_dtype("mxfp4").bits == 4.25``,
    ``resolve_dtype("FP8").name == "float8_e4m3fn"``; an unknown name is a 422 on `field`."""
    try:
        d = dtypes.resolve(name, field)
    except UnknownName as miss:
        hint = f" (did you mean {miss.suggestion!r}?)" if miss.suggestion else ""
        valid = ", ".join(DTYPES)
        raise InvalidInput(field, f"unknown dtype {name!r}{hint}; choose from {valid}") from None
    return WeightDtype(d.name, d.bits, d.source)


Segment = Literal["parameters", "gradients", "optimizer_states", "activations", "kv_cache"]
SEGMENTS: tuple[Segment, ...] = (
    "parameters",
    "gradients",
    "optimizer_states",
    "activations",
    "kv_cache",
)


@dataclass(frozen=True)
class Term:
    """Bytes of one kind on one GPU, with the formula they come from and its source.

    `segment` is the part of a GPU's memory the bytes belong to (a bar segment on the page):
    the embedding inputs and the logits are `activations` like the layers' own.
    """

    name: str
    segment: Segment
    bytes: int
    formula: str
    source: str


def term(
    name: str, segment: Segment, expr: Expr, source: str, note: str = "", formula: bool = True
) -> Term:
    """A term whose bytes and printed formula both come from `expr` (bytes rounded).

    For example ``term("gradients", "gradients", 2 * Quantity("Ψ", 10), "ZeRO")`` has
    ``bytes == 20`` and ``formula == "2·Ψ = 2 × 10"``. With ``formula=False`` the printing is
    skipped (formula ""): searching for advice needs only the bytes.
    """
    text = explain(expr) if formula else ""
    return Term(
        name, segment, round(expr.value), f"{note}: {text}" if note and text else text, source
    )


# ---------------------------------------------------------------- activations (Korthikanti)


def table2_row(sequence_parallel: bool, recompute: Recompute, t: int) -> str:
    """The row of Korthikanti Table 2 a layout uses, e.g. ``"TP + SP + selective"``."""
    parts = ["TP" if t > 1 else "no TP"]
    if sequence_parallel:
        parts.append("SP")
    parts.append({"none": "no recompute", "selective": "selective", "full": "full"}[recompute])
    return " + ".join(parts)


@lru_cache(maxsize=1024)  # every stage of a layout, and every advice candidate, asks again
def activation_per_layer(
    s: int, b: int, h: int, a: int, t: int, sequence_parallel: bool, recompute: Recompute
) -> Quantity:
    """Activation bytes of one transformer layer (16-bit activations), Korthikanti Table 2.

    The quantity ``A`` with its Table 2 formula. For example GPT-3 175B (s=2048, b=1,
    h=12288, a=96) with t=8, no recompute, no SP: sbh·(10 + 24/t + 5·a·s/(h·t)) =
    25,165,824 × (10 + 3 + 10) = 578,813,952 bytes.
    """
    S, B, H, A, T = (Quantity(n, v) for n, v in (("s", s), ("b", b), ("h", h), ("a", a), ("t", t)))
    sbh = define("sbh", S * B * H)
    if recompute == "full":  # only each layer's input is kept
        expr = 2 * sbh / T if sequence_parallel else 2 * sbh
    elif recompute == "selective":  # attention's softmax, dropout and scores recomputed
        expr = 34 * sbh / T if sequence_parallel else sbh * (10 + 24 / T)
    elif sequence_parallel:
        expr = sbh / T * (34 + 5 * A * S / H)
    else:
        expr = sbh * (10 + 24 / T + 5 * A * S / (H * T))
    row = table2_row(sequence_parallel, recompute, t)
    return define("A", expr, f"bytes per layer per microbatch, Korthikanti Table 2: {row}")


def activation_bytes_per_layer(
    s: int, b: int, h: int, a: int, t: int, sequence_parallel: bool, recompute: Recompute
) -> tuple[Fraction, str]:
    """`activation_per_layer` as (exact bytes, printed formula)."""
    q = activation_per_layer(s, b, h, a, t, sequence_parallel, recompute)
    assert q.definition is not None
    return Fraction(q.value), explain(q.definition)
