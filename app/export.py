"""Standalone HTML exports (`GET /export/<page>.html?...`, `bitmesh export`) and oEmbed.

An export is one self-contained file that draws a view exactly as its embed does, with no
server and no network: the embed's HTML, its stylesheets inlined, its ES module graph
inlined through an import map of `data:` URLs, and the API answers the view asks for at its
first draw baked in as JSON that a small `fetch` shim (static/js/lib/offline.js) serves. The
answers are computed in process, through this app's own routes (no socket, no browser): which
requests a view makes is declared per view in app/export_data.py. The query's site keys
(theme, controls) and the view's state keys (View.state: playhead, zoom, selection) are not
API inputs: they are set aside before computing and kept in the file's URL, so the file opens
at that frame. The file's own CSP (a meta tag) allows only its inline scripts (by hash), the
`data:` modules, and no connections at all.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import os
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.core.errors import UnknownName
from app.core.numerics.block_format import page_name
from app.export_data import NEEDS, SITE_KEYS, Page, query_string
from app.pages import VIEW_BY_KEY, VIEWS, View, available, page_path
from app.templating import EMBED_WIDTHS, IMPORT, STATIC_DIR

router = APIRouter(include_in_schema=False)

_STATIC = re.compile(r"/static/(?:[0-9a-f]{12}/)?")
_STYLESHEET = re.compile(r"""<link rel="stylesheet" href="(/static/[^"]+)">""")
_ICON = re.compile(r"""<link rel="icon"[^>]*>""")
_ALTERNATE = re.compile(r"""<link rel="(?:alternate|modulepreload)"[^>]*>\n?""")
_MODULE = re.compile(r"""<script type="module" src="(/static/[^"]+)"></script>\n?""")
# The baked answers of one file, at most (a 32-bit format's or a long run's answers are large;
# the bfloat16 explorer's full code table is 2.3 MB).
MAX_BYTES = 24_000_000
Answer = dict[str, Any]


class ExportError(Exception):
    def __init__(self, status: int, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = message if detail is None else detail


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


def assemble(html: str, responses: dict[str, Answer], page: str, query: str, origin: str) -> str:
    """The self-contained file from the embed's HTML and the API answers it draws."""
    text = html
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
        "responses": responses,
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


def _client() -> Any:
    with warnings.catch_warnings():  # starlette would rather have httpx2; httpx serves
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from app.main import app

    return TestClient(app)


def view_at(path: str) -> tuple[View, str] | None:
    """The embeddable view at a page path and the name in it (`/formats/mxfp4` -> the block
    format view and "mxfp4", canonically spelled), or None."""
    for v in VIEWS:
        pattern = re.sub(r"\\\{\w+\\\}", "(?P<name>[^/]+)", re.escape(v.path))
        m = re.fullmatch(pattern, path)
        if not (m and v.embeddable and available(v)):
            continue
        name = m.groupdict().get("name") or ""
        if name:  # /formats/{name}: an element format's explorer or a block format's page
            try:
                kind, name = page_name(name)
            except UnknownName:
                return None
            v = VIEW_BY_KEY["format_block" if kind == "block" else "format"]
        return v, name
    return None


def split_query(view: View, query: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(the API's keys, every key) of a page query: the site's keys and the view's state keys
    are not API inputs."""
    pairs = parse_qsl(query, keep_blank_values=True)
    skip = set(SITE_KEYS) | set(view.state)
    return [(k, v) for k, v in pairs if k not in skip], pairs


def answers(view: View, name: str, query: str, client: Any = None) -> dict[str, Answer]:
    """Every API answer `view` asks for at its first draw of `query`, computed in process and
    keyed by URL, as the file's fetch shim serves them."""
    client = client or _client()
    api, full = split_query(view, query)
    out: dict[str, Answer] = {}
    size = 0

    def ask(url: str) -> Any:
        nonlocal size
        if url not in out:
            r = client.get(url)
            ctype = r.headers.get("content-type", "application/octet-stream")
            out[url] = {"status": r.status_code, "type": ctype, "body": r.text}
            size += len(r.content)
            if size > MAX_BYTES:
                raise ExportError(413, f"this figure needs over {MAX_BYTES:,} bytes of data")
        a = out[url]
        ok = 200 <= a["status"] < 300 and a["type"].startswith("application/json")
        return json.loads(a["body"]) if ok else None

    NEEDS[view.key](Page(name, tuple(api), tuple(full)), ask)
    return out


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


@lru_cache(maxsize=8)
def export_html(page: str, query: str, origin: str) -> str:
    """The standalone file of `page?query`; with no `controls` the figure is compact (a file
    cannot recompute, so only play and scrub stay)."""
    found = view_at(page)
    if found is None:
        raise ExportError(404, f"no embeddable view at {page}")
    view, name = found
    if name:
        page = view.path.replace("{name}", name)
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(k == "controls" for k, _ in pairs):
        pairs.append(("controls", "compact"))
    full = query_string(pairs)
    client = _client()
    r = client.get(f"/embed{page}?{full}")
    if r.status_code != 200:
        raise ExportError(r.status_code, f"no embeddable view at {page}")
    baked = answers(view, name, full, client)
    _refuse_invalid(baked)
    return assemble(r.text, baked, page, full, origin)


def _refuse_invalid(baked: dict[str, Answer]) -> None:
    """A query the API rejects (a 422: a bad type, a value past its bounds, an unknown key)
    is answered with that 422 and its field-naming detail, not a file that only shows it."""
    for url, a in baked.items():
        if a["status"] == 422:
            try:
                detail = json.loads(a["body"])["detail"]
            except (ValueError, KeyError, TypeError):
                detail = a["body"]
            raise ExportError(422, f"{url} was refused: {detail}", detail)


def export_view(key_or_page: str, params: dict[str, str], origin: str) -> str:
    """For the CLI: a view key or page path and its parameters -> the standalone file."""
    page, query = _resolve(key_or_page, params)
    return export_html(page, query_string(list(query.items())), origin)


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
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)
    disposition = f'inline; filename="{file_name(page, query)}"'
    return HTMLResponse(
        body, headers={"content-disposition": disposition, "cache-control": "no-cache"}
    )


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
    found = view_at(path)
    if found is None:
        return JSONResponse({"detail": f"no embeddable view at {path}"}, status_code=404)
    view = found[0]
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
