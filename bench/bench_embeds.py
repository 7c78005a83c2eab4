"""Benchmark a page of embeds (/tour) cold and warm: requests, bytes, time until drawn.

Starts `uvicorn app.main:app` on a free port and Debian's Chromium through Playwright, opens
/tour (thirteen live embeds) in a viewport tall enough that no lazy iframe waits for a scroll, and
counts, over the Chrome DevTools protocol, every request the page and its frames make, how many
went to the network (not answered from the browser cache; a revalidation is a network request,
and Chrome reports its 304 as the cached 200) and the bytes received; and the time from
navigation until every embed shows its drawing. "cold" is a fresh browser profile; "warm" is
the same profile opening the page again.

Two modes: `versioned` is the site as it is (static files under /static/<hash>/ with
`immutable`); `revalidated` is a second server started with BITMESH_STATIC_VERSIONS=0, whose
pages link plain /static/ (served `no-cache`), which is how the site served them before
content-versioned paths. (Playwright request routing would disable the browser cache, so the
old behaviour is not emulated by rewriting responses.) Prints one JSON line with the median of
REPEATS runs of each.

    .venv/bin/python bench/bench_embeds.py
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

import harness

REPEATS = 3
PAGE = "/tour"
DRAWN = "() => document.querySelector('main svg, main canvas') !== null"


def _load(context: Any, base: str) -> dict[str, float]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sent: set[str] = set()
    cached: set[str] = set()
    received = 0.0

    def on_response(e: dict[str, Any]) -> None:
        if e["response"].get("fromDiskCache") or e["response"].get("fromMemoryCache"):
            cached.add(e["requestId"])

    def on_finished(e: dict[str, Any]) -> None:
        nonlocal received
        received += e.get("encodedDataLength", 0)

    cdp.on("Network.requestWillBeSent", lambda e: sent.add(e["requestId"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    start = time.perf_counter()
    page.goto(base + PAGE, wait_until="load")
    expected = page.locator("iframe[src*='/embed/']").count()  # every embed of the page
    frames: list[Any] = []
    while True:
        frames = [f for f in page.frames if "/embed/" in f.url]
        if len(frames) >= expected and all(f.evaluate(DRAWN) for f in frames):
            break
        if time.perf_counter() - start > 120:
            missing = [f.url for f in frames if not f.evaluate(DRAWN)]
            raise RuntimeError(f"not drawn within 120 s: {len(frames)} frames, {missing}")
        time.sleep(0.05)
    drawn = time.perf_counter() - start
    page.wait_for_timeout(1000)  # stragglers (late modules, previews) still count
    page.close()
    return {
        "requests": len(sent),
        "network_requests": len(sent - cached),
        "kib_received": round(received / 1024, 1),
        "all_drawn_s": round(drawn, 3),
        "embeds": len(frames),
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _mode(browser: Any, versions: bool) -> dict[str, dict[str, float]]:
    os.environ["BITMESH_STATIC_VERSIONS"] = "1" if versions else "0"
    cold: list[dict[str, float]] = []
    warm: list[dict[str, float]] = []
    with harness.live_server() as base:
        for _ in range(REPEATS):
            context = browser.new_context(viewport={"width": 1000, "height": 28000})
            cold.append(_load(context, base))
            warm.append(_load(context, base))
            context.close()
    return {"cold": _median(cold), "warm": _median(warm)}


def main() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = harness.chromium(p)
        try:
            result = {
                "bench": "embeds",
                "page": PAGE,
                "repeats": REPEATS,
                "versioned": _mode(browser, versions=True),
                "revalidated": _mode(browser, versions=False),
                "load_average": harness.load_average(),
            }
        finally:
            browser.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
