"""The /moe page and its embed draw what GET /api/v1/moe answers for the same query string:
headline numbers, one bar per expert, one matrix cell per GPU pair; sliders write the URL;
a phone in dark mode gets no sideways scroll."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow

pytestmark = pytest.mark.browser

QUERIES = [
    "",
    "model=mixtral-8x7b&tokens=512&ep=8&experts=16&capacity_factor=1&skew=1.5&gpus_per_node=4",
    "routing=expert_choice&experts=8&ep=2&tokens=256&popularity=zipf",
]


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/moe?{query}", timeout=30)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _shown(page: Any, key: str) -> float:
    return float(page.locator(f"#moe-metrics [data-metric='{key}']").get_attribute("data-value"))


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#moe-metrics [data-metric='capacity']")
    page.wait_for_selector(".moe-bar")


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("where", ["", "/embed"])
def test_page_draws_the_api_answer(live_server: str, page: Any, query: str, where: str) -> None:
    _open(page, f"{live_server}{where}/moe?{query}")
    api = _api(live_server, query)
    a2a = api["all_to_all"]
    expected = {
        "capacity": api["capacity"],
        "dropped_fraction": api["dropped_fraction"],
        "imbalance": api["imbalance"],
        "expert_imbalance": api["expert_imbalance"],
        "flat_dispatch_time": a2a["flat"]["dispatch"]["time"],
        "hierarchical_dispatch_time": a2a["hierarchical"]["dispatch"]["time"],
        "flat_combine_time": a2a["flat"]["combine"]["time"],
        "hierarchical_combine_time": a2a["hierarchical"]["combine"]["time"],
        "tokens_without_expert": api["experts_per_token"][0],
    }
    for key, value in expected.items():
        assert _shown(page, key) == pytest.approx(value, rel=1e-12), key
    assert page.locator(".moe-bar").count() == api["experts"]
    assert page.locator(".moe-cells rect").count() == api["ep"] ** 2
    assert page.locator(".moe-dropped").count() == sum(1 for x in api["expert_dropped"] if x)
    assert page.locator(".moe-flow-canvas").is_visible()
    assert list(page.problems) == []


def test_a_slider_writes_the_url_and_redraws(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/moe")
    values = _api(live_server, "")["controls"]["ep"]
    target = values.index(8)
    slider = page.locator("#moe-ep")
    slider.evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('change')); }", target
    )
    page.wait_for_function("() => new URLSearchParams(location.search).get('ep') === '8'")
    want = _api(live_server, "ep=8")
    page.wait_for_function(
        "(v) => Number(document.querySelector(\"#moe-metrics [data-metric='imbalance']\")"
        ".dataset.value) === v",
        arg=want["imbalance"],
    )
    assert page.locator(".moe-cells rect").count() == 64


def test_choosing_a_model_takes_its_experts(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/moe")
    page.select_option("#moe-model", "deepseek-v3")
    page.wait_for_function("() => location.search.includes('model=deepseek-v3')")
    page.wait_for_function("() => document.querySelectorAll('.moe-bar').length === 256")
    assert page.locator("#moe-experts-out").text_content() == "256"


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/moe?{QUERIES[1]}")
    pg.wait_for_selector(".moe-bar")
    assert horizontal_overflow(pg) == 0
    assert pg.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert errors == []
    context.close()
