"""The memory query's assumptions as labelled choices: what GET /api/v1/memory/options says.

Every assumption that moves the total by more than a few percent is a visible control on
/memory; this is what the page draws those controls from — each parameter's label, its
default (read from `MemoryQuery`'s declaration, so it is stated once) and its choices with a
note and a source — so no choice or default is written in the page.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from app.core.parallel.memory_query import MemoryQuery
from app.core.parallel.memory_states import CONVENTIONS, resolve_storage
from app.core.parallel.memory_terms import PICKER_DTYPES
from app.core.parallel.pipeline import SCHEDULES

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(MemoryQuery)}

_CHOICES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "attention": (
        "Attention kernel",
        [
            (
                "flash",
                "FlashAttention",
                "keeps the output and an fp32 logsumexp per row; no s×s scores (Dao et al. 2022)",
            ),
            ("eager", "Eager", "keeps the s×s softmax output per head (Korthikanti's 5as/h term)"),
        ],
    ),
    "anatomy": (
        "Layer counted",
        [
            (
                "model",
                "The model's own",
                "its norms, GQA, SwiGLU or GELU, MoE routing, MLA, tensor by tensor",
            ),
            (
                "gpt",
                "Korthikanti GPT",
                "4h GELU MLP, multi-head attention, dropout: Table 2 (arXiv 2205.05198)",
            ),
        ],
    ),
    "recompute": (
        "Recompute",
        [
            ("none", "None", "keep every activation the layer saves"),
            (
                "selective",
                "Selective",
                "recompute the attention core, norm and activation outputs, MLA up-projections",
            ),
            ("full", "Full", "keep only each layer's input; about a third more FLOPs"),
        ],
    ),
    "logits": (
        "Loss logits",
        [
            ("fp32", "fp32", "the s·b·V logits upcast to fp32 and kept for the backward"),
            ("bf16", "bf16", "the loss reads bf16 logits (no upcast)"),
            (
                "chunked",
                "Chunked",
                "fused LM head + cross-entropy in chunks: no full logits (Liger, Cut CE)",
            ),
        ],
    ),
}

_MOMENTS = ("float32", "bfloat16")
_GRADS = ("float32", "bfloat16")


def _choices(rows: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"value": v, "label": label, "note": note} for v, label, note in rows]


def _label(spec: Any) -> str:
    """How people write a schedule ("ZB-H1"); older catalogues only have the title."""
    label = getattr(spec, "label", None)
    if label:
        return str(label)
    return str(spec.title).split(":")[0].split(" (")[0].split(" with")[0]


def memory_options() -> dict[str, Any]:
    """Labelled choices and defaults of the memory query's assumptions."""
    controls: list[dict[str, Any]] = [
        {"name": name, "label": label, "default": _DEFAULTS[name], "choices": _choices(rows)}
        for name, (label, rows) in _CHOICES.items()
    ]
    controls.append(
        {
            "name": "convention",
            "label": "Accounting",
            "default": _DEFAULTS["convention"],
            "choices": [
                {"value": c.name, "label": c.label, "note": f"{c.title}: {c.grad_note}; {c.source}"}
                for c in CONVENTIONS.values()
            ],
        }
    )
    controls.append(
        {
            "name": "grad_dtype",
            "label": "Gradients",
            "default": None,
            "default_note": "Convention's",
            "choices": [{"value": d, "label": d, "note": ""} for d in _GRADS],
        }
    )
    controls.append(
        {
            "name": "optimizer_dtype",
            "label": "Adam moments (master weights stay fp32)",
            "default": _DEFAULTS["optimizer_dtype"],
            "choices": [{"value": d, "label": d, "note": ""} for d in _MOMENTS],
        }
    )
    controls.append(
        {
            "name": "schedule",
            "label": "Pipeline schedule",
            "default": _DEFAULTS["schedule"],
            "choices": [
                {"value": s.name, "label": _label(s), "note": s.title} for s in SCHEDULES.values()
            ],
        }
    )
    weights = [*PICKER_DTYPES, "deepseek_fp8"]
    return {
        "controls": controls,
        "numbers": [
            {
                "name": "overhead",
                "label": "Overhead kept free (GB)",
                "default": _DEFAULTS["overhead"],
                "note": "CUDA context, NCCL buffers, allocator fragmentation",
            },
            {
                "name": "capacity_factor",
                "label": "MoE capacity factor",
                "default": _DEFAULTS["capacity_factor"],
                "note": "blank: dropless, balanced",
            },
            {
                "name": "global_batch",
                "label": "Global batch (tokens)",
                "default": _DEFAULTS["global_batch"],
                "note": "microbatches = tokens / (dp·b·s)",
            },
        ],
        "weight_dtypes": [
            {"name": w.name, "bits": w.bits} for w in (resolve_storage(d, "dtype") for d in weights)
        ],
    }
