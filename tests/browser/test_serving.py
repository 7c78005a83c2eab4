"""The /serving page draws what GET /api/v1/inference/batching answers for the same query
string (page and embed, the default and a small pool): the KV capacity, both runs' figures,
and at any moment of the replay exactly the blocks the API's ledger says are held."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow

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
