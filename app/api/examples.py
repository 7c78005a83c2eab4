"""One worked example request per endpoint, published in the OpenAPI document.

Each GET route gets ``x-examples``: complete URLs that answer 200 (a test requests every one
and validates the body against the declared schema). The /docs page shows them as curl lines,
so a reader can paste a request that works instead of a mix of per-parameter examples that
may contradict each other (a preset model and a custom architecture at once).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

EXAMPLES: dict[str, tuple[str, ...]] = {
    "/api/v1/formats/{name}": ("/api/v1/formats/float8_e4m3fn", "/api/v1/formats/nvfp4"),
    "/api/v1/formats/{name}/block": (
        "/api/v1/formats/mxfp4/block",
        "/api/v1/formats/nvfp4/block?seed=3&block=2",
        "/api/v1/formats/mxfp4/block?values=0.3,-1.7,2.9,0.05,6.5",
    ),
    "/api/v1/formats/{name}/values": ("/api/v1/formats/float4_e2m1fn/values",),
    "/api/v1/formats/{name}/decode": ("/api/v1/formats/float8_e4m3fn/decode?code=0x39",),
    "/api/v1/formats/{name}/encode": (
        "/api/v1/formats/float8_e4m3fn/encode?value=464",
        "/api/v1/formats/float8_e4m3fn/encode?value=464.0000000000000004",
        "/api/v1/formats/bfloat16/encode?value=1.00390625&rounding=toward_zero",
        "/api/v1/formats/float8_e8m0fnu/encode?value=3",
    ),
    "/api/v1/presets/models/{name}": ("/api/v1/presets/models/llama3-70b",),
    "/api/v1/mesh": (
        "/api/v1/mesh?axes=pp:2,dp:2,tp:4",
        "/api/v1/mesh?axes=dp:64,pp:16,cp:1,tp:8&include=groups",
    ),
    "/api/v1/sharding": ("/api/v1/sharding?axes=dp:2,tp:4&shape=16,32&spec=dp,tp",),
    "/api/v1/sharding/model": ("/api/v1/sharding/model?model=llama3-8b&tp=4&dp=2",),
    "/api/v1/memory": (
        "/api/v1/memory?model=llama3-70b&tp=8&pp=4&dp=8&zero=1",
        "/api/v1/memory?model=llama3-8b&mode=inference&batch=16&seq_len=8192",
        "/api/v1/memory?params=7.5e9&dp=64&zero=3",
        "/api/v1/memory?model=deepseek-v3&dp=128&pp=16&ep=64&zero=1&schedule=dualpipev"
        "&global_batch=62914560&recompute=selective&fp8_activations=true&convention=megatron",
    ),
    "/api/v1/memory/options": ("/api/v1/memory/options",),
    "/api/v1/collectives": (
        "/api/v1/collectives?op=all_reduce&algorithm=ring&ranks=8&bytes=1073741824",
        "/api/v1/collectives?op=all_gather&ranks=32&bytes=268435456&gpu=h200",
        "/api/v1/collectives?op=all_to_all&algorithm=pairwise&ranks=4&view=true",
    ),
    "/api/v1/communication": (
        "/api/v1/communication?model=llama3-70b&tp=8&pp=4&dp=2&zero=1&seq_len=8192"
        "&sequence_parallel=true&recompute=selective&microbatches=16",
        "/api/v1/communication?model=mixtral-8x7b&tp=2&dp=8&ep=8&zero=1&microbatches=4",
        "/api/v1/communication?model=llama3-8b&dp=16&zero=3&overlap_zero=false",
    ),
    "/api/v1/pipeline": (
        "/api/v1/pipeline?schedule=1f1b&stages=4&microbatches=8",
        "/api/v1/pipeline?schedule=zb_h1&stages=8&microbatches=16",
        "/api/v1/pipeline?model=llama3-8b&gpu=h100-sxm&stages=4&microbatches=8",
        "/api/v1/pipeline?schedule=zb_h1&model=llama3-70b&tp=8&seq_len=8192&stages=8"
        "&microbatches=16&recompute=selective&format=columns",
    ),
    # quantization and arithmetic labs
    "/api/v1/quantize": (
        "/api/v1/quantize?scheme=mxfp4&distribution=outliers&n=4096",
        "/api/v1/quantize?scheme=block&format=float4_e2m1fn&block_size=32"
        "&scale_format=float8_e8m0fnu&n=4096",
        "/api/v1/quantize?scheme=deepseek_fp8&block_rows=128&n=65536&cols=256&block=1",
    ),
    "/api/v1/accumulate": (
        "/api/v1/accumulate?format=bfloat16&distribution=ones&n=1000",
        "/api/v1/accumulate?format=bfloat16&accumulator=float32&distribution=uniform&mean=0.5",
    ),
    "/api/v1/accumulate/dot": (
        "/api/v1/accumulate/dot?format=float8_e4m3fn&accumulator=bfloat16&n=16384",
    ),
    "/api/v1/attention": ("/api/v1/attention?scheme=block&lengths=128,512",),
    # issue 13: throughput decoder and layout planner
    "/api/v1/throughput": (
        "/api/v1/throughput?model=llama3-70b&gpus=1024&seq_len=8192&tokens_per_second=8000000",
        "/api/v1/throughput?layers=105&hidden=20480&heads=128&vocab=51200&params=530000000000"
        "&gpu=a100-80gb&gpus=2240&seq_len=2048&step_time=60.1&global_batch_tokens=3932160"
        "&recompute=full",
        "/api/v1/throughput?model=llama3-405b&gpus=8192&seq_len=8192&tflops_per_gpu=430"
        "&global_batch_tokens=16777216&tp=8&pp=16&zero=1&recompute=selective"
        "&sequence_parallel=true",
    ),
    "/api/v1/plan": (
        "/api/v1/plan?model=llama3-8b&gpus=8",
        "/api/v1/plan?model=llama3-70b&gpus=64&seq_len=8192&global_batch_tokens=4194304",
    ),
    # expert and context parallelism (issue 11)
    "/api/v1/moe": (
        "/api/v1/moe?tokens=1024&experts=16&top_k=2&ep=4&capacity_factor=1.25&skew=1",
        "/api/v1/moe?model=deepseek-v3&tokens=8192&ep=64&max_nodes=4&dispatch_dtype=fp8",
        "/api/v1/moe?experts=8&top_k=2&ep=4&tokens=64&routing=expert_choice&routes=true",
    ),
    "/api/v1/context": (
        "/api/v1/context?seq_len=8192&cp=4&causal=true&placement=zigzag",
        "/api/v1/context?model=llama3-70b&seq_len=131072&cp=16&placement=contiguous",
    ),
    # serving (issue 12)
    "/api/v1/inference": (
        "/api/v1/inference?model=llama3-70b&tp=8&batch=16&context=4096",
        "/api/v1/inference?model=llama3-8b&batch=1&context=4096&phase=decode",
        "/api/v1/inference?model=deepseek-v3&tp=8&ep=8&dp=8&dtype=fp8&compute_dtype=fp8"
        "&phase=prefill&context=2048",
    ),
    "/api/v1/inference/kv": (
        "/api/v1/inference/kv?model=llama3-8b&engine=vllm&block_size=16&max_model_len=8192",
        "/api/v1/inference/kv?model=deepseek-v3&engine=sglang&tp=8&pp=2&dtype=fp8",
        "/api/v1/inference/kv?model=gpt-oss-120b&gpu=h200&dtype=mxfp4&sliding_window=128"
        "&full_every=2&max_model_len=131072&engine=vllm",
    ),
    "/api/v1/inference/batching": (
        "/api/v1/inference/batching?model=llama3-8b&num_blocks=1024&rate=20&requests=120",
        "/api/v1/inference/batching?model=llama3-70b&tp=4&requests=2000&rate=40&trace=false",
    ),
}


def _routes(routes: list[Any]) -> list[APIRoute]:
    out: list[APIRoute] = []
    for r in routes:
        if isinstance(r, APIRoute):
            out.append(r)
        elif getattr(r, "original_router", None) is not None:  # FastAPI's included routers
            out += _routes(r.original_router.routes)
    return out


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every JSON route of the app's contract, looking inside included routers (the OpenAPI
    document itself is served under /api/v1 but is not one of them)."""
    return [r for r in _routes(app.routes) if r.path.startswith("/api/v1/") and r.include_in_schema]


def install(app: FastAPI) -> None:
    """Attach each route's examples (routes without parameters are their own example)."""
    for route in api_routes(app):
        if "GET" not in (route.methods or ()):
            continue  # the examples are GET URLs (POST /quantize documents its body instead)
        urls = EXAMPLES.get(route.path)
        if urls is None and "{" not in route.path:
            urls = (route.path,)
        if urls:
            route.openapi_extra = {**(route.openapi_extra or {}), "x-examples": list(urls)}
