"""Preset architectures: parameter counts computed from the architecture vs the model cards."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from app.core.errors import UnknownName
from app.core.parallel.mesh import mesh_degrees, parse_axes
from app.core.parallel.presets import (
    GPU_ALIASES,
    GPUS,
    MODEL_ALIASES,
    MODELS,
    PARALLEL_PRESETS,
    get_gpu,
    get_model,
    get_parallel_preset,
)

# Published counts (model cards / papers cited in presets.py).
PUBLISHED = {
    "llama3-8b": (8.03e9, 8.03e9),
    "llama3-70b": (70.6e9, 70.6e9),
    "llama3-405b": (405e9, 405e9),
    "mixtral-8x7b": (46.7e9, 12.9e9),
    "deepseek-v3": (671e9, 37e9),
    "qwen3-235b-a22b": (235e9, 22e9),
    "gpt-oss-120b": (117e9, 5.1e9),
}


def test_every_issue_model_is_present() -> None:
    assert set(MODELS) == set(PUBLISHED)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_total_params_within_2_percent(name: str) -> None:
    total, _ = PUBLISHED[name]
    assert MODELS[name].total_params == pytest.approx(total, rel=0.02)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_active_params_within_2_percent(name: str) -> None:
    _, active = PUBLISHED[name]
    assert MODELS[name].active_params_published_convention == pytest.approx(active, rel=0.02)


def test_exact_counts_of_known_checkpoints() -> None:
    # Parameter counts of the safetensors checkpoints on Hugging Face.
    assert MODELS["llama3-8b"].total_params == 8_030_261_248
    assert MODELS["llama3-70b"].total_params == 70_553_706_496
    assert MODELS["mixtral-8x7b"].total_params == 46_702_792_704
    # gpt-oss model card Table 1: 116.83B total, 5.13B active.
    assert MODELS["gpt-oss-120b"].total_params == pytest.approx(116.83e9, rel=1e-3)
    assert MODELS["gpt-oss-120b"].active_params_published_convention == pytest.approx(
        5.13e9, rel=2e-3
    )


def test_dense_models_have_equal_total_and_active() -> None:
    for name in ("llama3-8b", "llama3-70b", "llama3-405b"):
        m = MODELS[name]
        assert m.total_params == m.active_params
        assert m.n_moe_layers == 0


def test_mixtral_expert_arithmetic() -> None:
    pc = MODELS["mixtral-8x7b"].param_counts()
    assert pc.expert_params_per_expert == 3 * 4096 * 14336
    # total - active = 6 idle experts in each of 32 layers
    assert pc.total - pc.active == 32 * 6 * 3 * 4096 * 14336


def test_deepseek_v3_architecture() -> None:
    m = MODELS["deepseek-v3"]
    assert (m.layers, m.hidden, m.vocab) == (61, 7168, 129280)
    assert (m.n_dense_layers, m.n_moe_layers) == (3, 58)
    assert (m.experts, m.experts_per_token, m.shared_experts, m.expert_ffn) == (256, 8, 1, 2048)
    assert m.mla is not None
    assert (m.mla.q_lora_rank, m.mla.kv_lora_rank) == (1536, 512)
    assert (m.mla.qk_rope_head_dim, m.mla.qk_nope_head_dim, m.mla.v_head_dim) == (64, 128, 128)
    # MLA caches the 512-d latent and the 64-d rope key per token per layer.
    assert m.kv_dim_per_token_per_layer == 576
    pc = m.param_counts()
    # q: 7168·1536 + 1536 + 1536·128·192; kv: 7168·576 + 512 + 512·128·256; o: 128·128·7168
    assert pc.attention_per_layer == (
        7168 * 1536
        + 1536
        + 1536 * 128 * 192
        + 7168 * 576
        + 512
        + 512 * 128 * 256
        + 128 * 128 * 7168
    )


def test_gpt_oss_architecture() -> None:
    m = MODELS["gpt-oss-120b"]
    assert (m.layers, m.hidden, m.experts, m.experts_per_token) == (36, 2880, 128, 4)
    assert (m.heads, m.kv_heads, m.head_dim, m.vocab, m.expert_ffn) == (64, 8, 64, 201088, 2880)


def test_llama3_70b_kv_cache_per_token() -> None:
    m = MODELS["llama3-70b"]
    # 2 (K and V) · 2 bytes · 128 head_dim · 8 kv heads · 80 layers
    assert 2 * m.kv_dim_per_token_per_layer * m.layers == 327_680


def test_gpu_datasheet_values() -> None:
    h100 = GPUS["h100-sxm"]
    assert (h100.bf16_tflops, h100.fp8_tflops) == (989.0, 1979.0)
    assert h100.memory_bytes == 80 * 2**30
    assert h100.hbm_bandwidth == 3.35e12
    assert h100.intra_node_bandwidth == 450e9  # 900 GB/s bidirectional NVLink 4
    assert GPUS["a100-80gb"].fp8_tflops is None
    assert GPUS["a100-80gb"].bf16_tflops == 312.0
    assert GPUS["h200"].memory_gb_datasheet == 141
    assert GPUS["b200"].fp8_tflops == 4500.0
    assert GPUS["mi300x"].bf16_tflops == 1307.4
    assert GPUS["mi300x"].memory_bytes == 192 * 2**30
    for g in GPUS.values():
        assert g.gpus_per_node == 8
        assert g.source
        if g.fp8_tflops is not None:
            assert g.fp8_tflops == pytest.approx(2 * g.bf16_tflops, rel=1e-3)


def test_parallel_presets() -> None:
    sizes = {p.name: p.world_size for p in PARALLEL_PRESETS.values()}
    assert sizes["llama3-405b-8k"] == 8192
    assert sizes["llama3-405b-16k"] == 16384
    assert sizes["llama3-405b-128k"] == 16384
    assert sizes["deepseek-v3"] == 2048
    assert PARALLEL_PRESETS["llama3-405b-8k"].axes == "dp:64,pp:16,cp:1,tp:8"
    for p in PARALLEL_PRESETS.values():
        assert p.model in MODELS and p.gpu in GPUS
        parse_axes(p.axes)


def test_unknown_names() -> None:
    with pytest.raises(UnknownName) as e:
        get_model("llama2")
    assert e.value.field == "model" and "llama3-8b" in e.value.valid
    with pytest.raises(UnknownName) as e2:
        get_gpu("v100")
    assert e2.value.field == "gpu"
    with pytest.raises(UnknownName):
        get_parallel_preset("nope")


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Llama3-70B", "llama3-70b"),
        ("llama-3-8b", "llama3-8b"),
        ("Llama 3.1 405B", "llama3-405b"),  # the preset's own title
        ("DeepSeek_V3", "deepseek-v3"),
        ("Qwen3-235B", "qwen3-235b-a22b"),
    ],
)
def test_models_as_people_type_them(typed: str, name: str) -> None:
    assert get_model(typed).name == name


@pytest.mark.parametrize(
    ("typed", "name"),
    [("H100", "h100-sxm"), ("h100 sxm5", "h100-sxm"), ("A100", "a100-80gb"), ("MI300X", "mi300x")],
)
def test_gpus_as_people_type_them(typed: str, name: str) -> None:
    assert get_gpu(typed).name == name


def test_aliases_name_real_presets_and_misses_suggest_one() -> None:
    assert set(MODEL_ALIASES.values()) <= set(MODELS)
    assert set(GPU_ALIASES.values()) <= set(GPUS)
    with pytest.raises(UnknownName) as e:
        get_model("llama3-7b")
    assert e.value.suggestion in ("llama3-8b", "llama3-70b")
    with pytest.raises(UnknownName) as e2:
        get_parallel_preset("deepseek-v2")
    assert e2.value.suggestion == "deepseek-v3" and e2.value.field == "preset"
    with pytest.raises(UnknownName):
        get_gpu("mi300")  # MI300X or the MI300A APU: ambiguous, so no alias


@pytest.mark.parametrize("name", sorted(PARALLEL_PRESETS))
def test_mesh_degrees_and_memory_query_count_dp_alike(name: str) -> None:
    p = PARALLEL_PRESETS[name]
    memory = {k: int(v[0]) for k, v in parse_qs(p.memory_query()).items() if v[0].isdigit()}
    degrees = mesh_degrees(parse_axes(p.axes))
    assert {k: memory[k] for k in degrees} == degrees
    # /api/v1/memory's world size is dp·tp·pp·cp (ep inside dp): the same GPUs as the mesh
    assert degrees["dp"] * degrees["tp"] * degrees["pp"] * degrees["cp"] == p.world_size
