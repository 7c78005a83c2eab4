"""Standalone HTML exports (`GET /export/<page>.html?...`, `bitmesh export`) and oEmbed.

An export is one self-contained file that draws a view exactly as its embed does, with no
server and no network: the embed's HTML, its stylesheets inlined, its ES module graph
inlined through an import map of `data:` URLs, and every API answer the view asked for while
drawing baked in as JSON that a small `fetch` shim serves. Which answers a view needs is not
declared per view: the embed is loaded once in headless Chromium against this app (in
process, no socket) and every request it makes is recorded, so a view merged later exports
without any work. The file's own CSP (a meta tag) allows only its inline scripts (by hash),
the `data:` modules, and no connections at all.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.pages import VIEWS, View, available, page_path
from app.templating import EMBED_WIDTHS, IMPORT, STATIC_DIR

router = APIRouter(include_in_schema=False)

HOST = "bitmesh.export"  # the origin the recording browser believes it is on
_STATIC = re.compile(r"/static/(?:[0-9a-f]{12}/)?")
_STYLESHEET = re.compile(r"""<link rel="stylesheet" href="(/static/[^"]+)">""")
_ICON = re.compile(r"""<link rel="icon"[^>]*>""")
_ALTERNATE = re.compile(r"""<link rel="(?:alternate|modulepreload)"[^>]*>\n?""")
_MODULE = re.compile(r"""<script type="module" src="(/static/[^"]+)"></script>\n?""")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class ExportError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Recording:
    """What the embed fetched while it drew: API answers keyed as the page asked."""

    status: int = 0
    html: str = ""
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)


def _static_file(url: str) -> Path:
    rel = _STATIC.sub("", url, count=1).split("?")[0]
    path = (STATIC_DIR / rel).resolve()
    if STATIC_DIR.resolve() not in path.parents:
        raise ExportError(400, f"not a static file: {url}")
    return path


def module_graph(entries: list[str]) -> dict[str, str]:
    """Every module reachable from `entries` (static paths), its relative imports rewritten to
    `@bitmesh/<path>` specifiers that the export's import map resolves."""
    sources: dict[str, str] = {}
    todo = [_STATIC.sub("/static/", e, count=1) for e in entries]
    while todo:
        url = todo.pop()
        if url in sources:
            continue
        text = _static_file(url).read_text()
        base = url.rsplit("/", 1)[0]

        def rewrite(m: re.Match[str], base: str = base) -> str:
            target = os.path.normpath(f"{base}/{m.group(3)}")
            todo.append(target)
            return f"{m.group(1)}{m.group(2)}@bitmesh{target}{m.group(2)}"

        sources[url] = IMPORT.sub(rewrite, text)
    return sources


def _data_url(text: str, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(text.encode()).decode()


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


SHIM = (Path(__file__).resolve().parent.parent / "static" / "js" / "lib" / "offline.js").read_text()


def _json_script(value: object) -> str:
    text = json.dumps(value, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="bitmesh-export">{text}</script>'


def assemble(rec: Recording, page: str, query: str, origin: str) -> str:
    """The self-contained file from the embed's HTML and what it fetched."""
    text = rec.html
    text = _ALTERNATE.sub("", text)
    icon = _data_url((STATIC_DIR / "favicon.svg").read_text(), "image/svg+xml")
    text = _ICON.sub(f'<link rel="icon" href="{icon}" type="image/svg+xml">', text)
    text = _STYLESHEET.sub(
        lambda m: f"<style>\n{_static_file(m.group(1)).read_text()}\n</style>", text
    )
    entries = _MODULE.findall(text)
    text = _MODULE.sub("", text)
    modules = module_graph(entries)
    imports = {f"@bitmesh{u}": _data_url(src, "text/javascript") for u, src in modules.items()}
    importmap = json.dumps({"imports": imports}, separators=(",", ":"))
    entry = "".join(f'import "@bitmesh{_STATIC.sub("/static/", e, count=1)}";\n' for e in entries)
    data = {
        "origin": origin,
        "page": page,
        "search": f"?{query}" if query else "",
        "responses": rec.responses,
    }
    csp = (
        "default-src 'none'; "
        f"script-src {_sha(SHIM)} {_sha(importmap)} {_sha(entry)} data:; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    head = (
        f'<meta http-equiv="Content-Security-Policy" content="{html_lib.escape(csp)}">\n'
        f"{_json_script(data)}\n<script>{SHIM}</script>\n"
        f'<script type="importmap">{importmap}</script>\n'
    )
    text = text.replace('<meta charset="utf-8">\n', '<meta charset="utf-8">\n' + head, 1)
    text = re.sub(r'(<a\b[^>]*\shref=")/(?!/)', rf"\1{origin}/", text)
    text = text.replace("<body ", f'<body data-origin="{html_lib.escape(origin)}" ', 1)
    return text.replace("</body>", f'<script type="module">{entry}</script>\n</body>', 1)


def _chromium() -> str | None:
    env = os.environ.get("BITMESH_CHROMIUM")
    if env:
        return env
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def record(page: str, query: str) -> Recording:
    """Draw `/embed<page>?<query>` in headless Chromium against this app, in process, and
    keep every API answer it asked for (GET by URL, POST by URL and body)."""
    try:
        from playwright.sync_api import Route, sync_playwright

        with warnings.catch_warnings():  # starlette would rather have httpx2; httpx serves
            warnings.simplefilter("ignore")
            from starlette.testclient import TestClient
    except ImportError as exc:  # pragma: no cover
        raise ExportError(503, f"exports need playwright and Chromium: {exc}") from exc
    from app.main import app

    rec = Recording()
    client = TestClient(app)
    target = f"/embed{page}" + (f"?{query}" if query else "")

    def handle(route: Route) -> None:
        req = route.request
        parts = urlsplit(req.url)
        if parts.netloc != HOST:
            route.abort()
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = req.post_data_buffer
        headers = {"content-type": req.headers.get("content-type", "")} if body else {}
        r = client.request(req.method, path, content=body, headers=headers)
        ctype = r.headers.get("content-type", "application/octet-stream")
        if parts.path.startswith("/api/"):
            key = path if req.method == "GET" else f"{req.method} {path} {req.post_data or ''}"
            rec.responses[key] = {"status": r.status_code, "type": ctype, "body": r.text}
        if path == target or parts.path == target.split("?")[0]:
            rec.status, rec.html = r.status_code, r.text
        route.fulfill(status=r.status_code, headers={"content-type": ctype}, body=r.content)

    with sync_playwright() as p:
        path = _chromium()
        browser = (
            p.chromium.launch(executable_path=path, args=ARGS) if path else p.chromium.launch()
        )
        try:
            pg = browser.new_page(viewport={"width": 800, "height": 900})
            pg.route("**/*", handle)
            pg.goto(f"http://{HOST}{target}", wait_until="networkidle")
        finally:
            browser.close()
    return rec


def _resolve(key_or_page: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
    """A view key (`pipeline`, `format` with name=...) or page path -> (page path, query)."""
    view = next((v for v in VIEWS if v.key == key_or_page), None)
    if view is None:
        return "/" + key_or_page.strip("/"), params
    rest = dict(params)
    names = re.findall(r"\{(\w+)\}", view.path)
    missing = [n for n in names if n not in rest]
    if missing:
        raise ExportError(422, f"{view.key} needs --param {missing[0]}=...")
    path = view.path
    for n in names:
        path = path.replace("{" + n + "}", rest.pop(n))
    return path, rest


# Each export runs a headless Chromium: at most two at once, the rest are told to retry.
_BROWSERS = threading.BoundedSemaphore(2)


@lru_cache(maxsize=32)
def export_html(page: str, query: str, origin: str) -> str:
    """The standalone file of `page?query`; with no `controls` the figure is compact (a file
    cannot recompute, so only play and scrub stay)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(k == "controls" for k, _ in pairs):
        pairs.append(("controls", "compact"))
    full = urlencode(pairs).replace("%2C", ",")
    if not _BROWSERS.acquire(timeout=30):
        raise ExportError(503, "the server is busy with other exports; retry in a moment")
    try:
        rec = record(page, full)
    finally:
        _BROWSERS.release()
    if rec.status != 200 or not rec.html:
        raise ExportError(rec.status or 404, f"no embeddable view at {page}")
    return assemble(rec, page, full, origin)


def export_view(key_or_page: str, params: dict[str, str], origin: str) -> str:
    """For the CLI: a view key or page path and its parameters -> the standalone file."""
    page, query = _resolve(key_or_page, params)
    return export_html(page, urlencode(query).replace("%2C", ","), origin)


def file_name(page: str, query: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.=,+-]+", "_", "-".join([page.strip("/").replace("/", "-"), query]))
    return f"bitmesh-{slug.strip('-_')[:150]}.html"


@router.get("/export/{path:path}")
def export(request: Request, path: str) -> Response:
    if not path.endswith(".html"):
        return JSONResponse({"detail": "exports end in .html"}, status_code=404)
    page = "/" + path.removesuffix(".html")
    query = request.url.query
    try:
        body = export_html(page, query, str(request.base_url).rstrip("/"))
    except ExportError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)
    disposition = f'inline; filename="{file_name(page, query)}"'
    return HTMLResponse(
        body, headers={"content-disposition": disposition, "cache-control": "no-cache"}
    )


def _view_of(path: str) -> View | None:
    for v in VIEWS:
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(v.path)) + "$"
        if v.embeddable and available(v) and re.match(pattern, path):
            return v
    return None


@router.get("/oembed")
def oembed(
    request: Request,
    url: str,
    maxwidth: int | None = None,
    maxheight: int | None = None,
    format: str = "json",
) -> Response:
    """oEmbed 1.0 for any bitmesh page URL: a `rich` answer whose html is the embed iframe."""
    if format != "json":
        return JSONResponse({"detail": "only format=json is offered"}, status_code=501)
    parts = urlsplit(url)
    origin = str(request.base_url).rstrip("/")
    if parts.netloc and parts.netloc != request.url.netloc:
        return JSONResponse({"detail": f"not a bitmesh URL on {origin}"}, status_code=404)
    path = page_path(parts.path)
    view = _view_of(path)
    if view is None:
        return JSONResponse({"detail": f"no embeddable view at {path}"}, status_code=404)
    low, default, high = EMBED_WIDTHS
    width = min(maxwidth, high) if maxwidth else default
    height = min(maxheight, view.embed_height) if maxheight else view.embed_height
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k == "theme" for k, _ in pairs):
        pairs.append(("theme", "light"))  # pinned: a dark OS must not paint a light blog black
    src = f"{origin}/embed{path}?" + urlencode(pairs).replace("%2C", ",")
    title = f"{view.title} (bitmesh)"
    frame = (
        f'<iframe src="{html_lib.escape(src)}" width="{width}" height="{height}" '
        f'title="{html_lib.escape(title)}" loading="lazy" '
        f'style="border:0;width:100%;max-width:{width}px"></iframe>'
    )
    return JSONResponse(
        {
            "version": "1.0",
            "type": "rich",
            "provider_name": "bitmesh",
            "provider_url": origin + "/",
            "title": title,
            "html": frame,
            "width": max(width, 1),
            "height": height,
            "min_width": low,
        }
    )
