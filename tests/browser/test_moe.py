"""The /moe page and its embed draw what GET /api/v1/moe answers for the same query string:
headline numbers, one bar per expert, one matrix cell per GPU pair; sliders write the URL;
a phone in dark mode gets no sideways scroll."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

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


# ------------------------------------------------------------------ view state in the URL


def _flow(page: Any, key: str) -> int:
    return int(page.locator(".moe-flow-canvas").get_attribute(f"data-{key}"))


def _pinned_is(page: Any, api: dict[str, Any], e: int) -> None:
    assert page.locator(".moe-bar.moe-pinned").get_attribute("data-expert") == str(e)
    detail = page.locator("#moe-flow .pin-detail")
    assert detail.get_attribute("data-pinned") == str(e)
    text = detail.inner_text()
    assert f"Expert {e} on GPU {api['expert_rank'][e]}" in text
    assert f"routed: {api['expert_load'][e]:,}" in text
    assert f"kept: {api['expert_kept'][e]:,}" in text
    assert f"dropped: {api['expert_dropped'][e]:,}" in text


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_url_with_t_and_expert_opens_that_frame_paused(
    live_server: str, page: Any, where: str
) -> None:
    api = _api(live_server, "routes=true")
    urls = record_api_requests(page)
    # 2,500 ms into the loop every copy has landed: the kept ones sit in their experts' bars,
    # the dropped ones lie under them (the flow's phases: 1,400 ms out, 500 held, 600 falling)
    _open(page, f"{live_server}{where}/moe?t=2500&expert=3&theme=dark")
    page.wait_for_function("() => document.querySelector('.moe-flow-canvas').dataset.t === '2500'")
    assert page.locator(".moe-flow").get_attribute("data-playing") == "0"
    assert _flow(page, "landed") == sum(api["expert_kept"])
    assert _flow(page, "fallen") == api["dropped"]
    assert page.locator(".moe-scrub").input_value() == "2500"
    _pinned_is(page, api, 3)
    page.wait_for_timeout(300)
    assert _flow(page, "t") == 2500  # still paused
    assert_no_state_key_sent(urls, "moe")
    assert list(page.problems) == []


def test_before_the_fall_no_copy_has_fallen(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/moe?t=600")
    page.wait_for_function("() => document.querySelector('.moe-flow-canvas').dataset.t === '600'")
    assert _flow(page, "fallen") == 0
    assert _flow(page, "landed") < sum(_api(live_server, "routes=true")["expert_kept"])


def test_pausing_scrubbing_and_pinning_write_the_url(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/moe")
    api = _api(live_server, "routes=true")
    page.wait_for_function("() => document.querySelector('.moe-flow').dataset.playing === '1'")
    page.locator(".moe-flow-bar button").click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('t')")
    t = int(parse_qs(urlparse(page.url).query)["t"][0])
    assert t == _flow(page, "t")
    page.locator(".moe-scrub").fill("3000")
    page.wait_for_function("() => new URLSearchParams(location.search).get('t') === '3000'")
    assert _flow(page, "t") == 3000
    page.locator(".moe-bar[data-expert='5']").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('expert') === '5'")
    _pinned_is(page, api, 5)
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('expert=')")
    assert page.locator(".moe-bar.moe-pinned").count() == 0
    page.locator(".moe-bar[data-expert='2']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('expert') === '2'")
    _pinned_is(page, api, 2)
    assert list(page.problems) == []


@pytest.mark.parametrize("bad", ["t=abc&expert=x", "t=999999&expert=16", "t=-5&expert=-1"])
def test_bad_t_and_expert_fall_back_quietly(live_server: str, page: Any, bad: str) -> None:
    _open(page, f"{live_server}/moe?{bad}")
    page.wait_for_function("() => document.querySelector('.moe-flow').dataset.playing === '1'")
    assert page.locator(".moe-bar.moe-pinned").count() == 0
    assert page.locator("#moe-flow .pin-detail").is_hidden()
    assert list(page.problems) == []
