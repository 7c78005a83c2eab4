"""Low-precision attention against a hand-computed head and sanity bounds.

The tiny case: d = 4 (so 1/√d = 1/2), one query q = (2, 0, 0, 0), keys k₀ = 0 and
k₁ = (ln 3, 0, 0, 0): scores (0, ln 3), softmax (1/4, 3/4); values v₀ = (4, 0, 0, 0),
v₁ = (0, 8, 0, 0), output (1, 6, 0, 0). In FP8 E4M3 with one FP32 scale per tensor, Q, K and V
map their maxima onto 448 exactly; P̃ = exp(S − max) = (1/3, 1) scales by 448 and
448/3 = 149.33 rounds to 144 (E4M3 spacing is 16 in [128, 256)), so P̃_q = (144/448, 1),
l = 4/3, the output is (0.96429, 6) and the weights (0.24107, 0.75).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.limits import limit
from app.core.numerics.attention import (
    AttentionQuery,
    head_errors,
    parse_lengths,
    quantizer,
    run_attention,
)

Q = np.array([[2.0, 0, 0, 0]])
K = np.array([[0.0, 0, 0, 0], [math.log(3), 0, 0, 0]])
V = np.array([[4.0, 0, 0, 0], [0, 8.0, 0, 0]])


def test_hand_computed_head_in_e4m3() -> None:
    fp8 = quantizer("float8_e4m3fn")
    out_err, w_err = head_errors((Q, K, V), fp8, fp8)
    p0 = 144 / 448 / (4 / 3)
    output = np.array([4 * p0, 6.0])
    assert out_err == pytest.approx(np.linalg.norm(output - [1, 6]) / math.hypot(1, 6), rel=1e-5)
    assert w_err == pytest.approx(abs(p0 - 0.25) / math.hypot(0.25, 0.75), rel=1e-5)


def test_float32_everywhere_is_the_reference_to_float32_precision() -> None:
    fp32 = quantizer("float32")
    assert max(head_errors((Q, K, V), fp32, fp32)) < 1e-6
    r = run_attention(AttentionQuery(format="float32", p_format="float32", lengths="32,256"))
    for curve in (r.clean, r.outliers):
        assert curve.output_error.max() < 1e-5 and curve.weight_error.max() < 1e-5


def test_fp8_costs_more_than_bf16_and_fp4_more_than_fp8() -> None:
    def worst(fmt: str, scheme: str = "tensor") -> float:
        r = run_attention(AttentionQuery(format=fmt, p_format=fmt, scheme=scheme, lengths="64,256"))
        return float(r.clean.output_error.max())

    bf16, fp8, fp4 = worst("bfloat16"), worst("float8_e4m3fn"), worst("float4_e2m1fn", "block")
    # unit roundoff: bf16 2^-8, e4m3 2^-4; the errors follow, well apart
    assert 0 < bf16 < 2**-7 and 4 * bf16 < fp8 < 0.2 and fp8 < fp4


def test_outlier_channels_in_k_cost_precision_under_one_scale_per_tensor() -> None:
    r = run_attention(AttentionQuery(lengths="128,512", outlier_scale=50.0))
    assert (r.outliers.output_error > r.clean.output_error).all()
    assert len(r.outlier_channels) == 4 and r.query["lengths"] == "128,512"


def test_seeds_reproduce() -> None:
    a = run_attention(AttentionQuery(lengths="64", seed=3))
    b = run_attention(AttentionQuery(lengths="64", seed=3))
    assert a.clean.output_error.tolist() == b.clean.output_error.tolist()


def test_bad_lengths_and_names() -> None:
    assert parse_lengths(" 512,64 ,64") == [64, 512]
    for bad in (
        "",
        "0",
        "64,",
        "1e3",
        "²",
        "99999",
        ",".join(str(i) for i in range(1, limit("attention_lengths") + 2)),
    ):
        with pytest.raises(InvalidInput) as err:
            parse_lengths(bad)
        assert err.value.field == "lengths"
    with pytest.raises(UnknownName) as unknown:
        run_attention(AttentionQuery(p_format="float8_e4m3fx"))
    assert unknown.value.field == "p_format"
    with pytest.raises(InvalidInput) as over:
        run_attention(AttentionQuery(head_dim=2, outlier_channels=4))
    assert over.value.field == "outlier_channels"
