"""Per-GPU memory of training and inference under DP/ZeRO, TP, SP, PP, CP and EP.

Every term is returned with its formula (numbers substituted) and its source, per pipeline
stage; the headline numbers are those of the fullest stage. For example Ψ = 7.5B, N_d = 64
(ZeRO paper §5): 120 GB (ZeRO-0), 31.4 GB (1), 16.6 GB (2), 1.88 GB (3) of model states
per GPU.

A request runs one way through a pipeline of modules, each using only the public names of
the ones before it:

1. `memory_query`: the query, resolved into model, GPU, dtypes, the simulated pipeline
   schedule (`memory_schedule`) and each rank's layers (`memory_layout`);
2. `memory_terms`, `memory_anatomy`, `memory_states`: what a term is, the tensors a layer
   keeps for its backward, and the model states under each accounting convention (every
   formula an `app.core.symbolic` expression);
3. `memory_stages`: every term of one GPU of each pipeline stage, and its totals;
4. `memory_report`: the fullest stage's numbers and the verdict against capacity less the
   overhead;
5. `memory_advice`: changes that lower the total, in the order a practitioner tries them.
"""

from __future__ import annotations

from dataclasses import replace

from app.core.parallel.memory_advice import advise
from app.core.parallel.memory_anatomy import LayerShape, layer_anatomy
from app.core.parallel.memory_layout import layers_per_stage
from app.core.parallel.memory_query import MemoryQuery
from app.core.parallel.memory_report import Advice, MemoryReport, memory_report
from app.core.parallel.memory_stages import StageMemory
from app.core.parallel.memory_terms import (
    Mode,
    Recompute,
    Term,
    WeightDtype,
    activation_bytes_per_layer,
    dtype_names,
    resolve_dtype,
)

__all__ = [
    "Advice",
    "LayerShape",
    "MemoryQuery",
    "MemoryReport",
    "Mode",
    "Recompute",
    "StageMemory",
    "Term",
    "WeightDtype",
    "activation_bytes_per_layer",
    "compute_memory",
    "dtype_names",
    "layer_anatomy",
    "layers_per_stage",
    "resolve_dtype",
]


def compute_memory(q: MemoryQuery) -> MemoryReport:
    """Per-GPU memory for `q`; headline numbers are the fullest pipeline stage's.

    For example ``compute_memory(MemoryQuery(params=7.5e9, dp=64, zero=3)).total``
    is (2 + 2 + 12) × 7.5e9 / 64 = 1,875,000,000 bytes.
    """
    report = memory_report(q)
    return replace(report, advice=advise(q, report))
