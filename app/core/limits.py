"""Every size bound bitmesh enforces, in one place.

The API answers anything past these with a 422 that names the field and the limit, and
`GET /api/v1/limits` publishes this table so clients can check before they ask.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    description: str


LIMITS: dict[str, Limit] = {
    lim.name: lim
    for lim in (
        Limit(
            "request_body_bytes",
            8_388_608,
            "Largest JSON body a POST accepts (413 beyond): room for quantize_posted_values "
            "float64 numbers written out in full (up to 25 bytes each).",
        ),
        Limit("value_table_bits", 16, "Widest format whose full value table can be listed."),
        Limit("query_string_bytes", 8_192, "Longest query string accepted."),
        Limit("pipeline_stages", 128, "Most pipeline ranks (stages) in one schedule."),
        Limit("pipeline_microbatches", 1_024, "Most microbatches in one schedule."),
        Limit("pipeline_chunks", 16, "Most model chunks (virtual stages) per rank."),
        Limit("pipeline_ops", 200_000, "Most ops (F, B, I, W) in one simulated schedule."),
        Limit("pipeline_cost", 1_000_000_000, "Largest op cost or p2p latency (cost units)."),
        Limit("pipeline_stage_multiplier", 1_000, "Largest per-stage cost multiplier."),
        Limit("mesh_ranks", 65_536, "Largest world size (product of mesh axis sizes)."),
        Limit("mesh_axes", 8, "Most named axes in one mesh."),
        Limit("sharding_devices", 4_096, "Largest world size for which a shard map is listed."),
        Limit("tensor_rank", 4, "Most dimensions of a tensor in a shard map."),
        Limit("gpus_per_node", 576, "Most GPUs in one node / NVLink domain (NVL576)."),
        Limit("tensor_dim", 1 << 48, "Largest size of one tensor dimension in a shard map."),
        Limit("parallel_degree", 1_024, "Largest tp, cp or ep degree in a memory estimate."),
        Limit("model_layers", 1_024, "Most transformer layers in a custom architecture."),
        Limit("model_hidden", 1 << 20, "Largest hidden size in a custom architecture."),
        Limit("model_heads", 4_096, "Most attention (or KV) heads in a custom architecture."),
        Limit("model_ffn", 1 << 22, "Largest MLP size in a custom architecture."),
        Limit("model_vocab", 1 << 24, "Largest vocabulary in a custom architecture."),
        Limit("model_params", 10**15, "Largest parameter count for a params-only estimate."),
        Limit("micro_batch", 4_096, "Most sequences in one microbatch."),
        Limit("inference_batch", 1 << 20, "Most sequences held in an inference KV cache."),
        Limit("seq_len", 16_777_216, "Longest sequence (tokens) in a memory estimate."),
        # collectives and the communication bill (issue 10)
        Limit("collective_ranks", 1_024, "Most ranks for which a collective's steps are listed."),
        Limit("collective_transfers", 4_194_304, "Most transfers in one listed step list."),
        Limit(
            "collective_json_transfers",
            262_144,
            "Most transfers listed as JSON objects (format=columns lists up to the step limit).",
        ),
        Limit("collective_view_ranks", 96, "Most ranks for which drawing data is sent."),
        Limit("collective_chunks", 4_096, "Most pieces of a pipelined (ring) broadcast."),
        Limit("collective_bytes", 1 << 50, "Largest message size (bytes) of one collective."),
        Limit("link_bandwidth", 10**15, "Largest link bandwidth override (bytes/s)."),
        Limit("nccl_tests_text_bytes", 262_144, "Longest pasted nccl-tests output (bytes)."),
        Limit("quantize_values", 1_048_576, "Most generated values in one quantization (n)."),
        Limit("quantize_posted_values", 262_144, "Most values posted to POST /quantize."),
        Limit("quantize_bins", 2_048, "Most histogram bins in a quantization report."),
        Limit(
            "quantize_block_elements",
            256,
            "Most elements listed per block in a quantization report's block detail.",
        ),
        # expert and context parallelism (issue 11)
        Limit("moe_tokens", 65_536, "Most tokens routed in one MoE batch."),
        Limit("moe_experts", 1_024, "Most routed experts in one MoE layer."),
        Limit("moe_ep", 256, "Most expert-parallel ranks in one MoE batch."),
        Limit("moe_router_cells", 4_194_304, "Most router logits (tokens × experts) per batch."),
        Limit("moe_routes", 65_536, "Most token copies listed one by one (routes=true)."),
        Limit("context_cp", 32, "Most context-parallel ranks in one ring-attention tiling."),
        Limit("accumulate_terms", 1_048_576, "Most terms in one running sum or dot product."),
        Limit("attention_seq_len", 2_048, "Longest sequence in the low-precision attention lab."),
        Limit("attention_lengths", 12, "Most sequence lengths in one attention query."),
        Limit("attention_head_dim", 256, "Largest head dimension in the attention lab."),
        # throughput decoder and layout planner (issue 13)
        Limit("throughput_gpus", 1 << 20, "Most GPUs a throughput claim may run on."),
        Limit(
            "throughput_tokens_per_second", 10**12, "Largest tokens/s a throughput claim states."
        ),
        Limit("throughput_seconds", 10**7, "Longest step time a claim states (seconds)."),
        Limit("throughput_batch_tokens", 1 << 40, "Largest global batch (tokens) in a claim."),
        Limit("throughput_gpu_hours", 10**10, "Most GPU-hours a claim states."),
        Limit("throughput_train_tokens", 10**16, "Most training tokens a claim or plan states."),
        Limit("throughput_tflops", 100_000, "Largest TFLOP/s per GPU a claim states."),
        Limit(
            "plan_candidates",
            250_000,
            "Most layouts one plan enumerates before the memory model (narrow the constraints "
            "beyond it).",
        ),
        Limit("plan_layouts", 100, "Most layouts one plan returns (`top`)."),
        Limit(
            "plan_finalists",
            48,
            "Most layouts one plan prices exactly (pipeline simulated with their own costs).",
        ),
        Limit(
            "plan_memory_checks",
            800,
            "Most /memory evaluations one plan runs while walking the screened candidates.",
        ),
        Limit("plan_micro_batch", 256, "Largest micro batch (sequences) a plan tries."),
        # serving: roofline, KV capacity, batching simulation (issue 12)
        Limit("kv_block_size", 4_096, "Most tokens in one KV-cache block (page)."),
        Limit("memory_bytes", 1 << 44, "Largest byte count given for a memory figure."),
        Limit("batching_tokens", 1 << 20, "Most tokens one engine step may process."),
        Limit("batching_requests", 10_000, "Most requests in one simulated serving stream."),
        Limit(
            "batching_trace_requests",
            1_000,
            "Most requests whose step-by-step trace (blocks, batch) is sent; beyond, figures only.",
        ),
        Limit("batching_length", 32_768, "Longest mean prompt or output (tokens) in a stream."),
        Limit("batching_pool_blocks", 4_000_000, "Most KV blocks in a simulated pool."),
    )
}


def limit(name: str) -> int:
    """The value of one limit, e.g. ``limit("pipeline_stages") == 128``."""
    return LIMITS[name].value
