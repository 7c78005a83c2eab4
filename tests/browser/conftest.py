"""Browser-test fixtures: a live uvicorn on a free port and Debian's Chromium via Playwright.

Chromium comes from `$BITMESH_CHROMIUM`, else `/usr/bin/chromium`, else Playwright's own
browser if one happens to be installed. We never run `playwright install`. Under `CI=true` a
missing browser fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A blog framing our embed is simulated by a page Playwright serves on another origin;
    # Chrome's local-network checks would block that page from framing a loopback server.
    "--disable-features=LocalNetworkAccessChecks",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/api/v1/limits", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("uvicorn did not start")
        time.sleep(0.1)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _chromium_path() -> str | None:
    env = os.environ.get("BITMESH_CHROMIUM")
    if env:
        return env
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return None


# Module scope: Playwright's sync API keeps an event loop running in the main thread while it
# is open, which breaks TestClient (and asyncio.run) in any non-browser test collected after it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        path = _chromium_path()
        try:
            b = p.chromium.launch(executable_path=path, args=ARGS) if path else p.chromium.launch()
        except Exception as exc:  # no Debian Chromium and no Playwright browser
            if os.environ.get("CI") == "true":
                pytest.fail(f"no Chromium for browser tests: {exc}")
            pytest.skip(f"no Chromium for browser tests: {exc}")
        yield b
        b.close()


class PageProblems(list[str]):
    """Console errors, uncaught exceptions, failed requests and HTTP errors seen by a page."""


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems = PageProblems()

    def on_console(m: Any) -> None:
        if m.type == "error":
            problems.append(f"console.error: {m.text}")

    pg.on("console", on_console)
    pg.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    # a request cut short on purpose is no problem: a navigation away (the favicon of the page
    # being left) or a superseded fetch (AbortController) fails with net::ERR_ABORTED
    pg.on(
        "requestfailed",
        lambda r: (
            None
            if r.failure == "net::ERR_ABORTED"
            else problems.append(f"request failed: {r.url} ({r.failure})")
        ),
    )
    pg.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    pg.problems = problems
    yield pg
    context.close()


def horizontal_overflow(pg: Any) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it fits)."""
    return int(pg.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))
