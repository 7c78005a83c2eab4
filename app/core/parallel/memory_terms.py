"""What one memory term costs: storage dtypes, activation bytes per layer, term sources.

The formulas here take plain numbers; `memory_stages` applies them to the layers and
parameters of one pipeline stage, and every `Term` carries its substituted formula and its
source so the page can show where each byte comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from app.core.errors import InvalidInput, UnknownName
from app.core.numerics import dtypes
from app.core.numerics.dtypes import ALIASES, DTYPES

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


@dataclass(frozen=True)
class Term:
    name: str
    bytes: int
    formula: str
    source: str


def _n(x: int | float | Fraction) -> str:
    """Readable number for formulas: 7500000000 -> '7,500,000,000', 2.5 -> '2.5'."""
    if isinstance(x, Fraction):
        x = int(x) if x.denominator == 1 else float(x)
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.6g}"


# ---------------------------------------------------------------- activations (Korthikanti)


def activation_bytes_per_layer(
    s: int, b: int, h: int, a: int, t: int, sequence_parallel: bool, recompute: Recompute
) -> tuple[Fraction, str]:
    """Activation bytes of one transformer layer (16-bit activations), Korthikanti Table 2.

    For example GPT-3 175B (s=2048, b=1, h=12288, a=96) with t=8, no recompute, no SP:
    sbh(10 + 24/t + 5as/(ht)) = 25,165,824 × (10 + 3 + 10) = 578,813,952 bytes.
    """
    sbh = s * b * h
    attn = Fraction(5 * a * s, h)
    if recompute == "full":
        if sequence_parallel:
            return Fraction(2 * sbh, t), f"2sbh/t = 2 × {_n(sbh)} / {t}"
        return Fraction(2 * sbh), f"2sbh = 2 × {_n(sbh)}"
    if recompute == "selective":
        if sequence_parallel:
            return Fraction(34 * sbh, t), f"34·sbh/t = 34 × {_n(sbh)} / {t}"
        v = sbh * (10 + Fraction(24, t))
        return v, f"sbh(10 + 24/t) = {_n(sbh)} × (10 + 24/{t})"
    if sequence_parallel:
        v = Fraction(sbh, t) * (34 + attn)
        return v, f"(sbh/t)(34 + 5as/h) = ({_n(sbh)}/{t}) × (34 + 5·{a}·{s}/{h})"
    v = sbh * (10 + Fraction(24, t) + attn / t)
    return v, f"sbh(10 + 24/t + 5as/(ht)) = {_n(sbh)} × (10 + 24/{t} + 5·{a}·{s}/({h}·{t}))"


def _label(sp: bool, recompute: Recompute, t: int) -> str:
    parts = ["TP" if t > 1 else "no TP"]
    if sp:
        parts.append("SP")
    parts.append({"none": "no recompute", "selective": "selective", "full": "full"}[recompute])
    return " + ".join(parts)
