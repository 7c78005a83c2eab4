"""How much KV cache a serving engine gives you: each engine's own rule, per GPU.

All three engines load the weights, measure (or reserve) the memory a forward pass needs, and
hand what is left to the KV cache in fixed-size blocks. They differ in what the fraction they
take is a fraction of:

- **vLLM** (`gpu_memory_utilization`, default 0.9) of the GPU's *total* memory, which must hold
  the weights, the activation peak of a profiling pass of `max_num_batched_tokens` tokens,
  memory outside PyTorch (CUDA context, graphs, NCCL) and the cache (vllm/worker/worker.py:
  ``(total · utilization − peak) // cache_block_size``). A block holds `block_size` (16)
  tokens of every layer: 2 · layers · block_size · kv_heads · head_dim · bytes. Sliding-window
  layers form their own groups in vLLM V1's hybrid allocator, and a request needs only
  ⌈min(window − 1 + max_num_batched_tokens, max_model_len) / block_size⌉ + 1 blocks of them
  (vllm/v1/kv_cache_interface.py). Maximum concurrency = blocks / blocks per request.
- **SGLang** (`--mem-fraction-static`) of total memory, holding weights and the KV pool; the
  rest is left to activations and CUDA graphs (model_runner.py ``profile_max_num_token``:
  ``available_after_weights − total · (1 − fraction)``). Its default depends on the GPU's memory
  and tp·pp (server_args.py: e.g. (80 GiB − 10 GiB) / 80 GiB = 0.875 on an H100 at tp 1).
  Pages of `page_size` (1) tokens.
- **TensorRT-LLM** (`free_gpu_memory_fraction`, default 0.9) of the memory *free after* the
  engine (weights and activation buffers) is loaded; blocks of `tokens_per_block` (64).

MLA caches the 512-dim latent and the 64-dim rope key per token per layer, the same on every
TP rank (SGLang's ``cell_size``: (kv_lora_rank + qk_rope_head_dim) · layers · bytes).
For example Llama 3 8B in bf16 under vLLM: a block is 2 · 32 · 16 · 8 · 128 · 2 = 2 MiB.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from app.core.errors import InvalidInput
from app.core.inference.cost import CostQuery, build_cost
from app.core.inference.layout import per_layer_kv_bytes, stage_weights
from app.core.inference.setup import ACTIVATION_BYTES, Serving, ServingQuery, resolve_serving
from app.core.limits import limit
from app.core.names import Registry
from app.core.params import effective, param

EngineName = Literal["vllm", "sglang", "trtllm"]
GIB = 1 << 30
MIB = 1 << 20


@dataclass(frozen=True)
class EngineRule:
    """One engine's KV sizing rule, named as the engine names its knobs."""

    name: EngineName
    title: str
    fraction_knob: str
    fraction_of: Literal["total", "free after weights"]
    default_fraction: float | None  # None: a rule (SGLang)
    block_knob: str
    default_block: int
    subtracts: tuple[str, ...]  # what the fraction must also hold
    rule: str
    source: str


ENGINES: dict[str, EngineRule] = {
    "vllm": EngineRule(
        "vllm", "vLLM", "gpu_memory_utilization", "total", 0.9, "block_size", 16,
        ("weights", "activations", "overhead"),
        "blocks = ⌊(total · gpu_memory_utilization − weights − activation peak − non-torch "
        "memory) / block bytes⌋",
        "vllm/worker/worker.py determine_num_available_blocks; vllm/v1/core/kv_cache_utils.py",
    ),
    "sglang": EngineRule(
        "sglang", "SGLang", "mem_fraction_static", "total", None, "page_size", 1,
        ("weights", "overhead"),
        "tokens = ⌊(total · mem_fraction_static − weights − non-torch memory) / cell size⌋; "
        "activations live in the remaining 1 − mem_fraction_static",
        "sglang model_runner.py profile_max_num_token; server_args.py (default fraction)",
    ),
    "trtllm": EngineRule(
        "trtllm", "TensorRT-LLM", "free_gpu_memory_fraction", "free after weights", 0.9,
        "tokens_per_block", 64, ("weights", "activations", "overhead"),
        "blocks = ⌊free_gpu_memory_fraction · (total − weights − activation buffers − "
        "overhead) / block bytes⌋",
        "TensorRT-LLM KvCacheConfig.free_gpu_memory_fraction (default 0.9); trtllm-build "
        "--tokens_per_block (64)",
    ),
}  # fmt: skip
ENGINE_NAMES = Registry(
    "engine", ENGINES, aliases={"tensorrt-llm": "trtllm", "trt": "trtllm", "sgl": "sglang"}
)


def sglang_default_fraction(memory_bytes: int, tp: int, pp: int) -> float:
    """SGLang's mem_fraction_static when none is given: (memory − reserved) / memory.

    server_args.py reserves, in GiB, 2.8 + tp·pp/10 below 35 GiB, 9.5 + tp·pp/2 below 90 GiB
    (A100, H100), 12 + tp·pp/2 below 160 GiB (H20, H200) and 32 above (B200, MI300X).
    For example an 80 GiB H100 at tp 1: (80 − 10) / 80 = 0.875.
    """
    gib = memory_bytes / GIB
    n = tp * pp
    if gib < 35:
        reserved = 2.8 + n / 10
    elif gib < 90:
        reserved = 9.5 + n / 2
    elif gib < 160:
        reserved = 12 + n / 2
    else:
        reserved = 32.0
    return round((gib - reserved) / gib, 3)


@dataclass(frozen=True)
class KVQuery(ServingQuery):
    """The serving query plus the engine and its knobs."""

    engine: str = param(
        "vllm", "Engine whose rule sizes the cache: vllm, sglang or trtllm.", example="sglang",
        max_length=40,
    )  # fmt: skip
    block_size: int | None = param(
        None,
        "Tokens per KV block (default: the engine's: vLLM block_size 16, SGLang page_size 1, "
        "TensorRT-LLM tokens_per_block 64).",
        example=16,
        ge=1,
        le=limit("kv_block_size"),
    )
    max_model_len: int = param(
        8192, "Longest sequence (prompt + output) a request may reach.", example=32768,
        ge=1, le=limit("seq_len"),
    )  # fmt: skip
    memory_fraction: float | None = param(
        None,
        "The engine's fraction (default: its own): vLLM gpu_memory_utilization (of total), "
        "SGLang mem_fraction_static (of total), TensorRT-LLM free_gpu_memory_fraction (of "
        "what the weights leave).",
        example=0.9,
        gt=0,
        le=1,
    )
    max_batched_tokens: int = param(
        8192,
        "Tokens one engine step may process (vLLM max_num_batched_tokens, SGLang "
        "chunked_prefill_size, TensorRT-LLM max_num_tokens): sizes the activation peak.",
        example=8192,
        ge=1,
        le=limit("batching_tokens"),
    )
    max_num_seqs: int = param(
        256, "Sequences one step may hold (vLLM max_num_seqs).", example=256, ge=1,
        le=limit("inference_batch"),
    )  # fmt: skip
    overhead: int = param(
        GIB,
        "Bytes outside the model on each GPU: CUDA context, CUDA graphs, NCCL buffers (vLLM "
        "logs it as non-torch memory; measure yours).",
        example=GIB,
        ge=0,
        le=limit("memory_bytes"),
    )


@dataclass(frozen=True)
class LayerKindKV:
    """The cache of one attention kind on one GPU."""

    kind: Literal["full", "sliding", "mla"]
    layers: int
    bytes_per_token: float  # per layer
    tokens_per_request: int  # cached per layer for a max_model_len request
    blocks_per_request: int


@dataclass(frozen=True)
class StageKV:
    """One pipeline stage's memory and cache under the engine's rule."""

    stage: int
    layers: int
    weights: float
    activations: float
    usable: float  # what the fraction covers
    budget: float  # left for the KV cache
    block_bytes: float
    num_blocks: int
    kv_tokens: int
    max_concurrency: float
    kinds: tuple[LayerKindKV, ...]


@dataclass(frozen=True, eq=False)
class KVCapacity:
    """The engine's cache on each stage; the engine runs at the stage with the fewest blocks."""

    query: KVQuery
    serving: Serving
    engine: EngineRule
    block_size: int
    fraction: float
    memory: int
    overhead: int
    stages: tuple[StageKV, ...]
    notes: tuple[str, ...]

    @property
    def tightest(self) -> StageKV:
        return min(self.stages, key=lambda s: (s.num_blocks, s.stage))

    def effective(self) -> dict[str, object]:
        out = {**effective(self.query), **self.serving.effective()}
        out.update(engine=self.engine.name, block_size=self.block_size,
                   memory_fraction=self.fraction)  # fmt: skip
        return out


def activation_peak(s: Serving, tokens: int, seqs: int, has_lm_head: bool) -> float:
    """Bytes of the largest live activations of a forward pass over `tokens` tokens.

    Per token the residual stream and the normed input (2·h) and the MLP's gate/up output and
    product (3·w, w the widest MLP per GPU: ffn/t, or (k + shared)·ffn_e/t for MoE), in bf16;
    plus fp32 logits of `seqs` sequences on the LM head's stage. For example Llama 3 8B at
    8192 tokens and 256 sequences: 8192 · (2·4096 + 3·14336) · 2 + 256 · 128256 · 4 = 0.97 GB.
    """
    m, t = s.model, s.query.tp
    widths = [m.ffn // t] if m.n_dense_layers else []
    if m.is_moe:
        widths.append((m.experts_per_token + m.shared_experts) * m.expert_ffn // t)
    act = tokens * (2 * m.hidden + 3 * max(widths)) * ACTIVATION_BYTES
    logits = seqs * -(-m.vocab // t) * 4 if has_lm_head else 0
    return float(act + logits)


def budget(
    rule: EngineRule, memory: float, fraction: float, weights: float, activations: float,
    overhead: float,
) -> tuple[float, float]:  # fmt: skip
    """(memory the fraction covers, bytes left for the KV cache) under `rule`.

    For example vLLM on a 23.58 GiB GPU at 0.9 with a 17.06 GiB peak and 0.35 GiB outside
    PyTorch: 21.22 − 17.41 = 3.81 GiB (vLLM issue #10517's log).
    """
    if rule.fraction_of == "total":
        usable = memory * fraction
        spent = weights + overhead + (activations if "activations" in rule.subtracts else 0.0)
        return usable, usable - spent
    free = memory - weights - activations - overhead
    return free * fraction, free * fraction


def _vllm_groups(full: int, sliding: int) -> tuple[int, int, int]:
    """(layers per group, full groups, sliding groups) of vLLM V1's hybrid allocator:
    groups of the smaller count, or of the larger when it is under 1.5 × the smaller."""
    if not sliding or not full:
        return max(full, sliding), int(full > 0), int(sliding > 0)
    small, large = min(full, sliding), max(full, sliding)
    size = large if large < 1.5 * small else small
    return size, -(-full // size), -(-sliding // size)


def _stage_kv(cap: KVQuery, s: Serving, rule: EngineRule, bs: int, fraction: float,
              st_index: int, weights: float) -> StageKV:  # fmt: skip
    st = s.stages[st_index]
    kinds = [s.kinds[i] for i in range(st.first, st.first + st.layers)]
    per_layer = per_layer_kv_bytes(s)
    act = activation_peak(s, cap.max_batched_tokens, cap.max_num_seqs, st.has_lm_head)
    usable, left = budget(rule, s.gpu.memory_bytes, fraction, weights, act, cap.overhead)
    n_full = sum(1 for k in kinds if k == "full")
    n_slide = len(kinds) - n_full
    length = cap.max_model_len
    per_req_full = -(-length // bs)
    full_kind: Literal["full", "mla"] = "mla" if s.model.mla is not None else "full"
    if rule.name == "vllm" and n_slide and s.window:
        size, g_full, g_slide = _vllm_groups(n_full, n_slide)
        slide_tokens = min(s.window - 1 + cap.max_batched_tokens, length)
        per_req_slide = -(-slide_tokens // bs) + 1
        block_bytes = per_layer * bs * size
        blocks = max(0, int(left // block_bytes))
        per_request = g_full * per_req_full + g_slide * per_req_slide
        tokens = blocks // (g_full + g_slide) * bs
        kind_rows = [
            LayerKindKV(full_kind, n_full, per_layer, length, per_req_full),
            LayerKindKV("sliding", n_slide, per_layer, slide_tokens, per_req_slide),
        ]
    else:
        block_bytes = per_layer * bs * len(kinds)
        blocks = max(0, int(left // block_bytes))
        per_request = per_req_full
        tokens = blocks * bs
        kind_rows = [LayerKindKV(full_kind, n_full, per_layer, length, per_req_full)]
        if n_slide:
            kind_rows.append(LayerKindKV("sliding", n_slide, per_layer, length, per_req_full))
    kind_rows = [k for k in kind_rows if k.layers]
    return StageKV(
        st.index, st.layers, weights, act, usable, left, block_bytes, blocks, tokens,
        blocks / per_request if per_request else 0.0, tuple(kind_rows),
    )  # fmt: skip


def _notes(s: Serving, rule: EngineRule, fraction: float, cap: KVQuery) -> list[str]:
    notes = [
        f"{rule.title}: {rule.rule}. {rule.fraction_knob} = {fraction:g} of "
        f"{rule.fraction_of} memory.",
        "Weights are the model's tensors at the query's dtype; the activation peak is a "
        f"forward pass of {cap.max_batched_tokens:,} tokens (see `activation_formula`); "
        "`overhead` stands for everything outside the model.",
    ]
    if s.window and "sliding" in s.kinds and rule.name != "vllm":
        notes.append(
            f"{rule.title} caches sliding-window layers in a pool of its own in recent versions, "
            "sized by its own ratio; bitmesh counts them like full layers here (vLLM's hybrid "
            "rule is the one modelled)."
        )
    if s.model.mla is not None:
        notes.append("MLA: every TP rank caches the same latent, so TP does not shrink it.")
    elif s.query.tp > s.model.kv_heads:
        notes.append(
            f"tp > kv_heads: each GPU caches one KV head ({s.query.tp // s.model.kv_heads} copies)."
        )
    return notes


def compute_kv(q: KVQuery) -> KVCapacity:
    """The KV capacity of every stage under the engine's rule (see the module docstring).

    For example Llama 3 8B on one H100 under vLLM holds about 28,000 blocks of 16 tokens.
    """
    s = resolve_serving(q)
    rule = ENGINES[ENGINE_NAMES.resolve(q.engine, "engine")]
    bs = q.block_size if q.block_size is not None else rule.default_block
    if q.memory_fraction is not None:
        fraction = q.memory_fraction
    elif rule.default_fraction is not None:
        fraction = rule.default_fraction
    else:
        fraction = sglang_default_fraction(s.gpu.memory_bytes, q.tp, q.pp)
    cost = build_cost(s, CostQuery(**{k: getattr(q, k) for k in _SERVING_FIELDS}))
    weights = [sum(w.values()) for w in stage_weights(cost)]
    stages = tuple(_stage_kv(q, s, rule, bs, fraction, i, weights[i]) for i in range(q.pp))
    if q.overhead >= s.gpu.memory_bytes:
        raise InvalidInput("overhead", f"exceeds the {s.gpu.name}'s memory")
    return KVCapacity(q, s, rule, bs, fraction, s.gpu.memory_bytes, q.overhead, stages,
                      tuple(_notes(s, rule, fraction, q)))  # fmt: skip


_SERVING_FIELDS = tuple(f for f in ServingQuery.__dataclass_fields__)


ACTIVATION_FORMULA = (
    "max_batched_tokens · (2·hidden + 3·w) · 2 bytes, w the widest MLP per GPU (ffn/tp, or "
    "(k + shared)·ffn_e/tp for MoE), plus fp32 logits of max_num_seqs sequences on the last stage"
)


def kv_payload(cap: KVCapacity) -> dict[str, object]:
    """The JSON body of GET /api/v1/inference/kv (see `app.schemas.inference.KVResponse`)."""
    t = cap.tightest
    return {
        "query": cap.effective(),
        "engine": dataclasses.asdict(cap.engine),
        "engines": [dataclasses.asdict(e) for e in ENGINES.values()],
        "block_size": cap.block_size,
        "memory_fraction": cap.fraction,
        "memory": cap.memory,
        "overhead": cap.overhead,
        "block_bytes": t.block_bytes,
        "num_blocks": t.num_blocks,
        "kv_tokens": t.kv_tokens,
        "max_concurrency": t.max_concurrency,
        "fits": t.max_concurrency >= 1,
        "tightest_stage": t.stage,
        "stages": [dataclasses.asdict(s) for s in cap.stages],
        "activation_formula": ACTIVATION_FORMULA,
        "notes": list(cap.notes),
    }
