"""The /context page and its embed draw what GET /api/v1/context answers: both placements
side by side (idle share and tile count per panel), the ring volumes; the step playhead is in
the URL; a phone in dark mode gets no sideways scroll."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow
from tests.browser.viewstate import assert_no_state_key_sent, record_api_requests

pytestmark = pytest.mark.browser

QUERIES = ["", "seq_len=4096&cp=8&causal=false&placement=contiguous&model=llama3-70b"]


def _api(base: str, query: str) -> dict[str, Any]:
    r = httpx.get(f"{base}/api/v1/context?{query}", timeout=30)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    return data


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("[data-metric='idle_fraction'][data-placement='contiguous']")
    page.wait_for_selector("[data-metric='idle_fraction'][data-placement='zigzag']")


def _value(page: Any, selector: str) -> float:
    return float(page.locator(selector).get_attribute("data-value"))


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("where", ["", "/embed"])
def test_both_placements_are_the_apis(live_server: str, page: Any, query: str, where: str) -> None:
    _open(page, f"{live_server}{where}/context?{query}")
    mine = _api(live_server, query)
    for placement in ("contiguous", "zigzag"):
        api = _api(live_server, f"{query}&placement={placement}")
        idle = f"[data-metric='idle_fraction'][data-placement='{placement}']"
        tiles = f"[data-metric='tiles'][data-placement='{placement}']"
        assert _value(page, idle) == api["idle_fraction"]
        assert _value(page, tiles) == len(api["tiles"])
        panel = page.locator(f".cx-panel[data-placement='{placement}']")
        assert panel.locator(".cx-tile").count() == len(api["tiles"])
    ring = mine["volumes"]["ring"]
    assert _value(page, "[data-metric='ring_forward_bytes']") == ring["forward_bytes"]
    uly = mine["volumes"]["ulysses"]
    assert _value(page, "[data-metric='ulysses_forward_bytes']") == uly["forward_bytes"]
    focus = page.locator(".cx-panel.cx-focus")
    assert focus.get_attribute("data-placement") == mine["placement"]
    assert list(page.problems) == []


def test_the_step_lives_in_the_url(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/context?step=1")
    assert "Step 1 of 4" in page.locator("#cx-readout").text_content()
    assert page.locator(".cx-panel[data-placement='zigzag'] .cx-tile.cx-now").count() == 8
    page.click("#cx-next")
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '2'")
    # zig-zag: at every step after the first each GPU computes two tiles; contiguous and
    # causal: at step 2 only GPUs 2 and 3 hold keys their queries may see
    assert page.locator(".cx-panel[data-placement='zigzag'] .cx-tile.cx-now").count() == 8
    assert page.locator(".cx-panel[data-placement='contiguous'] .cx-tile.cx-now").count() == 2


def test_placement_buttons_move_the_focus(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/context")
    page.click("#cx-placement button[data-value='contiguous']")
    page.wait_for_function("() => location.search.includes('placement=contiguous')")
    page.wait_for_selector(".cx-panel.cx-focus[data-placement='contiguous']")


def test_phone_width_fits_and_dark_mode_draws(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{live_server}/context?cp=8")
    pg.wait_for_selector(".cx-tile")
    assert horizontal_overflow(pg) == 0
    assert errors == []
    context.close()


# ------------------------------------------------------------------ view state in the URL


def _tile(api: dict[str, Any], q: int, k: int) -> dict[str, Any]:
    return next(t for t in api["tiles"] if (t["q_block"], t["k_block"]) == (q, k))


def _frame_is(page: Any, base: str, step: int, tile: str) -> None:
    """Both panels at ring step `step` as the API tiles them, `placement:q,k` pinned in one."""
    placement_pinned, qk = tile.split(":")
    for placement in ("contiguous", "zigzag"):
        api = _api(base, f"placement={placement}")
        panel = page.locator(f".cx-panel[data-placement='{placement}']")
        now = panel.locator(".cx-tile.cx-now")
        assert now.count() == sum(1 for t in api["tiles"] if t["step"] == step)
        # the playhead sits after `step` whole steps of the timeline (x from 52 px, width - 64)
        width = float(panel.locator("svg.cx-svg").get_attribute("width"))
        done = sum(api["step_pairs"][:step]) / sum(api["step_pairs"])
        head = float(panel.locator(".cx-playhead").get_attribute("x1"))
        assert head == pytest.approx(52 + done * (width - 64), abs=0.01)
        pinned = panel.locator(".cx-tile[data-pinned]")
        if placement != placement_pinned:
            assert pinned.count() == 0
            assert panel.locator(".pin-detail").is_hidden()
            continue
        want = _tile(api, *(int(b) for b in qk.split(",")))
        assert pinned.count() == 1
        assert pinned.get_attribute("data-tile") == qk
        assert int(pinned.get_attribute("data-rank")) == want["rank"]
        assert int(pinned.get_attribute("data-step")) == want["step"]
        text = panel.locator(".pin-detail").inner_text()
        assert f"computed by: GPU {want['rank']}" in text
        assert f"at step: {want['step']}" in text


@pytest.mark.parametrize("where", ["", "/embed"])
def test_a_url_with_step_and_tile_opens_that_frame(live_server: str, page: Any, where: str) -> None:
    urls = record_api_requests(page)
    _open(page, f"{live_server}{where}/context?step=2&tile=zigzag:5,2&theme=dark")
    page.wait_for_selector(".cx-tile[data-pinned]")
    assert "Step 2 of 4" in page.locator("#cx-readout").text_content()
    _frame_is(page, live_server, 2, "zigzag:5,2")
    assert_no_state_key_sent(urls, "context")
    assert list(page.problems) == []


def test_a_clicked_tile_is_pinned_in_the_url(live_server: str, page: Any) -> None:
    _open(page, f"{live_server}/context?step=1")
    page.locator(".cx-panel[data-placement='zigzag'] .cx-tile[data-tile='6,3']").click()
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('tile') === 'zigzag:6,3'"
    )
    _frame_is(page, live_server, 1, "zigzag:6,3")
    page.keyboard.press("Escape")
    page.wait_for_function("() => !location.search.includes('tile=')")
    assert page.locator(".cx-tile[data-pinned]").count() == 0
    assert page.locator(".cx-panel .pin-detail:visible").count() == 0
    tile = page.locator(".cx-panel[data-placement='contiguous'] .cx-tile[data-tile='3,1']")
    tile.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('tile') === 'contiguous:3,1'"
    )
    _frame_is(page, live_server, 1, "contiguous:3,1")
    tile.click()  # a second click unpins
    page.wait_for_function("() => !location.search.includes('tile=')")
    assert list(page.problems) == []


@pytest.mark.parametrize(
    "bad",
    ["step=abc&tile=x", "step=99&tile=zigzag:99,99", "step=-1&tile=zigzag:1,5", "tile=ring:1,1"],
)
def test_bad_step_and_tile_fall_back_quietly(live_server: str, page: Any, bad: str) -> None:
    _open(page, f"{live_server}/context?{bad}")
    assert "Step 0 of 4" in page.locator("#cx-readout").text_content()
    assert page.locator(".cx-tile[data-pinned]").count() == 0
    assert page.locator(".cx-panel .pin-detail:visible").count() == 0
    assert list(page.problems) == []
