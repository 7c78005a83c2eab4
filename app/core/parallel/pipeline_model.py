"""Pipeline costs in seconds: a model's FLOPs over a GPU's throughput at a stated efficiency.

When a `PipelineQuery` names a `model`, the op costs are derived instead of given, per GPU of
one pipeline rank, for one microbatch of `micro_batch` sequences of `seq_len` tokens:

- forward: the forward FLOPs of the rank's share of the transformer layers (layers / stages,
  dense and MoE layers averaged, `app.core.parallel.flops.layer_flops` at a context of
  `seq_len`), split `tp` ways by tensor parallelism and `cp` ways by context parallelism,
  divided by the GPU's dense BF16 peak × `efficiency`. The LM head and the embedding are left
  out (give `stage_costs` to weight the first and last stage).
- backward: twice the forward (a matmul's backward computes the input gradient and the weight
  gradient, each as many FLOPs as the forward: Kaplan et al. 2020, arXiv 2001.08361, 6N =
  2N forward + 4N backward), split evenly: I = W = F, the split the ZB paper assumes
  (Qi et al. 2023, arXiv 2401.10241, §2: T_F ≈ T_B ≈ T_W). Recomputation runs before the
  input gradient, so it adds to I: full recompute one more forward, selective the attention
  part of one.
- p2p: the activation a stage sends, micro_batch · (seq_len / cp) · hidden bf16 values split
  `tp` ways, over NVLink when the stages × tp × cp GPUs fit in one node, else over the
  scale-out network (bytes / one-direction bandwidth, no latency term).

For example Llama 3 8B on an H100 at 50 %, 4 stages, one 4096-token sequence: a layer costs
2 × 218.1e6 + 2 × 4096 × 4096 = 469.8e6 FLOPs per token, 8 layers × 4096 tokens = 15.39e12
FLOPs, over 494.5e12 FLOP/s = 31.1 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.core.parallel.flops import SOURCE as FLOPS_SOURCE
from app.core.parallel.flops import layer_flops
from app.core.parallel.presets import get_gpu, get_model

SOURCE = (
    f"{FLOPS_SOURCE}; backward = 2 × forward, I = W = F (Qi et al. 2023, arXiv 2401.10241); "
    "time = FLOPs / (dense BF16 peak × efficiency)"
)
EXPLICIT = ("forward", "backward_input", "backward_weight", "p2p")
"""The costs a model derives: giving one of them as well is a conflict."""
MODEL_ONLY = ("gpu", "tp", "cp", "seq_len", "micro_batch", "efficiency", "recompute")
"""The parameters that only a model reads."""


@dataclass(frozen=True)
class ModelCosts:
    """Seconds per microbatch through one rank's share, and how they were found."""

    forward: float
    backward_input: float
    backward_weight: float
    p2p: float
    forward_flops: float
    """FLOPs of one microbatch's forward through one rank's share, per GPU."""
    throughput: float
    """FLOP/s assumed: dense BF16 peak × efficiency."""
    note: str


@dataclass(frozen=True)
class CostModel:
    """The model-related parameters of a pipeline query (see the module docstring)."""

    model: str
    gpu: str
    tp: int
    cp: int
    seq_len: int
    micro_batch: int
    efficiency: float
    recompute: str
    stages: int
    chunks: int


def model_costs(c: CostModel) -> ModelCosts:
    """The derived costs of `c`, checked; raises `InvalidInput` naming the field at fault.

    For example Llama 3 8B on h100-sxm at 0.5, 4 stages, seq_len 4096: forward ≈ 0.0311 s.
    """
    # imported here: communication_terms imports the memory model, which imports the pipeline
    from app.core.parallel.communication_terms import ACTIVATION_BYTES

    m, g = get_model(c.model), get_gpu(c.gpu, "gpu")
    if c.stages * c.chunks > m.layers:
        raise InvalidInput(
            "stages",
            f"stages × chunks = {c.stages * c.chunks} exceeds {m.name}'s {m.layers} layers",
        )
    if c.seq_len % c.cp:
        raise InvalidInput("cp", f"cp ({c.cp}) must divide seq_len ({c.seq_len})")
    dense, moe = layer_flops(m, False, c.seq_len), layer_flops(m, True, c.seq_len)
    n_moe = m.n_moe_layers if m.is_moe else 0
    per_token = dense.forward * m.n_dense_layers + moe.forward * n_moe
    attention = dense.attention * m.n_dense_layers + moe.attention * n_moe
    # one rank holds layers / stages of the model; tp and cp split each layer's work
    share = c.micro_batch * c.seq_len / (c.stages * c.tp * c.cp)
    throughput = g.bf16_tflops * 1e12 * c.efficiency
    forward = share * per_token / throughput
    extra = {"none": 0.0, "full": forward, "selective": share * attention / throughput}
    act = c.micro_batch * (c.seq_len // c.cp) * m.hidden * ACTIVATION_BYTES / c.tp
    in_node = c.stages * c.tp * c.cp <= g.gpus_per_node
    bandwidth = g.intra_node_bandwidth if in_node else g.network_bandwidth
    link = g.intra_node_link if in_node else "the scale-out network"
    note = (
        f"{m.title} on {g.title}: {share * per_token:.4g} forward FLOPs per microbatch per GPU "
        f"of a rank ({m.layers}/{c.stages} layers, tp {c.tp}, cp {c.cp}) over "
        f"{g.bf16_tflops:g} TFLOP/s × {c.efficiency:g}; B = 2F (I = W = F"
        f"{', I + recompute' if c.recompute != 'none' else ''}); p2p {act:.4g} B over {link}; "
        "LM head and embedding not included"
    )
    return ModelCosts(
        forward=forward,
        backward_input=forward + extra[c.recompute],
        backward_weight=forward,
        p2p=act / bandwidth,
        forward_flops=share * per_token,
        throughput=throughput,
        note=note,
    )
