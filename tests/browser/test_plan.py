"""The /plan page: its summary, table and scatter are /api/v1/plan's answer for its own query
string (the landing example and a chosen plan, page and embed); sorting and picking live in the
URL; a layout opens /memory with the query that reproduces its memory; it fits a phone."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

pytestmark = pytest.mark.browser

SMALL = "model=llama3-8b&gpus=8&top=5"


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/plan?{query}", timeout=120)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#pl-summary [data-metric='step_time']", timeout=60_000)
    page.wait_for_selector("#pl-table tbody tr")


def _same_as_api(page: Any, api: dict[str, Any]) -> None:
    best = api["layouts"][0]
    shown = page.locator("#pl-summary [data-metric='step_time']").get_attribute("data-value")
    assert float(shown) == best["step_time"]
    rows = page.locator("#pl-table tbody tr")
    assert rows.count() == len(api["layouts"])
    assert [int(r) for r in rows.evaluate_all("rs => rs.map(r => r.dataset.rank)")] == [
        lay["rank"] for lay in api["layouts"]
    ]
    assert page.locator(".pl-dot").count() == len(api["layouts"])
    assert page.locator(".pl-pareto").count() == sum(lay["pareto"] for lay in api["layouts"])
    assert page.locator("#pl-infeasible tbody tr").count() == len(api["infeasible"])


def test_landing_is_the_first_example(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/plan")
    examples = httpx.get(f"{live_server}/api/v1/plan/examples", timeout=30).json()["examples"]
    first = examples[0]["query"]
    assert parse_qs(urlparse(page.url).query) == parse_qs(first)
    _same_as_api(page, _api(live_server, first))
    assert list(page.problems) == []


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_chosen_plan_is_the_apis(live_server: str, page: Any, where: str) -> None:
    _open(page, f"{live_server}{where}/plan?{SMALL}")
    _same_as_api(page, _api(live_server, SMALL))
    assert list(page.problems) == []


def test_sort_and_pick_live_in_the_url(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/plan?{SMALL}")
    api = _api(live_server, SMALL)
    page.click("#pl-table th[data-sort='memory_per_gpu'] button")
    page.wait_for_function("() => location.search.includes('sort=memory_per_gpu')")
    first = int(page.locator("#pl-table tbody tr").first.get_attribute("data-rank"))
    assert first == min(api["layouts"], key=lambda x: (x["memory_per_gpu"], x["rank"]))["rank"]
    page.locator(".pl-dot[data-rank='2']").click()
    page.wait_for_function("() => location.search.includes('pick=2')")
    assert "pl-picked-row" in page.locator("#pl-table tbody tr[data-rank='2']").get_attribute(
        "class"
    )
    page.reload()
    page.wait_for_selector("#pl-table tbody tr.pl-picked-row")
    assert (
        page.locator("#pl-table th[data-sort='memory_per_gpu']").get_attribute("aria-sort")
        == "ascending"
    )


def test_a_layout_opens_its_memory(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/plan?{SMALL}")
    best = _api(live_server, SMALL)["layouts"][0]
    page.locator("#pl-table tbody tr[data-rank='1'] a", has_text="memory").click()
    page.wait_for_url("**/memory?**")
    assert parse_qs(urlparse(page.url).query) == parse_qs(best["memory_query"])


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/plan?{SMALL}")
    pg.wait_for_selector(".pl-dot")
    assert horizontal_overflow(pg) == 0
    assert errors == []
    context.close()


def test_the_home_preview_draws(live_server: str, page: Any) -> None:
    """views/plan.js's preview (for the home gallery) plans the smallest example and draws it."""
    _open(page, f"{live_server}/plan?{SMALL}")
    drawn = page.evaluate(
        """() => import('/static/js/views/plan.js').then(async (m) => {
            const el = document.createElement('div');
            document.body.append(el);
            await m.preview(el);
            return el.querySelectorAll('.pl-dot').length;
        })"""
    )
    assert drawn > 0
    assert list(page.problems) == []


# ------------------------------------------------------------------ view state in the URL


def test_a_picked_dot_is_pinned_in_the_url_and_unpinned_by_escape(
    live_server: str, page: Any
) -> None:
    _open(page, f"{live_server}/plan?{SMALL}")
    api = _api(live_server, SMALL)
    third = next(lay for lay in api["layouts"] if lay["rank"] == 3)
    page.locator(".pl-dot[data-rank='3']").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('pick') === '3'")
    detail = page.locator("#pl-scatter .pin-detail")
    assert detail.get_attribute("data-pinned") == "3"
    assert f"#3 {third['label']}" in detail.inner_text()
    page.locator(".pl-dot[data-rank='3']").click()  # a second click unpins
    page.wait_for_function("() => !location.search.includes('pick=')")
    assert detail.is_hidden()
    page.locator(".pl-dot[data-rank='2']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('pick') === '2'")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('pick=')")
    assert page.locator("#pl-table tbody tr.pl-picked-row").count() == 0
    assert list(page.problems) == []


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_url_with_sort_and_pick_opens_that_view(live_server: str, page: Any, where: str) -> None:
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/plan?{SMALL}&sort=-memory_per_gpu&pick=4&theme=dark")
    api = _api(live_server, SMALL)
    four = next(lay for lay in api["layouts"] if lay["rank"] == 4)
    row = page.locator("#pl-table tbody tr.pl-picked-row")
    assert row.get_attribute("data-rank") == "4"
    assert (
        float(row.locator("td[data-value]").first.get_attribute("data-value"))
        == (four["step_time"])
    )
    assert page.locator(".pl-dot.pl-picked").get_attribute("data-rank") == "4"
    detail = page.locator("#pl-scatter .pin-detail")
    assert detail.get_attribute("data-pinned") == "4"
    assert four["label"] in detail.inner_text()
    shown = [
        int(r)
        for r in page.locator("#pl-table tbody tr").evaluate_all(
            "rs => rs.map(r => r.dataset.rank)"
        )
    ]
    want = sorted(api["layouts"], key=lambda x: (-x["memory_per_gpu"], x["rank"]))
    assert [x["memory_per_gpu"] for x in api["layouts"] if x["rank"] == shown[0]] == [
        want[0]["memory_per_gpu"]
    ]
    assert_no_state_key_sent(urls, "plan")
    assert list(page.problems) == []


def test_bad_sort_and_pick_fall_back_quietly(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/plan?{SMALL}&sort=nonsense&pick=999")
    _same_as_api(page, _api(live_server, SMALL))  # the API's order, nothing picked
    assert page.locator("#pl-table tbody tr.pl-picked-row").count() == 0
    assert page.locator(".pl-dot.pl-picked").count() == 0
    assert page.locator("#pl-scatter .pin-detail").is_hidden()
    _open(page, f"{live_server}/plan?{SMALL}&pick=x1")
    assert page.locator(".pl-dot.pl-picked").count() == 0
    assert list(page.problems) == []
