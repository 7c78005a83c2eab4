"""The /context page and its embed draw what GET /api/v1/context answers: both placements
side by side (idle share and tile count per panel), the ring volumes; the step playhead is in
the URL; a phone in dark mode gets no sideways scroll."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import horizontal_overflow

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
