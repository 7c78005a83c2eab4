"""Browser tests for the numerics pages: /formats, /formats/{name}, /compare and their embeds.

Every value the page shows is checked against the API (which tests/core checks against
ml_dtypes), and the vectors of docs/sources.md, "Ties and overflow", are typed into the value box.
"""

from __future__ import annotations

import math
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow

pytestmark = pytest.mark.browser

PAGES = [
    "/formats",
    "/formats/float8_e4m3fn",
    "/formats/bfloat16",
    "/formats/float4_e2m1fn?value=0.75",
    "/formats/float8_e8m0fnu",
    "/formats/float32?value=0.1",
    "/compare",
    "/embed/formats",
    "/embed/formats/float8_e4m3fn?value=464",
    "/embed/formats/bfloat16",
    "/embed/compare?formats=float8_e4m3fn,float4_e2m1fn",
    "/formats/nvfp4",
    "/formats/mxfp4?seed=3&block=2",
    "/formats/mxint8?values=0.3,-1.7,2.9,0.05,6.5,nan",
    "/embed/formats/mxfp8_e4m3",
    "/formats/float8_e4m3fn?value=464.0000000000000004",
]


def _ready(page: Any) -> None:
    page.wait_for_selector("#app[data-ready='1']", timeout=20_000)


def _open(page: Any, base: str, path: str) -> None:
    page.goto(base + path)
    _ready(page)


def _api(base: str, path: str) -> Any:
    return httpx.get(base + path, timeout=10).json()


def _shown_number(text: str) -> float:
    t = text.strip().replace("−", "-")
    if t == "NaN":
        return math.nan
    if t in ("+∞", "-∞"):
        return math.inf if t[0] == "+" else -math.inf
    return float(t)


def _wait(page: Any, predicate: str, timeout: float = 10.0) -> None:
    """Poll a JS expression from Python: wait_for_function evaluates strings with eval inside
    the page, which our CSP (rightly) forbids."""
    deadline = time.monotonic() + timeout
    while True:
        if page.evaluate(f"() => Boolean({predicate})"):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        page.wait_for_timeout(40)


def _code(page: Any) -> int:
    return int(page.text_content("#fx-dec") or "-1")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("width", [1280, 480])
def test_page_loads_cleanly_and_fits(live_server: str, page: Any, path: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    _open(page, live_server, path)
    page.wait_for_timeout(200)
    assert list(page.problems) == []
    assert horizontal_overflow(page) == 0


def test_clicking_a_bit_changes_the_value_as_decode_says(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e4m3fn?code=56")  # 0x38 = 1.0
    assert _shown_number(page.text_content("#fx-value") or "") == 1.0
    page.click("#fx-bitfield button[data-bit='0']")  # mantissa LSB: 0x39
    _wait(page, "document.querySelector('#fx-dec').textContent === '57'")
    decoded = _api(live_server, "/api/v1/formats/float8_e4m3fn/decode?code=57")
    _wait(page, "document.querySelector('#fx-exact').textContent.startsWith('1.125')")
    assert _shown_number(page.text_content("#fx-value") or "") == decoded["value"] == 1.125
    assert page.text_content("#fx-hex") == "0x39"
    assert page.get_attribute("#fx-bitfield button[data-bit='0']", "aria-pressed") == "true"
    # the sign bit: -1.125
    page.click("#fx-bitfield button[data-bit='7']")
    _wait(page, "document.querySelector('#fx-dec').textContent === '185'")
    decoded = _api(live_server, "/api/v1/formats/float8_e4m3fn/decode?code=185")
    _wait(page, "document.querySelector('#fx-exact').textContent.startsWith('-1.125')")
    assert _shown_number(page.text_content("#fx-value") or "") == decoded["value"] == -1.125
    _wait(page, "location.search.includes('code=185')")


def test_bits_work_from_the_keyboard(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float4_e2m1fn?code=2")  # 0b0010 = 1.0
    page.focus("#fx-bitfield button[data-bit='3']")
    page.keyboard.press("ArrowRight")  # exponent MSB (bit 2)
    page.keyboard.press("ArrowRight")  # exponent LSB (bit 1)
    page.keyboard.press("ArrowRight")  # mantissa (bit 0)
    page.keyboard.press("Space")
    _wait(page, "document.querySelector('#fx-dec').textContent === '3'")
    assert _shown_number(page.text_content("#fx-value") or "") == 1.5


@pytest.mark.parametrize(
    ("name", "typed", "rounding", "want_code", "want_value"),
    [
        ("float8_e4m3fn", "464", "nearest_even", 126, 448.0),  # tie at the top: to even 448
        ("float8_e4m3fn", "465", "nearest_even", 127, math.nan),  # past 464: NaN (OFP8)
        ("float8_e4m3fn", "1.0625", "nearest_even", 56, 1.0),  # tie to even, not half-up
        ("float4_e2m1fn", "0.75", "nearest_even", 2, 1.0),
        ("float4_e2m1fn", "0.25", "nearest_even", 0, 0.0),
        ("bfloat16", "1.00390625", "nearest_even", 0x3F80, 1.0),
        ("float4_e2m1fn", "0.75", "toward_zero", 1, 0.5),
        ("float8_e5m2", "1e6", "nearest_even", 0x7C, math.inf),
    ],
)
def test_typing_a_value_updates_the_code(
    live_server: str,
    page: Any,
    name: str,
    typed: str,
    rounding: str,
    want_code: int,
    want_value: float,
) -> None:
    _open(page, live_server, f"/formats/{name}")
    page.select_option("#fx-rounding", rounding)
    page.fill("#fx-input", typed)
    page.press("#fx-input", "Enter")
    # the default code is often the answer already (1.0): wait for the rounding result itself
    _wait(
        page,
        f"(document.querySelector('#fx-enc-code') || {{textContent: ''}}).textContent"
        f".endsWith(' = {want_code}') "
        f"&& document.querySelector('#fx-dec').textContent === '{want_code}'",
    )
    api = _api(live_server, f"/api/v1/formats/{name}/encode?value={typed}&rounding={rounding}")
    assert api["code"] == want_code
    shown = _shown_number(page.text_content("#fx-enc-value") or "")
    if math.isnan(want_value):
        assert math.isnan(shown)
    else:
        assert shown == want_value
    assert f"= {want_code}" in (page.text_content("#fx-enc-code") or "")
    _wait(page, f"location.search.includes('value={typed}')")  # written 120 ms later


def test_neighbours_are_shown_and_clickable(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e4m3fn?value=0.3")
    api = _api(live_server, "/api/v1/formats/float8_e4m3fn/encode?value=0.3")
    below = page.locator(".fx-nb", has_text="below")
    above = page.locator(".fx-nb", has_text="above")
    assert (
        _shown_number(below.locator(".fx-nb-value").text_content() or "") == api["below"]["value"]
    )
    assert (
        _shown_number(above.locator(".fx-nb-value").text_content() or "") == api["above"]["value"]
    )
    above.click()
    _wait(page, f"document.querySelector('#fx-dec').textContent === '{api['above']['code']}'")
    _wait(page, f"location.search.includes('code={api['above']['code']}')")
    assert "value=" not in page.url


def test_steppers_walk_the_sorted_values(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e4m3fn?code=56")
    page.click("#fx-prev")
    _wait(page, "document.querySelector('#fx-dec').textContent === '55'")
    assert _shown_number(page.text_content("#fx-value") or "") == 0.9375
    page.click(".fx-jump[data-code='126']")  # max
    _wait(page, "document.querySelector('#fx-dec').textContent === '126'")
    assert page.is_disabled("#fx-next")  # e4m3fn has no Inf above 448
    # crossing zero: the value below +0 is -0, then the largest negative subnormal
    page.click(".fx-jump[data-code='0']")
    _wait(page, "document.querySelector('#fx-dec').textContent === '0'")
    page.click("#fx-prev")
    _wait(page, "document.querySelector('#fx-dec').textContent === '128'")
    page.click("#fx-prev")
    _wait(page, "document.querySelector('#fx-dec').textContent === '129'")
    assert _shown_number(page.text_content("#fx-value") or "") == -(2.0**-9)


def test_float32_steps_by_bit_pattern(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float32?code=1065353216")  # 1.0
    page.click("#fx-next")
    _wait(page, "document.querySelector('#fx-dec').textContent === '1065353217'")
    _wait(page, "document.querySelector('#fx-exact').textContent.startsWith('1.0000001192')")
    decoded = _api(live_server, "/api/v1/formats/float32/decode?code=1065353217")
    assert decoded["value"] == 1 + 2.0**-23


def test_url_round_trips_value_state(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e5m2")
    page.select_option("#fx-rounding", "stochastic")
    page.fill("#fx-seed", "7")
    page.fill("#fx-input", "0.3")
    page.press("#fx-input", "Enter")
    _wait(page, "location.search.includes('seed=7') && location.search.includes('value=0.3')")
    code = _code(page)
    value = page.text_content("#fx-enc-value")
    assert "rounding=stochastic" in page.url
    page.reload()
    _ready(page)
    assert page.input_value("#fx-input") == "0.3"
    assert page.input_value("#fx-rounding") == "stochastic"
    assert page.input_value("#fx-seed") == "7"
    assert _code(page) == code
    assert page.text_content("#fx-enc-value") == value
    api = _api(
        live_server, "/api/v1/formats/float8_e5m2/encode?value=0.3&rounding=stochastic&seed=7"
    )
    assert api["code"] == code


def test_url_round_trips_code_and_number_line_view(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/bfloat16")
    page.click("#fx-next")
    page.click("#fx-scale-linear")
    page.click("#fx-zoom-in")
    page.wait_for_timeout(600)  # the view is written to the URL 250 ms after it settles
    _wait(page, "location.search.includes('view=') && location.search.includes('scale=linear')")
    code = _code(page)
    assert code == 0x3F81
    query_view = page.evaluate("new URLSearchParams(location.search).get('view')")
    url_view = [float(v) for v in query_view.split(",")]
    live_view = page.evaluate("window.__bitmesh.numberline.view")
    assert url_view == pytest.approx(live_view, rel=1e-6)
    page.reload()
    _ready(page)
    assert _code(page) == code
    assert page.get_attribute("#fx-scale-linear", "aria-pressed") == "true"
    assert page.evaluate("window.__bitmesh.numberline.view") == pytest.approx(url_view, rel=1e-9)


def _drawn_pixels(page: Any, selector: str) -> int:
    return int(
        page.evaluate(
            """(sel) => {
              const c = document.querySelector(sel);
              const ctx = c.getContext('2d');
              const d = ctx.getImageData(0, 0, c.width, c.height).data;
              const bg = [d[0], d[1], d[2]];
              let n = 0;
              for (let i = 0; i < d.length; i += 4) {
                const diff = Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1])
                  + Math.abs(d[i + 2] - bg[2]);
                if (diff > 30) n++;
              }
              return n;
            }""",
            selector,
        )
    )


def _assert_drawn(page: Any, selector: str, at_least: int) -> None:
    """The canvas has drawn at least this many non-background pixels (polled: drawing happens
    on the next animation frame or resize callback)."""
    deadline = time.monotonic() + 10
    while (n := _drawn_pixels(page, selector)) < at_least:
        assert time.monotonic() < deadline, f"{selector}: only {n} pixels drawn"
        page.wait_for_timeout(100)


@pytest.mark.parametrize("name", ["float8_e4m3fn", "bfloat16", "float32"])
def test_number_line_draws_every_finite_value(live_server: str, page: Any, name: str) -> None:
    _open(page, live_server, f"/formats/{name}")
    _assert_drawn(page, "#fx-numberline canvas", 2000)
    info = _api(live_server, f"/api/v1/formats/{name}")
    stats = page.evaluate("window.__bitmesh.numberline.stats")
    if info["full_table"]:
        # the whole line is in view at load: every finite value the API counts is drawn
        assert stats["values"] == stats["inView"] == info["finite_count"]
    else:
        # a 32-bit format: a window of codes around 1.0, every one finite
        assert stats["values"] == stats["inView"] > 4096
    # decimation: never more columns than pixels
    assert (
        0
        < stats["columns"]
        <= page.evaluate("document.querySelector('#fx-numberline').clientWidth")
    )


def test_number_line_pans_zooms_and_picks(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e4m3fn?code=56")
    canvas = page.locator("#fx-numberline canvas")
    canvas.scroll_into_view_if_needed()
    before = page.evaluate("window.__bitmesh.numberline.view")
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 60)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(100)
    zoomed = page.evaluate("window.__bitmesh.numberline.view")
    assert zoomed[1] - zoomed[0] < before[1] - before[0]
    canvas.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(50)
    panned = page.evaluate("window.__bitmesh.numberline.view")
    assert panned[0] > zoomed[0]
    # hovering a tick shows its value and code; clicking selects it
    page.keyboard.press("0")
    page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + 60)
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    assert "code" in (tip.text_content() or "")
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + 60)
    _wait(page, "document.querySelector('#fx-dec').textContent !== '56'")


@pytest.mark.parametrize(
    ("name", "cells"),
    [("float8_e4m3fn", 256), ("float6_e3m2fn", 64), ("float4_e2m1fn", 16), ("bfloat16", 256)],
)
def test_code_grid(live_server: str, page: Any, name: str, cells: int) -> None:
    _open(page, live_server, f"/formats/{name}")
    assert page.locator("#fx-codegrid .cg-cell").count() == cells
    table = _api(live_server, f"/api/v1/formats/{name}/values")
    cell = page.locator("#fx-codegrid .cg-cell").nth(5)
    code = int(cell.get_attribute("data-code") or "-1")
    cls = table["classes"][code]
    assert f"cls-{cls}" in (cell.get_attribute("class") or "")
    cell.click()
    _wait(page, f"document.querySelector('#fx-dec').textContent === '{code}'")
    assert "current" in (cell.get_attribute("class") or "")


def test_values_drawn_in_the_browser_are_the_value_tables(live_server: str, page: Any) -> None:
    """The cards and /compare draw each format's positive values from its `binades`; they must
    be exactly the positive finite values of /values (which tests/core checks against
    ml_dtypes), with the subnormals first."""
    _open(page, live_server, "/formats")
    formats = _api(live_server, "/api/v1/formats")["formats"]
    for info in formats:
        if not info["full_table"]:
            continue
        table = _api(live_server, f"/api/v1/formats/{info['name']}/values")
        pairs = zip(table["values"], table["classes"], strict=True)
        positive = sorted(
            (v, c) for v, c in pairs if isinstance(v, float | int) and v > 0 and math.isfinite(v)
        )
        got = page.evaluate(
            """async (info) => {
              const m = await import('/static/js/views/valuestrip.js');
              const list = m.positiveValues(info);
              return {count: m.positiveCount(info), list};
            }""",
            info,
        )
        assert got["count"] == len(positive), info["name"]
        if got["list"] is not None:
            assert [float(v) for v in got["list"]["values"]] == [v for v, _ in positive]
            subnormals = sum(1 for _, c in positive if c == "subnormal")
            assert got["list"]["subnormals"] == subnormals, info["name"]


def test_formats_cards(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats")
    formats = _api(live_server, "/api/v1/formats")["formats"]
    assert page.locator(".fmt-card:not(.fb-card)").count() == len(formats)
    card = page.locator(".fmt-card[data-format='float8_e4m3fn']")
    assert card.get_attribute("href") == "/formats/float8_e4m3fn"
    text = card.text_content() or ""
    assert "448" in text and "254" in text and "→ NaN" in text
    assert card.locator(".fmt-exp .fmt-bit").count() == 4
    assert card.locator(".fmt-man .fmt-bit").count() == 3
    _assert_drawn(page, ".fmt-card[data-format='float8_e4m3fn'] canvas", 200)
    families = page.locator(".fmt-family h2").all_text_contents()
    assert families[0] == "FP8"


def test_compare_table_and_picker(live_server: str, page: Any) -> None:
    _open(page, live_server, "/compare?formats=float8_e4m3fn,float4_e2m1fn")
    heads = page.locator("#cmp-table thead th").all_text_contents()
    assert heads[1:] == ["float8_e4m3fn", "float4_e2m1fn"]
    row = page.locator("#cmp-table tbody tr", has_text="max").first
    assert row.locator("td").all_text_contents() == ["448", "6"]
    page.check("#cmp-f-bfloat16")
    _wait(page, "location.search.includes('bfloat16')")
    assert page.locator("#cmp-table thead th").count() == 4
    _assert_drawn(page, "#cmp-chart canvas", 2000)
    page.reload()
    _ready(page)
    assert page.is_checked("#cmp-f-bfloat16")


def test_compare_unknown_format_is_reported(live_server: str, page: Any) -> None:
    _open(page, live_server, "/compare?formats=float8_e4m3fn,nope")
    assert "nope" in (page.text_content(".api-error") or "")


def test_headers_allow_framing_of_embeds_only(live_server: str) -> None:
    embed = httpx.get(live_server + "/embed/formats/float8_e4m3fn")
    full = httpx.get(live_server + "/formats/float8_e4m3fn")
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in full.headers["content-security-policy"]


def test_embed_is_frameable_by_another_origin_and_the_page_is_not(
    live_server: str, page: Any
) -> None:
    parent = (
        "<!doctype html><title>blog</title>"
        "<script>window.__heights=[];addEventListener('message',e=>{"
        "if(e.data&&e.data.type==='bitmesh:height')window.__heights.push(e.data.height)})</script>"
        f'<iframe name="embed" src="{live_server}/embed/formats/float8_e4m3fn?value=464"'
        ' width="700" height="600"></iframe>'
        f'<iframe name="full" src="{live_server}/formats/float8_e4m3fn" width="700" height="600">'
        "</iframe>"
    )
    page.route(
        "http://blog.example/",
        lambda route: route.fulfill(status=200, content_type="text/html", body=parent),
    )
    page.goto("http://blog.example/")
    embed = page.frame(name="embed")
    assert embed is not None
    embed.wait_for_selector("#app[data-ready='1']", timeout=20_000)
    assert embed.text_content("#fx-dec") == "126"
    _wait(page, "window.__heights.length > 0")
    assert max(page.evaluate("window.__heights")) > 300
    full = page.frame(name="full")
    assert full is not None
    page.wait_for_timeout(500)
    assert full.query_selector("#app") is None  # refused by frame-ancestors 'self'


@pytest.mark.parametrize(
    "path",
    [
        "/formats/float8_e4m3fn?value=<script>window.__pwned=1</script>",
        "/formats/float8_e4m3fn?value=%3Cimg%20src%3Dx%20onerror%3D%22window.__pwned%3D1%22%3E",
        "/formats/float8_e4m3fn?view=<script>window.__pwned=1</script>&code=<b>1</b>",
        "/compare?formats=<img src=x onerror=window.__pwned=1>",
        "/formats?x=<script>window.__pwned=1</script>",
    ],
)
def test_script_in_query_string_is_never_executed(live_server: str, page: Any, path: str) -> None:
    page.goto(live_server + path)
    page.wait_for_timeout(800)
    assert page.evaluate("window.__pwned") is None
    assert page.query_selector("#app script, #app img[src='x']") is None
    if "value=" in path:
        # shown as text in the value box, and the API's complaint is shown in the page
        assert "<" in page.input_value("#fx-input")
        assert "value" in (page.text_content(".api-error:not([hidden])") or "")


def test_home_gallery_previews(live_server: str, page: Any) -> None:
    page.goto(live_server + "/")
    for key in ("formats", "compare"):
        el = page.locator(f"[data-preview='{key}']")
        el.scroll_into_view_if_needed()
        el.locator("canvas").wait_for(timeout=10_000)
        _assert_drawn(page, f"[data-preview='{key}'] canvas", 200)
        assert "unavailable" not in (el.text_content() or "")


@pytest.mark.parametrize(
    ("path", "expect"),
    [
        ("/formats/float8_e4m3fn?value=464", ["float8_e4m3fn", "0x7E", "448", "log₂"]),
        ("/formats", ["bfloat16", "float4_e2m1fn"]),
        ("/compare?formats=float8_e4m3fn,float4_e2m1fn", ["float8_e4m3fn", "log₂"]),
    ],
)
def test_download_svg(live_server: str, page: Any, path: str, expect: list[str]) -> None:
    _open(page, live_server, path)
    with page.expect_download() as info:
        page.click("#share button:has-text('Download SVG')")
    body = Path(info.value.path()).read_text(encoding="utf-8")
    assert body.startswith("<?xml") and "<svg" in body
    for text in expect:
        assert text in body


def test_code_grid_pages_through_16_bit_codes(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/bfloat16")  # 1.0 = 0x3F80: page 0x3F
    first = page.locator("#fx-codegrid .cg-cell").first
    assert first.get_attribute("data-code") == str(0x3F00)
    page.click("#fx-codegrid .cg-next")
    assert first.get_attribute("data-code") != str(0x3F00)
    assert page.locator("#fx-codegrid .cg-cell").first.get_attribute("data-code") == str(0x4000)
    page.fill("#fx-codegrid .cg-high", "0x7F")
    page.press("#fx-codegrid .cg-high", "Enter")
    cells = page.locator("#fx-codegrid .cg-cell")
    assert cells.first.get_attribute("data-code") == str(0x7F00)
    # 0x7F80 is +Inf and 0x7F81.. are NaN in bfloat16
    assert "cls-inf" in (cells.nth(0x80).get_attribute("class") or "")
    assert "cls-nan" in (cells.nth(0x81).get_attribute("class") or "")


def test_compare_zooms_from_the_keyboard(live_server: str, page: Any) -> None:
    _open(page, live_server, "/compare")
    before = page.evaluate("window.__bitmesh.compare.range")
    page.focus("#cmp-chart canvas")
    page.keyboard.press("+")
    page.keyboard.press("ArrowRight")
    after = page.evaluate("window.__bitmesh.compare.range")
    assert after[1] - after[0] < before[1] - before[0]
    # the range is written 250 ms after the last change: wait for the final one
    want = ",".join(f"{round(k, 3):g}" for k in after)
    _wait(page, f"new URLSearchParams(location.search).get('range') === '{want}'")
    page.reload()
    _ready(page)
    assert page.evaluate("window.__bitmesh.compare.range") == pytest.approx(after, abs=1e-3)


def test_go_to_code_accepts_hex_decimal_and_binary(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e4m3fn")
    for typed, code in [("0x7E", 126), ("57", 57), ("0b1000_0001", 129)]:
        page.fill("#fx-code-input", typed)
        page.press("#fx-code-input", "Enter")
        _wait(page, f"document.querySelector('#fx-dec').textContent === '{code}'")
    page.fill("#fx-code-input", "0x100")  # 256 is not an 8-bit code
    page.press("#fx-code-input", "Enter")
    # the page shows the API's own complaint (the API parses codes, not the page)
    detail = httpx.get(f"{live_server}/api/v1/formats/float8_e4m3fn/decode?code=0x100").json()
    assert "0..255" in detail["detail"][0]["msg"]
    _wait(page, "document.querySelector('.api-error:not([hidden])')")
    shown = page.text_content(".api-error:not([hidden])") or ""
    assert shown == f"code: {detail['detail'][0]['msg']}"
    assert page.text_content("#fx-dec") == "129"
    # each bit shows what it is worth: exponent LSB 1, mantissa MSB 2^-1
    assert page.text_content("#fx-bitfield button[data-bit='3'] .bit-weight") == "1"
    assert page.text_content("#fx-bitfield button[data-bit='2'] .bit-weight") == "2⁻¹"


def test_url_round_trips_an_exponent_with_a_plus(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e5m2")
    page.fill("#fx-input", "1e+2")
    page.press("#fx-input", "Enter")
    _wait(page, "document.querySelector('#fx-dec').textContent === '86'")  # 96 = 0x56
    _wait(page, "location.search.includes('value=1e')")
    page.reload()
    _ready(page)
    assert page.input_value("#fx-input") == "1e+2"
    assert _code(page) == 86


def test_round_result_shows_shortest_exact_decimals(live_server: str, page: Any) -> None:
    # the input read "1.0000000000000000e−10" and bf16's exact error 2^-8 read "0.003906"
    _open(page, live_server, "/formats/float8_e4m3fn?value=1e-10")
    assert page.inner_text("#fx-enc-input").strip() == "1e−10"
    _open(page, live_server, "/formats/bfloat16?value=1.00390625")
    box = page.inner_text("#fx-round-result")
    assert "0.00390625" in box  # |1.00390625 − 1| = 2^-8 exactly, ties to even gives 1
    assert page.inner_text("#fx-enc-value").strip() == "1"


@pytest.mark.parametrize(
    ("value", "expect", "tie"),
    [("3", "4", True), ("0.75", "1", True), ("2.5", "2", False), ("6", "8", True)],
)
def test_e8m0_ties_are_explained(
    live_server: str, page: Any, value: str, expect: str, tie: bool
) -> None:
    # E8M0 has no mantissa: the API (like ml_dtypes' cast) sends exact midpoints up, and the
    # page must say why "ties to even" did not pick the even code
    api = _api(live_server, f"/api/v1/formats/float8_e8m0fnu/encode?value={value}")
    assert str(api["exact_value"]) == expect
    _open(page, live_server, f"/formats/float8_e8m0fnu?value={value}")
    assert page.inner_text("#fx-enc-value").strip() == expect
    assert page.locator("#fx-tie-note").count() == (1 if tie else 0)
    if tie:
        assert "halfway" in page.inner_text("#fx-tie-note")


def test_code_grid_never_shows_a_value_no_code_holds(live_server: str, page: Any) -> None:
    # e4m3fn 0x39 is 1.125: a 3-digit label "1.13" names a value the format cannot hold
    _open(page, live_server, "/formats/float8_e4m3fn")
    cells = page.locator("#fx-codegrid .cg-cell")
    labels = cells.evaluate_all("els => els.map(e => [Number(e.dataset.code), e.innerText])")
    values = _api(live_server, "/api/v1/formats/float8_e4m3fn/values")["values"]
    assert dict(labels)[0x39].strip() == "1.125"
    for code, text in labels:
        v = values[code]
        if isinstance(v, str):
            continue
        t = text.strip().replace("−", "-")
        if any(ch in t for ch in "⁰¹²³⁴⁵⁶⁷⁸⁹") or t == "-0":
            continue
        shown = float(t)
        exact = repr(abs(float(v)))
        exact = exact[:-2] if exact.endswith(".0") else exact
        if len(exact) <= 6 and "e" not in exact:
            assert shown == v, (code, t, v)  # short values are shown exactly
        else:
            assert abs(shown - v) <= abs(v) * 5e-3, (code, t, v)  # else 3 significant digits


def test_shared_view_that_leaves_the_value_off_screen_reloads_as_shared(
    live_server: str, page: Any
) -> None:
    # the number line re-centred on the chosen value at load, so a link to a zoom that does
    # not contain it (e4m3fn's 1.0 sits at t ≈ 9.0 on the symlog axis) reloaded elsewhere
    _open(page, live_server, "/formats/float8_e4m3fn?code=56&view=-8.389246,8.389246")
    assert page.evaluate("window.__bitmesh.numberline.view") == pytest.approx(
        [-8.389246, 8.389246], rel=1e-9
    )
    # choosing another value still brings it into view
    page.click("#fx-next")
    lo, hi = page.evaluate("window.__bitmesh.numberline.view")
    assert lo <= math.log2(1 + 1.125 / 2**-9) <= hi


def test_compare_binade_tooltip_edges_are_exact(live_server: str, page: Any) -> None:
    _open(page, live_server, "/compare")
    edges = page.evaluate(
        "import('/static/js/views/compare.js').then(m => [m.edge(2 ** -6), m.edge(2 ** -7),"
        " m.edge(2 ** 10), m.edge(2 ** -20)])"
    )
    assert edges[:3] == ["0.015625", "0.0078125", "1024"]  # was "0.01563", "0.007813"
    assert edges[3] == "9.537e−7"  # long ones keep 4 significant digits


@pytest.mark.parametrize(
    ("path", "gap", "exact"),
    [
        ("/formats/float8_e4m3fn?code=1", "2⁻⁹ = 0.001953125", "0.001953125 (7 significant digits"),
        ("/formats/float8_e4m3fn?code=128", "2⁻⁹ = 0.001953125", "-0 (1 significant digit,"),
        ("/formats/float32?code=1", "2⁻¹⁴⁹ ≈ 1.40130e−45", None),
    ],
)
def test_gap_and_exact_decimal_are_not_silently_rounded(
    live_server: str, page: Any, path: str, gap: str, exact: str | None
) -> None:
    # the gap read "2⁻⁹ = 0.00195313" (an "=" before a rounded number) and −0's exact
    # decimal read "1 significant digits"
    _open(page, live_server, path)
    assert page.inner_text("#fx-gap").strip() == gap
    if exact:
        assert page.inner_text("#fx-exact").strip().startswith(exact)


def test_code_grid_is_one_tab_stop_walked_with_arrows(live_server: str, page: Any) -> None:
    # every one of the 256 cells was a tab stop: a keyboard user had to press Tab 256 times
    _open(page, live_server, "/formats/float8_e4m3fn")  # 1.0 = 0x38
    stops = page.locator("#fx-codegrid .cg-cell[tabindex='0']")
    assert stops.count() == 1
    assert stops.first.get_attribute("data-code") == str(0x38)
    stops.first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")  # 0x39 + 16 = 0x49
    assert page.evaluate("document.activeElement.dataset.code") == str(0x49)
    page.keyboard.press("Enter")
    _wait(page, f"document.querySelector('#fx-dec').textContent === '{0x49}'")
    assert page.inner_text("#fx-value").strip() == "4.5"  # 0 1001 001 = 2^(9 − 7) × 1.125
    assert page.locator("#fx-codegrid .cg-cell[tabindex='0']").count() == 1
    page.keyboard.press("Tab")  # one Tab leaves the grid
    assert page.evaluate("document.activeElement.classList.contains('cg-cell')") is False


@pytest.mark.parametrize(
    ("name", "absent"),
    [
        ("float8_e8m0fnu", {"zero", "subnormal", "inf"}),
        ("float4_e2m1fn", {"inf", "nan"}),
        ("float8_e4m3fn", {"inf"}),
        ("float8_e5m2", set()),
    ],
)
def test_legends_list_only_the_classes_the_format_has(
    live_server: str, page: Any, name: str, absent: set[str]
) -> None:
    _open(page, live_server, f"/formats/{name}")
    classes = set(_api(live_server, f"/api/v1/formats/{name}/values")["classes"])
    for cls in ["zero", "subnormal", "normal", "inf", "nan"]:
        items = page.locator(f"#app .legend .sw-{cls}")
        for i in range(items.count()):
            assert items.nth(i).is_visible() == (cls in classes) == (cls not in absent), cls


def test_number_line_tooltip_values(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float8_e4m3fn")
    tip = page.evaluate(
        "import('/static/js/views/numberline.js').then(m => [m.tipValue(0.013671875),"
        " m.tipValue(-448), m.tipValue(1.0000001192092896), m.tipValue(-0)])"
    )
    assert tip == ["0.013671875", "−448", "≈ 1.00000012", "−0"]
    # +0 and −0 share a tick: hovering it names both codes
    _open(page, live_server, "/formats/float4_e2m1fn")
    canvas = page.locator("#fx-numberline canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    _wait(page, "document.querySelector('.tooltip') && !document.querySelector('.tooltip').hidden")
    text = page.inner_text(".tooltip")
    assert "±0" in text and "0x0 (0)" in text and "0x8 (8)" in text


@pytest.mark.parametrize(
    ("path", "shown", "note"),
    [
        # docs/sources.md, "Ties and overflow": ties rounded half up instead of to even
        ("/formats/float8_e4m3fn?value=1.0625", "1", "between 1 and 1.125"),
        ("/formats/bfloat16?value=1.00390625", "1", "mantissa 0000000"),
        ("/formats/float4_e2m1fn?value=0.25", "0", "between 0 and 0.5"),
        ("/formats/float4_e2m1fn?value=0.75", "1", "mantissa 0"),
        ("/formats/float8_e4m3fn?value=-1.0625", "−1", "mantissa 000"),
        # past max: 464 is halfway between 448 and the 480 one more exponent would give
        ("/formats/float8_e4m3fn?value=464", "448", "between 448 and 480"),
        ("/formats/float8_e4m3fn?value=1.06", "1", None),
        ("/formats/float8_e4m3fn?value=465", "NaN", None),
    ],
)
def test_ties_to_even_are_explained(
    live_server: str, page: Any, path: str, shown: str, note: str | None
) -> None:
    _open(page, live_server, path)
    assert page.inner_text("#fx-enc-value").strip() == shown
    if note is None:
        assert page.locator("#fx-tie-note").count() == 0
    else:
        text = page.inner_text("#fx-tie-note")
        assert note in text and "halfway" in text


def test_float32_error_fits_its_box(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/float32?value=0.1")
    api = _api(live_server, "/api/v1/formats/float32/encode?value=0.1")
    shown = page.inner_text("#fx-round-result .fx-errors .metric .value").strip()
    assert len(shown) <= 12  # "1.490116114e−9" wrapped in the metric box
    assert _shown_number(shown) == pytest.approx(api["abs_error"], rel=1e-5)


# --- one source of truth: the page shows what its API says for the same query string ------


def _code_from(text: str) -> int:
    """ "0x7E = 126" -> 126."""
    return int(text.split("=")[-1])


@pytest.mark.parametrize("prefix", ["", "/embed"])
@pytest.mark.parametrize(
    "query",
    [
        "",  # the default: the code of 1.0
        "?value=464",
        "?value=0.3&rounding=stochastic&seed=7",
        "?value=-1e-10&rounding=down&overflow=saturate",
        "?code=57",
    ],
)
def test_explorer_headline_equals_the_api(
    live_server: str, page: Any, prefix: str, query: str
) -> None:
    name = "float8_e4m3fn"
    _open(page, live_server, f"{prefix}/formats/{name}{query}")
    params = dict(urllib.parse.parse_qsl(query.lstrip("?")))
    if "value" in params:
        encoded = _api(live_server, f"/api/v1/formats/{name}/encode{query}")
        assert encoded["query"]["value"] == params["value"]
        assert _code_from(page.inner_text("#fx-enc-code")) == encoded["code"]
        shown = _shown_number(page.inner_text("#fx-enc-value"))
        assert shown == encoded["value"] or (math.isnan(shown) and encoded["value"] == "nan")
        code = encoded["code"]
    elif "code" in params:
        code = int(params["code"])
    else:
        info = _api(live_server, f"/api/v1/formats/{name}")
        code = next(m["code"] for m in info["landmarks"] if m["label"] == "1")
    decoded = _api(live_server, f"/api/v1/formats/{name}/decode?code={code}")
    _wait(page, f"document.querySelector('#fx-exact').textContent.startsWith('{decoded['exact']}')")
    assert int(page.inner_text("#fx-dec")) == code
    assert _shown_number(page.inner_text("#fx-value")) == decoded["value"]
    assert page.inner_text("#fx-class").strip() == decoded["class"]
    lines = page.locator("#fx-formula .fx-step-math").all_inner_texts()
    assert [t.strip() for t in lines] == decoded["formula"]


@pytest.mark.parametrize(
    ("path", "canonical", "kept"),
    [
        ("/formats/bf16", "/formats/bfloat16", ""),
        ("/formats/BF16", "/formats/bfloat16", ""),
        ("/formats/bf16?value=1.5", "/formats/bfloat16", "value=1.5"),
        ("/embed/formats/bf16", "/embed/formats/bfloat16", ""),
        ("/formats/Float8-E4M3FN?value=464", "/formats/float8_e4m3fn", "value=464"),
        ("/formats/fp4", "/formats/float4_e2m1fn", ""),
    ],
)
def test_other_spellings_land_on_the_canonical_page(
    live_server: str, page: Any, path: str, canonical: str, kept: str
) -> None:
    name = path.split("/")[-1].split("?")[0]
    assert canonical.endswith("/" + _api(live_server, f"/api/v1/formats/{name}")["name"])
    _open(page, live_server, path)
    url = urllib.parse.urlsplit(page.url)
    assert url.path == canonical
    assert kept in url.query
    assert page.inner_text(".fx-name").strip() == canonical.split("/")[-1]


@pytest.mark.parametrize("prefix", ["", "/embed"])
@pytest.mark.parametrize("query", ["", "?formats=fp8,BF16,e2m1,fp8"])
def test_compare_shows_what_the_api_compares(
    live_server: str, page: Any, prefix: str, query: str
) -> None:
    _open(page, live_server, f"{prefix}/compare{query}")
    api = _api(live_server, f"/api/v1/compare{query}")
    names = [f["name"] for f in api["formats"]]
    assert page.locator("#cmp-table thead th").all_text_contents()[1:] == names
    finite = page.locator("#cmp-table tbody tr", has_text="finite values").first
    assert finite.locator("td").all_text_contents() == [
        f"{f['finite_count']:,}" for f in api["formats"]
    ]
    _wait(page, "window.__bitmesh.compare.stats.draws > 0")
    assert page.evaluate("window.__bitmesh.compare.stats.rows") == names
    assert [n for n in names if page.is_checked(f"#cmp-f-{n}")] == names


def test_formats_page_groups_as_the_api_does(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats")
    api = _api(live_server, "/api/v1/formats")
    assert page.locator(".fmt-family h2").all_text_contents() == [g["title"] for g in api["groups"]]
    cards = page.locator(".fmt-card").evaluate_all("els => els.map(e => e.dataset.format)")
    assert cards == [n for g in api["groups"] for n in g["formats"]]


# --- exact decimals and block formats ---------------------------------------------------------


def test_the_explorer_shows_the_exact_decimal_it_rounded_as_the_api_does(
    live_server: str, page: Any
) -> None:
    typed = "464.0000000000000004"  # past e4m3fn's midpoint 464, whose float64 is 464 itself
    _open(page, live_server, f"/formats/float8_e4m3fn?value={typed}")
    api = _api(live_server, f"/api/v1/formats/float8_e4m3fn/encode?value={typed}")
    assert api["code"] == 0x7F and api["exact_input"] == typed
    _wait(page, "document.querySelector('#fx-dec').textContent === '127'")
    assert page.inner_text("#fx-enc-input").strip() == api["query"]["value"] == typed
    assert api["exact_input"] in (page.get_attribute("#fx-enc-input", "title") or "")
    assert "float64 464" in page.inner_text(".fx-enc-f64")


BLOCK_QUERIES = [
    ("nvfp4", ""),  # the defaults
    ("mxfp4", "seed=3&block=2&distribution=laplace"),
    ("nvfp4", "seed=5&blocks=4&block=3"),
    ("mxint8", ""),
    ("mxfp6_e3m2", "values=0.3,-1.7,2.9,0.05,6.5,100"),
]


def _block_headline(page: Any) -> dict[str, Any]:
    return {
        "bits": float(page.inner_text("#fb-bits")),
        "scale": _shown_number(page.inner_text("#fb-scale-value")),
        "block": page.inner_text("#fb-block"),
        "codes": page.locator("#fb-element-list > li .fb-bits").all_inner_texts(),
        "scale_bits": page.inner_text("#fb-scale-panel .fb-bits"),
        "steps": page.locator("#fb-steps li").all_inner_texts(),
    }


@pytest.mark.parametrize("embed", [False, True])
@pytest.mark.parametrize(("name", "query"), BLOCK_QUERIES)
def test_block_page_headline_equals_the_api(
    live_server: str, page: Any, name: str, query: str, embed: bool
) -> None:
    prefix = "/embed" if embed else ""
    _open(page, live_server, f"{prefix}/formats/{name}" + (f"?{query}" if query else ""))
    api = _api(live_server, f"/api/v1/formats/{name}/block" + (f"?{query}" if query else ""))
    shown = _block_headline(page)
    b = api["block"]
    assert shown["bits"] == api["format"]["bits_per_element"]
    assert shown["scale"] == b["scale"]
    assert shown["block"].startswith(f"#{b['index']} of {api['tensor']['block_count']}")
    assert [c.replace("\n", "") for c in shown["codes"]] == b["code_bits"]
    assert shown["scale_bits"].replace("\n", "") == b["scale_bits"]
    assert shown["steps"] == api["scale_steps"]
    assert list(page.problems) == []


def test_block_steppers_walk_the_blocks_as_the_api_numbers_them(
    live_server: str, page: Any
) -> None:
    _open(page, live_server, "/formats/nvfp4?blocks=3")
    assert page.is_disabled("#fb-prev")
    page.click("#fb-next")
    _wait(page, "location.search.includes('block=1')")
    _wait(page, "document.querySelector('#fb-block').textContent.startsWith('#1 ')")
    api = _api(live_server, "/api/v1/formats/nvfp4/block?blocks=3&block=1")
    assert _shown_number(page.inner_text("#fb-scale-value")) == api["block"]["scale"]
    page.click("#fb-next")
    _wait(page, "document.querySelector('#fb-block').textContent.startsWith('#2 ')")
    assert page.is_disabled("#fb-next")  # the last of 3 blocks
    lab = page.get_attribute("#fb-lab", "href") or ""
    assert lab.startswith("/quantize?scheme=nvfp4") and "block=2" in lab and "n=48" in lab


def test_typed_values_make_the_block(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats/mxfp4")
    page.fill("#fb-values", "7.5, 1")
    _wait(page, "location.search.includes('values=')")
    _wait(page, "document.querySelectorAll('#fb-element-list > li').length === 2")
    api = _api(live_server, "/api/v1/formats/mxfp4/block?values=7.5,1")
    assert api["block"]["clipped_flags"] == [True, False]  # 7.5 clips to 6 under the OCP rule
    assert page.locator("#fb-element-list > li.clipped").count() == 1
    assert page.is_disabled("#fb-seed")  # the generator's parameters do not apply


def test_formats_index_lists_the_block_formats_the_api_lists(live_server: str, page: Any) -> None:
    _open(page, live_server, "/formats")
    api = _api(live_server, "/api/v1/formats")
    group = api["groups"][-1]
    section = page.locator("#fam-block").locator("xpath=../..")
    assert page.inner_text("#fam-block") == group["title"]
    cards = section.locator(".fb-card")
    assert cards.evaluate_all("els => els.map(e => e.dataset.format)") == group["formats"]
    bits = {b["name"]: b["bits_per_element"] for b in api["blocks"]}
    for name in group["formats"]:
        tag = section.locator(f".fb-card[data-format='{name}'] .fmt-tag").inner_text()
        assert float(tag.split()[0]) == bits[name]
    section.locator(".fb-card[data-format='nvfp4']").click()
    _ready(page)
    assert urllib.parse.urlparse(page.url).path == "/formats/nvfp4"


# ------------------------------------------------ view state: the number line's and compare's zoom


def _api_requests(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if "/api/" in r.url else None)
    return urls


def _keys_of(urls: list[str]) -> set[str]:
    return {k for u in urls for k in urllib.parse.parse_qs(urllib.parse.urlparse(u).query)}


@pytest.mark.parametrize("prefix", ["", "/embed"])
def test_a_link_with_scale_and_view_opens_that_window(
    live_server: str, page: Any, prefix: str
) -> None:
    urls = _api_requests(page)
    _open(page, live_server, f"{prefix}/formats/float4_e2m1fn?scale=linear&view=0.25,3.5")
    assert page.evaluate("window.__bitmesh.numberline.view") == [0.25, 3.5]
    assert page.get_attribute("#fx-scale-linear", "aria-pressed") == "true"
    # on a linear axis the window [0.25, 3.5] holds exactly the API's values inside it
    table = _api(live_server, "/api/v1/formats/float4_e2m1fn/values")
    inside = [v for v in table["values"] if isinstance(v, float | int) and 0.25 <= v <= 3.5]
    _wait(page, "window.__bitmesh.numberline.stats.draws > 0")
    assert page.evaluate("window.__bitmesh.numberline.stats.inView") == len(inside) == 5
    assert urls and not _keys_of(urls) & {"scale", "view"}
    assert page.problems == []


@pytest.mark.parametrize(
    "bad", ["view=abc", "view=3,1", "view=1,1", "view=1e999,2", "scale=cubic", "view=1,2,3"]
)
def test_a_bad_scale_or_view_falls_back_to_the_whole_line(
    live_server: str, page: Any, bad: str
) -> None:
    _open(page, live_server, "/formats/float8_e4m3fn")
    whole = page.evaluate("window.__bitmesh.numberline.view")
    _open(page, live_server, f"/formats/float8_e4m3fn?{bad}")
    assert page.evaluate("window.__bitmesh.numberline.view") == pytest.approx(whole)
    assert page.get_attribute("#fx-scale-log", "aria-pressed") == "true"
    info = _api(live_server, "/api/v1/formats/float8_e4m3fn")
    _wait(page, "window.__bitmesh.numberline.stats.draws > 0")
    assert page.evaluate("window.__bitmesh.numberline.stats.inView") == info["finite_count"]
    assert page.problems == []


@pytest.mark.parametrize("prefix", ["", "/embed"])
def test_a_link_with_range_opens_that_compare_window(
    live_server: str, page: Any, prefix: str
) -> None:
    urls = _api_requests(page)
    _open(page, live_server, f"{prefix}/compare?formats=float8_e4m3fn&range=-3,5")
    assert page.evaluate("window.__bitmesh.compare.range") == [-3, 5]
    # the middle of the plot is log2 = 1: its tooltip names the binade [2, 4) and the number
    # of values the API lists there
    canvas = page.locator("#cmp-chart canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box
    row_h = box["height"] - 6 - 46  # one row between the top pad and the axis
    page.mouse.move(box["x"] + 10 + (box["width"] - 20) / 2 + 1, box["y"] + 6 + row_h / 2)
    _wait(page, "document.querySelector('.tooltip') && !document.querySelector('.tooltip').hidden")
    text = page.inner_text(".tooltip")
    table = _api(live_server, "/api/v1/formats/float8_e4m3fn/values")
    count = sum(1 for v in table["values"] if isinstance(v, float | int) and 2 <= v < 4)
    assert "[2, 4)" in text and f"values in it: {count}" in text
    assert urls and "range" not in _keys_of(urls)
    assert page.problems == []


@pytest.mark.parametrize("bad", ["abc", "5,-3", "1", "nan,2", "-1e9,1e9"])
def test_a_bad_compare_range_falls_back(live_server: str, page: Any, bad: str) -> None:
    _open(page, live_server, "/compare?formats=float8_e4m3fn")
    whole = page.evaluate("window.__bitmesh.compare.range")
    _open(page, live_server, f"/compare?formats=float8_e4m3fn&range={bad}")
    lo, hi = page.evaluate("window.__bitmesh.compare.range")
    if bad == "-1e9,1e9":  # a number pair, kept inside the view's limits
        assert -300 <= lo < hi <= 300
    else:
        assert [lo, hi] == pytest.approx(whole)
    assert page.problems == []
