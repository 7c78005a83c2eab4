"""The number-format endpoints: contract fields with real values, errors, caching."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import ml_dtypes
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.core.numerics.formats import FORMATS
from app.schemas.block_format import BlockViewResponse
from app.schemas.numerics import (
    BlockFormatModel,
    CompareResponse,
    DecodeResponse,
    DtypesResponse,
    EncodeResponse,
    FormatsResponse,
    ValuesResponse,
)

API = "/api/v1/formats"


def get_json(client: TestClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.text
    return response.json()


def test_list_formats(client: TestClient) -> None:
    body = get_json(client, API)
    names = [f["name"] for f in body["formats"]]
    assert names == list(FORMATS)
    bf16 = body["formats"][names.index("bfloat16")]
    assert bf16["bits"] == 16 and bf16["max"] == float.fromhex("0x1.fep127")


def test_format_e4m3fn_contract_fields(client: TestClient) -> None:
    f = get_json(client, f"{API}/float8_e4m3fn")
    expected = {
        "name": "float8_e4m3fn",
        "bits": 8,
        "exponent_bits": 4,
        "mantissa_bits": 3,
        "bias": 7,
        "max": 448.0,
        "min_normal": 2.0**-6,
        "min_subnormal": 2.0**-9,
        "eps": 0.125,
        "has_inf": False,
        "has_nan": True,
        "has_negative_zero": True,
        "nan_codes": [127, 255],
        "inf_codes": [],
        "finite_count": 254,
        "overflow": "nan",
        "signed": True,
        "family": "fp8",
        "max_code": 255,
        "max_finite_code": 126,
    }
    assert {k: f[k] for k in expected} == expected
    assert "H100" in f["description"]


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("float8_e5m2", {"max": 57344.0, "inf_codes": [124, 252], "overflow": "inf", "bias": 15}),
        (
            "float8_e8m0fnu",
            {"min_subnormal": None, "signed": False, "has_zero": False, "nan_codes": [255]},
        ),
        ("float4_e2m1fn", {"max": 6.0, "overflow": "saturate", "nan_codes": [], "eps": 0.5}),
        ("float8_e4m3fnuz", {"nan_codes": [128], "has_negative_zero": False, "bias": 8}),
        ("float32", {"nan_codes": None, "inf_codes": [0x7F800000, 0xFF800000], "bits": 32}),
    ],
)
def test_format_fields(client: TestClient, name: str, fields: dict[str, Any]) -> None:
    f = get_json(client, f"{API}/{name}")
    assert {k: f[k] for k in fields} == fields


def test_alias_answers_with_the_canonical_name(client: TestClient) -> None:
    assert get_json(client, f"{API}/bf16")["name"] == "bfloat16"


@pytest.mark.parametrize("suffix", ["", "/values", "/decode?code=1", "/encode?value=1"])
def test_unknown_format_is_404_listing_names(client: TestClient, suffix: str) -> None:
    detail = get_json(client, f"{API}/float8_e4m4{suffix}", 404)["detail"]
    assert detail[0]["loc"] == ["path", "name"]
    # /formats/{name} also answers for block formats; the others are element formats only
    blocks = list(BLOCK_BITS) if suffix == "" else []
    assert detail[0]["valid"] == sorted([*FORMATS, *blocks])
    assert "float8_e4m3fn" in detail[0]["msg"]


def test_values_for_e2m1(client: TestClient) -> None:
    body = get_json(client, f"{API}/float4_e2m1fn/values")
    assert body["name"] == "float4_e2m1fn"
    assert body["codes"] == list(range(16))
    assert body["values"] == [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6]
    assert body["classes"][:3] == ["zero", "subnormal", "normal"]


def test_values_for_e4m3fn_encode_nan_as_strings(client: TestClient) -> None:
    body = get_json(client, f"{API}/float8_e4m3fn/values")
    assert body["values"][127] == "nan" and body["values"][255] == "nan"
    assert body["values"][126] == 448.0 and body["values"][1] == 2.0**-9
    assert body["classes"][127] == "nan"


def test_bf16_values_match_ml_dtypes(client: TestClient) -> None:
    body = get_json(client, f"{API}/bfloat16/values")
    assert len(body["codes"]) == 65536
    with np.errstate(invalid="ignore"):
        expected = np.arange(65536, dtype=np.uint16).view(ml_dtypes.bfloat16).astype(np.float64)
    got = np.array([math.nan if v == "nan" else float(v) for v in body["values"]])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = ~np.isnan(expected)
    np.testing.assert_array_equal(got[finite], expected[finite])
    assert body["values"][0x7F80] == "inf" and body["values"][0xFF80] == "-inf"
    assert body["classes"].count("subnormal") == 254


def test_values_refuse_float32(client: TestClient) -> None:
    detail = get_json(client, f"{API}/float32/values", 422)["detail"]
    assert detail[0]["loc"][-1] == "name"
    assert "16 bits" in detail[0]["msg"]


def test_values_etag_and_304(client: TestClient) -> None:
    first = client.get(f"{API}/bfloat16/values")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "max-age" in first.headers["cache-control"]
    again = client.get(f"{API}/bfloat16/values", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(f"{API}/float16/values", headers={"If-None-Match": etag})
    assert other.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        API,
        f"{API}/float8_e5m2",
        f"{API}/float8_e5m2/decode?code=3",
        f"{API}/float8_e5m2/encode?value=3",
    ],
)
def test_every_endpoint_revalidates(client: TestClient, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200 and "max-age" in first.headers["cache-control"]
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_decode(client: TestClient) -> None:
    body = get_json(client, f"{API}/float8_e4m3fn/decode?code=57")
    assert body["bits"] == "00111001"
    assert (body["sign"], body["exponent"], body["mantissa"]) == (0, 7, 1)
    assert body["class"] == "normal" and body["value"] == 1.125 and body["exact"] == "1.125"
    assert body["formula"][-1] == "= 1.125"
    assert body["query"] == {"code": "57"}
    for spelling in ("0x39", "0b00111001"):
        again = get_json(client, f"{API}/float8_e4m3fn/decode?code={spelling}")
        assert again["query"] == {"code": spelling}
        assert {**again, "query": body["query"]} == body


def test_decode_exact_decimal_and_non_finite(client: TestClient) -> None:
    sub = get_json(client, f"{API}/float8_e4m3fn/decode?code=1")
    assert sub["exact"] == "0.001953125" and sub["class"] == "subnormal"
    nan = get_json(client, f"{API}/float8_e4m3fn/decode?code=255")
    assert nan["value"] == "nan" and nan["class"] == "nan" and nan["exact"] == "NaN"
    inf = get_json(client, f"{API}/float8_e5m2/decode?code=252")
    assert inf["value"] == "-inf" and inf["exact"] == "-Inf"
    f32 = get_json(client, f"{API}/float32/decode?code=1")
    assert Fraction(f32["exact"]) == Fraction(1, 2**149)
    e8 = get_json(client, f"{API}/float8_e8m0fnu/decode?code=0")
    assert e8["sign"] is None and e8["value"] == 2.0**-127


@pytest.mark.parametrize("query", ["code=256", "code=-1", "code=abc", "code=1.5", "code=0x100", ""])
def test_decode_bad_code_is_422_naming_code(client: TestClient, query: str) -> None:
    detail = get_json(client, f"{API}/float8_e4m3fn/decode?{query}", 422)["detail"]
    assert detail[0]["loc"] == ["query", "code"]


def test_encode_ties_to_even_and_neighbours(client: TestClient) -> None:
    body = get_json(client, f"{API}/float8_e4m3fn/encode?value=1.0625")
    assert body["code"] == 0x38 and body["value"] == 1.0 and body["class"] == "normal"
    assert body["abs_error"] == 0.0625 and body["rel_error"] == 0.0625 / 1.0625
    assert body["below"] == {"code": 0x38, "value": 1.0}
    assert body["above"] == {"code": 0x39, "value": 1.125}
    assert body["rounding"] == "nearest_even" and body["overflow"] == "native"
    assert body["seed"] is None
    # every parameter used, defaults filled in (the page reads this, not its own defaults)
    assert body["query"] == {
        "value": "1.0625",
        "rounding": "nearest_even",
        "overflow": "native",
        "seed": 0,
    }


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("float4_e2m1fn", "0.25", 0.0),
        ("float4_e2m1fn", "0.75", 1.0),
        ("float8_e4m3fn", "464", 448.0),
        ("float8_e4m3fn", "465", "nan"),
        ("bfloat16", "1.00390625", 1.0),
        ("float8_e5m2", "61440", "inf"),
        ("float8_e8m0fnu", "0x1.8p127", "nan"),
        ("float8_e4m3fn", "0x1.1000004p0", 1.125),  # 1 + 2^-4 + 2^-26: one rounding
    ],
)
def test_encode_reference_vectors(
    client: TestClient, name: str, value: str, expected: float | str
) -> None:
    assert get_json(client, f"{API}/{name}/encode?value={value}")["value"] == expected


def test_encode_double_rounding_is_reported(client: TestClient) -> None:
    body = get_json(client, f"{API}/float8_e4m3fn/encode?value=1.0625000149011612")
    assert body["value"] == 1.125 and body["ml_dtypes_code"] == 0x38
    assert "double rounding" in body["note"]


@pytest.mark.parametrize(
    ("query", "value", "cls"),
    [
        # 464 is e4m3fn's tie between 448 and 480 (OCP OFP8: ties to even keep 448); the
        # decimal a hair above it is past the midpoint, though its float64 is 464 itself
        ("value=464", 448.0, "normal"),
        ("value=464.0000000000000004", "nan", "nan"),
        ("value=464.0000000000000004&overflow=saturate", 448.0, "normal"),
        ("value=-464.0000000000000004", "nan", "nan"),
        ("value=1.0625000000000000001", 1.125, "normal"),
        ("value=1.0000000000000000001&rounding=up", 1.125, "normal"),
    ],
)
def test_encode_rounds_the_decimal_as_written(
    client: TestClient, query: str, value: float | str, cls: str
) -> None:
    body = get_json(client, f"{API}/float8_e4m3fn/encode?{query}")
    EncodeResponse.model_validate(body)
    assert body["value"] == value and body["class"] == cls
    written = query.split("&")[0].removeprefix("value=")
    assert body["exact_input"] == written and body["query"]["value"] == written
    assert body["input_is_float64"] == (written in ("464",))
    assert body["input"] == float(written)  # the nearest float64


def test_encode_errors_are_measured_from_the_exact_input(client: TestClient) -> None:
    body = get_json(client, f"{API}/float4_e2m1fn/encode?value=0.25000000000000000001")
    assert body["value"] == 0.5 and body["input"] == 0.25
    assert body["abs_error"] == float(Fraction(1, 2) - Fraction("0.25000000000000000001"))
    assert body["ml_dtypes_code"] == 0 and "not a float64" in body["note"]


def test_encode_e8m0_ties_go_up_and_say_why(client: TestClient) -> None:
    body = get_json(client, f"{API}/float8_e8m0fnu/encode?value=3")
    cast = np.array([3.0], dtype=np.float32).astype(ml_dtypes.float8_e8m0fnu)
    assert body["value"] == 4.0 == float(cast[0])
    assert body["ml_dtypes_code"] == body["code"] == int(cast.view(np.uint8)[0]) == 0x81
    assert "E8M0 ties up" in body["tie"] and "even code would be 2 (0x80)" in body["tie"]
    modes = get_json(client, "/api/v1/dtypes")["rounding"]
    assert "E8M0" in next(m for m in modes if m["name"] == "nearest_even")["explanation"]


def test_encode_modes(client: TestClient) -> None:
    url = f"{API}/float8_e4m3fn/encode?value=500"
    assert get_json(client, url + "&rounding=toward_zero")["value"] == 448.0
    assert get_json(client, url + "&rounding=up")["value"] == "nan"
    assert get_json(client, url + "&overflow=saturate")["value"] == 448.0
    down = get_json(client, f"{API}/float8_e4m3fn/encode?value=-0.1&rounding=down")
    assert down["value"] == -0.1015625


def test_encode_stochastic_defaults_to_seed_0(client: TestClient) -> None:
    url = f"{API}/float8_e4m3fn/encode?value=1.3&rounding=stochastic"
    body = get_json(client, url)
    assert body["seed"] == 0 and body["value"] in (1.25, 1.375)
    assert get_json(client, url + "&seed=0") == body
    seen = {get_json(client, f"{url}&seed={s}")["value"] for s in range(40)}
    assert seen == {1.25, 1.375}


@pytest.mark.parametrize(
    ("value", "code", "result"),
    [("nan", 0x7F, "nan"), ("inf", 0x7F, "nan"), ("-inf", 0xFF, "nan"), ("-0", 0x80, -0.0)],
)
def test_encode_non_finite_inputs(client: TestClient, value: str, code: int, result: Any) -> None:
    body = get_json(client, f"{API}/float8_e4m3fn/encode?value={value}")
    assert body["code"] == code and body["value"] == result
    if value != "-0":
        assert body["abs_error"] is None and body["input"] == value


def test_encode_nan_into_fp4_has_a_note(client: TestClient) -> None:
    body = get_json(client, f"{API}/float4_e2m1fn/encode?value=nan")
    assert body["code"] == 0x8 and body["input"] == "nan"
    assert "no NaN" in body["note"]
    e5 = get_json(client, f"{API}/float8_e5m2/encode?value=-inf")
    assert e5["value"] == "-inf" and e5["code"] == 0xFC


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("value=abc", "value"),
        ("value=", "value"),
        ("", "value"),
        ("value=1&rounding=half_up", "rounding"),
        ("value=1&overflow=wrap", "overflow"),
        ("value=1&rounding=stochastic&seed=-1", "seed"),
        ("value=1&seed=x", "seed"),
        ("value=1e1001", "value"),
        ("value=0x1p-4001", "value"),
    ],
)
def test_encode_errors_are_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    detail = get_json(client, f"{API}/float8_e4m3fn/encode?{query}", 422)["detail"]
    assert detail[0]["loc"] == ["query", field]


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    spec = get_json(client, "/api/v1/openapi.json")
    for path in ["", "/{name}", "/{name}/values", "/{name}/decode", "/{name}/encode"]:
        assert f"/api/v1/formats{path}" in spec["paths"]
    assert "/api/v1/dtypes" in spec["paths"] and "/api/v1/compare" in spec["paths"]
    encode = spec["paths"]["/api/v1/formats/{name}/encode"]["get"]["parameters"]
    rounding = next(p for p in encode if p["name"] == "rounding")
    assert rounding["schema"]["enum"] == [
        m["name"] for m in get_json(client, "/api/v1/dtypes")["rounding"]
    ]


def test_values_are_served_gzipped_or_plain_with_distinct_etags(client: TestClient) -> None:
    url = f"{API}/float16/values"
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert zipped.json() == plain.json()  # httpx decompresses transparently
    assert int(zipped.headers["content-length"]) < int(plain.headers["content-length"]) / 3
    assert zipped.headers["etag"] != plain.headers["etag"]
    again = client.get(
        url, headers={"Accept-Encoding": "identity", "If-None-Match": plain.headers["etag"]}
    )
    assert again.status_code == 304


def test_encode_rounding_interval(client: TestClient) -> None:
    body = get_json(client, f"{API}/float8_e4m3fn/encode?value=1.0625")
    assert body["interval"] == [0.96875, 1.0625] and body["interval_closed"] == [True, True]
    top = get_json(client, f"{API}/float4_e2m1fn/encode?value=100")
    assert top["interval"] == [5.0, "inf"] and top["interval_closed"] == [False, False]
    assert get_json(client, f"{API}/float8_e4m3fn/encode?value=465")["interval"] is None


# --- the one alias table ----------------------------------------------------------------------


def test_dtypes_catalogue(client: TestClient) -> None:
    body = get_json(client, "/api/v1/dtypes")
    DtypesResponse.model_validate(body)
    assert body["aliases"]["fp8"] == "float8_e4m3fn" and body["aliases"]["fp4"] == "float4_e2m1fn"
    rows = {d["name"]: d for d in body["dtypes"]}
    elements = [d["name"] for d in body["dtypes"] if d["kind"] == "element"]
    assert elements == [f["name"] for f in get_json(client, API)["formats"]]
    for name in elements:  # an element's storage bits are its format's bits
        assert rows[name]["bits"] == get_json(client, f"{API}/{name}")["bits"]
    # OCP MX v1.0: 32 elements share one 8-bit E8M0 scale; NVFP4: 16 share an FP8 E4M3 scale
    assert (rows["mxfp4"]["bits"], rows["nvfp4"]["bits"], rows["mxfp8"]["bits"]) == (
        4.25,
        4.5,
        8.25,
    )
    # the contract's modes (docs/api.md), nearest_even first: the explorer's default
    assert [m["name"] for m in body["rounding"]] == [
        "nearest_even",
        "toward_zero",
        "up",
        "down",
        "stochastic",
    ]
    assert [m["name"] for m in body["overflow"]] == ["native", "saturate"]


@pytest.mark.parametrize("name", ["bf16", "BF16", "fp8", "E4M3", "Float8-E4M3FN", "fp4", "half"])
def test_every_spelling_of_a_format_answers(client: TestClient, name: str) -> None:
    aliases = get_json(client, "/api/v1/dtypes")["aliases"]
    body = get_json(client, f"{API}/{name}")
    assert body["name"] in FORMATS
    if name in aliases:
        assert body["name"] == aliases[name]
    encoded = get_json(client, f"{API}/{name}/encode?value=1")
    assert encoded["name"] == body["name"] and encoded["value"] == 1.0


def test_a_block_format_is_a_dtype_but_not_an_element_format(client: TestClient) -> None:
    for path in ("encode?value=1", "decode?code=1", "values"):
        detail = get_json(client, f"{API}/mxfp4/{path}", 404)["detail"][0]
        assert detail["suggestion"] == "float4_e2m1fn" and "mxfp4" not in detail["valid"]


# --- block formats -------------------------------------------------------------------------------

# OCP MX v1.0: an element's bits + one 8-bit E8M0 scale per 32; NVFP4: 4 + one E4M3 per 16
BLOCK_BITS = {
    "mxfp8_e4m3": 8.25,
    "mxfp8_e5m2": 8.25,
    "mxfp6_e2m3": 6.25,
    "mxfp6_e3m2": 6.25,
    "mxfp4": 4.25,
    "mxint8": 8.25,
    "nvfp4": 4.5,
}


def test_formats_list_the_block_formats_in_their_own_group(client: TestClient) -> None:
    body = get_json(client, API)
    FormatsResponse.model_validate(body)
    assert {b["name"]: b["bits_per_element"] for b in body["blocks"]} == BLOCK_BITS
    assert [g["kind"] for g in body["groups"]] == ["element"] * (len(body["groups"]) - 1) + [
        "block"
    ]
    assert body["groups"][-1]["formats"] == [b["name"] for b in body["blocks"]]


@pytest.mark.parametrize(("typed", "name"), [("nvfp4", "nvfp4"), ("MXFP8", "mxfp8_e4m3")])
def test_a_block_format_is_described(client: TestClient, typed: str, name: str) -> None:
    body = get_json(client, f"{API}/{typed}")
    BlockFormatModel.model_validate(body)
    assert body["kind"] == "block" and body["name"] == name
    assert body["bits_per_element"] == BLOCK_BITS[name]
    rows = {d["name"]: d for d in get_json(client, "/api/v1/dtypes")["dtypes"]}
    assert rows[body["dtype"]]["bits"] == body["bits_per_element"]
    assert get_json(client, f"{API}/float8_e4m3fn")["kind"] == "element"


def test_one_block_of_nvfp4(client: TestClient) -> None:
    body = get_json(client, f"{API}/nvfp4/block?seed=3&block=2")
    BlockViewResponse.model_validate(body)
    assert body["query"] == {
        "values": None,
        "distribution": "normal",
        "seed": 3,
        "blocks": 8,
        "block": 2,
    }
    b, t = body["block"], body["tensor"]
    assert (b["index"], b["size"], t["n"], t["block_count"]) == (2, 16, 128, 8)
    # NVFP4's two levels: an FP32 tensor scale amax / (6 · 448), an E4M3 block scale
    assert t["global_scale"] == float(np.float32(t["amax"] / (6 * 448)))
    assert b["multiplier"] == b["scale"] * t["global_scale"]
    e4m3 = np.array([b["scale_code"]], dtype=np.uint8).view(ml_dtypes.float8_e4m3fn)
    assert float(e4m3[0]) == b["scale"] and len(b["scale_bits"]) == 8
    lab = get_json(client, "/api/v1/quantize?scheme=nvfp4&seed=3&n=128&block=2")
    assert lab["block"] == b  # the same block the quantization lab shows


def test_one_block_of_given_values(client: TestClient) -> None:
    body = get_json(client, f"{API}/mxfp4/block?values=0.3,-1.7,2.9,0.05,6.5")
    assert body["tensor"]["source"] == "given" and body["query"] == {
        "values": "0.3,-1.7,2.9,0.05,6.5",
        "block": 0,
    }
    # amax 6.5: 2^(floor(log2 6.5) − 2) = 2^0; E2M1 codes of 0.5, −1.5, 3, 0, 6
    assert body["block"]["scale_bits"] == "01111111"
    assert body["block"]["code_bits"] == ["0001", "1011", "0101", "0000", "0111"]


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        (f"{API}/nvfp4/block?block=8", 422, "block"),
        (f"{API}/nvfp4/block?blocks=0", 422, "blocks"),
        (f"{API}/mxfp4/block?values=1,abc", 422, "values"),
        (f"{API}/mxfp4/block?distribution=ones", 422, "distribution"),
        (f"{API}/float4_e2m1fn/block", 404, "name"),
        (f"{API}/nope/block", 404, "name"),
    ],
)
def test_block_errors_name_their_field(
    client: TestClient, url: str, status: int, field: str
) -> None:
    detail = get_json(client, url, status)["detail"][0]
    assert detail["loc"][-1] == field
    if url.startswith(f"{API}/float4_e2m1fn"):
        assert detail["suggestion"] == "mxfp4"


@pytest.mark.parametrize("dtype", ["fp4", "fp8", "mxfp4", "nvfp4", "bf16", "mxfp6"])
def test_memory_stores_each_dtype_at_the_bits_the_table_states(
    client: TestClient, dtype: str
) -> None:
    """One name, one meaning: /memory's weight bytes are params × the bits /dtypes states."""
    body = get_json(client, "/api/v1/dtypes")
    bits = next(d["bits"] for d in body["dtypes"] if d["name"] == body["aliases"].get(dtype, dtype))
    memory = get_json(client, f"/api/v1/memory?params=1e9&mode=inference&dtype={dtype}")
    assert memory["parameters"] == round(1e9 * bits / 8)


# --- /compare, value windows, query echoes ----------------------------------------------------


def test_compare_defaults_aliases_and_order(client: TestClient) -> None:
    default = get_json(client, "/api/v1/compare")
    CompareResponse.model_validate(default)
    names = [f["name"] for f in default["formats"]]
    assert default["query"]["formats"] == ",".join(names) and len(names) >= 2
    picked = get_json(client, "/api/v1/compare?formats=BF16,fp8,bfloat16")
    assert [f["name"] for f in picked["formats"]] == ["bfloat16", "float8_e4m3fn"]
    assert picked["query"] == {"formats": "bfloat16,float8_e4m3fn"}
    assert picked["formats"][1] == get_json(client, f"{API}/float8_e4m3fn")
    detail = get_json(client, "/api/v1/compare?formats=fp8,nope", 404)["detail"][0]
    assert detail["loc"] == ["query", "formats"] and "nope" in detail["msg"]


def test_values_window_of_float32(client: TestClient) -> None:
    start = 0x3F800000
    body = get_json(client, f"{API}/float32/values?start={start}&count=3")
    ValuesResponse.model_validate(body)
    assert body["query"] == {"start": start, "count": 3}
    assert body["codes"] == [start, start + 1, start + 2]
    assert body["values"] == [1.0, 1 + 2**-23, 1 + 2**-22]
    assert get_json(client, f"{API}/float32/values?start=0&count=65537", 422)["detail"][0][
        "loc"
    ] == ["query", "count"]
    assert (
        get_json(client, f"{API}/float8_e4m3fn/values?start=256&count=1", 422)["detail"][0]["loc"][
            -1
        ]
        == "start"
    )


def test_every_response_validates_against_its_model(client: TestClient) -> None:
    for url, model in [
        (f"{API}/float8_e4m3fn/encode?value=464", EncodeResponse),
        (f"{API}/float8_e4m3fn/encode?value=0.3&rounding=stochastic&seed=7", EncodeResponse),
        (f"{API}/float8_e5m2/encode?value=-inf", EncodeResponse),
        (f"{API}/float8_e4m3fn/decode?code=0x7f", DecodeResponse),
        (f"{API}/float32/decode?code=1", DecodeResponse),
        (f"{API}/float4_e2m1fn/values", ValuesResponse),
        (API, FormatsResponse),
    ]:
        model.model_validate(get_json(client, url))


# --- pages: one canonical URL per format --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/formats/bf16", "/formats/bfloat16"),
        ("/formats/BF16?value=1.5&rounding=up", "/formats/bfloat16?value=1.5&rounding=up"),
        ("/embed/formats/fp8?value=464", "/embed/formats/float8_e4m3fn?value=464"),
        ("/formats/Float8-E4M3FN", "/formats/float8_e4m3fn"),
        # block formats: a dtype name opens its preset's page
        ("/formats/MXFP8", "/formats/mxfp8_e4m3"),
        ("/formats/mxfp6?seed=3", "/formats/mxfp6_e2m3?seed=3"),
        ("/embed/formats/NVFP4?block=2", "/embed/formats/nvfp4?block=2"),
    ],
)
def test_format_pages_redirect_other_spellings(
    client: TestClient, path: str, location: str
) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == location
    assert client.get(location).status_code == 200


def test_format_page_of_an_unknown_name_suggests_one(client: TestClient) -> None:
    r = client.get("/formats/bfloat61")
    assert r.status_code == 404 and "bfloat16" in r.text


@pytest.mark.parametrize("name", list(BLOCK_BITS))
def test_every_block_format_has_a_page_and_an_embed(client: TestClient, name: str) -> None:
    page = client.get(f"/formats/{name}")
    assert page.status_code == 200 and f'data-format="{name}"' in page.text
    assert "format-block.js" in page.text and 'id="fb-bits"' in page.text
    embed = client.get(f"/embed/formats/{name}")
    assert (
        embed.status_code == 200 and "frame-ancestors *" in embed.headers["content-security-policy"]
    )


def test_format_page_lists_the_cores_modes(client: TestClient) -> None:
    page = client.get("/formats/float8_e4m3fn").text
    modes = get_json(client, "/api/v1/dtypes")
    for m in modes["rounding"] + modes["overflow"]:
        assert f'value="{m["name"]}"' in page
