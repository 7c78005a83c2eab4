"""The site shell in a real browser: home gallery, API docs, theme, embed height protocol."""

from __future__ import annotations

from typing import Any

import pytest

from app.pages import VIEWS, available
from tests.browser.conftest import horizontal_overflow

pytestmark = pytest.mark.browser


def test_home_links_every_available_view_and_draws_previews(live_server: str, page: Any) -> None:
    page.goto(live_server + "/", wait_until="networkidle")
    listed = [v for v in VIEWS if (v.in_nav if v.in_home is None else v.in_home) and available(v)]
    assert {"/inference", "/serving", "/throughput", "/plan"} <= {v.path for v in listed}
    hrefs = page.eval_on_selector_all(
        ".gallery-card", "els => els.map(e => e.getAttribute('href'))"
    )
    assert hrefs == [v.path for v in listed]
    # previews load as they scroll into view; every one drew something, and none failed
    page.eval_on_selector_all(
        "[data-preview]", "els => els.forEach(el => el.scrollIntoView({block: 'center'}))"
    )
    for i in range(page.locator("[data-preview]").count()):
        page.locator("[data-preview]").nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-preview]')].every("
        "el => el.querySelector('canvas, svg') || el.querySelector('.preview-error'))",
        timeout=15_000,
    )
    assert page.locator(".preview-error").count() == 0
    assert page.problems == []


def test_home_fits_a_phone(live_server: str, page: Any) -> None:
    page.set_viewport_size({"width": 480, "height": 900})
    page.goto(live_server + "/", wait_until="networkidle")
    assert horizontal_overflow(page) == 0
    assert page.problems == []


def test_docs_page_lists_every_endpoint_with_examples(live_server: str, page: Any) -> None:
    page.goto(live_server + "/docs", wait_until="networkidle")
    page.wait_for_selector(".docs-endpoint")
    shown = page.eval_on_selector_all(
        ".docs-endpoint summary", "els => els.map(e => e.textContent)"
    )
    import httpx

    spec = httpx.get(live_server + "/api/v1/openapi.json").json()
    for path in spec["paths"]:
        assert any(path in s for s in shown), path
    # every curl line is a published example against this server's own origin, not a fixed port
    curls = page.eval_on_selector_all("pre.code", "els => els.map(e => e.textContent)")
    published = [  # POST-only paths (the nccl-tests translator) have no GET examples
        u for item in spec["paths"].values() for u in item.get("get", {}).get("x-examples", [])
    ]
    assert sorted(curls) == sorted(f"curl -s '{live_server}{u}'" for u in published)
    assert page.problems == []


def test_theme_toggle_switches_and_persists(live_server: str, page: Any) -> None:
    page.goto(live_server + "/", wait_until="networkidle")
    before = page.evaluate("document.documentElement.dataset.theme")
    page.click("#theme-toggle")
    after = page.evaluate("document.documentElement.dataset.theme")
    assert {before, after} == {"light", "dark"}
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.reload(wait_until="networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == after
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == bg


def _frame_from_another_origin(page: Any, src: str) -> Any:
    """Load a blog post on another origin (served by Playwright itself) that frames `src`."""
    parent = "http://blog.example.test/post.html"
    page.route(
        parent,
        lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html>"),
    )
    page.goto(parent)
    page.evaluate(
        """(src) => new Promise((resolve) => {
            window.__heights = [];
            addEventListener('message', (e) => {
                const d = e.data;
                if (d && d.type === 'bitmesh:height') window.__heights.push(d.height);
            });
            const f = document.createElement('iframe');
            f.src = src; f.width = 600; f.height = 300;
            f.onload = resolve;
            document.body.appendChild(f);
        })""",
        src,
    )
    return page.frames[1]


def test_embed_is_framed_and_reports_its_height(live_server: str, page: Any) -> None:
    view = next(v for v in VIEWS if v.embeddable and "{" not in v.path and available(v))
    frame = _frame_from_another_origin(page, live_server + "/embed" + view.path + "?theme=dark")
    assert frame.url.startswith(live_server + "/embed")
    page.wait_for_function("() => window.__heights.length > 0", timeout=10_000)
    heights = page.evaluate("window.__heights")
    assert all(isinstance(h, int) and h > 100 for h in heights)
    assert frame.evaluate("document.documentElement.dataset.theme") == "dark"


def test_full_page_refuses_to_be_framed_by_another_site(live_server: str, page: Any) -> None:
    view = next(v for v in VIEWS if "{" not in v.path and available(v))
    frame = _frame_from_another_origin(page, live_server + view.path)
    assert not frame.url.startswith(live_server)  # the browser blocked it (chrome-error://)


def _nav_paths() -> list[str]:
    return [v.path for v in VIEWS if v.in_nav and available(v)] + ["/docs"]


def _header_height(page: Any) -> float:
    return float(
        page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    )


def test_phone_header_is_one_row_with_a_menu_that_reaches_every_link(
    live_server: str, page: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/memory", wait_until="networkidle")
    # The links used to wrap to four rows here (145 px on /memory, 112 px elsewhere); now the
    # brand, a "Menu" disclosure and the theme toggle share one row (49 px).
    assert _header_height(page) <= 70
    assert page.locator(".site-nav").is_hidden()
    menu = page.locator("#site-menu")
    links = menu.locator("nav a")
    assert links.first.is_hidden()

    summary = menu.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")  # a native <details>: the keyboard opens it, no script needed
    assert menu.evaluate("el => el.open")
    assert links.evaluate_all("els => els.map(e => e.getAttribute('href'))") == _nav_paths()
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert links.nth(i).is_visible() and box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    assert menu.locator("nav a[aria-current='page']").get_attribute("href") == "/memory"
    assert _header_height(page) <= 70  # the open menu floats over the page
    assert horizontal_overflow(page) == 0

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == _nav_paths()[0]
    page.keyboard.press("Escape")
    assert not menu.evaluate("el => el.open")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    summary.click()
    links.last.click()
    page.wait_for_url(live_server + "/docs")
    assert page.problems == []


def test_wide_header_shows_every_link_in_one_row(live_server: str, page: Any) -> None:
    page.goto(live_server + "/formats", wait_until="networkidle")
    assert _header_height(page) <= 60
    assert page.locator("#site-menu").is_hidden()
    links = page.locator(".site-nav a")
    assert links.evaluate_all("els => els.map(e => e.getAttribute('href'))") == _nav_paths()
    tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
    assert len(tops) == 1
    assert page.problems == []
