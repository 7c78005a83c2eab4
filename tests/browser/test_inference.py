"""The /inference page draws what GET /api/v1/inference answers for the same query string
(page and embed, the default and another layout): the headline figures, one dot per op of each
phase at the op's intensity, the tables; controls write the URL; phones and dark mode fit."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

pytestmark = pytest.mark.browser

QUERIES = ["", "model=mixtral-8x7b&tp=2&ep=2&dp=2&batch=32&context=2048&dtype=fp8&phase=prefill"]
HEADLINE = ("ttft", "tpot", "tokens_per_second_per_gpu")


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/inference?{query}", timeout=60)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _open(page: Any, url: str) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(url)
    page.wait_for_selector("[data-metric='tpot']")
    page.wait_for_selector(".inf-dot")


def _value(page: Any, key: str) -> float:
    return float(page.locator(f"[data-metric='{key}']").get_attribute("data-value"))


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("where", ["", "/embed"])
def test_page_draws_the_apis_answer(live_server: str, page: Any, query: str, where: str) -> None:
    _open(page, f"{live_server}{where}/inference?{query}")
    api = _api(live_server, query)
    for key in HEADLINE:
        assert _value(page, key) == api["requests"][key], key
    assert _value(page, "critical_batch") == api["critical_batch"]
    assert _value(page, "weights_per_gpu") == api["weights_per_gpu"]
    for phase in ("prefill", "decode"):
        ops = [o for o in api["phases"][phase]["ops"] if o["kind"] != "communication"]
        dots = page.locator(f".inf-dot[data-phase='{phase}']")
        assert dots.count() == len(ops)
        drawn = {d.get_attribute("data-op"): float(d.get_attribute("data-intensity"))
                 for d in dots.all()}  # fmt: skip
        assert drawn == {o["name"]: o["intensity"] for o in ops}
    assert page.locator("#inf-ops tbody tr").count() == len(api["ops"])
    assert page.locator("#inf-layout tbody tr").count() == len(api["layout"])
    assert page.locator("#inf-tp-table tbody tr").count() == len(api["tp_sweep"])
    assert page.locator(".inf-pt").count() == len(api["curve"]["points"])
    assert list(page.problems) == []


def test_controls_write_the_url_and_the_dots_move(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/inference")
    qkv = page.locator(".inf-dot[data-phase='decode'][data-op='qkv_proj']")
    before = float(qkv.get_attribute("data-intensity"))
    page.fill("#inf-batch", "64")
    page.press("#inf-batch", "Enter")
    page.wait_for_function("() => location.search.includes('batch=64')")
    want = next(o["intensity"] for o in _api(live_server, "batch=64")["phases"]["decode"]["ops"]
                if o["name"] == "qkv_proj")  # fmt: skip
    page.wait_for_function(
        "(v) => Number(document.querySelector(\".inf-dot[data-phase='decode']"
        "[data-op='qkv_proj']\").dataset.intensity) === v",
        arg=want,
    )
    assert want > 30 * before  # a bigger batch reuses each weight on more tokens
    page.click("#inf-phase-prefill")
    page.wait_for_function("() => location.search.includes('phase=prefill')")
    assert parse_qs(urlparse(page.url).query)["phase"] == ["prefill"]


def test_a_dot_has_a_tooltip(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/inference")
    # overlapping dots are reached from the keyboard: focus shows the same tooltip
    page.locator(".inf-dot[data-phase='prefill'][data-op='mlp_gate_up']").focus()
    tip = page.locator(".tooltip")
    tip.wait_for(state="visible")
    assert "MLP gate and up" in tip.inner_text() and "compute" in tip.inner_text()


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/inference?{QUERIES[1]}")
    pg.wait_for_selector(".inf-dot")
    assert horizontal_overflow(pg) == 0
    assert pg.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert errors == []
    context.close()


def test_the_home_gallery_preview_draws(live_server: str, page: Any) -> None:
    # the view's preview(el), as the home gallery calls it once the view is listed there
    page.goto(f"{live_server}/docs")
    drawn = page.evaluate(
        """async () => {
            const el = document.createElement("div");
            el.style.width = "320px";
            document.body.append(el);
            const mod = await import("/static/js/views/inference.js");
            await mod.preview(el);
            await new Promise((r) => setTimeout(r, 300));
            return el.querySelectorAll(".inf-dot").length;
        }"""
    )
    assert drawn > 10


# ------------------------------------------------------------------ view state in the URL


def _pinned_is(page: Any, api: dict[str, Any], phase: str, name: str) -> None:
    op = next(o for o in api["phases"][phase]["ops"] if o["name"] == name)
    dot = page.locator(f".inf-dot.inf-pinned[data-phase='{phase}'][data-op='{name}']")
    assert float(dot.get_attribute("data-intensity")) == op["intensity"]
    seg = page.locator(f".inf-seg.inf-pinned[data-phase='{phase}'][data-name='{name}']")
    assert float(seg.get_attribute("data-time")) == op["time"]
    assert page.locator(".inf-pinned").count() == 2 + (phase == api["phase"])
    detail = page.locator("#inf-roofline .pin-detail")
    assert detail.get_attribute("data-pinned") == f"{phase}:{name}"
    text = detail.inner_text()
    assert f"{phase}: {op['title']}" in text
    assert f"bound by: {op['bound']}" in text
    assert f"layers: {op['layers']}" in text


def test_a_clicked_op_is_pinned_in_the_url(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/inference")
    api = _api(live_server, "")
    page.locator(".inf-dot[data-phase='prefill'][data-op='mlp_down']").click()
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('op') === 'prefill:mlp_down'"
    )
    _pinned_is(page, api, "prefill", "mlp_down")
    page.locator(".inf-seg[data-phase='decode'][data-name='qkv_proj']").click()
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('op') === 'decode:qkv_proj'"
    )
    _pinned_is(page, api, "decode", "qkv_proj")
    page.locator(".inf-seg[data-phase='decode'][data-name='qkv_proj']").click()  # unpins
    page.wait_for_function("() => !location.search.includes('op=')")
    assert page.locator(".inf-pinned").count() == 0
    page.locator(".inf-dot[data-phase='decode'][data-op='lm_head']").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => location.search.includes('op=decode')")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('op=')")
    assert page.locator("#inf-roofline .pin-detail").is_hidden()
    assert list(page.problems) == []


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_url_with_an_op_opens_it_pinned(live_server: str, page: Any, where: str) -> None:
    query = QUERIES[1]
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/inference?{query}&op=decode:attention_scores&theme=dark")
    page.wait_for_selector(".inf-dot.inf-pinned")
    _pinned_is(page, _api(live_server, query), "decode", "attention_scores")
    assert_no_state_key_sent(urls, "inference")
    assert list(page.problems) == []


def test_a_static_embed_shows_the_pinned_op_without_its_unpin_button(
    live_server: str, page: Any
) -> None:
    _open(page, f"{live_server}/embed/inference?op=decode:qkv_proj&controls=0")
    page.wait_for_selector(".inf-dot.inf-pinned")
    _pinned_is(page, _api(live_server, ""), "decode", "qkv_proj")
    assert page.locator(".pin-detail").is_visible()
    assert page.locator(".pin-detail button").is_hidden()
    assert list(page.problems) == []


@pytest.mark.parametrize("bad", ["decode:nothing", "sideways:qkv_proj", "qkv_proj", ""])
def test_an_unknown_op_falls_back_quietly(live_server: str, page: Any, bad: str) -> None:
    _open(page, f"{live_server}/inference?op={bad}")
    assert _value(page, "tpot") == _api(live_server, "")["requests"]["tpot"]
    assert page.locator(".inf-pinned").count() == 0
    assert page.locator("#inf-roofline .pin-detail").is_hidden()
    assert list(page.problems) == []
