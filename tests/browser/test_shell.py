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
    cards = page.eval_on_selector_all(
        ".gallery-card",
        """els => els.map(e => [e.getAttribute('href'),
            e.closest('.gallery-section').querySelector('h2').textContent])""",
    )
    # every view once, under its section's heading, in VIEWS order within a section
    assert sorted(href for href, _ in cards) == sorted(v.path for v in listed)
    assert {href: h2 for href, h2 in cards} == {v.path: v.section for v in listed}
    for section in {v.section for v in listed}:
        assert [href for href, h2 in cards if h2 == section] == [
            v.path for v in listed if v.section == section
        ]
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


NAV = [v for v in VIEWS if v.in_nav and available(v)]
SECTION = {v.path: v.section for v in NAV} | {"/docs": None}
# the links of a header menu with the section each sits under (None: outside any section)
WIDE_LINKS = """els => els.map(a => [a.getAttribute('href'),
    a.closest('details.site-section')?.querySelector('summary').textContent.trim() ?? null])"""
PHONE_LINKS = """els => els.map(a => [a.getAttribute('href'), a.closest('ul')
    ? document.getElementById(a.closest('ul').getAttribute('aria-labelledby')).textContent
    : null])"""


def test_every_view_is_listed_once_under_its_section() -> None:
    # the views that used to be home cards only are in the header now
    assert {"/inference", "/serving", "/throughput", "/plan"} <= set(SECTION)
    assert len({v.section for v in NAV}) >= 3


def _header_height(page: Any) -> float:
    return float(
        page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    )


def _inside(page: Any, locator: Any, width: int, height: int) -> None:
    box = locator.bounding_box()
    assert locator.is_visible() and box is not None, locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, (locator, box)
    assert box["y"] + box["height"] <= height, (locator, box)


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
    listed = links.evaluate_all(PHONE_LINKS)
    assert sorted(href for href, _ in listed) == sorted(SECTION)  # every view, once
    assert {href: section for href, section in listed} == SECTION
    for i in range(links.count()):
        _inside(page, links.nth(i), 390, 844)
    assert menu.locator("nav a[aria-current='page']").get_attribute("href") == "/memory"
    assert _header_height(page) <= 70  # the open menu floats over the page
    assert horizontal_overflow(page) == 0

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == listed[0][0]
    page.keyboard.press("Escape")
    assert not menu.evaluate("el => el.open")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    summary.click()
    links.last.click()
    page.wait_for_url(live_server + "/docs")
    assert page.problems == []


@pytest.mark.parametrize("width", [1280, 800])
def test_wide_header_is_one_row_with_a_menu_per_section(
    live_server: str, page: Any, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server + "/memory", wait_until="networkidle")
    assert _header_height(page) <= 60
    assert page.locator("#site-menu").is_hidden()
    listed = page.locator(".site-nav a").evaluate_all(WIDE_LINKS)
    assert sorted(href for href, _ in listed) == sorted(SECTION)  # every view, once
    assert {href: section for href, section in listed} == SECTION
    row = page.locator(".site-nav > ul > li > details > summary, .site-nav-api > a")
    tops = {round(row.nth(i).bounding_box()["y"]) for i in range(row.count())}
    assert len(tops) == 1
    for i in range(row.count()):
        _inside(page, row.nth(i), width, 60)

    menus = page.locator(".site-section")
    for i in range(menus.count()):
        menus.nth(i).locator("summary").click()
        opened = menus.evaluate_all("els => els.map(e => e.open)")
        assert opened == [j == i for j in range(menus.count())]  # one at a time
        links = menus.nth(i).locator("a")
        for j in range(links.count()):
            _inside(page, links.nth(j), width, 800)
        assert _header_height(page) <= 60  # the panel floats over the page
    page.mouse.click(width - 100, 700)  # outside: closes
    assert menus.evaluate_all("els => els.map(e => e.open)") == [False] * menus.count()

    # the page you are on: its link, and its section's summary
    current = page.locator(".site-nav a[aria-current='page']")
    assert current.evaluate_all("els => els.map(e => e.getAttribute('href'))") == ["/memory"]
    marked = page.locator(".site-section.is-current summary")
    assert [t.strip() for t in marked.all_text_contents()] == [SECTION["/memory"]]
    assert page.problems == []


def test_format_explorer_marks_formats_as_current(live_server: str, page: Any) -> None:
    page.goto(live_server + "/formats/bfloat16", wait_until="networkidle")
    for nav in (".site-nav", ".site-menu-nav"):
        current = page.locator(f"{nav} a[aria-current='page']")
        assert current.evaluate_all("els => els.map(e => e.getAttribute('href'))") == ["/formats"]
    marked = page.locator(".site-section.is-current summary")
    assert [t.strip() for t in marked.all_text_contents()] == [SECTION["/formats"]]


def test_header_menus_by_keyboard(live_server: str, page: Any) -> None:
    page.goto(live_server + "/", wait_until="networkidle")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    summaries = page.locator(".site-section > summary")
    assert page.evaluate("document.activeElement.textContent.trim()") == (
        summaries.first.text_content().strip()
    )
    page.keyboard.press("Enter")
    first = page.locator(".site-section").first
    assert first.evaluate("el => el.open")
    page.keyboard.press("Tab")
    first_link = first.locator("a").first.get_attribute("href")
    assert page.evaluate("document.activeElement.getAttribute('href')") == first_link
    page.keyboard.press("Escape")
    assert not first.evaluate("el => el.open")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    # closed menus are skipped: the next Tab reaches the next section's summary
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == (
        summaries.nth(1).text_content().strip()
    )
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    second = page.locator(".site-section").nth(1).locator("a").first.get_attribute("href")
    page.wait_for_url(live_server + second)
    assert page.problems == []
