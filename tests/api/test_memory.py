"""GET /api/v1/memory: real values from the papers, the query echo, and what the page draws."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from tests.api.test_parallel import _error, _get

# Llama 3 70B (Meta's config.json): hidden 8192, MLP 28672 (SwiGLU: 3 matrices), 64 heads of
# 128, 8 KV heads, 80 layers, vocabulary 128,256, untied embeddings, RMSNorm.
H, FFN, KV_WIDTH, LAYERS, VOCAB = 8192, 28672, 8 * 128, 80, 128_256
SBH_8K = 8192 * 1 * H  # s·b·h at 8K tokens, micro batch 1


def llama3_70b_tp8() -> tuple[int, int, int, int]:
    """Ψ per GPU at tp 8 (one stage), and Korthikanti's activation bytes at 8K tokens.

    Returns (Ψ, bytes per layer with TP and no recompute, embedding activations, output
    activations), each worked from the architecture and the paper's formulas.
    """
    attention = 2 * H * H + 2 * H * KV_WIDTH  # q, o: h×h; k, v: h×(kv_heads·head_dim)
    layer = (attention + 3 * H * FFN) // 8 + 2 * H  # matrices split over tp 8, 2 norms whole
    psi = LAYERS * layer + 2 * (VOCAB // 8) * H + H  # embedding + LM head over tp, final norm
    per_layer = SBH_8K * (10 + 24 // 8 + 5 * 64 * 8192 // (H * 8))  # sbh(10 + 24/t + 5as/(ht))
    embedding = 8 * 8192 + SBH_8K  # 8sb + sbh (no SP)
    output = 4 * 8192 * (H + VOCAB // 8)  # 4sb(h + V/t)
    return psi, per_layer, embedding, output


@pytest.mark.parametrize(("zero", "gb"), [(0, 120.0), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_memory_zero_paper(client: TestClient, zero: int, gb: float) -> None:
    d = _get(client, "/api/v1/memory", params=7.5e9, dp=64, zero=zero)
    assert round(d["total"] / 1e9, 1) == gb
    assert d["model"] == "params"


def test_memory_llama3_70b_kv_cache(client: TestClient) -> None:
    d = _get(client, "/api/v1/memory", model="llama3-70b", mode="inference", seq_len=1)
    assert d["kv_cache"] == 327_680
    kv = next(t for t in d["terms"] if t["name"] == "kv_cache")
    assert "2 × 2 × 128 × 8 × 80 × 1 × 1" in kv["formula"] and kv["source"]
    assert d["parameters"] == 2 * 70_553_706_496


def test_memory_training_contract(client: TestClient) -> None:
    d = _get(
        client, "/api/v1/memory", model="llama3-70b", dp=8, tp=8, pp=4, zero=1, seq_len=8192,
        recompute="selective", sequence_parallel="true",
    )  # fmt: skip
    for key in (
        "parameters", "gradients", "optimizer_states", "activations", "activations_per_layer",
        "kv_cache", "total", "capacity", "fits", "terms", "per_stage", "advice", "overhead",
        "usable", "convention", "accounting", "anatomy", "schedule", "layout", "links",
    ):  # fmt: skip
        assert key in d
    # The model's layer, FlashAttention, TP 8 + SP + selective, per token: the two norm
    # inputs (2h/t each) and fp32 rstd (4/t each); Q and O (2·8 heads·128 each); K and V
    # (2·1 head·128 each); the logsumexp (4 × 8 heads); gate and up (2·2·ffn/t). Selective
    # recomputes the norm outputs and the SwiGLU output.
    t = 8
    per_token = (
        2 * (2 * H // t + 4 / t) + 2 * (2 * 8 * 128) + 2 * (2 * 1 * 128) + 4 * 8
        + 2 * 2 * FFN // t
    )  # fmt: skip
    assert d["activations_per_layer"] == 8192 * per_token
    assert d["schedule"]["name"] == "1f1b" and d["schedule"]["stages"] == 4
    assert d["links"]["mesh"] == "/mesh?axes=dp:8,pp:4,tp:8&gpus_per_node=8"
    # the same model and layout, so /pipeline answers in seconds
    assert d["links"]["pipeline"] == (
        "/pipeline?schedule=1f1b&stages=4&microbatches=4&model=llama3-70b&gpu=h100-sxm"
        "&tp=8&cp=1&seq_len=8192&micro_batch=1&recompute=selective"
    )
    assert len(d["per_stage"]) == 4 and d["worst_stage"] == 0
    assert d["capacity"] == 80 * 2**30
    assert d["total"] == sum(t["bytes"] for t in d["terms"])
    assert d["total"] == d["per_stage"][0]["total"]


def test_memory_custom_architecture(client: TestClient) -> None:
    """GPT-3 175B as a custom architecture in Korthikanti's accounting: TP + SP + selective
    is 34·sbh/t = 34 × 2,048 × 12,288 / 8."""
    d = _get(
        client, "/api/v1/memory", layers=96, hidden=12288, heads=96, seq_len=2048, tp=8,
        recompute="selective", sequence_parallel=True, anatomy="gpt", attention="eager",
    )  # fmt: skip
    assert d["model"] == "custom" and d["activations_per_layer"] == 106_954_752


def test_memory_dtypes(client: TestClient) -> None:
    for dtype, want in (
        ("mxfp4", 531_250_000),  # 4 + 8/32 bits
        ("fp4", 500_000_000),  # docs/dtypes.md: the bare E2M1 element, 4 bits
        ("nvfp4", 562_500_000),  # 4 + 8/16 bits
        ("float8_e4m3fn", 10**9),
        ("deepseek_fp8", round(10**9 * (8 + 32 / (128 * 128)) / 8)),  # + fp32 per 128×128
    ):
        d = _get(client, "/api/v1/memory", params=1e9, mode="inference", dtype=dtype)
        assert d["parameters"] == want


def test_memory_advice_totals_are_the_hand_computed_layouts(client: TestClient) -> None:
    """Llama 3 70B on dp 8 × tp 8 at 8K tokens, Korthikanti's layer with eager attention (the
    2022 accounting), each total worked by hand."""
    q = {"model": "llama3-70b", "dp": 8, "tp": 8, "seq_len": 8192, "anatomy": "gpt",
         "attention": "eager"}  # fmt: skip
    d = _get(client, "/api/v1/memory", **q)
    psi, per_layer, emb, out = llama3_70b_tp8()
    assert d["total"] == 16 * psi + 80 * per_layer + emb + out  # ZeRO-0: (2 + 2 + 12)Ψ
    assert not d["fits"] and d["verdict"] == "over"
    advice = {a["change"]: a for a in d["advice"]}
    z3 = advice["raise zero to 3"]
    assert z3["total"] == 16 * psi // 8 + 80 * per_layer + emb + out  # ZeRO-3: 16Ψ/N_d
    assert z3["params"] == {"zero": 3} and z3["world_size"] == 64 and not z3["fits"]
    # no single change fits, so a combination leads; applied, it gives what it said
    combo = d["advice"][0]
    assert combo["rank"] == 0 and combo["verdict"] == "fits"
    again = _get(client, "/api/v1/memory", **{**q, **combo["params"]})
    assert again["total"] == combo["total"] and again["verdict"] == "fits"
    # a new degree keeps the GPU budget: cp 2 with dp halved
    assert advice["cp=2, dp=4"]["world_size"] == 64
    assert all(a["total"] < d["total"] for a in d["advice"])
    assert [a["rank"] for a in d["advice"][1:]] == sorted(a["rank"] for a in d["advice"][1:])


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"model": "llama3-70b", "tp": 3}, 422, "tp"),
        ({"model": "llama3-70b", "ep": 2, "dp": 2}, 422, "ep"),
        ({"model": "llama3-70b", "cp": 3}, 422, "cp"),
        ({"model": "llama3-70b", "chunks": 2}, 422, "chunks"),
        ({"model": "llama3-8b", "pp": 40}, 422, "pp"),
        ({"model": "llama3-8b", "zero": 4}, 422, "zero"),
        ({"model": "llama3-8b", "recompute": "some"}, 422, "recompute"),
        ({"model": "llama3-8b", "mode": "serve"}, 422, "mode"),
        ({"model": "llama3-8b", "dtype": "fp5"}, 422, "dtype"),
        ({"model": "llama3-8b", "kv_dtype": "fp5"}, 422, "kv_dtype"),
        ({"model": "llama3-8b", "tp": 0}, 422, "tp"),
        ({"model": "llama3-8b", "seq_len": 0}, 422, "seq_len"),
        ({"model": "llama3-8b", "layers": 4}, 422, "layers"),
        ({"layers": 4, "hidden": 64}, 422, "heads"),
        ({"params": -1}, 422, "params"),
        ({}, 422, "model"),
        ({"model": "llama9"}, 404, "model"),
        ({"params": 1e9, "gpu": "v100"}, 404, "gpu"),
    ],
)
def test_memory_errors(client: TestClient, params: dict[str, Any], status: int, field: str) -> None:
    _error(client, "/api/v1/memory", status, field, **params)


# ---------------------------------------------------------------- the query echo


ECHO_QUERIES = [
    "model=llama3-70b",
    "model=llama3-70b&dp=8&tp=8&pp=4&zero=1",
    "model=llama3-405b&dp=64&tp=8&pp=16&chunks=2&zero=1&seq_len=8192&recompute=selective",
    "model=deepseek-v3&dp=128&pp=16&ep=64&zero=1",
    "model=llama3-70b&mode=inference&tp=16&dtype=fp8&kv_dtype=e4m3&batch=8",
    "model=gpt-oss-120b&mode=inference&seq_len=131072",
    "model=qwen3-235b-a22b&dp=16&tp=2&pp=8&ep=16&schedule=zbv&global_batch=8388608"
    "&convention=megatron&recompute=selective&sequence_parallel=true&logits=chunked",
    "model=llama3-8b&dp=8&zero=3&convention=fsdp&attention=eager&overhead=2.5",
    "layers=32&hidden=4096&heads=32&pp=2",
    "params=7.5e9&dp=64&zero=3",
]


@pytest.mark.parametrize("query", ECHO_QUERIES)
def test_query_echo_names_every_parameter_and_reproduces_the_answer(
    client: TestClient, query: str
) -> None:
    d = client.get(f"/api/v1/memory?{query}").json()
    declared = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/memory"]["get"]
    names = {p["name"] for p in declared["parameters"]}
    assert set(d["query"]) == names
    # every parameter the request gave comes back with the value given
    for k, v in (kv.split("=") for kv in query.split("&")):
        if k not in ("dtype", "kv_dtype"):
            assert str(d["query"][k]).lower() == v or float(d["query"][k]) == float(v)
    # sent back as a query, the echo gives the same answer (and echoes itself)
    echo = {k: v for k, v in d["query"].items() if v is not None}
    again = client.get(f"/api/v1/memory?{urlencode(echo)}").json()
    assert again == d


def test_query_echo_fills_defaults_as_computed(client: TestClient) -> None:
    """The issue's case: ?model=llama3-70b. The answer says which sequence length it used,
    and asking for that length explicitly gives the same bytes."""
    d = _get(client, "/api/v1/memory", model="llama3-70b")
    q = d["query"]
    assert q["dp"] == q["tp"] == q["pp"] == 1 and q["mode"] == "train"
    explicit = _get(client, "/api/v1/memory", model="llama3-70b", seq_len=q["seq_len"])
    assert explicit["total"] == d["total"]
    longer = _get(client, "/api/v1/memory", model="llama3-70b", seq_len=2 * q["seq_len"])
    assert longer["total"] > d["total"]


def test_query_echo_spells_names_as_the_registries_do(client: TestClient) -> None:
    q = _get(client, "/api/v1/memory", params=1e9, mode="inference", dtype="MXFP4", kv_dtype="bf16")
    assert q["query"]["dtype"] == "mxfp4" and q["query"]["kv_dtype"] == "bfloat16"
    custom = _get(client, "/api/v1/memory", layers=4, hidden=64, heads=4)["query"]
    # a custom model's defaulted dimensions: kv_heads = heads, ffn = 4·hidden
    assert (custom["kv_heads"], custom["ffn"]) == (4, 256)


def test_microbatches_assumed_are_the_fewest_that_fill_the_pipeline(client: TestClient) -> None:
    """1F1B fills with p microbatches; interleaved rank 0 warms up with (v + 1)p − 1 chunks
    (Megatron-LM), more than p·v, so it takes 2p. Given that many, the bytes are the same."""
    d = _get(client, "/api/v1/memory", model="llama3-8b", pp=4)
    assert d["microbatches"] == 4 and d["query"]["microbatches"] is None
    inter = _get(client, "/api/v1/memory", model="llama3-8b", pp=4, chunks=2)
    assert inter["microbatches"] == 8
    for a, m in ((d, 4), (inter, 8)):
        q = {k: v for k, v in a["query"].items() if v is not None}
        given = _get(client, "/api/v1/memory", **{**q, "microbatches": m})
        assert [s["total"] for s in given["per_stage"]] == [s["total"] for s in a["per_stage"]]
        fewer = _get(client, "/api/v1/memory", **{**q, "microbatches": m // 2})
        assert fewer["per_stage"][0]["activations"] < a["per_stage"][0]["activations"]


# ---------------------------------------------------------------- what the page draws


def test_stage_roles_and_microbatches_in_flight(client: TestClient) -> None:
    """1F1B: stage r holds p − r microbatches (Narayanan et al. 2021 §2.2); interleaved with v
    chunks, stage 0 holds p·(1 + (p − 1)/(p·v)) (Megatron-LM theoretical_memory_usage.py)."""
    d = _get(client, "/api/v1/memory", model="llama3-70b", dp=8, tp=8, pp=4)
    assert [s["role"] for s in d["per_stage"]] == ["first", "middle", "middle", "last"]
    assert [s["microbatches_in_flight"] for s in d["per_stage"]] == [4, 3, 2, 1]
    assert [s["has_embedding"] for s in d["per_stage"]] == [True, False, False, False]
    assert [s["has_lm_head"] for s in d["per_stage"]] == [False, False, False, True]
    assert d["gpus_per_stage"] == 64 and d["world_size"] == 256
    inter = _get(client, "/api/v1/memory", model="llama3-70b", pp=4, chunks=2)
    assert inter["per_stage"][0]["microbatches_in_flight"] == 4 * (1 + 3 / 8)
    one = _get(client, "/api/v1/memory", model="llama3-8b")["per_stage"]
    assert [s["role"] for s in one] == ["only"]
    infer = _get(client, "/api/v1/memory", model="llama3-8b", mode="inference")
    assert infer["per_stage"][0]["microbatches_in_flight"] is None


def test_every_term_has_a_segment_and_stages_sum_by_segment(client: TestClient) -> None:
    d = _get(client, "/api/v1/memory", model="llama3-70b", dp=8, tp=8, pp=4, zero=1)
    segments = ("parameters", "gradients", "optimizer_states", "activations", "kv_cache")
    for st in d["per_stage"]:
        for seg in segments:
            assert st[seg] == sum(t["bytes"] for t in st["terms"] if t["segment"] == seg)
        assert st["total"] == sum(st[seg] for seg in segments)
    first = {t["name"]: t["segment"] for t in d["per_stage"][0]["terms"]}
    last = {t["name"]: t["segment"] for t in d["per_stage"][-1]["terms"]}
    # the embedding's inputs and the logits are activations, like the layers' own
    assert first["embedding_activations"] == last["output_activations"] == "activations"
    kv = _get(client, "/api/v1/memory", model="llama3-8b", mode="inference")["terms"]
    assert [t["segment"] for t in kv] == ["parameters", "kv_cache"]


@pytest.mark.parametrize(
    ("params", "verdict"),
    # ZeRO-0 model states are 16 bytes per parameter; an H100 holds 80 GiB = 85.9e9 bytes.
    # 64e9 leaves 21.9 GB free, 83.2e9 leaves 2.7 GB (under the 4 GB overhead), 96e9 is over
    [(4e9, "fits"), (5.2e9, "tight"), (6e9, "over")],
)
def test_verdict(client: TestClient, params: float, verdict: str) -> None:
    d = _get(client, "/api/v1/memory", params=params)
    assert d["total"] == 16 * params
    assert d["verdict"] == verdict
    assert d["overhead"] == 4 * 10**9 and d["usable"] == 80 * 2**30 - 4 * 10**9
    assert d["fits"] == (verdict != "over")
    assert d["headroom"] == 80 * 2**30 - 16 * params
    assert d["utilisation"] == pytest.approx(16 * params / (80 * 2**30))


# Storage bits per element: ml_dtypes itemsizes for the IEEE/OCP formats; OCP MX v1.0 adds an
# 8-bit E8M0 scale per 32 elements (mxfp8 8.25, mxfp6 6.25, mxfp4 4.25); NVIDIA NVFP4 an E4M3
# scale per 16 (4.5). float4_e2m1fn is the bare element, no scales.
STORAGE_BITS = {
    "float32": 32,
    "bfloat16": 16,
    "float16": 16,
    "mxfp8": 8.25,
    "float8_e4m3fn": 8,
    "float8_e5m2": 8,
    "mxfp6": 6.25,
    "nvfp4": 4.5,
    "mxfp4": 4.25,
    "float4_e2m1fn": 4,
}


def test_memory_page_dtype_pickers_cost_what_the_formats_define(client: TestClient) -> None:
    html = client.get("/memory").text
    offered = {}
    for select in ("mem-dtype", "mem-kv_dtype"):
        body = html.split(f'id="{select}"', 1)[1].split("</select>", 1)[0]
        options = re.findall(r'<option value="([^"]+)">[^(]*\((\d+(?:\.\d+)?) bits', body)
        assert options, select
        offered.update(options)
    assert {"bfloat16", "float8_e4m3fn", "mxfp4", "nvfp4"} <= set(offered)
    for name, shown_bits in offered.items():
        assert name in STORAGE_BITS, f"{name}: add its storage cost, from its spec, to this test"
        assert float(shown_bits) == STORAGE_BITS[name]
        r = client.get(f"/api/v1/memory?params=7e9&mode=inference&dtype={name}&kv_dtype={name}")
        assert r.status_code == 200, (name, r.text)
        assert r.json()["parameters"] == round(7e9 * STORAGE_BITS[name] / 8)


def test_spellings_of_one_model_share_one_cache_entry_and_etag(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Llama3-70B` and `llama3-70b` answer the same body, so the second is not recomputed and
    a client's tag for one revalidates the other."""
    import app.api.memory as route

    calls: list[str | None] = []
    real = route.compute_memory

    def counted(q: Any) -> object:
        calls.append(q.model)
        return real(q)

    monkeypatch.setattr(route, "compute_memory", counted)
    query = "gpu=H100&tp=8&pp=4&dp=3&seq_len=4000"  # a query no other test has cached
    first = client.get(f"/api/v1/memory?model=Llama3-70B&{query}")
    second = client.get(f"/api/v1/memory?model=llama3-70b&{query}")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert calls == ["Llama3-70B"]
    again = client.get(
        f"/api/v1/memory?model=LLAMA3_70B&{query}", headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert client.get(f"/api/v1/memory?model=llama3-7b&{query}").status_code == 404
