"""Benchmark the standalone HTML export of every embeddable view: computed vs recorded.

`computed` is the export as it is: the view's declared API requests (app/export_data.py)
answered in process through the app's own routes, and the file assembled; no browser. (The
first export of a view in a process also pays the routes' own caches; we report the median of
REPEATS cold calls, clearing the export's lru_cache each time.) `recorded` is how exports were
made before: the embed drawn in headless Chromium against the app in process, every API answer
it fetched recorded (tests/browser/recorder.py, the old code path kept as a test tool), and
the same file assembled. Each view at its defaults, plus the format explorer (bfloat16,
float8_e4m3fn) and the block page (mxfp4, nvfp4). Prints one JSON line: per view the median
seconds of each, the file's bytes and the baked answers' count.

    .venv/bin/python bench/bench_export.py
"""

from __future__ import annotations

import json
import statistics
import time

import harness

from app.export import assemble, export_html, view_at
from app.pages import VIEWS, available

REPEATS = 3
ORIGIN = "https://bitmesh.example"
PAGES = [v.path for v in VIEWS if v.embeddable and "{" not in v.path and available(v)] + [
    "/formats/bfloat16",
    "/formats/float8_e4m3fn",
    "/formats/mxfp4",
    "/formats/nvfp4",
]
QUERY = "controls=compact"


def _computed(page: str) -> tuple[float, str]:
    times = []
    text = ""
    for _ in range(REPEATS):
        export_html.cache_clear()
        t0 = time.perf_counter()
        text = export_html(page, QUERY, ORIGIN)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), text


def _recorded(browser: object, page: str) -> tuple[float, int]:
    from tests.browser.recorder import record

    times = []
    size = 0
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        rec = record(page, QUERY, browser)
        text = assemble(rec.html, rec.responses, page, QUERY, ORIGIN)
        times.append(time.perf_counter() - t0)
        size = len(text.encode())
    return statistics.median(times), size


def main() -> None:
    from playwright.sync_api import sync_playwright

    views: dict[str, dict[str, object]] = {}
    for page in PAGES:
        seconds, text = _computed(page)
        found = view_at(page)
        baked = text.count('"status":')
        views[page] = {
            "view": found[0].key if found else None,
            "computed_s": round(seconds, 4),
            "bytes": len(text.encode()),
            "answers": baked,
        }
    with sync_playwright() as p:
        browser = harness.chromium(p)
        try:
            for page in PAGES:
                seconds, size = _recorded(browser, page)
                views[page].update({"recorded_s": round(seconds, 4), "recorded_bytes": size})
        finally:
            browser.close()
    total = {
        k: round(sum(float(v[k]) for v in views.values()), 3)  # type: ignore[arg-type]
        for k in ("computed_s", "recorded_s")
    }
    result = {
        "bench": "export",
        "repeats": REPEATS,
        "views": views,
        "total": total,
        "load_average": harness.load_average(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
