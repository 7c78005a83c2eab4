"""Model mode of the shard map: Megatron specs per weight, checked against shard_map itself."""

from __future__ import annotations

import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.parallel.presets import MODELS
from app.core.parallel.sharding import shard_map
from app.core.parallel.sharding_model import ModelShardingQuery, model_layout


def test_model_layout_llama3_8b() -> None:
    lay = model_layout(ModelShardingQuery("llama3-8b", tp=4, dp=2))
    w = {x.name: x for x in lay.weights}
    assert lay.axes == "dp:2,tp:4"
    assert (w["q_proj"].shape, w["q_proj"].spec, w["q_proj"].shard_shape) == (
        (4096, 4096), "_,tp", (4096, 1024),
    )  # fmt: skip
    assert (w["k_proj"].shard_shape, w["o_proj"].spec, w["o_proj"].shard_shape) == (
        (4096, 256), "tp,_", (1024, 4096),
    )  # fmt: skip
    assert w["down_proj"].shard_shape == (3584, 4096)
    assert w["embedding"].spec == "tp,_" and w["embedding"].shard_shape == (32064, 4096)
    assert w["lm_head"].spec == "_,tp"
    pc = MODELS["llama3-8b"].param_counts()
    per_layer = 2 * (pc.attention_per_layer // 4 + pc.dense_mlp_per_layer // 4 + pc.norms_per_layer)
    assert lay.bytes_per_rank["dense_layer"] == per_layer


def test_model_layout_specs_agree_with_shard_map() -> None:
    for name, kw in (
        ("llama3-8b", {"tp": 4, "dp": 2, "zero": 3}),
        ("mixtral-8x7b", {"tp": 2, "dp": 4, "ep": 4}),
        ("deepseek-v3", {"tp": 2, "dp": 8, "ep": 8, "zero": 3}),
        ("gpt-oss-120b", {"tp": 8}),
    ):
        lay = model_layout(ModelShardingQuery(name, **kw))  # type: ignore[arg-type]
        for w in lay.weights:
            sm = shard_map(lay.axes, w.shape, w.spec)
            assert sm.shard_shape == w.shard_shape, (name, w.name)


def test_model_layout_experts_and_fsdp() -> None:
    lay = model_layout(ModelShardingQuery("deepseek-v3", dp=16, ep=8, zero=3))
    w = {x.name: x for x in lay.weights}
    assert lay.axes == "dp:2,ep:8,tp:1"
    assert w["experts.gate_proj"].shard_shape == (32, 3584, 2048)
    assert w["q_b_proj"].spec.startswith("dp+ep")
    lay4 = model_layout(ModelShardingQuery("gpt-oss-120b", tp=1, dtype="mxfp4"))
    e = {x.name: x for x in lay4.weights}["experts.up_proj"]
    assert e.bytes == round(128 * 2880 * 2880 * 4.25 / 8)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"model": "llama3-8b", "tp": 3}, "tp"),
        ({"model": "llama3-8b", "ep": 2, "dp": 2}, "ep"),
        ({"model": "mixtral-8x7b", "ep": 3, "dp": 3}, "ep"),
        ({"model": "mixtral-8x7b", "ep": 4, "dp": 2}, "ep"),
        ({"model": "llama3-8b", "pp": 64}, "pp"),
        ({"model": "llama3-8b", "dtype": "fp5"}, "dtype"),
    ],
)
def test_model_layout_invalid(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        model_layout(ModelShardingQuery(**kw))  # type: ignore[arg-type]
    assert e.value.field == field


def test_model_layout_unknown_model() -> None:
    with pytest.raises(UnknownName):
        model_layout(ModelShardingQuery("gpt-5"))
