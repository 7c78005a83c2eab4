"""The /arithmetic page and its embed draw what the API answers for the same query string: the
running sum (plain keys, /api/v1/accumulate), the dot product (dot_*, /api/v1/accumulate/dot)
and attention (attn_*, /api/v1/attention); the stall is marked where the API says."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow

pytestmark = pytest.mark.browser

QUERIES = (
    "",
    "format=float16&n=3000&dot_format=float8_e4m3fn&dot_accumulator=float16&dot_n=4096"
    "&attn_format=bfloat16&attn_p_format=bfloat16&attn_lengths=32,128",
)
SUM_METRICS = ("final", "fp32_final", "pairwise_final", "exact", "relative_error")


def api(base: str, endpoint: str, query: str, prefix: str) -> dict[str, Any]:
    """The endpoint's answer to the page query's keys that carry `prefix` (prefix removed)."""
    q = parse_qs(query)
    mine = {k[len(prefix) :]: v for k, v in q.items() if k.startswith(prefix)}
    if not prefix:
        mine = {k: v for k, v in q.items() if not k.startswith(("dot_", "attn_"))}
    r = httpx.get(f"{base}{endpoint}", params=mine, timeout=60)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def open_page(page: Any, url: str) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(url)
    page.wait_for_selector("#a-sum-metrics [data-metric='final']")
    page.wait_for_selector("#a-dot-chart .a-dot")
    page.wait_for_selector("#a-attn-chart .a-dot")


def drawn_points(page: Any, chart: str, series: str) -> list[float]:
    sel = f"{chart} [data-series='{series}'] .a-dot"
    return page.locator(sel).evaluate_all("els => els.map(e => Number(e.dataset.y))")


@pytest.mark.parametrize("prefix", ["", "/embed"])
@pytest.mark.parametrize("query", QUERIES)
def test_page_numbers_equal_the_api(live_server: str, page: Any, prefix: str, query: str) -> None:
    open_page(page, f"{live_server}{prefix}/arithmetic?{query}")
    acc = api(live_server, "/api/v1/accumulate", query, "")
    for key in SUM_METRICS:
        shown = page.locator(f"#a-sum-metrics [data-metric='{key}']").get_attribute("data-value")
        assert float(shown) == acc[key], key
    stall = page.locator(".a-stall")
    if acc["stalled_at"] is None:
        assert stall.count() == 0
    else:
        assert int(stall.get_attribute("data-stalled-at")) == acc["stalled_at"]
        note = page.locator("#a-stall-note").inner_text()
        assert f"index {acc['stalled_at']:,}" in note
        assert f"{acc['stall_ulp']:g} apart" in note
    # every drawn dot of the dot-product chart is a positive error the API gave, in order
    dot = api(live_server, "/api/v1/accumulate/dot", query, "dot_")
    for key, series in (
        ("relative_error", f"{dot['accumulator']} accumulator"),
        ("fp32_relative_error", "float32 accumulator"),
    ):
        want = [v for v in dot[key] if isinstance(v, float | int) and v > 0]
        assert drawn_points(page, "#a-dot-chart", series) == want, series
    att = api(live_server, "/api/v1/attention", query, "attn_")
    assert (
        drawn_points(page, "#a-attn-chart", "output error, K plain") == att["clean"]["output_error"]
    )
    assert (
        drawn_points(page, "#a-attn-chart", "weight error, K with outlier channels")
        == (att["outliers"]["weight_error"])
    )
    assert page.problems == []


def test_bf16_ones_stall_at_256_on_screen(live_server: str, page: Any) -> None:
    open_page(page, f"{live_server}/arithmetic?format=bfloat16&distribution=ones&n=1000")
    assert page.locator("[data-metric='final']").inner_text() == "256"
    assert page.locator("[data-metric='exact']").inner_text() == "1000"
    # the stall marker sits at x = 256 of 1000 terms along the plot's width
    geo = page.locator(".a-stall line").evaluate(
        "l => [Number(l.getAttribute('x1')),"
        " l.closest('svg').querySelector('.a-hover').width.baseVal.value]"
    )
    assert geo[0] == pytest.approx(geo[1] * 256 / 1000, abs=0.01)
    note = page.locator("#a-stall-note").inner_text()
    assert "at 256 its neighbouring values are 2 apart" in note and "a term of 1" in note


def test_the_sum_is_revealed_over_time(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/arithmetic?n=2000")
    page.wait_for_selector(".a-sum-panel svg")
    page.wait_for_function(
        "() => Number(document.querySelector('#a-sum-chart svg').dataset.reveal) < 1"
    )
    page.wait_for_function(
        "() => document.querySelector('#a-sum-chart svg').dataset.reveal === '1.000'"
    )


def test_controls_write_prefixed_keys(live_server: str, page: Any) -> None:
    open_page(page, f"{live_server}/arithmetic")
    page.locator("#a-dot-form select[name='accumulator']").select_option("float32")
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('dot_accumulator') === 'float32'"
    )
    page.wait_for_function(
        "() => document.querySelector('#a-dot-form').dataset.query === 'accumulator=float32'"
    )
    page.locator("#a-sum-form input[name='n']").fill("300")
    page.wait_for_function("() => document.querySelector('#a-sum-form').dataset.query === 'n=300'")
    q = parse_qs(urlparse(page.url).query)
    assert q == {"dot_accumulator": ["float32"], "n": ["300"]}
    # 300 ones in bf16: past 256 every term is lost
    assert page.locator("[data-metric='final']").get_attribute("data-value") == "256"
    # the accumulator select offers "same as the terms' format": the API echoes the real one
    assert page.locator("#a-sum-form select[name='accumulator']").input_value() == "bfloat16"


def test_errors_name_the_field(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/arithmetic?format=float8_e8m0fnu&dot_n=0")
    page.locator("#a-sum-errors .api-error").wait_for()
    assert "format" in page.locator("#a-sum-errors .api-error").inner_text()
    page.locator("#a-dot-errors .api-error").wait_for()
    assert "n" in page.locator("#a-dot-errors .api-error").inner_text()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_fits_a_phone(live_server: str, page: Any, theme: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, f"{live_server}/arithmetic?theme={theme}")
    assert horizontal_overflow(page) == 0
    labels = page.locator(".a-sum-panel .axis-label").evaluate_all(
        "els => els.map(e => e.textContent)"
    )
    assert sorted(labels) == ["running sum", "terms added"]
    assert math.isfinite(float(page.locator("[data-metric='exact']").get_attribute("data-value")))
    assert page.problems == []


# ---------------------------------------------------------------- view state: the pinned term

ONES = "format=bfloat16&distribution=ones&n=1000"


def pinned(page: Any) -> dict[str, Any]:
    """The pin as drawn: its term, its line's x against the plot's width, each series' value."""
    result: dict[str, Any] = page.evaluate(
        """() => {
          const g = document.querySelector('#a-sum-chart .a-pin');
          const line = g.querySelector('line');
          if (!line) return {term: null};
          const w = g.closest('svg').querySelector('.a-hover').width.baseVal.value;
          const values = {};
          for (const c of g.querySelectorAll('circle')) {
            values[c.dataset.series] = Number(c.dataset.value);
          }
          return {term: Number(g.dataset.term), x: Number(line.getAttribute('x1')), w, values};
        }"""
    )
    return result


def api_requests(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if "/api/" in r.url else None)
    return urls


def test_click_pins_a_term_enter_and_escape(live_server: str, page: Any) -> None:
    open_page(page, f"{live_server}/arithmetic?{ONES}")
    acc = api(live_server, "/api/v1/accumulate", ONES, "")
    layer = page.locator("#a-sum-chart .a-hover")
    box = layer.bounding_box()
    layer.click(position={"x": box["width"] * 0.3, "y": box["height"] / 2})
    page.wait_for_function("() => new URLSearchParams(location.search).has('step')")
    term = int(parse_qs(urlparse(page.url).query)["step"][0])
    k = acc["indices"].index(term - 1)  # the URL holds a term the answer sampled
    assert abs(term - 300) <= 2
    drawn = pinned(page)
    assert drawn["term"] == term
    assert drawn["values"]["partial_sums"] == acc["partial_sums"][k]
    assert drawn["values"]["exact_sums"] == acc["exact_sums"][k]
    assert f"After term {term}" in page.locator("#a-sum-pin").inner_text()
    page.keyboard.press("ArrowRight")  # the layer has focus: arrows move the pin
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('step') !== '{term}'")
    assert int(parse_qs(urlparse(page.url).query)["step"][0]) == acc["indices"][k + 1] + 1
    page.keyboard.press("Escape")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('step')")
    assert pinned(page)["term"] is None
    assert page.locator("#a-sum-pin").is_hidden()
    page.keyboard.press("Enter")  # Enter pins the last term
    last = acc["indices"][-1] + 1
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('step') === '{last}'")
    assert page.problems == []


@pytest.mark.parametrize("prefix", ["", "/embed"])
def test_a_link_with_step_opens_pinned_and_still(live_server: str, page: Any, prefix: str) -> None:
    requests = api_requests(page)
    # no reduced motion: the pinned frame is the whole sum, not a reveal starting over
    page.goto(f"{live_server}{prefix}/arithmetic?{ONES}&step=501")
    page.wait_for_selector("#a-sum-chart .a-pin line", state="attached")
    assert page.locator("#a-sum-chart svg").get_attribute("data-reveal") == "1.000"
    acc = api(live_server, "/api/v1/accumulate", ONES, "")
    k = acc["indices"].index(500)
    drawn = pinned(page)
    assert drawn["term"] == 501
    assert drawn["x"] == pytest.approx(drawn["w"] * 501 / acc["n"], abs=0.01)
    for key in ("partial_sums", "fp32_sums", "exact_sums"):
        assert drawn["values"][key] == acc[key][k], key
    detail = page.locator("#a-sum-pin").inner_text()
    assert "After term 501" in detail and f"{acc['partial_sums'][k]:g}" in detail
    assert requests and not [u for u in requests if "step=" in u]
    assert page.problems == []


@pytest.mark.parametrize("bad", ["abc", "0", "999999", "-3", "1.5"])
def test_a_bad_step_is_no_pin(live_server: str, page: Any, bad: str) -> None:
    open_page(page, f"{live_server}/arithmetic?{ONES}&step={bad}")
    assert pinned(page)["term"] is None
    assert page.locator("#a-sum-pin").is_hidden()
    page.wait_for_function("() => !new URLSearchParams(location.search).has('step')")
    assert page.problems == []
