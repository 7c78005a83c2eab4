"""How published runs count training FLOPs, and which peak they divide by.

A throughput claim becomes an MFU only through two choices, and published figures make them
differently:

- **FLOPs per token.** 6N (Kaplan et al. 2020): a matmul with P weights costs 2P forward and 4P
  backward per token. PaLM (Chowdhery et al. 2022, App. B) adds attention, 12·L·s·d per token
  for a full (non-causal) s × s score matrix; causal masking halves it to 6·L·s·d. Megatron's
  GPT formula counts a GPT layer's matmuls from L, h and V only: 72·L·h²(1 + s/6h + V/12Lh)
  (Korthikanti et al. 2022 §6), and with full recomputation 96·L·h²(1 + s/6h + V/16Lh)
  (Narayanan et al. 2021, eq. 3) — one more forward pass, hardware FLOPs (HFU), not model
  FLOPs. Narayanan's time estimate 8TP/nX rounds that to 8N.
- **The peak.** BF16 or FP8, dense or with 2:4 structured sparsity (the datasheet's larger
  figure, twice the dense one). MFU divides by the dense peak of the precision the kernels ran.

N is the parameters a token uses: all of them for a dense model, the activated ones for a MoE
(embeddings and LM head included, as the published totals count them). Every convention is a
function of `ModelDims` and the sequence length, so a test can check each by hand.

For example Llama 3 70B (N = 70.55e9, L = 80, h = d = 8,192, V = 128,256) at s = 8,192:
6N = 423.3e9, 6N + 12·L·s·d = 487.8e9, 6N + 6·L·s·d = 455.5e9 and
72·L·h²(1 + s/6h + V/12Lh) = 457.3e9 FLOPs per token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.core.errors import InvalidInput
from app.core.names import Registry
from app.core.parallel.flops import attention_width
from app.core.parallel.presets import GPUPreset, ModelPreset

Kind = Literal["mfu", "hfu"]
Recompute = Literal["none", "selective", "full"]

SRC_KAPLAN = "Kaplan et al. 2020 (arXiv 2001.08361) §2.1: C ≈ 6N per token"
SRC_PALM = "Chowdhery et al. 2022, PaLM (arXiv 2204.02311) App. B: 6N + 12·L·H·Q·T"
SRC_CAUSAL = (
    "PaLM App. B halved for causal masking (each query sees s/2 keys on average); what "
    "bitmesh's step-time model counts (app/core/parallel/flops.py)"
)
SRC_KORTHIKANTI = (
    "Korthikanti et al. 2022 (arXiv 2205.05198) §6: model FLOPs 72·B·s·L·h²(1 + s/6h + V/12Lh), "
    "with selective recomputation 72·B·s·L·h²(1 + s/3h + V/12Lh)"
)
SRC_NARAYANAN = (
    "Narayanan et al. 2021 (arXiv 2104.04473) §5.1 eq. (3): 96·B·s·L·h²(1 + s/6h + V/16Lh) "
    "per iteration with full activation recomputation"
)
SRC_EIGHT = "Narayanan et al. 2021 (arXiv 2104.04473) §5.1 eq. (4): training time ≈ 8TP/(nX)"
SRC_MOSAIC = (
    "MosaicML llm-foundry scripts/train/benchmarking/README.md: MFU (6N + 12·L·d·s) and, with "
    "activation checkpointing, HFU = 4/3 of it"
)


@dataclass(frozen=True)
class ModelDims:
    """What the conventions read from a model.

    `params` is N as published totals count it (MoE: activated). `layers`, `hidden`,
    `attention_width` (d = heads · head_dim) and `vocab` are None when only a count is known;
    conventions that need them are then left out.
    """

    name: str
    title: str
    params: float
    layers: int | None = None
    hidden: int | None = None
    attention_width: int | None = None
    vocab: int | None = None

    @property
    def has_architecture(self) -> bool:
        return None not in (self.layers, self.hidden, self.attention_width, self.vocab)

    @classmethod
    def of(cls, m: ModelPreset) -> ModelDims:
        """A preset's dimensions: ``ModelDims.of(get_model("llama3-8b")).params == 8.03e9``."""
        return cls(
            m.name, m.title, m.active_params, m.layers, m.hidden, attention_width(m), m.vocab
        )


def _arch(m: ModelDims) -> tuple[int, int, int, int]:
    assert m.layers and m.hidden and m.attention_width and m.vocab  # checked by `applies`
    return m.layers, m.hidden, m.attention_width, m.vocab


def six_n(m: ModelDims, s: int, r: Recompute) -> float:
    """6N: ``six_n(ModelDims("x", "x", 1e9), 2048, "none") == 6e9``."""
    return 6 * m.params


def six_n_attention(m: ModelDims, s: int, r: Recompute) -> float:
    """6N + 12·L·s·d (full score matrix). Example: N = 1e9, L = 2, d = 64, s = 128:
    6e9 + 12 × 2 × 128 × 64 = 6,000,196,608."""
    layers, _, d, _ = _arch(m)
    return 6 * m.params + 12 * layers * s * d


def six_n_causal(m: ModelDims, s: int, r: Recompute) -> float:
    """6N + 6·L·s·d (causal mask: half the scores). Example as above: 6,000,098,304."""
    layers, _, d, _ = _arch(m)
    return 6 * m.params + 6 * layers * s * d


def megatron(m: ModelDims, s: int, r: Recompute) -> float:
    """72·L·h²(1 + s/6h + V/12Lh) = 72Lh² + 12Lsh + 6hV. Example L = 2, h = 64, V = 100,
    s = 128: 589,824 + 196,608 + 38,400 = 824,832."""
    layers, h, _, vocab = _arch(m)
    return 72 * layers * h * h * (1 + s / (6 * h) + vocab / (12 * layers * h))


def eight_n(m: ModelDims, s: int, r: Recompute) -> float:
    """8N: 6N plus one more forward pass (full recomputation), attention and logits dropped."""
    return 8 * m.params


def six_n_attention_hfu(m: ModelDims, s: int, r: Recompute) -> float:
    """PaLM's count plus what recomputation runs again: a whole forward (4/3 of it, as
    llm-foundry's HFU) when full; the attention scores' forward (4·L·s·d) when selective."""
    layers, _, d, _ = _arch(m)
    model = six_n_attention(m, s, r)
    return model * 4 / 3 if r == "full" else model + 4 * layers * s * d


def megatron_hfu(m: ModelDims, s: int, r: Recompute) -> float:
    """Full: 96·L·h²(1 + s/6h + V/16Lh); selective: 72·L·h²(1 + s/3h + V/12Lh).
    Example full, L = 2, h = 64, V = 100, s = 128: 786,432 + 262,144 + 38,400 = 1,086,976."""
    layers, h, _, vocab = _arch(m)
    if r == "full":
        return 96 * layers * h * h * (1 + s / (6 * h) + vocab / (16 * layers * h))
    return 72 * layers * h * h * (1 + s / (3 * h) + vocab / (12 * layers * h))


@dataclass(frozen=True)
class Convention:
    """One way of counting training FLOPs per token."""

    name: str
    title: str
    kind: Kind
    formula: str
    source: str
    per_token: Callable[[ModelDims, int, Recompute], float]
    architecture: bool = True
    """Needs L, h, d, V (False: a parameter count is enough)."""
    recompute: tuple[Recompute, ...] = ("none", "selective", "full")
    """The recomputation settings the formula describes (HFU: only runs that recompute)."""

    def applies(self, m: ModelDims, recompute: Recompute | None) -> bool:
        if self.architecture and not m.has_architecture:
            return False
        if self.kind == "hfu":
            return recompute is not None and recompute in self.recompute
        return True

    def flops_per_token(self, m: ModelDims, s: int, recompute: Recompute | None) -> float:
        if not self.applies(m, recompute):
            raise InvalidInput("convention", f"{self.name} does not apply to this claim")
        return self.per_token(m, s, recompute or "none")


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention("6n", "6N", "mfu", "6·N", SRC_KAPLAN, six_n, architecture=False),
        Convention(
            "6n_attention",
            "6N + attention (PaLM, full scores)",
            "mfu",
            "6·N + 12·L·s·d",
            SRC_PALM + "; " + SRC_MOSAIC,
            six_n_attention,
        ),
        Convention(
            "6n_attention_causal",
            "6N + attention (causal)",
            "mfu",
            "6·N + 6·L·s·d",
            SRC_CAUSAL,
            six_n_causal,
        ),
        Convention(
            "megatron",
            "Megatron GPT formula",
            "mfu",
            "72·L·h²·(1 + s/(6h) + V/(12·L·h))",
            SRC_KORTHIKANTI,
            megatron,
        ),
        Convention(
            "8n",
            "8N (6N + recomputed forward)",
            "hfu",
            "8·N",
            SRC_EIGHT,
            eight_n,
            architecture=False,
            recompute=("full",),
        ),
        Convention(
            "6n_attention_hfu",
            "6N + attention, recompute counted",
            "hfu",
            "full: 4/3·(6·N + 12·L·s·d); selective: 6·N + 16·L·s·d",
            SRC_MOSAIC,
            six_n_attention_hfu,
            recompute=("selective", "full"),
        ),
        Convention(
            "megatron_hfu",
            "Megatron, recompute counted",
            "hfu",
            "full: 96·L·h²·(1 + s/(6h) + V/(16·L·h)); selective: 72·L·h²·(1 + s/(3h) + V/(12·L·h))",
            SRC_NARAYANAN + "; " + SRC_KORTHIKANTI,
            megatron_hfu,
            recompute=("selective", "full"),
        ),
    )
}
CONVENTION_NAMES = Registry(
    "convention",
    CONVENTIONS,
    aliases={
        "kaplan": "6n",
        "palm": "6n_attention",
        "causal": "6n_attention_causal",
        "hfu": "megatron_hfu",
        "megatron_mfu": "megatron",
    },
)
REFERENCE = "6n_attention_causal"
"""The count bitmesh's step-time model uses, and what the time bar splits the step by."""


def get_convention(name: str, field: str = "convention") -> Convention:
    """A convention by any spelling: ``get_convention("PaLM").name == "6n_attention"``."""
    return CONVENTIONS[CONVENTION_NAMES.resolve(name, field)]


# ---------------------------------------------------------------- peaks

SPARSITY = 2
"""2:4 structured sparsity doubles the datasheet figure (NVIDIA A100/H100/B200 and AMD MI300X
datasheets list the sparse figure at twice the dense one)."""


@dataclass(frozen=True)
class Peak:
    name: str
    title: str
    dtype: Literal["bf16", "fp8"]
    sparse: bool

    def tflops(self, gpu: GPUPreset) -> float | None:
        """TFLOP/s of `gpu` at this peak (None where the GPU has no FP8 tensor cores)."""
        dense = gpu.bf16_tflops if self.dtype == "bf16" else gpu.fp8_tflops
        if dense is None:
            return None
        return dense * SPARSITY if self.sparse else dense


PEAKS: dict[str, Peak] = {
    p.name: p
    for p in (
        Peak("bf16_dense", "BF16 dense", "bf16", False),
        Peak("bf16_sparse", "BF16 with 2:4 sparsity", "bf16", True),
        Peak("fp8_dense", "FP8 dense", "fp8", False),
        Peak("fp8_sparse", "FP8 with 2:4 sparsity", "fp8", True),
    )
}
PEAK_NAMES = Registry("peak", PEAKS, aliases={"bf16": "bf16_dense", "fp8": "fp8_dense"})
PEAK_SOURCE = (
    "GPU datasheets (dense tensor-core figures; the 2:4-sparse figure is twice the dense one). "
    "MFU divides by the dense peak of the precision the kernels ran in (PaLM App. B)."
)
