"""Embeds, downloads and exports in a real browser, for every view (driven by app.pages.VIEWS,
so a view merged later is tested without a line here)."""

from __future__ import annotations

import http.server
import re
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.pages import VIEWS, available

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SIMPLE = [v for v in VIEWS if v.embeddable and "{" not in v.path and available(v)]
# every embeddable page, the format explorer under one format name and the block-format page
# under one block format (it draws in HTML: DRAWN also sees its list of element cards)
PAGES = [v.path for v in SIMPLE] + ["/formats/bfloat16", "/formats/mxfp4"]
DRAWN = "() => document.querySelector('main svg, main canvas, main #fb-element-list li') !== null"
# elements that stick out of the viewport, unless a scrolling (or clipping) box holds them
OVERFLOWING = """() => [...document.querySelectorAll('main *')].filter((e) => {
  if (e.getBoundingClientRect().right <= innerWidth + 1) return false;
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return false;
  }
  return true;
}).map((e) => `${e.tagName}.${e.className}`).slice(0, 5)"""
MARKS = {"rect", "path", "line", "circle", "polygon", "polyline", "text", "image"}


def resize_snippet() -> str:
    """The parent-page resizer exactly as docs/api.md publishes it."""
    text = (ROOT / "docs" / "api.md").read_text()
    m = re.search(r"<!-- resize-snippet -->\s*```html\n(.*?)```", text, re.S)
    assert m, "docs/api.md lost its resize snippet"
    return m.group(1)


@pytest.fixture(scope="module")
def blog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A static blog on another origin (its own port): (base URL, its document root)."""
    root = tmp_path_factory.mktemp("blog")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa: E731
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{port}", root
    server.shutdown()
    server.server_close()


def test_a_blog_on_another_origin_frames_an_embed_and_resizes_it(
    live_server: str, page: Any, blog: tuple[str, Path]
) -> None:
    base, root = blog
    src = f"{live_server}/embed/pipeline?theme=light&controls=compact&schedule=zb_h1"
    (root / "post.html").write_text(
        "<!doctype html><title>post</title><link rel=icon href='data:,'><p>Before.</p>\n"
        f'<iframe src="{src}" width="600" height="300" title="pipeline (bitmesh)" '
        'loading="lazy" style="border:0"></iframe>\n<p>After.</p>\n'
        "<script>window.__heights=[];addEventListener('message',e=>{"
        "if(e.data&&e.data.type==='bitmesh:height')window.__heights.push(e.data.height)})</script>\n"
        + resize_snippet()
    )
    page.goto(f"{base}/post.html")
    page.wait_for_function("() => window.__heights.length > 0", timeout=15_000)
    inner = page.frames[1]
    assert urlsplit(inner.url).path == "/embed/pipeline"
    inner.wait_for_function(DRAWN, timeout=15_000)
    page.wait_for_function("() => window.__heights.length > 0", timeout=10_000)
    page.wait_for_function(
        "() => document.querySelector('iframe').getBoundingClientRect().height > 300",
        timeout=10_000,
    )
    # once the figure settles, the iframe shows all of it: no scrolling inside it
    inner.wait_for_function(
        "() => document.documentElement.scrollHeight <= innerHeight + 1", timeout=15_000
    )
    last = page.evaluate("window.__heights[window.__heights.length - 1]")
    shown = page.evaluate("document.querySelector('iframe').getBoundingClientRect().height")
    assert abs(shown - last) <= 1
    assert page.problems == []


@pytest.mark.parametrize("path", PAGES)
def test_embed_fits_400_to_800_px_and_links_back_with_its_state(
    live_server: str, page: Any, path: str
) -> None:
    for width in (400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/embed{path}?theme=dark&controls=0", wait_until="networkidle")
        page.wait_for_function(DRAWN, timeout=15_000)
        wide = page.evaluate(OVERFLOWING)
        assert wide == [], f"{path} at {width} px: {wide}"
    link = page.locator("#embed-source")
    link.hover()
    href = urlsplit(link.get_attribute("href"))
    assert href.path == path and "theme" not in href.query and "controls" not in href.query
    assert page.problems == []


def test_controls_zero_compact_and_full(live_server: str, page: Any) -> None:
    def visible(query: str) -> tuple[int, int]:
        page.goto(f"{live_server}/embed/pipeline?{query}", wait_until="networkidle")
        page.wait_for_function(DRAWN)
        count = "els => els.filter(e => e.getClientRects().length > 0).length"
        return (
            page.eval_on_selector_all("main input, main select", count),
            page.eval_on_selector_all(".pl-play", count),
        )

    assert visible("controls=0") == (0, 0)
    fields, play = visible("controls=compact")
    assert play == 1 and fields <= 2  # only the transport's speed and scrub
    fields_full, _ = visible("controls=1")
    assert fields_full > fields


def test_open_in_bitmesh_keeps_what_the_reader_changed(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/embed/pipeline?theme=light", wait_until="networkidle")
    page.select_option("#pl-schedule", "gpipe")
    page.wait_for_function("() => location.search.includes('schedule=gpipe')")
    page.locator("#embed-source").hover()
    href = page.locator("#embed-source").get_attribute("href")
    assert parse_qs(urlsplit(href).query).get("schedule") == ["gpipe"]


def test_theme_auto_follows_the_readers_os(live_server: str, page: Any) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server}/embed/pipeline?theme=auto", wait_until="networkidle")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.emulate_media(color_scheme="light")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")


def test_copy_embed_code_writes_the_measured_height(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/pipeline?schedule=zb_h1", wait_until="networkidle")
    page.click("[data-share=embed]")
    dialog = page.locator("dialog.embed-dialog")
    dialog.locator("select[name=theme]").select_option("dark")
    dialog.locator("select[name=controls]").select_option("compact")
    dialog.locator("input[name=width]").fill("500")
    dialog.locator("input[name=width]").dispatch_event("change")
    page.wait_for_function(
        "() => document.querySelector('.embed-code').value.includes('width=\"500\"')",
        timeout=20_000,
    )
    code = dialog.locator(".embed-code").input_value()
    frame = re.search(r"<iframe ([^>]+)>", code)
    assert frame is not None
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', frame.group(1)))
    assert attrs["loading"] == "lazy" and attrs["title"]
    query = parse_qs(urlsplit(attrs["src"].replace("&amp;", "&")).query)
    assert query["theme"] == ["dark"] and query["controls"] == ["compact"]
    assert query["schedule"] == ["zb_h1"]
    # the height is what the embed measures at 500 px, not a guess
    page.set_viewport_size({"width": 500, "height": 900})
    page.goto(attrs["src"].replace("&amp;", "&"), wait_until="networkidle")
    page.wait_for_function(DRAWN)
    page.wait_for_timeout(800)
    real = page.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
    assert abs(int(attrs["height"]) - real) <= 4
    assert page.problems == []


@pytest.mark.parametrize("path", PAGES)
def test_downloaded_figure_is_a_titled_well_formed_file(
    live_server: str, page: Any, path: str, tmp_path: Path
) -> None:
    page.goto(live_server + path, wait_until="networkidle")
    page.wait_for_function(DRAWN, timeout=15_000)
    page.wait_for_timeout(300)
    with page.expect_download() as info:
        page.click("[data-share=figure]")
    download = info.value
    name = download.suggested_filename
    key = page.evaluate("document.body.dataset.view")
    assert key in {v.key for v in VIEWS}
    assert name.startswith(f"bitmesh-{key}")
    target = tmp_path / name
    download.save_as(target)
    if name.endswith(".png"):
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return
    root = ET.parse(target).getroot()  # well-formed XML, or this raises
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert (root.findtext(f"{ns}title") or "").strip()
    texts = [t.text or "" for t in root.iter(f"{ns}text")]
    assert any("bitmesh" in t and live_server in t for t in texts)  # attribution with the URL
    marks = [e for e in root.iter() if e.tag.removeprefix(ns) in MARKS]
    assert len(marks) >= 10
    assert "class=" not in target.read_text()  # styles are inlined, not left to our CSS


@pytest.mark.parametrize("path", PAGES)
def test_export_opens_from_file_with_no_network_and_draws(
    live_server: str, page: Any, path: str, tmp_path: Path
) -> None:
    r = httpx.get(f"{live_server}/export{path}.html", timeout=120)
    assert r.status_code == 200, r.text
    file = tmp_path / "figure.html"
    file.write_text(r.text)
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto(file.as_uri(), wait_until="load")
    page.wait_for_function(DRAWN, timeout=15_000)
    page.wait_for_timeout(500)
    assert [u for u in requests if not u.startswith("data:")] == [file.as_uri()]
    errors = page.eval_on_selector_all(
        ".api-error", "els => els.filter(e => !e.hidden).map(e => e.textContent)"
    )
    assert errors == []
    assert page.problems == []


@pytest.mark.parametrize("path", PAGES)
def test_every_page_offers_link_embed_figure_and_html(
    live_server: str, page: Any, path: str
) -> None:
    page.goto(f"{live_server}{path}?theme=dark", wait_until="networkidle")
    actions = page.eval_on_selector_all(
        "#share [data-share]", "els => els.map(e => e.dataset.share)"
    )
    assert actions == ["link", "embed", "figure", "html"]
    html = page.locator("#share [data-share=html]")
    html.focus()
    href = urlsplit(html.get_attribute("href") or "")
    assert href.path == f"/export{path}.html"
    assert "theme" not in parse_qs(href.query)  # embed-only keys stay out of the file's state
    assert (html.get_attribute("download") or "").startswith("bitmesh-")


def test_figure_file_is_named_after_the_state_at_download_time(live_server: str, page: Any) -> None:
    """It used to be named once, when the page loaded (always float8_e4m3fn-56.svg)."""
    page.goto(f"{live_server}/formats/float8_e4m3fn?code=56", wait_until="networkidle")
    page.wait_for_function(DRAWN)
    page.click("button:has-text('next value')")
    page.wait_for_function("() => location.search.includes('code=57')")
    with page.expect_download() as info:
        page.click("[data-share=figure]")
    assert info.value.suggested_filename == "bitmesh-format-float8_e4m3fn-code=57.svg"


# Marks of a figure that a view still draws as <button>s in a static embed (it has no static
# variant yet): allowed, and only these, so that no control can hide among them.
DRAWN_BUTTONS = {
    "/formats/bfloat16": ".bit",  # the bit cells: a click flips the bit
    "/memory": ".mem-advice-btn",  # the advice: a click applies that layout
    "/quantize": "th .q-sort",  # the table's column headers sort it
    "/plan": "th > button",
}
INTERACTIVE = """(allowed) => [...document.querySelectorAll(
    'main :is(input, select, textarea, button, summary)')]
  .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'
    && !e.matches(':disabled') && !(allowed && e.matches(allowed)))
  .map((e) => [e.closest('[data-embed="playback"]') !== null,
    `${e.tagName.toLowerCase()}#${e.id}.${e.className} "${e.textContent.trim().slice(0, 30)}"`])"""


@pytest.mark.parametrize("path", [*PAGES, "/formats/mxfp4"])
def test_static_and_compact_embeds_show_no_control_but_play_and_scrub(
    live_server: str, page: Any, path: str
) -> None:
    """controls=0 is a figure with nothing to operate; controls=compact keeps only what is
    inside a data-embed="playback" bar (play, step, scrub, speed)."""
    playback: dict[str, list[str]] = {}
    for controls in ("0", "compact"):
        page.goto(f"{live_server}/embed{path}?controls={controls}", wait_until="networkidle")
        if path == "/formats/mxfp4":  # the block explorer draws in HTML
            page.wait_for_function("() => document.getElementById('fb-bits').textContent !== '…'")
        else:
            page.wait_for_function(DRAWN, timeout=15_000)
        found = page.evaluate(INTERACTIVE, DRAWN_BUTTONS.get(path))
        playback[controls] = [name for inside, name in found if inside]
        others = [name for inside, name in found if not inside]
        assert others == [], f"{path} controls={controls}: {others}"
    assert playback["0"] == [], f"{path}: the static figure shows {playback['0']}"
    if path in ("/pipeline", "/moe", "/context", "/collectives", "/serving", "/quantize"):
        assert playback["compact"], f"{path}: compact lost its play/scrub bar"
    assert page.problems == []


# Counts animation frames the page asks for (a view that is still does not ask for any).
COUNT_FRAMES = """window.__frames = 0;
const __raf = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) => { window.__frames += 1; return __raf(cb); };"""


@pytest.mark.parametrize("path", ["/pipeline", "/moe", "/context", "/collectives", "/serving"])
def test_a_static_embed_does_not_move_and_compact_plays(
    live_server: str, page: Any, path: str
) -> None:
    """controls=0 hides the pause button, so its figure must not move by itself (WCAG 2.2.2):
    after it has drawn, it asks for no animation frame; compact animates (on its own, or once
    its play button is pressed)."""
    page.add_init_script(COUNT_FRAMES)
    frames = {}
    for controls in ("0", "compact"):
        page.goto(f"{live_server}/embed{path}?controls={controls}", wait_until="networkidle")
        page.wait_for_function(DRAWN, timeout=15_000)
        page.wait_for_timeout(1500)  # settle: the first draws, fonts, a resize
        if controls == "compact":
            play = page.locator(
                ":is([data-embed='playback'] button, button[data-embed='playback'])",
                has_text="Play",
            )
            if play.count():  # a view that opens paused (context, collectives)
                play.first.click()
        before = page.evaluate("window.__frames")
        page.wait_for_timeout(1000)
        frames[controls] = page.evaluate("window.__frames") - before
    assert frames["0"] == 0, f"{path}: a static figure asked for {frames['0']} frames in 1 s"
    assert frames["compact"] > 10, f"{path}: compact did not play ({frames['compact']} frames)"
    assert page.problems == []
