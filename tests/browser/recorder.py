"""A test tool: draw `/embed<page>?<query>` in headless Chromium against the app, in process
(no socket), and record every API request the view made and the answer it got. The export
itself computes its answers from declarations (app/export_data.py); tests compare the two."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HOST = "bitmesh.export"  # the origin the recording browser believes it is on
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Recording:
    """What the embed fetched while it drew: API answers keyed as the page asked."""

    status: int = 0
    html: str = ""
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)


def _chromium() -> str | None:
    env = os.environ.get("BITMESH_CHROMIUM")
    if env:
        return env
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def record(page: str, query: str, browser: Any = None) -> Recording:
    """Draw `/embed<page>?<query>` and keep every API answer it asked for (GET by URL, POST by
    method, URL and body). Pass a launched Playwright browser to reuse it."""
    from playwright.sync_api import Route, sync_playwright

    with warnings.catch_warnings():  # starlette would rather have httpx2; httpx serves
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
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

    def run(b: Any) -> None:
        pg = b.new_page(viewport={"width": 800, "height": 900})
        try:
            pg.route("**/*", handle)
            pg.goto(f"http://{HOST}{target}", wait_until="networkidle")
        finally:
            pg.close()

    if browser is not None:
        run(browser)
        return rec
    with sync_playwright() as p:
        path = _chromium()
        b = p.chromium.launch(executable_path=path, args=ARGS) if path else p.chromium.launch()
        try:
            run(b)
        finally:
            b.close()
    return rec
