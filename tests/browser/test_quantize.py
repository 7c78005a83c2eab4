"""The /quantize page and its embed draw exactly what GET /api/v1/quantize answers for the same
query string: metrics, the presets table, the block's codes and scale bits, the histogram bars
and the grid marks; controls, block stepping and sorting live in the URL; errors are shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow

pytestmark = pytest.mark.browser

QUERIES = ("", "scheme=nvfp4&distribution=outliers&n=4096&seed=3&block=5&hist_range=full")
METRICS = (
    "sqnr_db",
    "mse",
    "max_abs_error",
    "clipped_fraction",
    "zero_fraction",
    "bits_per_element",
)


def api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/quantize?{query}", timeout=60)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def open_page(page: Any, url: str) -> None:
    page.emulate_media(reduced_motion="reduce")  # the morph jumps to the dequantized histogram
    page.goto(url)
    page.wait_for_selector("#q-metrics [data-metric='sqnr_db']")
    page.wait_for_selector(".q-el")


def shown_metric(page: Any, key: str) -> float:
    return float(page.locator(f"#q-metrics [data-metric='{key}']").get_attribute("data-value"))


def digits(text: str) -> float:
    """The number a metric card shows: '18.79 dB' -> 18.79, '0.85%' -> 0.0085, '6.964e−5'."""
    t = text.replace("−", "-").replace("dB", "").strip()
    return float(t[:-1]) / 100 if t.endswith("%") else float(t)


@pytest.mark.parametrize("prefix", ["", "/embed"])
@pytest.mark.parametrize("query", QUERIES)
def test_page_numbers_equal_the_api(live_server: str, page: Any, prefix: str, query: str) -> None:
    open_page(page, f"{live_server}{prefix}/quantize?{query}")
    data = api(live_server, query)
    for key in METRICS:
        assert shown_metric(page, key) == data["metrics"][key], key
        text = page.locator(f"#q-metrics [data-metric='{key}']").inner_text()
        assert digits(text) == pytest.approx(data["metrics"][key], rel=5e-3, abs=1e-4), (key, text)
    # the presets table, row by row
    rows = page.locator("#q-table tbody tr")
    assert rows.count() == len(data["presets"])
    for i, preset in enumerate(data["presets"]):
        row = rows.nth(i)
        assert row.get_attribute("data-scheme") == preset["scheme"]
        sqnr = row.locator("td[data-key='sqnr_db']").get_attribute("data-value")
        assert float(sqnr) == preset["metrics"]["sqnr_db"]
    # the block builder: one mark per listed element, with the API's codes, and the scale bits
    block = data["block"]
    codes = page.locator(".q-el").evaluate_all("els => els.map(e => Number(e.dataset.code))")
    assert codes == block["codes"][: block["listed"]]
    clipped = page.locator(".q-el.is-clipped").count()
    assert clipped == sum(block["clipped_flags"][: block["listed"]])
    bits = "".join(page.locator(".q-bit").all_inner_texts())
    assert bits == block["scale_bits"]
    assert page.problems == []


def test_histogram_bars_are_the_api_counts(live_server: str, page: Any) -> None:
    query = "scheme=mxfp6_e2m3&n=8192&bins=40"
    open_page(page, f"{live_server}/quantize?{query}")
    data = api(live_server, query)
    page.wait_for_function("() => document.querySelector('.q-hist svg').dataset.t === '1.000'")
    bars = page.locator(".q-bar").evaluate_all(
        "els => els.map(e => [Number(e.dataset.input), Number(e.dataset.dequantized),"
        " Number(e.getAttribute('height'))])"
    )
    hist = data["histograms"]
    assert [b[0] for b in bars] == hist["input"]["counts"]
    assert [b[1] for b in bars] == hist["dequantized"]["counts"]
    # at the end of the morph the heights are the dequantized counts on one linear scale
    top = max(range(len(bars)), key=lambda i: bars[i][1])
    for count, _, height in ((b[1], b[0], b[2]) for b in bars):
        assert height == pytest.approx(bars[top][2] * count / bars[top][1], abs=0.05)
    # the rug: one mark per value the block can store inside the bins, where the API puts it
    rug = page.locator(".q-grid-rug").evaluate_all("els => els.map(e => Number(e.dataset.value))")
    assert rug == data["grid_in_block"]


def test_the_morph_plays_from_input_to_dequantized(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/quantize?n=2048")
    page.wait_for_selector(".q-bar")
    page.wait_for_function("() => Number(document.querySelector('.q-hist svg').dataset.t) > 0.99")
    first = page.locator(".q-bar").first
    assert float(first.get_attribute("height")) >= 0
    # the slider scrubs back to the input histogram
    page.locator("#q-t").fill("0")
    page.locator("#q-t").dispatch_event("input")
    assert page.locator(".q-hist svg").get_attribute("data-t") == "0.000"


def test_block_stepping_lives_in_the_url(live_server: str, page: Any) -> None:
    open_page(page, f"{live_server}/quantize?n=4096")
    page.locator("#q-next").click()
    page.wait_for_function("() => location.search.includes('block=1')")
    page.wait_for_function(
        "() => document.querySelector('.q-block-head').textContent.startsWith('Block 1 ')"
    )
    data = api(live_server, "n=4096&block=1")
    codes = page.locator(".q-el").evaluate_all("els => els.map(e => Number(e.dataset.code))")
    assert codes == data["block"]["codes"]
    page.locator("#q-prev").click()
    page.wait_for_function("() => location.search.includes('block=0')")


def test_sorting_and_picking_a_preset(live_server: str, page: Any) -> None:
    open_page(page, f"{live_server}/quantize?n=4096")
    page.locator("#q-table th button", has_text="SQNR").click()
    page.wait_for_function("() => location.search.includes('sort=sqnr_db')")
    values = page.locator("#q-table td[data-key='sqnr_db']").evaluate_all(
        "els => els.map(e => Number(e.dataset.value))"
    )
    assert values == sorted(values)
    page.locator("#q-table th button", has_text="SQNR").click()
    page.wait_for_function("() => location.search.includes('sort=-sqnr_db')")
    page.locator("#q-table tbody tr[data-scheme='nvfp4']").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('scheme') === 'nvfp4'")
    page.wait_for_function(
        "() => document.querySelector('#app').dataset.query === 'n=4096&scheme=nvfp4'"
    )
    assert shown_metric(page, "bits_per_element") == 4.5
    assert page.locator("#q-block_size").input_value() == "16"  # the preset's, from the answer


def test_controls_write_the_url_and_the_answer_fills_them(live_server: str, page: Any) -> None:
    open_page(page, f"{live_server}/quantize?scheme=mxfp4&n=2048&block=3")
    page.locator("#q-scheme").select_option("block")
    page.wait_for_function("() => new URLSearchParams(location.search).get('scheme') === 'block'")
    q = parse_qs(urlparse(page.url).query)
    assert "block" not in q and q["format"] == ["float4_e2m1fn"]  # the format on screen is kept
    page.locator("#q-scale_format").select_option("float32")
    page.wait_for_function(
        "() => document.querySelector('#app').dataset.query.includes('scale_format=float32')"
    )
    data = api(live_server, page.locator("#app").get_attribute("data-query"))
    assert shown_metric(page, "mse") == data["metrics"]["mse"]
    # E8M0's rule means nothing for an FP32 scale: the answer says null and the control rests
    assert page.locator("[data-option='scale_rule']").get_attribute("class").count("is-unused") == 1


def test_bad_names_are_shown_with_a_suggestion(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/quantize?scheme=mxpf4")
    err = page.locator(".api-error")
    err.wait_for()
    assert "did you mean 'mxfp4'" in err.inner_text()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_fits_a_phone_in_both_themes(live_server: str, page: Any, theme: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, f"{live_server}/quantize?theme={theme}&distribution=outliers")
    assert page.evaluate("() => document.documentElement.dataset.theme") == theme
    assert horizontal_overflow(page) == 0
    assert page.locator(".q-hist svg").get_attribute("width") == str(
        page.locator(".q-hist").evaluate("e => e.clientWidth")
    )
    assert page.problems == []


# ------------------------------------------- view state: the morph's playhead t, the table's sort


def bar_heights(page: Any) -> list[float]:
    return page.locator("#q-hist .q-bar").evaluate_all(
        "els => els.map(e => Number(e.getAttribute('height')))"
    )


def proportional(heights: list[float], counts: list[int]) -> None:
    """Bars from 0 on a linear count axis: each height is its count times one factor."""
    k = max(heights) / max(counts)
    assert heights == pytest.approx([c * k for c in counts], abs=1e-6)


def url_key(page: Any, key: str) -> str | None:
    values = parse_qs(urlparse(page.url).query).get(key)
    return values[0] if values else None


def test_scrubbing_writes_t_and_replay_clears_it(live_server: str, page: Any) -> None:
    open_page(page, f"{live_server}/quantize?n=4096")
    data = api(live_server, "n=4096")
    page.locator("#q-t").evaluate("s => { s.value = '0'; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("() => new URLSearchParams(location.search).get('t') === '0'")
    proportional(bar_heights(page), data["histograms"]["input"]["counts"])
    page.locator("#q-t").evaluate("s => { s.value = '250'; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("() => new URLSearchParams(location.search).get('t') === '0.25'")
    assert page.locator("#q-hist svg").get_attribute("data-t") == "0.250"
    page.locator("#q-play").click()  # a replay ends on the default frame: no t in the URL
    page.wait_for_function("() => !new URLSearchParams(location.search).has('t')")
    proportional(bar_heights(page), data["histograms"]["dequantized"]["counts"])
    assert page.problems == []


@pytest.mark.parametrize("prefix", ["", "/embed"])
def test_a_link_with_t_and_sort_opens_that_frame(live_server: str, page: Any, prefix: str) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if "/api/" in r.url else None)
    # motion allowed: a playhead in the URL opens paused there, no morph plays
    page.goto(f"{live_server}{prefix}/quantize?n=4096&t=0&sort=-sqnr_db")
    page.wait_for_selector("#q-hist .q-bar")
    page.wait_for_selector("#q-table td[data-key='sqnr_db']")
    page.wait_for_timeout(300)  # a morph would have moved by now
    assert page.locator("#q-hist svg").get_attribute("data-t") == "0.000"
    assert page.locator("#q-t").input_value() == "0"
    data = api(live_server, "n=4096")
    proportional(bar_heights(page), data["histograms"]["input"]["counts"])
    shown = page.locator("#q-table tbody tr").evaluate_all("els => els.map(e => e.dataset.scheme)")
    want = sorted(data["presets"], key=lambda r: -r["metrics"]["sqnr_db"])
    assert shown == [r["scheme"] for r in want]
    assert urls and not [u for u in urls if {"t", "sort"} & set(parse_qs(urlparse(u).query))]
    assert (url_key(page, "t"), url_key(page, "sort")) == ("0", "-sqnr_db")
    assert page.problems == []


@pytest.mark.parametrize("bad", ["t=2", "t=-0.5", "t=abc", "t=", "sort=nonsense", "sort=-"])
def test_a_bad_t_or_sort_falls_back(live_server: str, page: Any, bad: str) -> None:
    open_page(page, f"{live_server}/quantize?n=4096&{bad}")
    data = api(live_server, "n=4096")
    page.wait_for_selector("#q-table td[data-key='sqnr_db']")
    # reduced motion: the default frame, the dequantized histogram
    assert page.locator("#q-hist svg").get_attribute("data-t") == "1.000"
    proportional(bar_heights(page), data["histograms"]["dequantized"]["counts"])
    shown = page.locator("#q-table tbody tr").evaluate_all("els => els.map(e => e.dataset.scheme)")
    assert shown == [r["scheme"] for r in data["presets"]]  # the API's order
    if bad.startswith("t="):
        assert url_key(page, "t") is None
    assert page.problems == []
