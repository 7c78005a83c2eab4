"""Seeded test tensors for the quantization and arithmetic labs.

Real weights and activations are roughly normal with heavy tails and a few large outliers
(the reason block scaling exists), so the labs offer those shapes, always as float32 and always
from a seed: the same query string gives the same tensor on every machine.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput

Distribution = Literal["normal", "laplace", "student_t", "uniform", "lognormal", "outliers", "ones"]
# What the quantization lab offers: every shape but `ones` (a sum's textbook case, not a tensor's)
TensorDistribution = Literal["normal", "laplace", "student_t", "uniform", "lognormal", "outliers"]
DISTRIBUTION_NOTES: Final = {
    "normal": "N(0, 1): the textbook weight.",
    "laplace": "Laplace(0, 1): heavier tails, typical of trained weights.",
    "student_t": "Student's t with `df` degrees of freedom: heavy tails (df = 3 by default).",
    "uniform": "Uniform on [−1, 1): no tails at all.",
    "lognormal": "exp(N(0, 1)): positive and skewed, like post-activation magnitudes.",
    "outliers": "N(0, 1) with `outlier_fraction` of the values drawn from "
    "N(0, outlier_scale²): the activation outliers block scaling exists for.",
    "ones": "Every value 1.0 (for sums: shows where an accumulator stops growing).",
}
# The generator parameters each shape reads (the others are ignored for it)
DISTRIBUTION_PARAMS: Final = {
    "student_t": ("df",),
    "outliers": ("outlier_fraction", "outlier_scale"),
}
DISTRIBUTIONS: Final = tuple(DISTRIBUTION_NOTES)
TENSOR_DISTRIBUTIONS: Final = tuple(d for d in DISTRIBUTIONS if d != "ones")


def generate(
    distribution: Distribution,
    n: int,
    seed: int = 0,
    *,
    scale: float = 1.0,
    df: float = 3.0,
    outlier_fraction: float = 0.001,
    outlier_scale: float = 100.0,
) -> npt.NDArray[np.float32]:
    """`n` float32 values, e.g. ``generate("outliers", 4096, seed=1)``: N(0, 1) with 0.1% of
    the values replaced by N(0, 100²) (the scale of an activation outlier channel).

    `scale` multiplies every value; `ones` ignores the seed.
    """
    rng = np.random.default_rng(seed)
    if distribution == "normal":
        x = rng.standard_normal(n)
    elif distribution == "laplace":
        x = rng.laplace(0.0, 1.0, n)
    elif distribution == "student_t":
        if not df > 0:
            raise InvalidInput("df", "degrees of freedom must be positive")
        x = rng.standard_t(df, n)
    elif distribution == "uniform":
        x = rng.uniform(-1.0, 1.0, n)
    elif distribution == "lognormal":
        x = rng.lognormal(0.0, 1.0, n)
    elif distribution == "outliers":
        if not 0 <= outlier_fraction <= 1:
            raise InvalidInput("outlier_fraction", "must be between 0 and 1")
        x = rng.standard_normal(n)
        k = round(outlier_fraction * n)
        where = rng.choice(n, size=k, replace=False) if k else np.zeros(0, dtype=np.int64)
        x[where] = rng.standard_normal(k) * outlier_scale
    elif distribution == "ones":
        x = np.ones(n)
    else:  # pragma: no cover - the API's Literal type rejects other names first
        raise InvalidInput("distribution", f"choose from {', '.join(DISTRIBUTIONS)}")
    return (x * scale).astype(np.float32)
