"""Training FLOPs of a transformer, counted the way model FLOPs utilisation counts them.

A matmul with P weights costs 2P FLOPs per token forward and 4P backward, so training costs
6N per token (Kaplan et al. 2020) where N are the weights a token multiplies: every active
layer weight and the LM head, not the input embedding (a lookup). Attention adds
QKᵀ and AV: 4·s·d per token per layer forward over a context of s with d = heads · head_dim,
half of that under a causal mask, so training adds 6·L·s·d per token (PaLM, Chowdhery et al.
2022, App. B: 12·L·H·Q·T, halved for causal masking). Recomputation adds forward FLOPs that
MFU does not count (they are HFU): full recompute one whole forward, selective the attention
part of one.

For example Llama 3 70B at s = 8192: N = 70.55e9 − 1.05e9 (embedding) = 69.50e9, attention
6 × 80 × 8192 × 8192 = 32.2e9, so 6N + 6Lsd = 449.2e9 FLOPs per token.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.parallel.presets import ModelPreset

SOURCE = (
    "6N per token (Kaplan et al. 2020, arXiv 2001.08361) with N the active weights a token "
    "multiplies (LM head, not the input embedding); attention 6·L·s·d per token with causal "
    "masking (PaLM, arXiv 2204.02311 App. B: 12·L·H·Q·T, halved)"
)


@dataclass(frozen=True)
class LayerFlops:
    """Forward FLOPs per token of one layer: its matmuls (2P) and its attention (2·s·d)."""

    matmul: int
    attention: int

    @property
    def forward(self) -> int:
        return self.matmul + self.attention


def attention_width(m: ModelPreset) -> int:
    """d of the attention FLOPs: heads × head_dim (MLA: the mean of the q/k and v widths)."""
    if m.mla is not None:
        return m.heads * (m.mla.qk_head_dim + m.mla.v_head_dim) // 2
    return m.heads * m.head_dim


def layer_flops(m: ModelPreset, moe: bool, context: int) -> LayerFlops:
    """Forward FLOPs per token of a dense or MoE layer at a context of `context` tokens.

    For example a Llama 3 8B layer at 4096 tokens: 2 × 218.1e6 weights + 2 × 4096 × 4096.
    """
    pc = m.param_counts()
    weights = pc.moe_layer_active if moe else pc.dense_layer
    # causal: each query attends to s/2 keys on average, QKᵀ and AV 2 FLOPs per MAC each
    return LayerFlops(2 * weights, 2 * context * attention_width(m))


def head_flops(m: ModelPreset) -> int:
    """Forward FLOPs per token of the LM head (a V × h matmul, tied or not)."""
    return 2 * m.vocab * m.hidden


def training_flops_per_token(m: ModelPreset, context: int) -> int:
    """Model FLOPs per token of one training step: 3 × (forward of every layer + LM head).

    For example Llama 3 70B at 8192 tokens: 449.2e9 (see the module docstring).
    """
    dense = layer_flops(m, False, context).forward * m.n_dense_layers
    moe = layer_flops(m, True, context).forward * m.n_moe_layers if m.is_moe else 0
    return 3 * (dense + moe + head_flops(m))
