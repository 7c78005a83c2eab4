"""Scaled quantization against hand-worked blocks, a per-block reference loop and known bounds.

Sources: OCP MX v1.0 (shared exponent floor(log2 amax) − emax_elem, E8M0 byte = exponent + 127,
elements saturated then rounded to nearest even); NVIDIA NVFP4 (global = amax/(6·448),
block = e4m3(amax_b / 6 / global)); Max 1960 (the 16-level Lloyd–Max quantizer of N(0, 1) has
MSE ≈ 0.009497, so no 4-bit scheme with one scale per tensor does better).
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.numerics.quantize import PRESETS, quantize, resolve_scheme
from app.core.numerics.quantize_report import block_detail, code_usage, compare_presets, metrics
from app.core.numerics.tensors import generate

E2M1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]  # docs/sources.md: E2M1 magnitudes


def test_mxfp4_block_by_hand() -> None:
    # amax 5.9: floor(log2 5.9) = 2, emax(E2M1) = 2 -> shared exponent 0, scale 1, byte 127
    x = np.array([0.1, -0.7, 3.3, 1.0, 5.9, 0.25, 0.75, -2.5] * 4, np.float32)
    q = quantize(x, resolve_scheme("mxfp4"))
    d = block_detail(x, q, 0)
    assert (d.amax, d.scale_code, d.scale_bits, d.scale) == (
        pytest.approx(5.9),
        127,
        "01111111",
        1.0,
    )
    # RNE on the E2M1 grid: 0.1 -> 0, 0.7 -> 0.5, 3.3 -> 3, 5.9 -> 6, ties 0.25 -> 0,
    # 0.75 -> 1 (to the even mantissa), 2.5 -> 2
    assert d.dequantized[:8] == [0.0, -0.5, 3.0, 1.0, 6.0, 0.0, 1.0, -2.0]
    # codes: sign bit 8, magnitude index into E2M1 (0.5 -> 1, 3 -> 5, 6 -> 7, 2 -> 4)
    assert d.codes[:8] == [0, 9, 5, 2, 7, 0, 2, 12]
    assert d.clipped == 0


def test_mxfp4_block_max_clips_under_the_ocp_rule() -> None:
    # amax 7.5: shared exponent floor(log2 7.5) - 2 = 0, so 7.5 / 1 > 6 saturates to 6;
    # the ceil rule picks 2^1 instead and nothing clips (7.5 / 2 = 3.75 -> 4 -> 8).
    x = np.array([7.5, 1.0] + [0.0] * 30, np.float32)
    ocp = block_detail(x, quantize(x, resolve_scheme("mxfp4")), 0)
    assert (ocp.scale_code, ocp.clipped, ocp.dequantized[0]) == (127, 1, 6.0)
    ceil = block_detail(x, quantize(x, resolve_scheme("mxfp4", scale_rule="ceil")), 0)
    assert (ceil.scale_code, ceil.clipped, ceil.dequantized[:2]) == (128, 0, [8.0, 1.0])


def test_mxfp8_e4m3_block_by_hand() -> None:
    # amax 1000: floor(log2 1000) = 9, emax(E4M3) = 8 -> scale 2^1, byte 128;
    # 1000 / 2 = 500 > 448 saturates -> 896; 3 / 2 = 1.5 exact -> 3; 0.3 / 2 = 0.15 -> 0.15625
    x = np.array([1000.0, 3.0, 0.3] + [0.0] * 29, np.float32)
    d = block_detail(x, quantize(x, resolve_scheme("mxfp8_e4m3")), 0)
    assert (d.scale_code, d.scale, d.clipped) == (128, 2.0, 1)
    assert d.dequantized[:3] == [896.0, 3.0, 0.3125 / 2 * 2]  # 0.15 rounds to 0.15625 (e4m3)


def test_zero_block_takes_the_smallest_scale_and_stays_zero() -> None:
    x = np.zeros(64, np.float32)
    x[40] = 1.0
    q = quantize(x, resolve_scheme("mxfp4"))
    zero = block_detail(x, q, 0)
    assert (zero.amax, zero.scale_code) == (0.0, 0)  # 2^-126 - 2 clamps to E8M0's 2^-127
    assert zero.dequantized == [0.0] * 32
    assert block_detail(x, q, 1).scale_code == 127 - 2  # amax 1: 2^(0 - 2)


def test_nvfp4_two_level_scale_worked_example() -> None:
    # tensor amax 12 -> global = 12 / (6 * 448); block 0 amax 12 -> e4m3(12/6/global) = 448;
    # block 1 amax 0.9 -> 0.9/6/global = 33.6 -> e4m3 32 (spacing 4 in [32, 64))
    x = np.zeros(32, np.float32)
    x[0], x[1] = 12.0, -5.0
    x[16], x[17] = 0.9, 0.3
    q = quantize(x, resolve_scheme("nvfp4"))
    glob = float(np.float32(12 / (6 * 448)))
    assert q.scales.global_scale == pytest.approx(glob, rel=0, abs=0)
    b0, b1 = block_detail(x, q, 0), block_detail(x, q, 1)
    assert (b0.scale, b1.scale) == (448.0, 32.0)
    # -5 / (448 * glob) = -2.5: a tie between E2M1's 2 and 3, to the even mantissa: -2 -> -4.0
    assert b0.dequantized[:2] == pytest.approx([12.0, -2 * 448 * glob])
    # 0.9 / (32 * glob) = 6.3 -> saturates at 6; 0.3 / (32 * glob) = 2.1 -> 2
    assert b1.dequantized[:2] == pytest.approx([6 * 32 * glob, 2 * 32 * glob])
    assert b1.clipped == 0  # 6.3 is below the midpoint 7 above max: it rounds to 6 anyway


def _reference(x: np.ndarray, block: int, elem: str, emax: int, elem_max: float) -> np.ndarray:
    """One block at a time, straight from the OCP text (independent of the vectorised code)."""
    out = np.empty_like(x)
    dt = getattr(ml_dtypes, elem)
    for start in range(0, x.size, block):
        b = x[start : start + block]
        amax = float(np.abs(b).max())
        exp = (math.frexp(amax)[1] - 1 if amax > 0 else -126) - emax
        scale = 2.0 ** max(exp, -127)
        for i, v in enumerate(b):
            y = min(max(float(v) / scale, -elem_max), elem_max)
            out[start + i] = float(np.array([y], np.float32).astype(dt)[0]) * scale
    return out


@pytest.mark.parametrize(
    ("preset", "elem", "emax", "elem_max"),
    [
        ("mxfp4", "float4_e2m1fn", 2, 6.0),
        ("mxfp6_e2m3", "float6_e2m3fn", 2, 7.5),
        ("mxfp6_e3m2", "float6_e3m2fn", 4, 28.0),
        ("mxfp8_e4m3", "float8_e4m3fn", 8, 448.0),
        ("mxfp8_e5m2", "float8_e5m2", 15, 57344.0),
    ],
)
def test_vectorised_mx_equals_a_per_block_loop(
    preset: str, elem: str, emax: int, elem_max: float
) -> None:
    x = generate("outliers", 32 * 40 + 7, seed=3, outlier_fraction=0.02)  # a short last block
    q = quantize(x, resolve_scheme(preset))
    ref = _reference(x, 32, elem, emax, elem_max)
    assert np.array_equal(q.dequantized.ravel().view(np.uint32), ref.view(np.uint32))


def test_preset_equals_its_generic_spelling() -> None:
    x = generate("laplace", 4096, seed=5)
    generic = resolve_scheme("block", "float4_e2m1fn", block_size=32, scale_format="float8_e8m0fnu")
    assert np.array_equal(
        quantize(x, resolve_scheme("mxfp4")).dequantized, quantize(x, generic).dequantized
    )
    nv = resolve_scheme(
        "block", "float4_e2m1fn", block_size=16, scale_format="float8_e4m3fn", global_scale=True
    )
    assert np.array_equal(
        quantize(x, resolve_scheme("nvfp4")).dequantized, quantize(x, nv).dequantized
    )


def test_bits_per_element() -> None:
    x = generate("normal", 1 << 12, seed=0)
    got = {r.scheme: r.metrics.bits_per_element for r in compare_presets(x, cols=1 << 12)}
    assert got["mxfp4"] == 4.25 and got["nvfp4"] == 4.5 and got["mxfp8_e4m3"] == 8.25
    assert got["mxfp6_e2m3"] == 6.25 and got["deepseek_fp8"] == 8 + 32 / 128
    nv = metrics(x, quantize(x, resolve_scheme("nvfp4")))
    assert nv.bits_per_element_total == 4.5 + 32 / (1 << 12)


def test_no_per_tensor_4bit_scheme_beats_lloyd_max() -> None:
    x = generate("normal", 1 << 16, seed=11)
    for fmt in ("float4_e2m1fn", "int4"):
        m = metrics(x, quantize(x, resolve_scheme("tensor", fmt)))
        assert m.mse > 0.009497, fmt  # Max 1960: the optimal 16-level quantizer of N(0, 1)


def test_channel_scales_one_per_row() -> None:
    rows = np.array([[1.0, -2.0, 0.5, 4.0], [100.0, 3.0, -50.0, 1.0]], np.float32)
    q = quantize(rows, resolve_scheme("channel", "int8"))
    assert q.scales.value.ravel().tolist() == pytest.approx([4 / 127, 100 / 127])
    assert q.dequantized[1, 0] == pytest.approx(100.0)
    assert q.codes[0, 3] == 127 and q.codes[0, 1] == (-64) & 0xFF  # -2 / (4/127) = -63.5 -> -64


def test_deepseek_weight_blocks_are_128_by_128() -> None:
    w = generate("normal", 256 * 256, seed=2).reshape(256, 256)
    q = quantize(w, resolve_scheme("deepseek_fp8", block_rows=128))
    assert q.groups.grid == (2, 2)
    amax = np.abs(w[:128, 128:]).max()
    assert q.scales.value[0, 1] == pytest.approx(float(np.float32(amax / 448)))


def test_metrics_and_code_usage() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0], np.float32)
    q = quantize(x, resolve_scheme("none", "float4_e2m1fn"))
    m = metrics(x, q)
    assert (m.mse, m.sqnr_db, m.clipped_fraction, m.zero_fraction) == (0.0, math.inf, 0.0, 0.0)
    assert code_usage(q).tolist() == [1, 0, 1, 0, 1, 1] + [0] * 10
    flushed = metrics(
        np.array([0.1, 6.0], np.float32),
        quantize(np.array([0.1, 6.0], np.float32), resolve_scheme("none", "float4_e2m1fn")),
    )
    assert flushed.zero_fraction == 0.5
    assert flushed.mse == pytest.approx(float(np.float32(0.1)) ** 2 / 2)


def test_seeds_reproduce_and_differ() -> None:
    assert np.array_equal(generate("student_t", 100, 7), generate("student_t", 100, 7))
    assert not np.array_equal(generate("student_t", 100, 7), generate("student_t", 100, 8))


def test_bad_names_and_options() -> None:
    with pytest.raises(UnknownName):
        resolve_scheme("mxfp5")
    with pytest.raises(UnknownName):
        resolve_scheme("block", "float7")
    with pytest.raises(InvalidInput):
        resolve_scheme("block", "float4_e2m1fn", scale_format="float32", global_scale=True)
    assert set(PRESETS) >= {"mxfp4", "nvfp4", "mxint8", "deepseek_fp8"}
