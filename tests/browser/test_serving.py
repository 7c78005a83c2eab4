"""The /serving page draws what GET /api/v1/inference/batching answers for the same query
string (page and embed, the default and a small pool): the KV capacity, both runs' figures,
and at any moment of the replay exactly the blocks the API's ledger says are held."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

pytestmark = pytest.mark.browser

QUERIES = ["", "num_blocks=600&rate=25&requests=80&prompt_len=400&output_len=200&seed=3"]


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/inference/batching?{query}", timeout=60)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _open(page: Any, url: str) -> None:
    page.emulate_media(reduced_motion="reduce")
    page.goto(url)
    page.wait_for_selector("[data-metric='num_blocks']")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.srv-pool-canvas')].every(c => +c.dataset.draws > 0)"
    )


def _held_after(trace: dict[str, Any], step: int) -> int:
    """Blocks held after every event of steps ≤ step, from the API's ledger."""
    ev = trace["events"]
    held = 0
    for s, n, op in zip(ev["step"], ev["count"], ev["op"], strict=True):
        if s <= step:
            held += n if op == 0 else -n
    return held


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("where", ["", "/embed"])
def test_page_draws_the_apis_answer(live_server: str, page: Any, query: str, where: str) -> None:
    _open(page, f"{live_server}{where}/serving?{query}")
    api = _api(live_server, query)
    kv = api["kv"]
    for key in ("block_bytes", "num_blocks", "kv_tokens", "max_concurrency"):
        assert float(page.locator(f"[data-metric='{key}']").get_attribute("data-value")) == kv[key]
    for run in ("continuous", "static"):
        for key, value in api[run]["summary"].items():
            cell = page.locator(f"td[data-run='{run}'][data-metric='{key}']")
            assert float(cell.get_attribute("data-value")) == value, (run, key)
        canvas = page.locator(".srv-pool-canvas").nth(0 if run == "continuous" else 1)
        step = int(canvas.get_attribute("data-step"))
        assert int(canvas.get_attribute("data-used")) == _held_after(api[run]["trace"], step)
    assert list(page.problems) == []


def test_the_slider_replays_the_ledger(live_server: str, page: Any) -> None:
    query = QUERIES[1]
    _open(page, f"{live_server}/serving?{query}")
    api = _api(live_server, query)
    slider = page.locator("#srv-transport input[type=range]")
    canvases = "[...document.querySelectorAll('.srv-pool-canvas')]"
    for fraction in (0.05, 0.3, 1.0):
        before = page.evaluate(f"() => {canvases}.map(c => +c.dataset.draws)")
        slider.evaluate(
            "(el, v) => { el.value = String(Math.round(v * 1000)); "
            "el.dispatchEvent(new Event('input')); }",
            fraction,
        )
        # both pools repaint for the new moment (the replay is drawn on the next frame)
        page.wait_for_function(
            f"(b) => {canvases}.every((c, i) => +c.dataset.draws > b[i])", arg=before
        )
        for i, run in enumerate(("continuous", "static")):
            canvas = page.locator(".srv-pool-canvas").nth(i)
            step = int(canvas.get_attribute("data-step"))
            assert int(canvas.get_attribute("data-used")) == _held_after(api[run]["trace"], step)
    # at the end every request has finished: the pools are empty
    assert [c.get_attribute("data-used") for c in page.locator(".srv-pool-canvas").all()] == [
        "0", "0",
    ]  # fmt: skip


def test_playing_moves_the_clock(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/serving?{QUERIES[1]}")
    page.wait_for_selector(".srv-play[aria-pressed='true']")
    first = float(page.locator("#srv-transport").get_attribute("data-time"))
    page.wait_for_function(
        "(t) => Number(document.querySelector('#srv-transport').dataset.time) > t", arg=first
    )
    page.click(".srv-play")
    assert page.locator(".srv-play").get_attribute("aria-pressed") == "false"


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/serving?{QUERIES[1]}")
    pg.wait_for_selector(".srv-pool-canvas[data-draws]")
    pg.wait_for_selector(".srv-line")
    assert horizontal_overflow(pg) == 0
    assert errors == []
    context.close()


def test_the_home_gallery_preview_draws(live_server: str, page: Any) -> None:
    # the view's preview(el), as the home gallery calls it once the view is listed there
    page.goto(f"{live_server}/docs")
    draws = page.evaluate(
        """async () => {
            const el = document.createElement("div");
            el.style.width = "320px";
            document.body.append(el);
            const mod = await import("/static/js/views/serving.js");
            await mod.preview(el);
            await new Promise((r) => setTimeout(r, 500));
            const c = el.querySelector("canvas");
            return [Number(c.dataset.draws), Number(c.dataset.used)];
        }"""
    )
    assert draws[0] > 0 and draws[1] > 0


# ------------------------------------------------------------------ view state in the URL


def _step_at(seg: dict[str, Any], t: float) -> int:
    """The engine step in progress at simulated time t, from the API's segments."""
    if not seg["step"] or t < seg["start"][0]:
        return -1
    i = max(k for k, a in enumerate(seg["start"]) if a <= t)
    span = seg["end"][i] - seg["start"][i]
    into = int((t - seg["start"][i]) / span * seg["steps"][i]) if span > 0 else 0
    return int(seg["step"][i] + min(seg["steps"][i] - 1, max(0, into)))


def _owners(trace: dict[str, Any], step: int, blocks: int) -> list[int]:
    """Which request holds each block after every event of steps ≤ step (-1: free)."""
    owner = [-1] * blocks
    ev = trace["events"]
    for s, b, n, r, op in zip(
        ev["step"], ev["block"], ev["count"], ev["request"], ev["op"], strict=True
    ):
        if s <= step:
            owner[b : b + n] = [r if op == 0 else -1] * n
    return owner


def _frame_is(page: Any, api: dict[str, Any], t: float, request: int | None) -> None:
    assert float(page.locator("#srv-transport").get_attribute("data-time")) == t
    assert page.locator(".srv-play").get_attribute("aria-pressed") == "false"
    for i, run in enumerate(("continuous", "static")):
        trace = api[run]["trace"]
        canvas = page.locator(".srv-pool-canvas").nth(i)
        step = _step_at(trace["segments"], t)
        assert int(canvas.get_attribute("data-step")) == step
        owner = _owners(trace, step, api["num_blocks"])
        assert int(canvas.get_attribute("data-used")) == sum(o >= 0 for o in owner)
        want = 0 if request is None else owner.count(request)
        assert int(canvas.get_attribute("data-pinned-blocks")) == want, run


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_url_with_t_and_request_opens_that_frame_paused(
    live_server: str, page: Any, where: str
) -> None:
    query = QUERIES[1]
    api = _api(live_server, query)
    seg = api["continuous"]["trace"]["segments"]
    t = seg["end"][len(seg["end"]) // 3]
    owner = _owners(api["continuous"]["trace"], _step_at(seg, t), api["num_blocks"])
    request = next(o for o in owner if o >= 0)
    urls = record_api_requests(page)
    page.goto(f"{live_server}{where}/serving?{query}&t={t!r}&request={request}&theme=dark")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.srv-pool-canvas')].every(c => +c.dataset.draws > 0)"
    )
    page.wait_for_timeout(300)  # it stays where the URL put it
    page.wait_for_function(
        "() => [...document.querySelectorAll('.srv-pool-canvas')].every("
        "c => c.dataset.pinnedBlocks !== undefined)"
    )
    _frame_is(page, api, t, request)
    text = page.locator(".pin-detail").inner_text()
    req = api["continuous"]["trace"]["requests"]
    assert f"Request {request}" in text
    assert f"prompt / output: {req['prompt'][request]:,} / {req['output'][request]:,}" in text
    assert_no_state_key_sent(urls, "serving")
    assert list(page.problems) == []


def test_pausing_sliding_and_pinning_write_the_url(live_server: str, page: Any) -> None:
    query = QUERIES[1]
    api = _api(live_server, query)
    page.goto(f"{live_server}/serving?{query}")
    page.wait_for_selector(".srv-play[aria-pressed='true']")
    page.click(".srv-play")
    page.wait_for_function("() => new URLSearchParams(location.search).has('t')")
    shown = float(page.locator("#srv-transport").get_attribute("data-time"))
    assert float(parse_qs(urlparse(page.url).query)["t"][0]) == pytest.approx(shown, rel=1e-5)
    seg = api["continuous"]["trace"]["segments"]
    span = max(api[run]["trace"]["segments"]["end"][-1] for run in ("continuous", "static"))
    # a slider position (per mille of both runs' span) where the continuous pool holds blocks
    at = next(
        p
        for p in range(50, 1000, 25)
        if _held_after(api["continuous"]["trace"], _step_at(seg, p / 1000 * span)) > 0
    )
    page.locator("#srv-transport input[type=range]").fill(str(at))
    page.wait_for_function(
        "(t) => Number(new URLSearchParams(location.search).get('t')) !== t", arg=shown
    )
    t = float(page.locator("#srv-transport").get_attribute("data-time"))
    assert float(parse_qs(urlparse(page.url).query)["t"][0]) == pytest.approx(t, rel=1e-5)
    owner = _owners(api["continuous"]["trace"], _step_at(seg, t), api["num_blocks"])
    # click the first held block: the grid's cells are as large as fit 280 px (2 to 18 px)
    block = next(b for b, o in enumerate(owner) if o >= 0)
    canvas = page.locator(".srv-pool-canvas").first
    width = canvas.bounding_box()["width"]
    cell = min(18, max(2, math.floor(math.sqrt(width * 280 / api["num_blocks"]))))
    cols = max(1, math.floor(width / cell))
    canvas.click(position={"x": (block % cols + 0.5) * cell, "y": (block // cols + 0.5) * cell})
    request = owner[block]
    page.wait_for_function(
        f"() => new URLSearchParams(location.search).get('request') === '{request}'"
    )
    page.wait_for_function("(c) => c.dataset.pinnedBlocks !== '0'", arg=canvas.element_handle())
    assert int(canvas.get_attribute("data-pinned-blocks")) == owner.count(request)
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('request=')")
    assert page.locator(".pin-detail").is_hidden()
    assert list(page.problems) == []


@pytest.mark.parametrize("bad", ["t=abc&request=x", "t=1e9&request=100000", "t=-1&request=-3"])
def test_bad_t_and_request_fall_back_quietly(live_server: str, page: Any, bad: str) -> None:
    page.goto(f"{live_server}/serving?{QUERIES[1]}&{bad}")
    page.wait_for_selector(".srv-play[aria-pressed='true']")  # plays as with no playhead
    assert page.locator(".pin-detail").is_hidden()
    assert list(page.problems) == []
