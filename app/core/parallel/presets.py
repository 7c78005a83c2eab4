"""Published model architectures, GPU datasheets and real parallel layouts.

Every number here is copied from a model card, a `config.json` or a vendor datasheet (cited at the
entry), except the parameter counts, which are *computed* from the architecture so that a test can
check them against the published totals (within 2%).

Weights are counted the way the checkpoints store them: attention projections, MLP / expert
projections, routers, norms, embeddings and (unless tied) the LM head. For example Llama 3 8B:
32 layers x (attention 41.9M + SwiGLU MLP 176.2M + 2 norms) + 2 x 128256 x 4096 embeddings
+ final norm = 8,030,261,248 parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.errors import InvalidInput
from app.core.names import Registry


@dataclass(frozen=True)
class MLA:
    """Multi-head latent attention dimensions (DeepSeek-V2/V3)."""

    q_lora_rank: int
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts of one model, split the way parallelism splits them."""

    embedding: int
    lm_head: int
    final_norm: int
    attention_per_layer: int
    dense_mlp_per_layer: int
    expert_params_per_expert: int
    router_per_layer: int
    shared_expert_per_layer: int
    norms_per_layer: int
    dense_layers: int
    moe_layers: int
    experts: int
    experts_per_token: int

    @property
    def dense_layer(self) -> int:
        """Parameters of one dense transformer layer."""
        return self.attention_per_layer + self.dense_mlp_per_layer + self.norms_per_layer

    @property
    def moe_layer(self) -> int:
        """Parameters of one MoE transformer layer (all routed experts)."""
        return (
            self.attention_per_layer
            + self.norms_per_layer
            + self.router_per_layer
            + self.shared_expert_per_layer
            + self.experts * self.expert_params_per_expert
        )

    @property
    def moe_layer_active(self) -> int:
        return (
            self.attention_per_layer
            + self.norms_per_layer
            + self.router_per_layer
            + self.shared_expert_per_layer
            + self.experts_per_token * self.expert_params_per_expert
        )

    @property
    def routed_expert_params(self) -> int:
        """All routed-expert weights of the model (the part expert parallelism divides)."""
        return self.moe_layers * self.experts * self.expert_params_per_expert

    @property
    def total(self) -> int:
        return (
            self.embedding
            + self.lm_head
            + self.final_norm
            + self.dense_layers * self.dense_layer
            + self.moe_layers * self.moe_layer
        )

    @property
    def active(self) -> int:
        """Parameters touched by one token, embeddings and LM head included."""
        return (
            self.embedding
            + self.lm_head
            + self.final_norm
            + self.dense_layers * self.dense_layer
            + self.moe_layers * self.moe_layer_active
        )


@dataclass(frozen=True)
class Checkpoint:
    """How the released checkpoint stores each class of weights (a storage dtype name each).

    Classes: attention projections (with their biases, sinks and QK-norms), MLP and expert
    projections, embeddings and LM head, and the router (with the per-layer norms: small
    replicated vectors). For example gpt-oss ships its experts in MXFP4 and the rest in bf16.
    """

    attention: str = "bfloat16"
    mlp: str = "bfloat16"
    embedding: str = "bfloat16"
    router: str = "bfloat16"
    source: str = "config.json torch_dtype bfloat16"


@dataclass(frozen=True)
class ModelPreset:
    name: str
    title: str
    layers: int
    hidden: int
    ffn: int
    """Intermediate size of a dense MLP (SwiGLU: gate, up and down projections)."""
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied_embeddings: bool
    experts: int = 0
    """Routed experts per MoE layer (0 = dense model)."""
    experts_per_token: int = 0
    shared_experts: int = 0
    expert_ffn: int = 0
    """Intermediate size of one expert (and of one shared expert)."""
    dense_layers: int = -1
    """How many leading layers are dense; -1 means all layers when experts == 0, none otherwise."""
    mla: MLA | None = None
    attention_bias: bool = False
    attention_sinks: bool = False
    qk_norm: bool = False
    expert_bias: bool = False
    router_bias: bool = False
    published_total: float = 0.0
    published_active: float = 0.0
    published_active_excludes_embedding: bool = False
    """True when the published active count leaves out the input embedding (gpt-oss)."""
    source: str = ""
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    # ---- layer anatomy: what the layer computes, hence what autograd keeps for backward
    norm: str = "rmsnorm"
    """"rmsnorm" (one fp32 statistic per token) or "layernorm" (mean and rstd)."""
    mlp: str = "swiglu"
    """"swiglu" (gate, up, down: three matrices) or "gelu" (two)."""
    dropout: float = 0.0
    """Dropout probability in training (0: no masks are kept; modern LLMs use none)."""
    sliding_window: int = 0
    """Tokens a sliding-window layer attends to (0: none)."""
    layer_pattern: tuple[str, ...] = ()
    """Attention kind of layers 0, 1, ... repeating ("sliding" or "full"); () means all full."""
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    """How the released weights are stored, per class of tensors."""

    def layer_kind(self, layer: int) -> str:
        """``"sliding"`` or ``"full"`` for layer `layer` (0-based), from `layer_pattern`."""
        if not self.layer_pattern:
            return "full"
        return self.layer_pattern[layer % len(self.layer_pattern)]

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def n_dense_layers(self) -> int:
        if self.dense_layers >= 0:
            return self.dense_layers
        return 0 if self.is_moe else self.layers

    @property
    def n_moe_layers(self) -> int:
        return self.layers - self.n_dense_layers

    @property
    def kv_dim_per_token_per_layer(self) -> int:
        """Elements cached per token per layer: K and V (MLA caches the latent + rope key)."""
        if self.mla is not None:
            return self.mla.kv_lora_rank + self.mla.qk_rope_head_dim
        return 2 * self.kv_heads * self.head_dim

    def param_counts(self) -> ParamCounts:
        return param_counts(self)

    @property
    def total_params(self) -> int:
        return self.param_counts().total

    @property
    def active_params(self) -> int:
        return self.param_counts().active

    @property
    def active_params_published_convention(self) -> int:
        """Active parameters counted the way the model card counts them."""
        pc = self.param_counts()
        return pc.active - pc.embedding if self.published_active_excludes_embedding else pc.active


def _attention_params(m: ModelPreset) -> int:
    h = m.hidden
    if m.mla is not None:
        a = m.mla
        # DeepSeek-V3 modeling_deepseek.py DeepseekV3Attention: q_a_proj, q_a_layernorm,
        # q_b_proj, kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj (no biases).
        q = h * a.q_lora_rank + a.q_lora_rank + a.q_lora_rank * m.heads * a.qk_head_dim
        kv = (
            h * (a.kv_lora_rank + a.qk_rope_head_dim)
            + a.kv_lora_rank
            + a.kv_lora_rank * m.heads * (a.qk_nope_head_dim + a.v_head_dim)
        )
        o = m.heads * a.v_head_dim * h
        return q + kv + o
    q_dim = m.heads * m.head_dim
    kv_dim = m.kv_heads * m.head_dim
    n = h * q_dim + 2 * h * kv_dim + q_dim * h
    if m.attention_bias:  # gpt-oss: biases on q, k, v and o projections
        n += q_dim + 2 * kv_dim + h
    if m.attention_sinks:  # gpt-oss: one learned sink logit per head
        n += m.heads
    if m.qk_norm:  # Qwen3: RMSNorm over head_dim on q and on k
        n += 2 * m.head_dim
    return n


def param_counts(m: ModelPreset) -> ParamCounts:
    """Count parameters from the architecture.

    For example Mixtral 8x7B: one expert is 3 x 4096 x 14336 = 176,160,768 weights; a layer holds
    8 experts + router (8 x 4096) + attention (41,943,040) + 2 norms; 32 layers + embeddings and
    LM head (2 x 32000 x 4096) + final norm = 46,702,792,704 total, 12,879,925,248 active (top 2).
    """
    h = m.hidden
    expert = 3 * h * m.expert_ffn if m.is_moe else 0
    if m.is_moe and m.expert_bias:  # gpt-oss: bias on gate_up (2·ffn) and down (h)
        expert += 2 * m.expert_ffn + h
    router = (m.experts * h + (m.experts if m.router_bias else 0)) if m.is_moe else 0
    if m.is_moe and m.name == "deepseek-v3":
        router += m.experts  # e_score_correction_bias (aux-loss-free balancing)
    return ParamCounts(
        embedding=m.vocab * h,
        lm_head=0 if m.tied_embeddings else m.vocab * h,
        final_norm=h,
        attention_per_layer=_attention_params(m),
        dense_mlp_per_layer=3 * h * m.ffn,
        expert_params_per_expert=expert,
        router_per_layer=router,
        shared_expert_per_layer=m.shared_experts * 3 * h * m.expert_ffn,
        norms_per_layer=2 * h,
        dense_layers=m.n_dense_layers,
        moe_layers=m.n_moe_layers,
        experts=m.experts,
        experts_per_token=m.experts_per_token,
    )


MODELS: dict[str, ModelPreset] = {
    m.name: m
    for m in (
        # meta-llama/Meta-Llama-3-8B config.json; model card: 8B (8.03B in the HF listing).
        ModelPreset(
            name="llama3-8b",
            title="Llama 3 8B",
            layers=32,
            hidden=4096,
            ffn=14336,
            heads=32,
            kv_heads=8,
            head_dim=128,
            vocab=128256,
            tied_embeddings=False,
            published_total=8.03e9,
            published_active=8.03e9,
            source="huggingface.co/meta-llama/Meta-Llama-3-8B config.json",
            tags=("dense", "gqa"),
        ),
        # meta-llama/Meta-Llama-3-70B config.json; HF listing 70.6B.
        ModelPreset(
            name="llama3-70b",
            title="Llama 3 70B",
            layers=80,
            hidden=8192,
            ffn=28672,
            heads=64,
            kv_heads=8,
            head_dim=128,
            vocab=128256,
            tied_embeddings=False,
            published_total=70.6e9,
            published_active=70.6e9,
            source="huggingface.co/meta-llama/Meta-Llama-3-70B config.json",
            tags=("dense", "gqa"),
        ),
        # meta-llama/Llama-3.1-405B config.json; Llama 3 paper (arXiv 2407.21783) Table 3.
        ModelPreset(
            name="llama3-405b",
            title="Llama 3.1 405B",
            layers=126,
            hidden=16384,
            ffn=53248,
            heads=128,
            kv_heads=8,
            head_dim=128,
            vocab=128256,
            tied_embeddings=False,
            published_total=405e9,
            published_active=405e9,
            source="huggingface.co/meta-llama/Llama-3.1-405B config.json; arXiv 2407.21783 Table 3",
            tags=("dense", "gqa"),
        ),
        # mistralai/Mixtral-8x7B-v0.1 config.json; Mixtral paper (arXiv 2401.04088):
        # 46.7B total, 12.9B active (13B) per token.
        ModelPreset(
            name="mixtral-8x7b",
            title="Mixtral 8x7B",
            layers=32,
            hidden=4096,
            ffn=14336,
            heads=32,
            kv_heads=8,
            head_dim=128,
            vocab=32000,
            tied_embeddings=False,
            experts=8,
            experts_per_token=2,
            expert_ffn=14336,
            published_total=46.7e9,
            published_active=12.9e9,
            source="huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json; arXiv 2401.04088",
            tags=("moe", "gqa"),
        ),
        # deepseek-ai/DeepSeek-V3 config.json (first_k_dense_replace 3, moe_intermediate_size
        # 2048, intermediate_size 18432, n_routed_experts 256, num_experts_per_tok 8,
        # n_shared_experts 1, q_lora_rank 1536, kv_lora_rank 512, qk_rope_head_dim 64,
        # qk_nope_head_dim 128, v_head_dim 128, vocab 129280); DeepSeek-V3 report (arXiv
        # 2412.19437): 671B total, 37B activated (the 14B MTP module is not counted).
        ModelPreset(
            name="deepseek-v3",
            title="DeepSeek-V3",
            layers=61,
            hidden=7168,
            ffn=18432,
            heads=128,
            kv_heads=128,
            head_dim=192,
            vocab=129280,
            tied_embeddings=False,
            experts=256,
            experts_per_token=8,
            shared_experts=1,
            expert_ffn=2048,
            dense_layers=3,
            mla=MLA(
                q_lora_rank=1536,
                kv_lora_rank=512,
                qk_nope_head_dim=128,
                qk_rope_head_dim=64,
                v_head_dim=128,
            ),
            published_total=671e9,
            published_active=37e9,
            source="huggingface.co/deepseek-ai/DeepSeek-V3 config.json; arXiv 2412.19437",
            notes="MLA attention: the KV cache holds the 512-dim latent + 64-dim rope key per "
            "token per layer. head_dim is the q/k head dim (128 nope + 64 rope).",
            tags=("moe", "mla"),
            # config.json quantization_config: fp8 e4m3, weight_block_size [128, 128], one fp32
            # scale_inv per block; embeddings, LM head, norms and the router gate stay bf16.
            checkpoint=Checkpoint(
                attention="deepseek_fp8",
                mlp="deepseek_fp8",
                source="huggingface.co/deepseek-ai/DeepSeek-V3 config.json quantization_config "
                "(fp8 e4m3, weight_block_size [128, 128]); arXiv 2412.19437 §3.3",
            ),
        ),
        # Qwen/Qwen3-235B-A22B config.json (94 layers, hidden 4096, 64 q heads, 4 kv heads,
        # head_dim 128, moe_intermediate_size 1536, 128 experts, 8 per token, vocab 151936,
        # tie_word_embeddings false, q/k RMSNorm); model card: 235B total, 22B activated.
        ModelPreset(
            name="qwen3-235b-a22b",
            title="Qwen3 235B-A22B",
            layers=94,
            hidden=4096,
            ffn=12288,
            heads=64,
            kv_heads=4,
            head_dim=128,
            vocab=151936,
            tied_embeddings=False,
            experts=128,
            experts_per_token=8,
            expert_ffn=1536,
            qk_norm=True,
            published_total=235e9,
            published_active=22e9,
            source="huggingface.co/Qwen/Qwen3-235B-A22B config.json and model card",
            tags=("moe", "gqa"),
        ),
        # openai/gpt-oss-120b config.json (36 layers, hidden 2880, intermediate 2880, 128
        # local experts, 4 per token, head_dim 64, 64 q heads, 8 kv heads, vocab 201088,
        # attention and expert biases, attention sinks, untied); gpt-oss model card
        # (arXiv 2508.10925) Table 1: 116.83B total, 5.13B active (active excludes the
        # input embedding: 114.71B MLP + 0.96B attention + 1.16B embed+unembed).
        ModelPreset(
            name="gpt-oss-120b",
            title="gpt-oss-120b",
            layers=36,
            hidden=2880,
            ffn=2880,
            heads=64,
            kv_heads=8,
            head_dim=64,
            vocab=201088,
            tied_embeddings=False,
            experts=128,
            experts_per_token=4,
            expert_ffn=2880,
            attention_bias=True,
            attention_sinks=True,
            expert_bias=True,
            router_bias=True,
            published_total=116.83e9,
            published_active=5.13e9,
            published_active_excludes_embedding=True,
            source="huggingface.co/openai/gpt-oss-120b config.json; arXiv 2508.10925 Table 1",
            notes="Checkpoint stores experts in MXFP4 and the rest in bf16; layers alternate "
            "128-token sliding-window and full attention (a window layer caches 128 tokens).",
            tags=("moe", "gqa"),
            # config.json: "sliding_window": 128, "layer_types": ["sliding_attention",
            # "full_attention"] * 18; quantization_config mxfp4 with modules_to_not_convert
            # self_attn, mlp.router, embed_tokens, lm_head.
            sliding_window=128,
            layer_pattern=("sliding", "full"),
            checkpoint=Checkpoint(
                mlp="mxfp4",
                source="huggingface.co/openai/gpt-oss-120b config.json quantization_config "
                "(mxfp4; not converted: self_attn, router, embed_tokens, lm_head); "
                "arXiv 2508.10925 §2",
            ),
        ),
    )
}


@dataclass(frozen=True)
class GPUPreset:
    name: str
    title: str
    memory_bytes: int
    """HBM capacity visible to software; datasheet "GB" of HBM read as GiB (binary stacks)."""
    memory_gb_datasheet: float
    bf16_tflops: float
    """Dense (no 2:4 sparsity) BF16 tensor-core TFLOP/s."""
    fp8_tflops: float | None
    """Dense FP8 tensor-core TFLOP/s; None where the GPU has no FP8 tensor cores."""
    hbm_bandwidth: float
    """Bytes per second."""
    intra_node_bandwidth: float
    """NVLink / Infinity Fabric bytes per second per GPU, one direction."""
    intra_node_link: str
    network_bandwidth: float
    """Scale-out network bytes per second per GPU, one direction."""
    gpus_per_node: int
    source: str
    notes: str = ""


_GB = 1e9
_GIB = 1 << 30

GPUS: dict[str, GPUPreset] = {
    g.name: g
    for g in (
        # NVIDIA A100 Tensor Core GPU datasheet (80GB SXM): BF16 312 TFLOPS dense (624 sparse),
        # no FP8, HBM2e 2,039 GB/s, NVLink 3 600 GB/s (bidirectional); DGX A100: 8 GPUs,
        # 8x 200 Gb/s HDR InfiniBand for compute.
        GPUPreset(
            name="a100-80gb",
            title="NVIDIA A100 80GB SXM",
            memory_bytes=80 * _GIB,
            memory_gb_datasheet=80,
            bf16_tflops=312.0,
            fp8_tflops=None,
            hbm_bandwidth=2039 * _GB,
            intra_node_bandwidth=300 * _GB,
            intra_node_link="NVLink 3 (600 GB/s bidirectional)",
            network_bandwidth=25 * _GB,
            gpus_per_node=8,
            source="NVIDIA A100 datasheet; NVIDIA DGX A100 datasheet",
        ),
        # NVIDIA H100 datasheet (SXM5): BF16 989 TFLOPS dense (1,979 sparse), FP8 1,979
        # dense (3,958 sparse), HBM3 3.35 TB/s, NVLink 4 900 GB/s (bidirectional); DGX H100:
        # 8 GPUs, 8x 400 Gb/s ConnectX-7.
        GPUPreset(
            name="h100-sxm",
            title="NVIDIA H100 SXM 80GB",
            memory_bytes=80 * _GIB,
            memory_gb_datasheet=80,
            bf16_tflops=989.0,
            fp8_tflops=1979.0,
            hbm_bandwidth=3350 * _GB,
            intra_node_bandwidth=450 * _GB,
            intra_node_link="NVLink 4 (900 GB/s bidirectional)",
            network_bandwidth=50 * _GB,
            gpus_per_node=8,
            source="NVIDIA H100 Tensor Core GPU datasheet; NVIDIA DGX H100 datasheet",
        ),
        # NVIDIA H200 datasheet (SXM): 141 GB HBM3e at 4.8 TB/s; same tensor cores as H100
        # (BF16 989, FP8 1,979 dense); NVLink 900 GB/s; HGX H200 8 GPUs, 400 Gb/s per GPU.
        GPUPreset(
            name="h200",
            title="NVIDIA H200 SXM 141GB",
            memory_bytes=141 * _GIB,
            memory_gb_datasheet=141,
            bf16_tflops=989.0,
            fp8_tflops=1979.0,
            hbm_bandwidth=4800 * _GB,
            intra_node_bandwidth=450 * _GB,
            intra_node_link="NVLink 4 (900 GB/s bidirectional)",
            network_bandwidth=50 * _GB,
            gpus_per_node=8,
            source="NVIDIA H200 Tensor Core GPU datasheet",
        ),
        # NVIDIA DGX B200 / HGX B200 datasheets: 8 GPUs, 1,440 GB HBM3e (180 GB each), 64 TB/s
        # (8 TB/s each), 72 PFLOPS FP8 and 36 PFLOPS BF16 per 8 GPUs *with sparsity* (so dense
        # per GPU: 4.5 PF FP8, 2.25 PF BF16), NVLink 5 1.8 TB/s bidirectional per GPU,
        # 8x 400 Gb/s ConnectX-7.
        GPUPreset(
            name="b200",
            title="NVIDIA B200 180GB",
            memory_bytes=180 * _GIB,
            memory_gb_datasheet=180,
            bf16_tflops=2250.0,
            fp8_tflops=4500.0,
            hbm_bandwidth=8000 * _GB,
            intra_node_bandwidth=900 * _GB,
            intra_node_link="NVLink 5 (1.8 TB/s bidirectional)",
            network_bandwidth=50 * _GB,
            gpus_per_node=8,
            source="NVIDIA DGX B200 datasheet; NVIDIA HGX B200 specifications",
        ),
        # AMD Instinct MI300X datasheet: 192 GB HBM3, 5.3 TB/s, BF16 1,307.4 TFLOPS dense,
        # FP8 2,614.9 dense; 7 Infinity Fabric links, 896 GB/s aggregate bidirectional peer
        # bandwidth (448 GB/s one way); MI300X platform: 8 GPUs, 400 Gb/s NIC per GPU.
        GPUPreset(
            name="mi300x",
            title="AMD Instinct MI300X",
            memory_bytes=192 * _GIB,
            memory_gb_datasheet=192,
            bf16_tflops=1307.4,
            fp8_tflops=2614.9,
            hbm_bandwidth=5300 * _GB,
            intra_node_bandwidth=448 * _GB,
            intra_node_link="Infinity Fabric (7 x 64 GB/s, 896 GB/s bidirectional aggregate)",
            network_bandwidth=50 * _GB,
            gpus_per_node=8,
            source="AMD Instinct MI300X accelerator datasheet; AMD Instinct MI300X platform",
            notes="Fully connected: each GPU reaches each peer over one 64 GB/s link.",
        ),
    )
}


@dataclass(frozen=True)
class ParallelPreset:
    """A parallel layout: mesh axes (outermost first) and training settings.

    `provenance` is "published" when `source` reports these degrees for a real run, else
    "illustrative" (a sensible layout, not a published run); `assumed` says what the memory
    query adds that the source does not report (e.g. the recomputation).
    """

    name: str
    title: str
    model: str
    gpu: str
    axes: str
    gpus_per_node: int
    seq_len: int
    micro_batch: int
    zero: int
    source: str
    notes: str = ""
    recompute: str = "none"
    sequence_parallel: bool = False
    provenance: str = "illustrative"
    global_batch: int = 0
    """Tokens per iteration (0: not given); the memory view derives microbatches from it."""
    schedule: str = "1f1b"
    chunks: int = 1
    convention: str = "zero_paper"
    fp8_activations: bool = False
    grad_dtype: str = ""
    optimizer_dtype: str = ""
    assumed: str = ""

    @property
    def sizes(self) -> dict[str, int]:
        """Axis sizes by name, e.g. ``{"dp": 64, "pp": 16, "cp": 1, "tp": 8}``."""
        return {name: int(size) for name, size in (a.split(":") for a in self.axes.split(","))}

    @property
    def world_size(self) -> int:
        n = 1
        for size in self.sizes.values():
            n *= size
        return n

    def memory_query(self) -> str:
        """The /api/v1/memory query string for this layout.

        EP is carved out of the data-parallel ranks (Megatron convention), so the memory
        endpoint's ``dp`` counts every data-parallel rank: DeepSeek-V3's ``dp:2,ep:64`` is
        ``dp=128&ep=64``.
        """
        sz = self.sizes
        ep = sz.get("ep", 1)
        parts = [
            f"model={self.model}&gpu={self.gpu}&dp={sz.get('dp', 1) * ep}&tp={sz.get('tp', 1)}"
            f"&pp={sz.get('pp', 1)}&cp={sz.get('cp', 1)}&ep={ep}&zero={self.zero}"
            f"&seq_len={self.seq_len}&micro_batch={self.micro_batch}"
        ]
        optional: list[tuple[str, object, object]] = [
            ("global_batch", self.global_batch, 0),
            ("schedule", self.schedule, "1f1b"),
            ("chunks", self.chunks, 1),
            ("recompute", self.recompute, "none"),
            ("sequence_parallel", "true" if self.sequence_parallel else "", ""),
            ("convention", self.convention, "zero_paper"),
            ("grad_dtype", self.grad_dtype, ""),
            ("optimizer_dtype", self.optimizer_dtype, ""),
            ("fp8_activations", "true" if self.fp8_activations else "", ""),
        ]
        parts += [f"{k}={v}" for k, v, default in optional if v != default]
        return "&".join(parts)


_LLAMA3_TABLE4 = (
    "Batch size per DP rank and 16M tokens per batch from Table 4. Llama 3 ran an interleaved "
    "schedule tuned per run (§3.3.2, chunks not reported); 1F1B is shown."
)
_LLAMA3_ASSUMED = (
    "Not in Table 4: sequence parallelism with TP (Megatron practice) and FlashAttention."
)

PARALLEL_PRESETS: dict[str, ParallelPreset] = {
    p.name: p
    for p in (
        # Llama 3 paper (arXiv 2407.21783) Table 4 and §3.3.2: rank order [TP, CP, PP, DP],
        # innermost first, so axes (outermost first) are dp, pp, cp, tp. Table 4: batch size
        # per DP 32, 16, 16 sequences and 16M tokens per batch in all three rows.
        ParallelPreset(
            name="llama3-405b-8k",
            title="Llama 3 405B pre-training, 8,192 H100s, 8K context",
            model="llama3-405b",
            gpu="h100-sxm",
            axes="dp:64,pp:16,cp:1,tp:8",
            gpus_per_node=8,
            seq_len=8192,
            micro_batch=1,
            zero=1,
            source="arXiv 2407.21783 Table 4 (row 1: TP 8, CP 1, PP 16, DP 64, 16M tokens)",
            notes="430 TFLOP/s per GPU, 43% MFU. FSDP-style sharding of optimizer states. "
            + _LLAMA3_TABLE4,
            sequence_parallel=True,
            provenance="published",
            global_batch=16_777_216,
            assumed=_LLAMA3_ASSUMED,
        ),
        ParallelPreset(
            name="llama3-405b-16k",
            title="Llama 3 405B pre-training, 16,384 H100s, 8K context",
            model="llama3-405b",
            gpu="h100-sxm",
            axes="dp:128,pp:16,cp:1,tp:8",
            gpus_per_node=8,
            seq_len=8192,
            micro_batch=1,
            zero=1,
            source="arXiv 2407.21783 Table 4 (row 2: TP 8, CP 1, PP 16, DP 128, 16M tokens)",
            notes="400 TFLOP/s per GPU, 41% MFU. " + _LLAMA3_TABLE4,
            sequence_parallel=True,
            provenance="published",
            global_batch=16_777_216,
            assumed=_LLAMA3_ASSUMED,
        ),
        ParallelPreset(
            name="llama3-405b-128k",
            title="Llama 3 405B long-context training, 16,384 H100s, 128K context",
            model="llama3-405b",
            gpu="h100-sxm",
            axes="dp:8,pp:16,cp:16,tp:8",
            gpus_per_node=8,
            seq_len=131072,
            micro_batch=1,
            zero=1,
            source="arXiv 2407.21783 Table 4 (row 3: TP 8, CP 16, PP 16, DP 8, 16M tokens)",
            notes="380 TFLOP/s per GPU, 38% MFU. " + _LLAMA3_TABLE4,
            sequence_parallel=True,
            provenance="published",
            global_batch=16_777_216,
            assumed=_LLAMA3_ASSUMED,
        ),
        # DeepSeek-V3 report (arXiv 2412.19437) §3.2: 2,048 H800 GPUs, 16-way PP (DualPipe),
        # 64-way EP spanning 8 nodes, ZeRO-1 DP, no TP. EP is folded into the data-parallel
        # ranks: attention is data-parallel over dp x ep = 128 ranks per stage. §3.2.3:
        # RMSNorm and MLA up-projections recomputed; §3.3.3: linear inputs cached in FP8,
        # AdamW moments in bf16, master weights and gradients in fp32; §4.2: batch 15,360
        # sequences of 4K tokens.
        ParallelPreset(
            name="deepseek-v3",
            title="DeepSeek-V3 pre-training, 2,048 H800s",
            model="deepseek-v3",
            gpu="h100-sxm",
            axes="pp:16,dp:2,ep:64",
            gpus_per_node=8,
            seq_len=4096,
            micro_batch=1,
            zero=1,
            source="arXiv 2412.19437 §3.2 (PP 16, EP 64 over 8 nodes, ZeRO-1 DP, no TP), "
            "§3.2.3 and §3.3.3 (recomputation, FP8 activations, bf16 AdamW moments), "
            "§4.2 (15,360 × 4K tokens per batch)",
            notes="H800 is an H100 with NVLink cut to 400 GB/s; modelled with the h100-sxm "
            "preset. DeepSeek ran DualPipe, which keeps two copies of the parameters; "
            "dualpipev is its single-copy V-shaped variant (deepseek-ai/DualPipe).",
            recompute="selective",
            provenance="published",
            global_batch=15360 * 4096,
            schedule="dualpipev",
            chunks=2,
            convention="megatron",
            fp8_activations=True,
            optimizer_dtype="bfloat16",
            assumed="Micro batch 1 sequence (not reported); dualpipev for DualPipe.",
        ),
        # NeMo AutoModel performance summary, DGX-H100 BF16 pre-training: Llama3 70B on 64 GPUs,
        # GBS 128, MBS 1, seq 8192, TP 1, PP 1, CP 2, FSDP 32.
        ParallelPreset(
            name="llama3-70b-64",
            title="Llama 3 70B on 64 H100s (FSDP 32 × CP 2)",
            model="llama3-70b",
            gpu="h100-sxm",
            axes="dp:32,cp:2",
            gpus_per_node=8,
            seq_len=8192,
            micro_batch=1,
            zero=3,
            source="NVIDIA NeMo AutoModel performance summary, DGX-H100 BF16 pre-training "
            "(Llama3 70B: 64 GPUs, GBS 128, MBS 1, CP 2, FSDP 32)",
            notes="FSDP2 with TransformerEngine and prefetching; 389 TFLOP/s per GPU.",
            recompute="full",
            provenance="published",
            global_batch=128 * 8192,
            convention="fsdp",
            assumed="Full activation checkpointing (the table does not say; 80 layers of "
            "SwiGLU activations do not fit without it).",
        ),
        # torchtitan docs/performance.md: Llama 3 8B with FSDP2 on 64 A100 80GB, local batch 1
        # (global 64), selective op activation checkpointing; train config seq_len 8192.
        ParallelPreset(
            name="llama3-8b-64",
            title="Llama 3 8B on 64 A100s (FSDP 64)",
            model="llama3-8b",
            gpu="a100-80gb",
            axes="dp:64",
            gpus_per_node=8,
            seq_len=8192,
            micro_batch=1,
            zero=3,
            source="pytorch/torchtitan docs/performance.md (Llama 3 8B, FSDP2 on 64 A100 80GB, "
            "local batch 1, selective op AC) and llama3_8b.toml (seq_len 8192)",
            notes="58% MFU with selective op activation checkpointing.",
            recompute="selective",
            provenance="published",
            global_batch=64 * 8192,
            convention="fsdp",
        ),
        # Megatron-Core MoE practice: experts inside a node (EP 8), TP with SP, PP across nodes.
        ParallelPreset(
            name="mixtral-8x7b-64",
            title="Mixtral 8x7B on 64 H100s (TP 2, PP 4, EP 8)",
            model="mixtral-8x7b",
            gpu="h100-sxm",
            axes="pp:4,ep:8,tp:2",
            gpus_per_node=8,
            seq_len=4096,
            micro_batch=1,
            zero=1,
            source="Megatron-Core MoE README (EP inside a node; TP with EP needs sequence "
            "parallelism); illustrative degrees",
            notes="Illustrative layout, not a published run.",
            sequence_parallel=True,
            global_batch=256 * 4096,
            convention="megatron",
        ),
        # NVIDIA Megatron-MoE-ModelZoo best_practice/qwen3 (H100 table, cross-node EP row):
        # 256 H100, seq 4096, TP 2, EP 32 (ETP 1, EDP 1), PP 8, VPP 4, DP 16, MBS 1,
        # GBS 2048, recompute modules layernorm and moe_act.
        ParallelPreset(
            name="qwen3-235b-a22b-256",
            title="Qwen3 235B-A22B on 256 H100s (TP 2, PP 8 × VPP 4, EP 32)",
            model="qwen3-235b-a22b",
            gpu="h100-sxm",
            axes="pp:8,ep:16,tp:2",
            gpus_per_node=8,
            seq_len=4096,
            micro_batch=1,
            zero=1,
            source="NVIDIA Megatron-MoE-ModelZoo best_practice/qwen3 readme, H100 BF16 "
            "(256 GPUs, TP 2, EP 32, PP 8, VPP 4, DP 16, MBS 1, GBS 2048, recompute norm "
            "and act)",
            notes="The run splits experts over EP 32 with expert TP 1; modelled as EP 16 "
            "with expert TP = TP 2, which puts the same expert bytes on each GPU.",
            recompute="selective",
            sequence_parallel=True,
            provenance="published",
            global_batch=2048 * 4096,
            schedule="interleaved_1f1b",
            chunks=4,
            convention="megatron",
        ),
        # NeMo AutoModel performance summary, DGX-H100 BF16 pre-training: GPT-OSS 120B on 64
        # GPUs, GBS 512, MBS 2, seq 4096, TP 1, PP 1, CP 1, FSDP 64.
        ParallelPreset(
            name="gpt-oss-120b-64",
            title="gpt-oss-120b on 64 H100s (FSDP 64)",
            model="gpt-oss-120b",
            gpu="h100-sxm",
            axes="dp:64",
            gpus_per_node=8,
            seq_len=4096,
            micro_batch=2,
            zero=3,
            source="NVIDIA NeMo AutoModel performance summary, DGX-H100 BF16 pre-training "
            "(GPT-OSS 120B: 64 GPUs, GBS 512, MBS 2, FSDP 64)",
            notes="FSDP2 with TransformerEngine, DeepEP and FlexAttention; 231 TFLOP/s per GPU.",
            recompute="full",
            provenance="published",
            global_batch=512 * 4096,
            convention="fsdp",
            assumed="Full activation checkpointing (the table does not say).",
        ),
    )
}


# Spellings people use that folding alone (case, "-", "_", " ", ".") does not reach. Each alias
# names exactly one preset; a name that could mean two products (e.g. "mi300", which is also
# the MI300A APU) is left out so that it gets a "did you mean" instead of a silent guess.
MODEL_ALIASES: dict[str, str] = {
    "llama3.1-405b": "llama3-405b",  # the 405B preset is the Llama 3.1 release
    "mixtral-8x7b-v0.1": "mixtral-8x7b",
    "qwen3-235b": "qwen3-235b-a22b",
    "gpt-oss": "gpt-oss-120b",
}
GPU_ALIASES: dict[str, str] = {
    "h100": "h100-sxm",
    "h100-sxm5": "h100-sxm",
    "h100-80gb": "h100-sxm",
    "h200-sxm": "h200",
    "a100": "a100-80gb",
    "a100-sxm": "a100-80gb",
}

MODEL_NAMES = Registry("model", MODELS, MODEL_ALIASES)
GPU_NAMES = Registry("gpu", GPUS, GPU_ALIASES)
PARALLEL_PRESET_NAMES = Registry("parallel preset", PARALLEL_PRESETS)


def get_model(name: str, field: str = "model") -> ModelPreset:
    """A model preset by any accepted spelling: ``get_model("Llama3-70B").name == "llama3-70b"``.

    An unknown name raises `UnknownName` with the valid names and the closest one.
    """
    return MODELS[MODEL_NAMES.resolve(name, field)]


def get_gpu(name: str, field: str = "gpu") -> GPUPreset:
    """A GPU preset by any accepted spelling: ``get_gpu("H100").name == "h100-sxm"``."""
    return GPUS[GPU_NAMES.resolve(name, field)]


def get_parallel_preset(name: str, field: str = "preset") -> ParallelPreset:
    """A parallel layout by any accepted spelling: ``get_parallel_preset("DeepSeek-V3")``."""
    return PARALLEL_PRESETS[PARALLEL_PRESET_NAMES.resolve(name, field)]


def custom_model(
    layers: int,
    hidden: int,
    heads: int,
    kv_heads: int | None = None,
    ffn: int | None = None,
    vocab: int | None = None,
    **anatomy: Any,
) -> ModelPreset:
    """A model from its dimensions (the API's custom architecture), checked field by field.

    Defaults: kv_heads = heads (MHA), ffn = 4·hidden, vocab = 32000; `anatomy` sets further
    `ModelPreset` fields (e.g. ``mlp="swiglu"``, ``title=...``).
    """
    if hidden % heads:
        raise InvalidInput("heads", f"hidden ({hidden}) must be a multiple of heads")
    kv = kv_heads if kv_heads is not None else heads
    if heads % kv:
        raise InvalidInput("kv_heads", f"heads ({heads}) must be a multiple of kv_heads ({kv})")
    fields: dict[str, Any] = {"name": "custom", "title": "custom", **anatomy}
    return ModelPreset(
        layers=layers,
        hidden=hidden,
        ffn=ffn if ffn is not None else 4 * hidden,
        heads=heads,
        kv_heads=kv,
        head_dim=hidden // heads,
        vocab=vocab if vocab is not None else 32000,
        tied_embeddings=False,
        **fields,
    )
