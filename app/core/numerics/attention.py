"""One attention head in low precision against a float64 reference.

O = softmax(Q·Kᵀ/√d)·V, computed the way FP8 attention kernels do (FlashAttention-3, arXiv
2407.08608 §3.3; SageAttention, arXiv 2410.02367): Q, K and V are quantized (`format`, scaled by
`scheme`), S = Q·Kᵀ/√d and the row maxima m are float32, P̃ = exp(S − m) lies in [0, 1] and is
quantized itself (`p_format`), the row sums l are taken from the unquantized P̃ in float32, and
O = (P̃_q·V_q) / l. The reference is the same formula in float64 on the unquantized tensors.

Errors, per sequence length L (the first L tokens of one seeded set of tensors):
- `output_error` = ‖O − O_ref‖_F / ‖O_ref‖_F;
- `weight_error` = ‖P̃_q / l − P_ref‖_F / ‖P_ref‖_F (the attention weights the output used).

K's outliers are a constant offset of ±`outlier_scale` on `outlier_channels` channels (the
per-channel bias real keys carry, which SageAttention removes by subtracting K's mean). An offset
on a key channel adds the same q_c·offset to every score of a row, so softmax, and therefore the
reference output, is unchanged; only the quantization sees it, through the scale it inflates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.quantize import ELEMENTS, SCALES, resolve_scheme
from app.core.numerics.quantize import quantize as quantize_tensor
from app.core.params import effective, param

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
UNQUANTIZED: Final = "float32"  # the format name that means "leave the tensor in float32"


@dataclass(frozen=True)
class AttentionQuery:
    format: str = param(
        "float8_e4m3fn",
        "Element format of Q, K and V (float32: left unquantized).",
        example="float8_e5m2",
        max_length=40,
    )
    p_format: str = param(
        "float8_e4m3fn",
        "Element format of the probabilities P̃ = exp(S − m) (float32: left unquantized).",
        example="float8_e4m3fn",
        max_length=40,
    )
    scheme: Literal["none", "tensor", "channel", "block"] = param(
        "tensor",
        "Scaling of Q, K, V and P: none (plain cast), tensor (one scale each), channel (one "
        "per row, i.e. per token / query), block (per block_size elements along each row).",
        example="block",
    )
    block_size: int = param(
        32, "Elements per block (scheme=block).", example=32, ge=1, le=limit("attention_seq_len")
    )
    scale_format: str = param(
        "float32",
        "Format of the scales: float32, float8_e8m0fnu or float8_e4m3fn.",
        example="float8_e8m0fnu",
        max_length=40,
    )
    head_dim: int = param(
        64, "Head dimension d.", example=128, ge=1, le=limit("attention_head_dim")
    )
    lengths: str = param(
        "64,128,256,512,1024",
        "Sequence lengths to measure, comma-separated (queries = keys = L).",
        example="128,512,2048",
        max_length=100,
    )
    outlier_channels: int = param(
        4,
        "K channels that carry an outlier offset.",
        example=2,
        ge=0,
        le=limit("attention_head_dim"),
    )
    outlier_scale: float = param(
        20.0, "Size of that offset (K is N(0, 1) otherwise).", example=50.0, gt=0, le=1e4
    )
    seed: int = param(0, "Random seed of Q, K, V and the outlier channels.", ge=0, le=2**32 - 1)


def parse_lengths(text: str) -> list[int]:
    """``parse_lengths("128, 512,2048") == [128, 512, 2048]``; a 422 naming `lengths` otherwise."""
    parts = [p.strip() for p in text.split(",")]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise InvalidInput("lengths", "give whole numbers separated by commas, e.g. 128,512")
    values = sorted({int(p) for p in parts})
    top = limit("attention_seq_len")
    if values[0] < 1 or values[-1] > top:
        raise InvalidInput("lengths", f"each length must be between 1 and {top}")
    if len(values) > limit("attention_lengths"):
        raise InvalidInput("lengths", f"at most {limit('attention_lengths')} lengths")
    return values


@dataclass(frozen=True)
class ErrorCurve:
    output_error: F64
    weight_error: F64


@dataclass(frozen=True)
class AttentionResult:
    query: dict[str, Any]
    lengths: list[int]
    clean: ErrorCurve  # K without outliers
    outliers: ErrorCurve  # K with the offset channels
    outlier_channels: list[int]  # which channels of K carry the offset


def _softmax64(s: F64) -> F64:
    e = np.exp(s - s.max(axis=1, keepdims=True))
    out: F64 = e / e.sum(axis=1, keepdims=True)
    return out


Quantizer = Callable[[F32], F32]


def quantizer(
    fmt: str, scheme: str = "tensor", block_size: int = 32, scale: str = "float32"
) -> Quantizer:
    """x -> dequantized x, e.g. ``quantizer("float8_e4m3fn")`` (one FP32 scale per tensor);
    ``quantizer("float32")`` leaves x as it is."""
    if fmt == UNQUANTIZED:
        return lambda x: np.asarray(x, dtype=np.float32)
    resolved = resolve_scheme(scheme, fmt, block_size, 1, scale)
    return lambda x: quantize_tensor(x, resolved).dequantized


def resolve_query(query: AttentionQuery) -> AttentionQuery:
    """The query with format names in their registry spelling (404s name the field)."""

    def name(fmt: str, field: str) -> str:
        return fmt if fmt == UNQUANTIZED else ELEMENTS.resolve(fmt, field)

    if query.outlier_channels > query.head_dim:
        raise InvalidInput("outlier_channels", f"K has only head_dim = {query.head_dim} channels")
    return replace(
        query,
        format=name(query.format, "format"),
        p_format=name(query.p_format, "p_format"),
        scale_format=SCALES.resolve(query.scale_format, "scale_format"),
    )


def head_errors(qkv: tuple[F64, F64, F64], low: Quantizer, p_low: Quantizer) -> tuple[float, float]:
    """(output error, weight error) of one head, low precision against float64.

    `low` quantizes Q, K and V, `p_low` the probabilities P̃ (see the module docstring).
    """
    q, k, v = qkv
    d = q.shape[1]
    p_ref = _softmax64(q @ k.T / math.sqrt(d))
    o_ref = p_ref @ v
    q8, k8, v8 = (low(t.astype(np.float32)) for t in qkv)
    s = (q8 @ k8.T) * np.float32(1 / math.sqrt(d))  # float32 accumulation, as tensor cores
    p_tilde = np.exp(s - s.max(axis=1, keepdims=True))
    row_sum = p_tilde.sum(axis=1, keepdims=True, dtype=np.float32)
    p_q = p_low(p_tilde)
    out = (p_q @ v8) / row_sum
    weights = p_q / row_sum
    o_err = np.linalg.norm(out - o_ref) / np.linalg.norm(o_ref)
    w_err = np.linalg.norm(weights - p_ref) / np.linalg.norm(p_ref)
    return float(o_err), float(w_err)


def run_attention(query: AttentionQuery) -> AttentionResult:
    """Errors against sequence length, for K without and with outlier channels."""
    lengths = parse_lengths(query.lengths)
    query = resolve_query(query)
    d = query.head_dim
    rng = np.random.default_rng(query.seed)
    top = lengths[-1]
    q, k, v = (rng.standard_normal((top, d)) for _ in range(3))
    channels = np.sort(rng.choice(d, size=query.outlier_channels, replace=False))
    signs = rng.choice([-1.0, 1.0], size=channels.size)
    k_out = k.copy()
    k_out[:, channels] += signs * query.outlier_scale

    def make(fmt: str) -> Quantizer:
        return quantizer(fmt, query.scheme, query.block_size, query.scale_format)

    low, p_low = make(query.format), make(query.p_format)
    curves = []
    for keys in (k, k_out):
        errs = [head_errors((q[:n], keys[:n], v[:n]), low, p_low) for n in lengths]
        curves.append(ErrorCurve(np.array([e[0] for e in errs]), np.array([e[1] for e in errs])))
    return AttentionResult(
        query={**effective(query), "lengths": ",".join(map(str, lengths))},
        lengths=lengths,
        clean=curves[0],
        outliers=curves[1],
        outlier_channels=channels.tolist(),
    )
