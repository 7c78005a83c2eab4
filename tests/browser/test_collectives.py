"""The /collectives page: its figures are the API's for the same query string (page and
embed), it steps through the transfers, keeps its state in the URL, and fits a pasted
nccl-tests table."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests, url_query

pytestmark = pytest.mark.browser

QUERIES = [
    "",
    "op=all_gather&ranks=16&bytes=1048576&gpu=h200",
    "op=all_to_all&algorithm=pairwise&ranks=5&bandwidth=1e11&latency=2e-6",
    "op=broadcast&algorithm=tree&ranks=9&root=2",
]
HEADLINE = ("time", "algorithm_bandwidth", "bus_bandwidth", "num_steps")


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#co-metrics [data-metric='time']")


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/collectives?{query}", timeout=30)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _shown(page: Any, key: str) -> str:
    value: str = page.locator(f"#co-metrics [data-metric='{key}']").get_attribute("data-value")
    return value


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("where", ["", "/embed"])
def test_headline_numbers_are_the_apis(live_server: str, page: Any, query: str, where: str) -> None:
    _open(page, f"{live_server}{where}/collectives?{query}")
    api = _api(live_server, query)
    for key in HEADLINE:
        assert float(_shown(page, key)) == api[key], key
    # the diagram draws exactly the API's ranks and steps
    assert page.locator(".co-card").count() == api["ranks"]
    assert page.locator(".co-scrub").get_attribute("max") == str(api["num_steps"])
    assert list(page.problems) == []


def test_stepping_fills_the_buffers_and_lands_in_the_url(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/collectives?ranks=4")
    view = page.locator(".co-view")
    assert view.get_attribute("data-step") == "0"
    page.get_by_role("button", name="Next step").click()
    page.wait_for_function("() => document.querySelector('.co-view').dataset.playing === '0'")
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '1'")
    assert view.get_attribute("data-step") == "1"
    # a ring all-reduce on 4 ranks ends after 6 steps with every cell holding all 4 GPUs
    page.evaluate(
        "() => { const s = document.querySelector('.co-scrub'); s.value = s.max;"
        " s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }"
    )
    assert "Done after 6 steps" in page.locator(".co-readout").inner_text()
    assert page.locator(".co-cell.co-cell-full").count() == 16
    # the URL reproduces the view
    page.goto(page.url)
    page.wait_for_selector(".co-cell-full")
    assert page.locator(".co-view").get_attribute("data-step") == "6"


def test_controls_write_the_url_and_refetch(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/collectives")
    page.select_option("#co-op", "reduce_scatter")
    page.wait_for_function("() => location.search.includes('op=reduce_scatter')")
    page.wait_for_function(
        "() => document.querySelector('#co-metrics [data-metric=num_steps]').dataset.value === '7'"
    )
    query = parse_qs(urlparse(page.url).query)
    assert query["op"] == ["reduce_scatter"]
    api = _api(live_server, "op=reduce_scatter")
    assert float(_shown(page, "bus_bandwidth")) == api["bus_bandwidth"]


def test_a_bad_query_shows_the_apis_reason(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/collectives?ranks=12&algorithm=hierarchical")
    page.wait_for_selector("#co-errors .api-error:not([hidden])")
    assert "ranks" in page.locator("#co-errors .api-error").inner_text()


def test_pasted_nccl_tests_are_fitted(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/collectives")
    rows = "\n".join(
        f"{s:12d} {s // 4:12d} float sum -1 {t:8.2f} 1.00 1.75 0 {t:8.2f} 1.00 1.75 0"
        for s, t in ((1 << 20, 40.0), (1 << 24, 90.0), (1 << 28, 900.0), (1 << 30, 3500.0))
    )
    page.fill("#co-nccl-text", rows)
    page.get_by_role("button", name="Fit").click()
    page.wait_for_selector("#co-nccl-apply")
    api = httpx.post(
        f"{live_server}/api/v1/collectives/nccl-tests",
        json={"text": rows, "gpu": "h100-sxm"},
        timeout=30,
    ).json()
    shown = page.locator("[data-metric='fit_bus_bandwidth']").get_attribute("data-value")
    assert float(shown) == api["fit"]["bus_bandwidth"]
    assert page.locator(".co-measured").count() == 4
    assert (
        page.locator("#co-measure button[data-value='busbw']").get_attribute("aria-pressed")
        == "true"
    )
    href = page.locator("#co-nccl-apply").get_attribute("href")
    assert href.endswith(api["calibrated_query"])


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/collectives?ranks=16&op=all_gather")
    pg.wait_for_selector(".co-card")
    assert horizontal_overflow(pg) == 0
    assert pg.evaluate("document.documentElement.dataset.theme") == "dark"
    assert errors == []
    context.close()


# ------------------------------------------------------------------ view state in the URL

RING8 = "ranks=8"


def _lit_links(page: Any) -> list[list[int]]:
    links: list[list[int]] = page.eval_on_selector_all(
        ".co-active .co-link-on", "ls => ls.map(l => [+l.dataset.src, +l.dataset.dst])"
    )
    return sorted(links)


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_step_and_rank_in_the_url_open_that_frame(
    live_server: str, page: Any, where: str
) -> None:
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/collectives?{RING8}&step=3&rank=2&measure=busbw")
    api = _api(live_server, f"{RING8}&steps=true")
    view = page.locator(".co-view")
    assert (view.get_attribute("data-step"), view.get_attribute("data-playing")) == ("3", "0")
    assert page.locator(".co-scrub").input_value() == "3"
    n = api["num_steps"]
    assert page.locator(".co-readout").inner_text().startswith(f"Next: step 4 of {n}:")
    # paused before step 4, its links are lit: exactly the API's transfers of that step
    transfers = api["steps"][3]["transfers"]
    assert api["steps"][3]["step"] == 3
    assert _lit_links(page) == sorted([t["src"], t["dst"]] for t in transfers)
    assert page.locator(".co-active").is_visible()
    # GPU 2 is pinned: its card ringed, and what it sends and receives in that step listed
    assert page.eval_on_selector_all(".co-card.pinned", "cs => cs.map(c => c.dataset.rank)") == [
        "2"
    ]
    mine = [[t["src"], t["dst"], t["chunk"]] for t in transfers if 2 in (t["src"], t["dst"])]
    assert len(mine) == 2  # a ring: one send, one receive per step
    shown = page.locator(".co-pin").get_attribute("data-moves")
    assert sorted(json.loads(shown)) == sorted(mine)
    mine_links = page.eval_on_selector_all(
        ".co-link-on.mine", "ls => ls.map(l => [+l.dataset.src, +l.dataset.dst])"
    )
    assert sorted(mine_links) == sorted([s, d] for s, d, _ in mine)
    assert (
        page.locator("#co-measure button[data-value='busbw']").get_attribute("aria-pressed")
        == "true"
    )
    assert_no_state_key_sent(urls, "collectives")
    assert list(page.problems) == []


def test_a_click_pins_a_rank_enter_too_escape_clears(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/collectives?{RING8}")
    page.locator(".co-card[data-rank='5'] .co-card-bg").click()
    assert url_query(page)["rank"] == ["5"]
    assert "GPU 5" in page.locator(".co-pin").inner_text()
    page.locator(".co-card[data-rank='5'] .co-card-bg").click()  # the same again unpins
    assert "rank" not in url_query(page)
    assert page.locator(".co-pin").is_hidden()
    page.focus(".co-card[data-rank='6']")
    page.keyboard.press("Enter")
    assert url_query(page)["rank"] == ["6"]
    page.keyboard.press("Escape")
    assert "rank" not in url_query(page)
    assert page.locator(".co-card.pinned").count() == 0
    assert list(page.problems) == []


@pytest.mark.parametrize(
    "bad", ["step=15&rank=8", "step=x&rank=x", "step=-2&rank=-1", "step=1.5&rank=2.5"]
)
def test_bad_step_and_rank_fall_back_quietly(live_server: str, page: Any, bad: str) -> None:
    _open(page, f"{live_server}/collectives?{RING8}&{bad}")  # 14 steps, GPUs 0 to 7
    assert page.locator(".co-view").get_attribute("data-step") == "0"
    assert page.locator(".co-scrub").input_value() == "0"
    assert page.locator(".co-card.pinned").count() == 0
    assert not {"step", "rank"} & set(url_query(page))
    assert list(page.problems) == []
