"""Low-precision accumulation against an independent scalar loop and known stall points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.errors import InvalidInput
from app.core.numerics.arithmetic import accumulate, decimate, dot_growth
from app.core.numerics.codec import encode
from app.core.numerics.tensors import generate


@pytest.mark.parametrize(
    ("fmt", "stall"),
    # p significant bits: summing ones stops at 2^p (2^p + 1 is a tie, rounded to even)
    [("bfloat16", 256), ("float16", 2048), ("float8_e4m3fn", 16), ("float8_e5m2", 8)],
)
def test_summing_ones_stalls_at_two_to_the_precision(fmt: str, stall: int) -> None:
    acc = accumulate(fmt, None, 3000, "ones")
    assert acc.stalled_at == stall  # 0-based index of the first term that changes nothing
    assert acc.final == stall and acc.exact == 3000.0
    assert acc.fp32_final == 3000.0  # the same terms in a float32 accumulator


def test_the_issue_example() -> None:
    acc = accumulate("bfloat16", None, 1000, "ones")
    assert acc.final == 256.0 and acc.partial_sums[-1] == 256.0


def test_running_sum_equals_a_scalar_loop_with_one_rounding_per_add() -> None:
    acc = accumulate("bfloat16", None, 1500, "normal", seed=4, mean=0.5)
    terms = generate("normal", 1500, 4) + np.float32(0.5)
    s = 0.0
    expected = []
    for t in terms.tolist():
        term = encode("bfloat16", t, "nearest_even", "native", None).value
        s = encode("bfloat16", s + term, "nearest_even", "native", None).value  # exact + 1 rounding
        expected.append(s)
    assert acc.partial_sums.tolist() == expected  # n < 2000: every index is kept
    assert acc.stalled_at is not None  # a mean of 0.5 grows the sum until small terms vanish


def test_decimation_keeps_both_ends() -> None:
    idx = decimate(10_000, 2000)
    assert idx[0] == 0 and idx[-1] == 9_999 and len(idx) <= 2000
    assert decimate(5).tolist() == [0, 1, 2, 3, 4]


def test_wider_accumulator_and_pairwise() -> None:
    acc = accumulate("bfloat16", "float32", 5000, "ones")
    assert acc.final == 5000.0 and acc.stalled_at is None
    # a balanced tree in bf16 keeps every partial sum exact for ones up to 2^8 per subtree...
    tree = accumulate("bfloat16", None, 4096, "ones")
    assert tree.pairwise_final == 4096.0 and tree.final == 256.0


def test_dot_product_error_grows_with_length_and_shrinks_with_a_wide_accumulator() -> None:
    low = dot_growth("bfloat16", "bfloat16", 1 << 14)
    wide = dot_growth("bfloat16", "float32", 1 << 14)
    assert low.lengths.tolist() == [2**k for k in range(15)]
    assert low.relative_error[-1] > 100 * wide.relative_error[-1]
    assert wide.relative_error[0] == 0.0  # one product, exact in float32
    assert 0 < low.relative_error[0] <= 2**-8  # the same product rounded once into bf16
    assert low.unit_roundoff == 2**-8 and math.isclose(low.bound[-1], 128 * 2**-8)


def test_formats_that_cannot_hold_a_sum() -> None:
    with pytest.raises(InvalidInput):
        accumulate("float8_e8m0fnu", None, 10)
    with pytest.raises(InvalidInput):
        dot_growth("float32", "float32", 16)
