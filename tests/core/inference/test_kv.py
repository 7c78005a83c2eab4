"""KV capacity as the engines compute it: vLLM's block arithmetic on a worked example from its
own log, SGLang's and TensorRT-LLM's rules, MLA's latent, vLLM's sliding-window groups."""

from __future__ import annotations

import math

import pytest

from app.core.inference.kv import (
    ENGINES,
    KVQuery,
    budget,
    compute_kv,
    kv_payload,
    sglang_default_fraction,
)

GIB = 1 << 30


def test_vllm_block_bytes_for_llama3_8b() -> None:
    # 2 (K and V) · 32 layers · 16 tokens · 8 KV heads · 128 dims · 2 bytes
    cap = compute_kv(KVQuery(model="llama3-8b"))
    assert cap.block_size == 16
    assert cap.tightest.block_bytes == 2 * 32 * 16 * 8 * 128 * 2 == 2 * 1024 * 1024


@pytest.mark.parametrize(
    ("peak_torch_gib", "max_len", "logged_blocks", "logged_concurrency"),
    [
        # vLLM issue #10517, Llama-3.1-8B-Instruct on an RTX 3090 (23.58 GiB), utilization 0.9,
        # non-torch memory 0.35 GiB: "# GPU blocks: 1952 ... Maximum concurrency for 20000
        # tokens per request: 1.56x", and at max_model_len 29000 "# GPU blocks: 1478 ...
        # 0.82x" (23,648 tokens: too few for one request)
        (17.06, 20000, 1952, 1.56),
        (17.98, 29000, 1478, 0.82),
    ],
)
def test_vllm_reproduces_its_own_log(
    peak_torch_gib: float, max_len: int, logged_blocks: int, logged_concurrency: float
) -> None:
    block = compute_kv(KVQuery(model="llama3-8b")).tightest.block_bytes  # same dims as 3.1 8B
    # vLLM: total · utilization − peak torch memory (weights + activations) − non-torch
    _, left = budget(ENGINES["vllm"], 23.58 * GIB, 0.9, peak_torch_gib * GIB, 0.0, 0.35 * GIB)
    blocks = math.floor(left / block)
    # the log rounds each GiB figure to 0.01: ±0.015 GiB of budget is ±8 blocks of 2 MiB
    assert abs(blocks - logged_blocks) <= 8
    concurrency = logged_blocks * 16 / max_len
    assert round(concurrency, 2) == logged_concurrency
    assert (logged_blocks * 16 >= max_len) == (logged_concurrency >= 1)


def test_vllm_capacity_on_an_h100_by_hand() -> None:
    cap = compute_kv(KVQuery(model="llama3-8b", max_model_len=8192))
    t = cap.tightest
    total = 80 * GIB
    weights = 8_030_261_248 * 2
    act = 8192 * (2 * 4096 + 3 * 14336) * 2 + 256 * 128256 * 4
    left = 0.9 * total - weights - act - GIB
    assert t.weights == weights and t.activations == act
    assert t.num_blocks == math.floor(left / (2 * 1024 * 1024))
    assert t.kv_tokens == 16 * t.num_blocks
    assert t.max_concurrency == t.num_blocks / (8192 / 16)


def test_sglang_default_fraction_follows_its_reserved_memory_rule() -> None:
    assert sglang_default_fraction(80 * GIB, 1, 1) == round((80 - 10) / 80, 3)  # 0.875
    assert sglang_default_fraction(80 * GIB, 8, 1) == round((80 - 13.5) / 80, 3)
    assert sglang_default_fraction(141 * GIB, 1, 1) == round((141 - 12.5) / 141, 3)
    assert sglang_default_fraction(180 * GIB, 8, 1) == round((180 - 32) / 180, 3)


def test_sglang_counts_tokens_without_the_activation_peak() -> None:
    cap = compute_kv(KVQuery(model="llama3-8b", engine="SGLang"))
    t = cap.tightest
    assert cap.engine.name == "sglang" and cap.block_size == 1 and cap.fraction == 0.875
    cell = 32 * 2 * 8 * 128 * 2  # bytes per token over every layer
    left = 0.875 * 80 * GIB - 8_030_261_248 * 2 - GIB
    assert t.num_blocks == t.kv_tokens == math.floor(left / cell)


def test_trtllm_takes_a_fraction_of_what_the_weights_leave() -> None:
    cap = compute_kv(KVQuery(model="llama3-8b", engine="tensorrt-llm"))
    t = cap.tightest
    assert cap.engine.name == "trtllm" and cap.block_size == 64
    free = 80 * GIB - t.weights - t.activations - GIB
    assert t.budget == pytest.approx(0.9 * free)
    assert t.num_blocks == math.floor(0.9 * free / (64 * 32 * 2 * 8 * 128 * 2))


def test_mla_latent_is_the_same_on_every_tp_rank() -> None:
    one = compute_kv(KVQuery(model="deepseek-v3", tp=8, pp=8, dtype="fp8"))
    kinds = one.tightest.kinds
    assert [k.kind for k in kinds] == ["mla"]
    assert kinds[0].bytes_per_token == (512 + 64) * 2
    other = compute_kv(KVQuery(model="deepseek-v3", tp=16, pp=4, dtype="fp8"))
    assert other.tightest.kinds[0].bytes_per_token == (512 + 64) * 2


def test_tp_beyond_the_kv_heads_repeats_a_head_on_each_rank() -> None:
    cap = compute_kv(KVQuery(model="llama3-8b", tp=16))
    assert cap.tightest.kinds[0].bytes_per_token == 2 * 1 * 128 * 2  # one head per GPU


def test_vllm_groups_sliding_layers_and_caps_their_blocks() -> None:
    q = KVQuery(model="gpt-oss-120b", sliding_window=128, full_every=2, dtype="mxfp4",
                gpu="h200", max_model_len=131072, max_batched_tokens=512)  # fmt: skip
    t = compute_kv(q).tightest
    full, slide = t.kinds
    assert (full.kind, full.layers, slide.kind, slide.layers) == ("full", 18, "sliding", 18)
    # vLLM V1: the window minus one plus a step's tokens, in blocks, plus one
    assert slide.tokens_per_request == 128 - 1 + 512
    assert slide.blocks_per_request == math.ceil(639 / 16) + 1
    assert full.blocks_per_request == 131072 // 16
    # 18 full + 18 sliding: one group of each, 18 layers per block
    assert t.block_bytes == 16 * 2 * 8 * 64 * 2 * 18
    assert t.max_concurrency == t.num_blocks / (8192 + 41)


def test_the_payload_says_whether_one_request_fits() -> None:
    assert kv_payload(compute_kv(KVQuery(model="llama3-8b")))["fits"] is True
    big = kv_payload(compute_kv(KVQuery(model="llama3-405b", tp=8)))
    assert big["fits"] is False and big["num_blocks"] == 0  # 810 GB of bf16 over 8 GPUs
