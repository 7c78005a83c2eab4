"""Browser tests for /sharding: shard maps against the API, picking, URL state, model mode.

Drawn values are read back from the canvas: one colour per block, and blocks placed in the
order of the element ranges the API gives them.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import numpy as np
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

pytestmark = pytest.mark.browser

CANVAS = "canvas.sharding-canvas"
# Each block's box and the colour drawn just inside its top-left corner (labels sit mid-block).
BLOCKS_DRAWN = """(count) => {
  const c = document.querySelector('canvas.sharding-canvas');
  const ctx = c.getContext('2d');
  const dpr = window.devicePixelRatio || 1;
  return Array.from({length: count}, (_, f) => {
    const b = c.bitmeshView.blockBox(f);
    const d = ctx.getImageData(Math.round((b.x + 3) * dpr), Math.round((b.y + 3) * dpr), 1, 1).data;
    return {x: b.x, y: b.y, colour: `${d[0]},${d[1]},${d[2]},${d[3]}`};
  });
}"""


def _assert_blocks_drawn(page: Any, api: dict[str, Any]) -> None:
    """One distinct opaque colour per block, and a 2-D grid laid out as its element ranges."""
    drawn = page.evaluate(BLOCKS_DRAWN, api["block_count"])
    colours = [d["colour"] for d in drawn]
    assert all(c.endswith(",255") for c in colours)
    if api["block_count"] <= 30:
        assert len(set(colours)) == api["block_count"]
    if len(api["shape"]) == 2:
        pairs = list(zip(drawn, api["blocks"], strict=True))
        for (da, ba), (db, bb) in itertools.pairwise(pairs):
            # later rows are lower, later columns further right, exactly as the ranges go
            assert (da["y"] < db["y"]) == (ba["index"][0][0] < bb["index"][0][0])
            assert (da["x"] < db["x"]) == (ba["index"][1][0] < bb["index"][1][0])


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#app[data-state='ready']")
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas.sharding-canvas');"
        " return c && c.dataset.animating !== '1' && Number(c.dataset.draws) > 0; }"
    )


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.evaluate("() => location.href")).query)


def _wait_pspec(page: Any, text: str) -> None:
    page.wait_for_function(
        "(t) => document.querySelector('#sh-pspec')?.textContent === t",
        arg=text,
    )


def _flat(grid: list[int], block: list[int]) -> int:
    return int(np.ravel_multi_index(tuple(block), tuple(grid)))


def test_default_page(page: Any, live_server: str) -> None:
    _open(page, live_server + "/sharding")
    api = httpx.get(live_server + "/api/v1/sharding?axes=dp:2,tp:4&shape=16,32&spec=dp,tp").json()
    assert page.locator("#sh-pspec").inner_text() == "P('dp', 'tp')"
    assert page.locator("#sh-shard-shape").inner_text() == "[8, 8]" == str(api["shard_shape"])
    assert page.locator("#sh-holds").inner_text() == "64 of 512"
    assert page.locator("#sh-copies").inner_text() == "1"
    assert page.locator(CANVAS).get_attribute("data-blocks") == str(len(api["blocks"])) == "8"
    assert page.locator("#sh-chips .chip").count() == 8
    _assert_blocks_drawn(page, api)
    assert page.problems == []


def test_fits_480(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 480, "height": 900})
    _open(page, live_server + "/sharding?axes=dp:2,cp:2,tp:2&shape=4,8,16&spec=dp,cp,tp")
    assert horizontal_overflow(page) == 0
    _open(page, live_server + "/sharding?axes=dp:64,tp:64&shape=4096,4096&spec=dp,tp")
    assert horizontal_overflow(page) == 0
    assert page.locator("#sh-chips .chip").count() == 4096
    assert page.problems == []


def test_picking_a_device_highlights_its_block(page: Any, live_server: str) -> None:
    q = "axes=dp:2,tp:4&shape=16,32&spec=dp,_"
    _open(page, live_server + "/sharding?" + q)
    api = httpx.get(live_server + "/api/v1/sharding?" + q).json()
    for rank in (0, 5, 7):
        page.locator(f"#sh-chips .chip[data-rank='{rank}']").click()
        page.wait_for_function(f"() => document.querySelector('#app').dataset.device === '{rank}'")
        shown = page.evaluate(f"() => document.querySelector('{CANVAS}').bitmeshView.highlighted()")
        dev = api["devices"][rank]
        assert shown == [_flat(api["grid"], dev["block"])]
        # rows [0, 8) for dp 0, [8, 16) for dp 1; every column, since tp replicates
        rows = [[0, 8], [8, 16]][rank // 4]
        assert dev["index"] == [rows, [0, 32]]
        assert f"[{rows[0]}, {rows[1]}) × [0, 32)" in page.locator("#sh-device-info").inner_text()
        assert f"replica {dev['replica']} of 4" in page.locator("#sh-device-info").inner_text()
    assert _query(page)["device"] == ["7"]
    assert page.locator("#sh-copies").inner_text() == "4"
    assert page.problems == []


def test_picking_a_block_lights_its_replicas(page: Any, live_server: str) -> None:
    q = "axes=dp:2,tp:4&shape=16,32&spec=dp,_"
    _open(page, live_server + "/sharding?" + q)
    api = httpx.get(live_server + "/api/v1/sharding?" + q).json()
    page.evaluate(f"() => document.querySelector('{CANVAS}').scrollIntoView({{block: 'center'}})")
    pos = page.evaluate(f"() => document.querySelector('{CANVAS}').bitmeshView.blockCentre(1)")
    box = page.locator(CANVAS).bounding_box()
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    page.wait_for_function("() => document.querySelector('#app').dataset.block === '1'")
    lit = sorted(
        int(r)
        for r in page.locator("#sh-chips .chip.lit").evaluate_all(
            "els => els.map(e => e.dataset.rank)"
        )
    )
    assert lit == sorted(api["blocks"][1]["ranks"]) == [4, 5, 6, 7]
    assert "[8, 16) × [0, 32)" in page.locator("#sh-block-info").inner_text()
    assert _query(page)["block"] == ["1"]


def test_bad_spec_shows_the_api_message(page: Any, live_server: str) -> None:
    page.goto(live_server + "/sharding?spec=dp,zz")
    page.wait_for_selector(".api-error:not([hidden])")
    api = httpx.get(live_server + "/api/v1/sharding?axes=dp:2,tp:4&shape=16,32&spec=dp,zz")
    assert api.status_code == 422
    assert api.json()["detail"][0]["msg"] in page.locator(".api-error").inner_text()
    assert page.get_attribute("#sh-spec", "aria-invalid") == "true"
    # an indivisible dimension is the API's 422 too
    page.fill("#sh-spec", "dp,tp")
    page.press("#sh-spec", "Enter")
    page.wait_for_selector("#app[data-state='ready']")
    page.fill("#sh-shape", "16,30")
    page.press("#sh-shape", "Enter")
    page.wait_for_function(
        "() => document.querySelector('.api-error').textContent.includes('does not divide')"
    )
    assert [p for p in page.problems if "422" not in p] == []


def test_spec_picker_animates_and_round_trips(page: Any, live_server: str) -> None:
    _open(page, live_server + "/sharding")
    page.select_option("#sh-dim-0", "dp+tp")
    page.select_option("#sh-dim-1", "_")
    page.wait_for_function(
        "() => document.querySelector('#sh-pspec').textContent === \"P(('dp', 'tp'), None)\""
    )
    page.wait_for_function(
        "() => document.querySelector('canvas.sharding-canvas').dataset.animating === '0'"
    )
    # standard query-string semantics: "+" is written %2B (a bare "+" would decode as a space)
    assert _query(page)["spec"] == ["dp+tp,_"]
    assert page.locator("#sh-shard-shape").inner_text() == "[2, 32]"
    # 16 rows over dp·tp = 8 devices: 8 blocks of 2 rows, stacked top to bottom
    api = httpx.get(live_server + "/api/v1/sharding?axes=dp:2,tp:4&shape=16,32&spec=dp%2Btp,_")
    _assert_blocks_drawn(page, api.json())
    url = page.evaluate("() => location.href")
    page.goto("about:blank")
    _open(page, url)
    assert page.locator("#sh-pspec").inner_text() == "P(('dp', 'tp'), None)"
    assert page.input_value("#sh-dim-0") == "dp+tp"
    assert page.input_value("#sh-spec") == "dp+tp,_"


def test_one_and_three_dimensional_tensors(page: Any, live_server: str) -> None:
    _open(page, live_server + "/sharding?axes=ep:4,tp:2&shape=8,16,32&spec=ep,_,tp")
    assert page.locator("#sh-pspec").inner_text() == "P('ep', None, 'tp')"
    assert page.locator("#sh-shard-shape").inner_text() == "[2, 16, 16]"
    assert page.locator(CANVAS).get_attribute("data-blocks") == "8"
    assert page.locator(".sharding-dim").count() == 3
    _open(page, live_server + "/sharding?shape=64&spec=dp%2Btp")
    assert page.locator("#sh-pspec").inner_text() == "P(('dp', 'tp'))"
    assert page.locator("#sh-shard-shape").inner_text() == "[8]"
    assert page.locator(CANVAS).get_attribute("data-blocks") == "8"
    assert page.problems == []


def test_model_mode_lists_every_weight(page: Any, live_server: str) -> None:
    page.goto(live_server + "/sharding?mode=model&model=llama3-8b&tp=4&dp=2")
    page.wait_for_selector("#md-table tbody tr")
    api = httpx.get(live_server + "/api/v1/sharding/model?model=llama3-8b&tp=4&dp=2").json()
    rows = page.locator("#md-table tbody tr")
    assert rows.count() == len(api["weights"])
    q_proj = next(w for w in api["weights"] if w["name"] == "q_proj")
    row = page.locator("#md-table tbody tr", has_text="q_proj").first.inner_text().split("\t")
    assert row[2].strip() == "P(None, 'tp')"
    # shapes print as numpy does: "[4,096, 1,024]" would read as four dimensions
    assert row[4].strip() == "[4096, 1024]" == str(q_proj["shard_shape"])
    embedding = next(w for w in api["weights"] if w["name"] == "embedding")
    row = page.locator("#md-table tbody tr", has_text="embedding").first.inner_text().split("\t")
    assert row[1].strip() == "[128256, 4096]" == str(embedding["shape"])
    page.locator("#md-table button.md-draw", has_text="q_proj").click()
    page.wait_for_selector("#app[data-state='ready']")
    _wait_pspec(page, "P(None, 'tp')")
    assert page.locator("#sh-shard-shape").inner_text() == "[4096, 1024]"
    assert "mode" not in _query(page)  # tensor is the default mode
    assert _query(page)["shape"] == ["4096,4096"] and _query(page)["spec"] == ["_,tp"]
    assert page.problems == []


def test_embed_twin(page: Any, live_server: str) -> None:
    page.set_viewport_size({"width": 480, "height": 800})
    _open(page, live_server + "/embed/sharding?axes=dp:2,tp:4&shape=16,32&spec=tp,dp")
    assert page.locator(".site-header").count() == 0
    assert page.locator("#sh-pspec").inner_text() == "P('tp', 'dp')"
    assert horizontal_overflow(page) == 0
    assert page.problems == []


def test_large_tensor_ranges_read_as_numpy_tuples(page: Any, live_server: str) -> None:
    _open(page, live_server + "/sharding?axes=dp:64,tp:64&shape=4096,4096&spec=dp,tp")
    api = httpx.get(
        live_server + "/api/v1/sharding?axes=dp:64,tp:64&shape=4096,4096&spec=dp,tp"
    ).json()
    metric = page.locator("#sh-shard-shape").locator("xpath=..")
    assert "of [4096, 4096]" in metric.inner_text()
    last = len(api["blocks"]) - 1
    page.goto(live_server + f"/sharding?axes=dp:64,tp:64&shape=4096,4096&spec=dp,tp&block={last}")
    page.wait_for_selector("#app[data-state='ready']")
    (r0, r1), (c0, c1) = api["blocks"][last]["index"]
    info = page.locator("#sh-block-info").inner_text()
    assert f"elements [{r0}, {r1}) × [{c0}, {c1})" in info and "4,0" not in info
    # 4,096 blocks: a sample in the legend, and the note that colours repeat
    assert page.locator("#sh-legend .swatch").count() == 6
    assert "colours repeat every 30 blocks" in page.locator("#sh-legend-more").inner_text()
    assert page.problems == []


def test_small_grids_list_every_block_without_a_repeat_note(page: Any, live_server: str) -> None:
    _open(page, live_server + "/sharding")
    assert page.locator("#sh-legend .swatch").count() == 8
    assert page.locator("#sh-legend-more").count() == 0
    assert "repeat" not in page.locator("#sh-legend").inner_text()


def test_svg_export_names_the_dimensions(page: Any, live_server: str) -> None:
    _open(page, live_server + "/sharding?axes=dp:2,cp:2,tp:2&shape=4,8,16&spec=dp,cp,tp")
    with page.expect_download() as dl:
        page.click("text=Download SVG")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "P('dp', 'cp', 'tp')" in text.replace("&apos;", "'")
    assert "shard [2, 4, 8]" in text
    assert "dim 1 · 8" in text and "dim 2 · 16 →" in text and "dim 0 ∈ [2, 4)" in text


def test_readout_values_stay_on_one_line(page: Any, live_server: str) -> None:
    _open(page, live_server + "/sharding?axes=dp:2,cp:2,tp:2&shape=4,4,8,16&spec=dp,cp,_,tp")
    assert page.locator("#sh-shard-shape").inner_text() == "[2, 2, 8, 8]"
    heights = page.eval_on_selector_all(
        "#sh-readout .metric .value", "els => els.map((e) => e.getBoundingClientRect().height)"
    )
    one_line = page.eval_on_selector("#sh-copies", "e => e.getBoundingClientRect().height")
    assert len(heights) == 4 and all(h <= one_line + 1 for h in heights), (heights, one_line)


@pytest.mark.parametrize("path", ["/sharding", "/embed/sharding"])
@pytest.mark.parametrize(
    ("query", "shard", "copies"),
    [
        # the API's worked example: [16, 32] rows over dp 2, columns over tp 4
        ("", [16 // 2, 32 // 4], 1),
        # [4, 8, 16] on dp 2 × cp 2 × tp 2 with cp unnamed: dims split 2, 1, 2; 2 copies
        ("axes=dp:2,cp:2,tp:2&shape=4,8,16&spec=dp,_,tp", [4 // 2, 8, 16 // 2], 2),
    ],
)
def test_headline_equals_the_api_for_the_same_query(
    page: Any, live_server: str, path: str, query: str, shard: list[int], copies: int
) -> None:
    _open(page, f"{live_server}{path}?{query}")
    api = httpx.get(f"{live_server}/api/v1/sharding?{query}").json()
    assert (api["shard_shape"], api["replication"]) == (shard, copies)
    assert page.locator("#sh-shard-shape").inner_text() == f"[{', '.join(map(str, shard))}]"
    assert page.locator("#sh-copies").inner_text() == str(copies)
    assert page.locator("#sh-pspec").inner_text() == api["partition_spec"]
    for key in ("axes", "shape", "spec"):
        assert page.input_value(f"#sh-{key}") == api["query"][key]
    _assert_blocks_drawn(page, api)
    assert page.problems == []


@pytest.mark.parametrize("path", ["/sharding", "/embed/sharding"])
@pytest.mark.parametrize("query", ["model=llama3-8b", "model=deepseek-v3&dp=128&ep=64"])
def test_model_tab_equals_the_api(page: Any, live_server: str, path: str, query: str) -> None:
    page.goto(f"{live_server}{path}?mode=model&{query}")
    page.wait_for_selector("#md-table tbody tr")
    api = httpx.get(f"{live_server}/api/v1/sharding/model?{query}").json()
    assert page.locator("#md-axes").inner_text().replace(" ", "") == api["axes"]
    assert page.locator("#md-table tbody tr").count() == len(api["weights"])
    for key in ("tp", "dp", "ep", "pp"):
        assert page.input_value(f"#md-{key}") == str(api["query"][key])
    assert page.problems == []


# ------------------------------------------------------------------ view state in the URL

TENSOR = "axes=dp:2,tp:4&shape=16,32&spec=dp,tp"


def _highlighted(page: Any) -> list[int]:
    shown: list[int] = page.evaluate(
        f"() => document.querySelector('{CANVAS}').bitmeshView.highlighted()"
    )
    return shown


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_device_in_the_url_opens_picked(page: Any, live_server: str, where: str) -> None:
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/sharding?{TENSOR}&device=6")
    api = httpx.get(f"{live_server}/api/v1/sharding?{TENSOR}").json()
    dev = api["devices"][6]
    # rank 6 = (dp 1, tp 2) in numpy order: rows [8, 16), columns [16, 24)
    assert dev["coords"] == {"dp": 1, "tp": 2} and dev["index"] == [[8, 16], [16, 24]]
    assert _highlighted(page) == [_flat(api["grid"], dev["block"])]
    chip = page.locator("#sh-chips .chip[data-rank='6']")
    assert chip.get_attribute("aria-pressed") == "true"
    info = page.locator("#sh-device-info").inner_text()
    assert "Rank 6 (dp 1, tp 2)" in info and "[8, 16) × [16, 24)" in info
    assert_no_state_key_sent(urls, "sharding")
    assert page.problems == []


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_block_in_the_url_opens_picked(page: Any, live_server: str, where: str) -> None:
    q = "axes=dp:2,tp:4&shape=16,32&spec=dp,_"
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/sharding?{q}&block=1")
    api = httpx.get(f"{live_server}/api/v1/sharding?{q}").json()
    assert _highlighted(page) == [1]
    lit = page.locator("#sh-chips .chip.lit").evaluate_all("els => els.map(e => +e.dataset.rank)")
    assert sorted(lit) == sorted(api["blocks"][1]["ranks"]) == [4, 5, 6, 7]
    assert "[8, 16) × [0, 32)" in page.locator("#sh-block-info").inner_text()
    assert_no_state_key_sent(urls, "sharding")
    assert page.problems == []


def test_picks_toggle_and_escape_clears_the_block(page: Any, live_server: str) -> None:
    _open(page, f"{live_server}/sharding?{TENSOR}")
    page.locator("#sh-chips .chip[data-rank='3']").click()
    assert _query(page)["device"] == ["3"]
    page.locator("#sh-chips .chip[data-rank='3']").click()
    assert "device" not in _query(page)
    page.evaluate(f"() => document.querySelector('{CANVAS}').scrollIntoView({{block: 'center'}})")
    pos = page.evaluate(f"() => document.querySelector('{CANVAS}').bitmeshView.blockCentre(2)")
    box = page.locator(CANVAS).bounding_box()
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    page.wait_for_function("() => new URLSearchParams(location.search).get('block') === '2'")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('block')")
    assert _highlighted(page) == []
    assert page.problems == []


@pytest.mark.parametrize("bad", ["device=8", "device=x", "block=8", "block=-2", "device=-9"])
def test_bad_picks_fall_back_quietly(page: Any, live_server: str, bad: str) -> None:
    _open(page, f"{live_server}/sharding?{TENSOR}&{bad}")  # 8 devices, 8 blocks
    assert page.locator("#app").get_attribute("data-device") == "-1"
    assert page.locator("#app").get_attribute("data-block") == "-1"
    assert _highlighted(page) == []
    assert not {"device", "block"} & set(_query(page))
    assert page.problems == []
