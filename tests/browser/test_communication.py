"""The /communication page: its headline numbers are the API's for the same query string
(page and embed, landing and chosen layouts), overlap switches land in the URL, and an axis
opens its collective on /collectives."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests, url_query

pytestmark = pytest.mark.browser

HEADLINE = ("step_time", "compute_time", "exposed_communication_time", "bubble_time")
QUERIES = [
    "model=mixtral-8x7b&tp=2&dp=8&ep=8&zero=1&microbatches=4",
    "model=llama3-8b&dp=16&zero=3&overlap_zero=false&seq_len=8192",
]


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/communication?{query}", timeout=30)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#cm-headline [data-metric='step_time']")


def _shown(page: Any, key: str) -> float:
    return float(page.locator(f"[data-metric='{key}']").get_attribute("data-value"))


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("where", ["", "/embed"])
def test_headline_numbers_are_the_apis(live_server: str, page: Any, query: str, where: str) -> None:
    _open(page, f"{live_server}{where}/communication?{query}")
    api = _api(live_server, query)
    for key in HEADLINE:
        assert _shown(page, key) == api[key], key
    assert _shown(page, "mfu") == api["flops"]["mfu"]
    assert page.locator("#cm-bill tbody tr").count() == len(api["bill"])
    assert page.locator(".cm-axis-link").count() == len(api["axes"])
    assert list(page.problems) == []


def test_landing_is_the_first_published_example(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/communication")
    first = httpx.get(f"{live_server}/api/v1/communication/examples", timeout=30).json()
    query = first["examples"][0]["query"]
    assert parse_qs(urlparse(page.url).query) == parse_qs(query)
    assert _shown(page, "step_time") == _api(live_server, query)["step_time"]
    assert page.locator("#cm-example").input_value() == query


def test_overlap_switch_writes_the_url(live_server: str, page: Any) -> None:
    query = "model=llama3-8b&tp=8&seq_len=8192&microbatches=4"
    _open(page, f"{live_server}/communication?{query}")
    before = _shown(page, "exposed_communication_time")
    page.check("#cm-overlap_tp")
    page.wait_for_function("() => location.search.includes('overlap_tp=true')")
    want = _api(live_server, query + "&overlap_tp=true")["exposed_communication_time"]
    page.wait_for_function(
        "(v) => Number(document.querySelector(\"[data-metric='exposed_communication_time']\")"
        ".dataset.value) === v",
        arg=want,
    )
    assert want < before


def test_an_axis_opens_its_collective(live_server: str, page: Any) -> None:
    query = QUERIES[0]
    _open(page, f"{live_server}/communication?{query}")
    api = _api(live_server, query)
    ep = next(a for a in api["axes"] if a["axis"] == "ep")
    page.locator(".cm-axis-link", has_text="EP").click()
    page.wait_for_url("**/collectives?**")
    page.wait_for_selector("#co-metrics [data-metric='time']")
    assert parse_qs(urlparse(page.url).query) == parse_qs(ep["collectives_query"])
    assert page.locator("#co-op").input_value() == "all_to_all"


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/communication?{QUERIES[0]}")
    pg.wait_for_selector(".cm-seg")
    assert horizontal_overflow(pg) == 0
    assert errors == []
    context.close()


# ------------------------------------------------------------------ view state in the URL


@pytest.mark.parametrize("where", ["", "/embed"])
def test_an_axis_in_the_url_opens_pinned(live_server: str, page: Any, where: str) -> None:
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/communication?{QUERIES[0]}&axis=ep")
    page.wait_for_selector(".cm-row.pinned")
    api = _api(live_server, QUERIES[0])
    ep = next(a for a in api["axes"] if a["axis"] == "ep")
    assert page.eval_on_selector_all(".cm-row.pinned", "gs => gs.map(g => g.dataset.key)") == ["ep"]
    assert page.locator(".cm-row[data-key='ep'] .cm-bars").get_attribute("aria-pressed") == "true"
    # the bill marks exactly the API's EP rows; the totals under the chart are the API's
    marked = page.eval_on_selector_all(
        "#cm-bill tbody tr", "rs => rs.map(r => [r.dataset.axis, r.classList.contains('pinned')])"
    )
    assert [m for _, m in marked] == [e["axis"] == "ep" for e in api["bill"]]
    assert any(m for _, m in marked)
    box = page.locator("#cm-pin")
    assert box.get_attribute("data-axis") == "ep"
    exposed = box.locator(".cm-pin-exposed").get_attribute("data-value")
    assert float(exposed) == ep["exposed_time"]
    href = box.locator("a").get_attribute("href")
    assert parse_qs(urlparse(href).query) == parse_qs(ep["collectives_query"])
    assert_no_state_key_sent(urls, "communication")
    assert list(page.problems) == []


def test_a_click_pins_an_axis_enter_too_escape_clears(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/communication?{QUERIES[0]}")
    page.wait_for_selector(".cm-row[data-key='tp'] .cm-bars rect")
    page.locator(".cm-row[data-key='tp'] .cm-bars rect").first.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('axis') === 'tp'")
    assert urlparse(page.url).path == "/communication"  # the bars pin; only labels navigate
    page.locator(".cm-row[data-key='tp'] .cm-bars rect").first.click()  # again: unpinned
    page.wait_for_function("() => !new URLSearchParams(location.search).has('axis')")
    page.focus(".cm-row[data-key='dp'] .cm-bars")
    page.keyboard.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('axis') === 'dp'")
    page.wait_for_selector(".cm-row.pinned[data-key='dp']")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('axis')")
    page.wait_for_function("() => !document.querySelector('.cm-row.pinned')")
    assert page.locator("#cm-pin").is_hidden()
    assert list(page.problems) == []


@pytest.mark.parametrize("bad", ["axis=pp", "axis=zz", "axis="])
def test_an_axis_the_layout_lacks_falls_back_quietly(live_server: str, page: Any, bad: str) -> None:
    _open(page, f"{live_server}/communication?{QUERIES[0]}&{bad}")  # tp, ep and dp only
    page.wait_for_selector(".cm-seg")
    assert page.locator(".cm-row.pinned").count() == 0
    assert page.locator("#cm-bill tbody tr.pinned").count() == 0
    assert "axis" not in url_query(page)
    assert list(page.problems) == []
