"""The lab's report helpers: fast histograms equal numpy's, code tables, block detail caps,
non-finite inputs, and the query echo that fills preset options in."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import InvalidInput
from app.core.limits import limit
from app.core.numerics.arithmetic import accumulate, ulp
from app.core.numerics.quantize import element, quantize, resolve_scheme
from app.core.numerics.quantize_lab import catalogue, quantize_report, run_quantize
from app.core.numerics.quantize_query import QuantizeOptions, QuantizeQuery
from app.core.numerics.quantize_report import block_detail, code_table, histograms, uniform_counts
from app.core.numerics.tensors import generate


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_subnormal=True), min_size=1, max_size=300),
    bins=st.integers(1, 70),
    on_edges=st.booleans(),
)
def test_uniform_counts_equal_numpy_histogram(
    values: list[float], bins: int, on_edges: bool
) -> None:
    x = np.array(values)
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    if on_edges:  # values exactly on the edges are the hard case
        x = np.concatenate([x, edges])
    assert uniform_counts(x, edges).tolist() == np.histogram(x, edges)[0].tolist()


def test_code_table_lists_values_by_code() -> None:
    x = np.array([0.0, 0.5, -6.0, 6.0, 3.0], np.float32)
    t = code_table(quantize(x, resolve_scheme("none", "float4_e2m1fn")))
    assert t.complete and t.codes.tolist() == list(range(16))
    # E2M1: sign bit 8, magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6 (OCP MX v1.0 Table 4)
    assert t.values[:8].tolist() == [0, 0.5, 1, 1.5, 2, 3, 4, 6]
    assert t.values[8:].tolist() == [-0.0, -0.5, -1, -1.5, -2, -3, -4, -6]
    assert t.counts[[0, 1, 5, 7, 15]].tolist() == [1, 1, 1, 1, 1]
    mx = code_table(quantize(np.array([1.0, -1.0], np.float32), resolve_scheme("mxint8")))
    # MXINT8: int8 × 2^-6; code 0x80 is never used (symmetric) but listed as −128 · 2^-6
    assert mx.values[[1, 64, 127, 128, 255]].tolist() == [1 / 64, 1.0, 127 / 64, -2.0, -1 / 64]
    wide = code_table(quantize(x, resolve_scheme("none", "bfloat16")))
    assert not wide.complete and wide.counts.sum() == 5 and len(wide.codes) == 5


def test_block_detail_lists_at_most_the_limit() -> None:
    x = np.arange(1000, dtype=np.float32)
    d = block_detail(x, quantize(x, resolve_scheme("tensor", "int8")), 0)
    cap = limit("quantize_block_elements")
    assert (d.size, d.listed, len(d.codes), len(d.inputs)) == (1000, cap, cap, cap)
    assert d.inputs[-1] == cap - 1 and d.scale_exponent is None
    mx = block_detail(x, quantize(x, resolve_scheme("mxfp4")), 1)
    # amax of 32..63 is 63: floor(log2 63) = 5, minus E2M1's emax 2: shared exponent 3
    assert (mx.scale_exponent, mx.scale_code, mx.multiplier) == (3, 130, 8.0)
    # 32 / 8 = 4 is E2M1 code 0110; 63 / 8 = 7.875 is past 6: saturated to 0111 and marked
    assert (mx.code_bits[0], mx.code_bits[-1], mx.clipped_flags[-1]) == ("0110", "0111", True)
    assert mx.clipped_flags.count(True) == mx.clipped


def test_non_finite_inputs_are_stored_but_left_out_of_the_metrics() -> None:
    x = np.array([1.0, np.nan, np.inf, -2.0, 0.5, 3.0], np.float32)
    for scheme in ("mxint8", "mxfp4", "mxfp8_e4m3", "nvfp4"):
        r = quantize_report(QuantizeOptions(scheme=scheme), x)
        assert r.metrics.non_finite == 2, scheme
        assert math.isfinite(r.metrics.mse) and r.histograms.input.counts.sum() == 4
    # int elements: NaN stores code 0 (it used to cast NaN to an integer)
    q = quantize(x, resolve_scheme("mxint8"))
    assert q.codes[0, 1] == 0 and q.dequantized[0, 1] == 0


def test_the_echo_fills_preset_options_and_drops_unused_ones() -> None:
    nv = run_quantize(QuantizeQuery(scheme="NVFP4", n=64))
    assert nv.query["scheme"] == "nvfp4" and nv.query["block_size"] == 16
    assert nv.query["scale_format"] == "float8_e4m3fn" and nv.query["global_scale"] is True
    assert nv.query["scale_rule"] is None  # only power-of-two scales have a rule
    tensor = run_quantize(QuantizeQuery(scheme="tensor", format="int8", block_size=16, n=64))
    assert tensor.query["block_size"] is None and tensor.scheme.modified == []
    bent = run_quantize(QuantizeQuery(scheme="mxfp4", block_size=16, n=64))
    assert bent.scheme.modified == ["block_size"] and bent.metrics.bits_per_element == 4.5
    with pytest.raises(InvalidInput) as err:
        run_quantize(QuantizeQuery(n=100, cols=30))
    assert err.value.field == "cols"


def test_catalogue_names_resolve() -> None:
    cat = catalogue()
    for p in cat["presets"]:
        assert resolve_scheme(p["name"]).format == p["format"]
    assert {p["name"]: p["bits_per_element"] for p in cat["presets"]}["nvfp4"] == 4.5
    assert [d["name"] for d in cat["distributions"] if not d["tensor"]] == ["ones"]


def test_stall_is_explained_by_the_spacing() -> None:
    # bf16 keeps 8 significant bits: at 256 the spacing is 2, so 256 + 1 is a tie -> 256
    acc = accumulate("bf16", None, 1000, "ones")
    assert (acc.format, acc.stall_sum, acc.stall_term, acc.stall_ulp) == ("bfloat16", 256, 1, 2)
    assert acc.unit_roundoff == 2**-8
    assert ulp("float16", 2048.0) == 2.0 and ulp("float8_e4m3fn", 16.0) == 2.0
    # below min_normal the spacing is the subnormal step
    assert ulp("float8_e4m3fn", 2**-8) == float(
        ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).smallest_subnormal
    )


def test_clipped_means_saturation_changed_the_value() -> None:
    # E2M1: max 6, the next value a wider exponent would hold is 8; 7 is the tie, and RNE sends
    # it to 8 (even significand), so 7 clips and 6.9 does not (it rounds to 6 anyway)
    e2m1 = element("float4_e2m1fn")
    y = np.array([6.0, 6.9, 7.0, -7.1], np.float32)
    assert e2m1.saturated(y).tolist() == [False, False, True, True]
    # E4M3: max 448, spacing 32; the tie 464 rounds to 448 (even), anything past it clips
    e4m3 = element("float8_e4m3fn")
    assert e4m3.saturated(np.array([464.0, 465.0], np.float32)).tolist() == [False, True]
    int8 = element("int8")
    assert int8.saturated(np.array([127.4, 127.5], np.float32)).tolist() == [False, True]
    # a per-tensor FP32 scale puts amax on max up to one rounding: never clipped
    x = np.random.default_rng(1).standard_normal(10_000).astype(np.float32)
    for fmt in ("int8", "float8_e4m3fn", "float4_e2m1fn"):
        assert not quantize(x, resolve_scheme("tensor", fmt)).clipped.any(), fmt


def test_central_range_keeps_the_bulk_visible_and_counts_the_rest() -> None:
    x = generate("outliers", 20_000, seed=4, outlier_fraction=0.002)
    q = quantize(x, resolve_scheme("mxfp8_e4m3"))
    auto = histograms(x, q, 50, "auto")
    full = histograms(x, q, 50, "full")
    assert (auto.range, full.range) == ("central", "full")
    lo, hi = np.quantile(x.astype(np.float64), [0.001, 0.999])
    assert auto.input.edges[0] == lo and auto.input.edges[-1] == hi
    assert auto.input.below == np.count_nonzero(x < lo) and auto.input.above == np.count_nonzero(
        x > hi
    )
    assert auto.input.counts.sum() + auto.input.below + auto.input.above == x.size
    assert full.input.counts.sum() == x.size and full.input.below == full.input.above == 0
    # no outliers: auto keeps the full range
    y = generate("uniform", 20_000, seed=4)
    assert histograms(y, quantize(y, resolve_scheme("mxfp4")), 50, "auto").range == "full"


def test_names_come_from_the_dtype_table() -> None:
    # the block dtypes of /memory name the presets they define; element aliases work here too
    assert resolve_scheme("MXFP8").name == "mxfp8_e4m3" and resolve_scheme("mxfp6").name == (
        "mxfp6_e2m3"
    )
    assert resolve_scheme("block", "fp8").format == "float8_e4m3fn"
    assert resolve_scheme("tensor", "BF16").format == "bfloat16"
