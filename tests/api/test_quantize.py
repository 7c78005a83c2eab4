"""The quantization and arithmetic labs through HTTP: values against hand-worked blocks and
independent computations, presets equal their generic spelling, and hostile input answered
with a 404 / 413 / 422 that names the field.

Sources: OCP MX v1.0 (E2M1 magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6; E8M0 byte = exponent + 127;
shared exponent floor(log2 amax) − 2 for E2M1), NVIDIA NVFP4 (4 + 8/16 = 4.5 bits per
element; tensor scale amax / (6 · 448)), bf16 keeps 8 significant bits (summing ones stops at
2^8 = 256), fp16 11 (2^11 = 2048).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.core.limits import limit
from app.main import create_app

E2M1 = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
BLOCK = [0.1, -0.7, 3.3, 1.0, 5.9, 0.25, 0.75, -2.5] * 4  # amax 5.9: shared exponent 0


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


def get(client: TestClient, url: str, status: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == status, (url, r.text[:300])
    return r.json()


def post(client: TestClient, body: Any, status: int = 200) -> Any:
    r = client.post("/api/v1/quantize", json=body)
    assert r.status_code == status, r.text[:300]
    return r.json()


def named(body: dict[str, Any]) -> set[str]:
    return {str(item["loc"][1]) for item in body["detail"]}


# ---------------------------------------------------------------- quantize: values


def test_mxfp4_equals_its_generic_spelling(client: TestClient) -> None:
    data = "&distribution=laplace&n=8192&seed=5"
    preset = get(client, "/api/v1/quantize?scheme=mxfp4" + data)
    generic = get(
        client,
        "/api/v1/quantize?scheme=block&format=float4_e2m1fn&block_size=32"
        "&scale_format=float8_e8m0fnu" + data,
    )
    assert preset["metrics"] == generic["metrics"]
    assert preset["histograms"] == generic["histograms"]
    assert preset["code_usage"] == generic["code_usage"]
    for key in ("format", "block_size", "block_rows", "scale_format", "scale_rule"):
        assert preset["query"][key] == generic["query"][key], key


def test_a_hand_worked_mxfp4_block(client: TestClient) -> None:
    r = post(client, {"scheme": "mxfp4", "values": BLOCK})
    b = r["block"]
    assert (b["scale_bits"], b["scale_exponent"], b["scale"], b["multiplier"]) == (
        "01111111",
        0,
        1.0,
        1.0,
    )
    # RNE on the E2M1 grid: 0.1 -> 0, 0.7 -> 0.5, 3.3 -> 3, 5.9 -> 6, the ties 0.25 -> 0 and
    # 0.75 -> 1 go to the even mantissa, 2.5 -> 2
    assert b["dequantized"][:8] == [0.0, -0.5, 3.0, 1.0, 6.0, 0.0, 1.0, -2.0]
    assert b["code_bits"][:8] == ["0000", "1001", "0101", "0010", "0111", "0000", "0010", "1100"]
    assert r["grid"] == E2M1
    # scale 1: the block stores ±E2M1 itself; the histogram spans -2.5 to q(5.9) = 6
    assert r["grid_in_block"] == [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    assert b["max_value"] == 6.0 and b["errors"][:3] == pytest.approx([0.1, -0.2, 0.3])
    assert r["code_usage"]["values"][:8] == E2M1 and r["code_usage"]["complete"] is True
    assert sum(r["code_usage"]["counts"]) == 32 and r["block_count"] == 1


def test_metrics_match_an_independent_computation(client: TestClient) -> None:
    x = np.random.default_rng(7).standard_normal(200).round(3).tolist()
    r = post(client, {"scheme": "tensor", "format": "int8", "values": x, "bins": 16})
    b = r["block"]  # one per-tensor block: all 200 values listed
    xs, q = np.array(b["inputs"]), np.array(b["dequantized"])
    err = xs - q
    m = r["metrics"]
    assert m["mse"] == pytest.approx(float(np.mean(err**2)), rel=1e-12)
    assert m["sqnr_db"] == pytest.approx(10 * math.log10(np.sum(xs**2) / np.sum(err**2)))
    assert m["max_abs_error"] == pytest.approx(float(np.abs(err).max()))
    # one FP32 scale amax / 127: the largest |x| is exact, so nothing clips
    assert b["multiplier"] == pytest.approx(float(np.float32(np.abs(xs).max() / 127)))
    assert m["clipped_fraction"] == 0 and m["bits_per_element"] == 8 + 32 / 200
    h = r["histograms"]
    assert h["input"]["edges"] == h["dequantized"]["edges"]
    assert h["input"]["counts"] == np.histogram(xs, h["input"]["edges"])[0].tolist()
    assert h["dequantized"]["counts"] == np.histogram(q, h["input"]["edges"])[0].tolist()
    assert h["error"]["counts"] == np.histogram(err, h["error"]["edges"])[0].tolist()


def test_nvfp4_two_level_scale_and_bits(client: TestClient) -> None:
    x = [0.0] * 32
    x[0], x[16] = 12.0, 0.9
    r = post(client, {"scheme": "nvfp4", "values": x})
    glob = float(np.float32(12 / (6 * 448)))
    assert r["scheme"]["global_scale_value"] == glob
    assert [b["scale"] for b in r["blocks"]] == [448.0, 32.0]  # 0.9/6/glob = 33.6 -> e4m3 32
    assert r["metrics"]["bits_per_element"] == 4.5
    assert r["metrics"]["bits_per_element_total"] == 4 + (2 * 8 + 32) / 32


def test_non_finite_values_are_accepted_and_counted(client: TestClient) -> None:
    r = post(client, {"scheme": "mxfp8_e4m3", "values": [1.0, "nan", "inf", "-inf", 2.0, 1e300]})
    assert r["metrics"]["non_finite"] == 4  # 1e300 is past float32's range: +inf
    assert r["block"]["inputs"][1:4] == ["nan", "inf", "-inf"]
    assert r["data"] == {"source": "posted", "n": 6, "rows": 1, "cols": 6}
    assert "n" not in r["query"] and r["query"]["scheme"] == "mxfp8_e4m3"


def test_get_and_post_agree_on_the_same_values(client: TestClient) -> None:
    g = get(client, "/api/v1/quantize?scheme=nvfp4&distribution=student_t&n=512&seed=2&block=5")
    values = [v for b in range(32) for v in get_block(client, b)]
    p = post(client, {"scheme": "nvfp4", "values": values, "block": 5})
    assert p["metrics"] == g["metrics"] and p["block"] == g["block"]


def get_block(client: TestClient, index: int) -> list[float]:
    url = f"/api/v1/quantize?scheme=nvfp4&distribution=student_t&n=512&seed=2&block={index}"
    inputs: list[float] = get(client, url)["block"]["inputs"]
    return inputs


def test_presets_table_and_blocks(client: TestClient) -> None:
    cat = get(client, "/api/v1/quantize/schemes")
    r = get(client, "/api/v1/quantize?scheme=mxfp6_e2m3&n=4096&block=100")
    assert [p["scheme"] for p in r["presets"]] == [p["name"] for p in cat["presets"]]
    row = next(p for p in r["presets"] if p["scheme"] == "mxfp6_e2m3")
    assert row["metrics"] == r["metrics"]
    assert [b["index"] for b in r["blocks"]] == list(range(8))
    assert r["block"]["index"] == 100 and r["block_count"] == 4096 // 32
    big = get(client, "/api/v1/quantize?scheme=tensor&n=4096")
    assert big["block"]["size"] == 4096 and big["block"]["listed"] == limit(
        "quantize_block_elements"
    )


def test_deepseek_weight_blocks(client: TestClient) -> None:
    r = get(client, "/api/v1/quantize?scheme=deepseek_fp8&block_rows=128&n=65536&cols=256")
    assert r["block_grid"] == [2, 2] and r["scheme"]["modified"] == ["block_rows"]
    assert r["metrics"]["bits_per_element"] == 8 + 32 / (128 * 128)


def test_every_catalogue_name_is_accepted(client: TestClient) -> None:
    cat = get(client, "/api/v1/quantize/schemes")
    base = "/api/v1/quantize?n=64&scheme="
    for p in cat["presets"]:
        assert get(client, base + p["name"])["scheme"]["title"] == p["title"]
    for e in cat["element_formats"]:
        get(client, f"{base}tensor&format={e['name']}")
    for s in cat["scale_formats"]:
        get(client, f"{base}block&scale_format={s['name']}")
    for rule in cat["scale_rules"]:
        get(client, f"{base}mxfp4&scale_rule={rule['name']}")
    for d in cat["distributions"]:
        get(client, f"{base}mxfp4&distribution={d['name']}", 200 if d["tensor"] else 422)
        get(client, f"/api/v1/accumulate?n=64&distribution={d['name']}")
    for a in cat["accumulators"]:
        get(client, f"/api/v1/accumulate?n=64&accumulator={a}")
    for f in cat["dot_formats"]:
        get(client, f"/api/v1/accumulate/dot?n=64&format={f}")
    assert cat["limits"]["quantize_values"] >= 1_048_576
    assert cat["limits"]["quantize_posted_values"] >= 262_144


def test_names_are_matched_as_people_type_them(client: TestClient) -> None:
    r = get(client, "/api/v1/quantize?scheme=NVFP4&format=Float4-E2M1FN&n=64")
    assert (r["query"]["scheme"], r["query"]["format"]) == ("nvfp4", "float4_e2m1fn")
    assert get(client, "/api/v1/accumulate?format=bf16&n=8")["format"] == "bfloat16"


def test_get_is_cached_with_an_etag(client: TestClient) -> None:
    url = "/api/v1/quantize?scheme=mxfp4&n=1024"
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


# ---------------------------------------------------------------- quantize: hostile input


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("scheme=mxfp5", 404, "scheme"),
        ("format=float7_e3m3", 404, "format"),
        ("scheme=block&scale_format=float8_e8m0", 404, "scale_format"),
        ("scale_rule=floor", 422, "scale_rule"),
        ("scheme=mxfp4&global_scale=true", 422, "global_scale"),
        ("n=0", 422, "n"),
        (f"n={limit('quantize_values') + 1}", 422, "n"),
        (f"bins={limit('quantize_bins') + 1}", 422, "bins"),
        ("block=512", 422, "block"),  # 16,384 / 32 = 512 blocks: 0..511
        ("cols=1000", 422, "cols"),
        ("scheme=deepseek_fp8&block_rows=128", 422, "block_rows"),  # one row of n
        ("distribution=ones", 422, "distribution"),
        ("df=0", 422, "df"),
        ("outlier_fraction=1.5", 422, "outlier_fraction"),
        ("blocksize=16", 422, "blocksize"),
    ],
)
def test_bad_queries_name_the_field(
    client: TestClient, query: str, status: int, field: str
) -> None:
    body = get(client, f"/api/v1/quantize?{query}", status)
    assert named(body) == {field}, body


def test_unknown_names_suggest_the_closest(client: TestClient) -> None:
    body = get(client, "/api/v1/quantize?scheme=mxpf4", 404)
    item = body["detail"][0]
    assert item["suggestion"] == "mxfp4" and "nvfp4" in item["valid"]
    typo = get(client, "/api/v1/quantize?blocksize=16", 422)
    assert typo["detail"][0]["suggestion"] == "block_size"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"values": []}, "values"),
        ({"values": [1, True]}, "values"),
        ({"values": [1, "1e3"]}, "values"),
        ({"values": [1, None]}, "values"),
        ({"values": "1,2,3"}, "values"),
        ({"values": [[1, 2]]}, "values"),
        ({}, "values"),
        ({"values": [1.0], "n": 4}, "n"),  # the data is posted: no generator fields
        ({"values": [1.0], "scheme": "mxfp9"}, "scheme"),
        ({"values": [1.0, 2.0, 3.0], "cols": 2}, "cols"),
        ({"values": [1.0], "bins": "many"}, "bins"),
    ],
)
def test_bad_bodies_name_the_field(client: TestClient, body: Any, field: str) -> None:
    r = client.post("/api/v1/quantize", json=body)
    assert r.status_code in (404, 422), r.text[:300]
    assert named(r.json()) == {field}


def test_too_many_values_is_a_422_naming_values_without_echoing_them(client: TestClient) -> None:
    n = limit("quantize_posted_values") + 1
    r = client.post("/api/v1/quantize", json={"values": [0] * n})
    assert r.status_code == 422 and named(r.json()) == {"values"}
    assert len(r.content) < 2_000  # the error does not repeat the body
    at = client.post("/api/v1/quantize", json={"values": [0.5] * (n - 1), "bins": 8})
    assert at.status_code == 200 and at.json()["data"]["n"] == n - 1


def test_malformed_json_is_a_422_on_the_body(client: TestClient) -> None:
    for raw in (b"{bad", b"", b"[1, 2]", b'{"values": [NaN, 1]}'):
        r = client.post(
            "/api/v1/quantize", content=raw, headers={"content-type": "application/json"}
        )
        if raw.startswith(b'{"values"'):  # Python's parser reads NaN: accepted as "nan"
            assert r.status_code == 200 and r.json()["metrics"]["non_finite"] == 1
            continue
        assert r.status_code == 422, raw
        assert r.json()["detail"][0]["loc"][0] == "body"


def test_a_streamed_body_over_the_limit_is_413() -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b'{"values": ['
        chunk = b"1.0," * 16_384
        for _ in range(limit("request_body_bytes") // len(chunk) + 1):
            yield chunk
        yield b"1.0]}"

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.post("/api/v1/quantize", content=stream())

    r = asyncio.run(send())
    assert r.status_code == 413 and r.json()["detail"][0]["loc"] == ["body"]


# ---------------------------------------------------------------- accumulate and dot


@pytest.mark.parametrize(
    ("fmt", "stall", "spacing"), [("bfloat16", 256, 2.0), ("float16", 2048, 2.0)]
)
def test_summing_ones_stalls(client: TestClient, fmt: str, stall: int, spacing: float) -> None:
    r = get(client, f"/api/v1/accumulate?format={fmt}&distribution=ones&n=3000")
    assert (r["final"], r["stalled_at"], r["stall_sum"], r["stall_ulp"]) == (
        stall,
        stall,
        stall,
        spacing,
    )
    assert r["exact"] == 3000 and r["fp32_final"] == 3000
    assert r["indices"][0] == 0 and r["indices"][-1] == 2999 and len(r["indices"]) <= 2000


def test_the_issue_example(client: TestClient) -> None:
    r = get(client, "/api/v1/accumulate?format=bfloat16&distribution=ones&n=1000")
    assert r["final"] == 256 and r["partial_sums"][-1] == 256 and r["exact_sums"][-1] == 1000
    assert r["query"]["accumulator"] == "bfloat16"  # defaulted to the terms' format
    wide = get(client, "/api/v1/accumulate?format=bfloat16&accumulator=float32&distribution=ones")
    assert wide["stalled_at"] is None and wide["final"] == wide["query"]["n"]


def test_dot_growth(client: TestClient) -> None:
    r = get(client, "/api/v1/accumulate/dot?format=bfloat16&accumulator=bfloat16&n=16384")
    lengths = r["lengths"]
    assert lengths == [2**k for k in range(15)]
    assert r["bound"] == pytest.approx([math.sqrt(n) * 2**-8 for n in lengths])
    assert r["relative_error"][-1] > 100 * r["fp32_relative_error"][-1]


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/v1/accumulate?format=float8_e8m0fnu", 422, "format"),
        ("/api/v1/accumulate?accumulator=bfloat61", 404, "accumulator"),
        (f"/api/v1/accumulate?n={limit('accumulate_terms') + 1}", 422, "n"),
        ("/api/v1/accumulate/dot?format=float32", 422, "format"),
        ("/api/v1/accumulate/dot?n=0", 422, "n"),
        ("/api/v1/attention?lengths=64,99999", 422, "lengths"),
        ("/api/v1/attention?head_dim=2&outlier_channels=3", 422, "outlier_channels"),
        ("/api/v1/attention?p_format=float8_e4m3fx", 404, "p_format"),
    ],
)
def test_arithmetic_errors_name_the_field(
    client: TestClient, url: str, status: int, field: str
) -> None:
    assert named(get(client, url, status)) == {field}


def test_attention_sanity(client: TestClient) -> None:
    exact = get(client, "/api/v1/attention?format=float32&p_format=float32&lengths=64,256")
    assert max(exact["clean"]["output_error"]) < 1e-5
    fp8 = get(client, "/api/v1/attention?lengths=64,256")
    bf16 = get(client, "/api/v1/attention?format=bfloat16&p_format=bfloat16&lengths=64,256")
    assert min(fp8["clean"]["output_error"]) > 4 * max(bf16["clean"]["output_error"])
    assert fp8["lengths"] == [64, 256] and len(fp8["outlier_channels"]) == 4
