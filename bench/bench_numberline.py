"""How smoothly does the bf16 number line (65,536 codes) pan in headless Chromium?

Starts uvicorn on a free port and Debian's Chromium (``$BITMESH_CHROMIUM`` or
``/usr/bin/chromium``), opens /formats/bfloat16 and, for ~3 s per scenario, pans the canvas
every animation frame, counting requestAnimationFrame callbacks and actual draws:

- ``wheel_pan_full``: synthetic horizontal wheel events through the page's own handler, with
  nearly all 65,280 finite values in view (log scale), i.e. the densest frames.
- ``hook_pan_zoomed``: the view's ``panBy`` test hook at a zoom where ~2,000 values are in
  view (linear scale around 1.0).

Also reports the fps of an empty rAF loop on the same page (``idle_raf_fps``: what the shared
machine allows at that moment) and the JS + CSS bytes each numerics page loads (its own
modules vs. shared ones). Prints one JSON line. Target: 50+ fps.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import harness
from playwright.sync_api import sync_playwright

SECONDS = 3.0

# The same rAF loop doing nothing: what the machine allows (the 2 cores are shared).
IDLE = """async (ms) => {
  let frames = 0;
  const t0 = performance.now();
  let last = t0;
  await new Promise((resolve) => {
    const tick = (t) => {
      frames += 1;
      last = t;
      if (t - t0 < ms) requestAnimationFrame(tick);
      else resolve();
    };
    requestAnimationFrame(tick);
  });
  return frames / ((last - t0) / 1000);
}"""

MEASURE = """async ({ms, mode}) => {
  const nl = window.__bitmesh.numberline;
  const canvas = nl.canvas;
  const r = canvas.getBoundingClientRect();
  if (mode === 'zoomed') {
    document.querySelector('#fx-scale-linear').click();
    nl.setView([0.9, 1.1]);
  } else {
    nl.reset();
    const [a, b] = nl.view;
    nl.setView([a * 0.6, b * 0.6]);  // ~all 65,280 values in view, with room to pan
  }
  await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
  const draws0 = nl.stats.draws;
  const gaps = [];
  const drawMs = [];
  let frames = 0;
  let dir = 1;
  let last = performance.now();
  const t0 = last;
  await new Promise((resolve) => {
    const tick = (t) => {
      frames += 1;
      gaps.push(t - last);
      last = t;
      drawMs.push(nl.stats.lastDrawMs);
      if (frames % 90 === 0) dir = -dir;
      if (mode === 'zoomed') {
        nl.panBy(6 * dir);
      } else {
        canvas.dispatchEvent(new WheelEvent('wheel', {
          deltaX: -6 * dir, deltaY: 0, clientX: r.left + r.width / 2,
          clientY: r.top + 60, bubbles: true, cancelable: true,
        }));
      }
      if (t - t0 < ms) requestAnimationFrame(tick);
      else resolve();
    };
    requestAnimationFrame(tick);
  });
  const elapsed = (last - t0) / 1000;
  gaps.shift();
  gaps.sort((a, b) => a - b);
  drawMs.sort((a, b) => a - b);
  const q = (arr, p) => arr[Math.min(arr.length - 1, Math.floor(p * arr.length))];
  const [v0, v1] = nl.view;
  return {
    fps: frames / elapsed,
    frames,
    draws: nl.stats.draws - draws0,
    draws_per_second: (nl.stats.draws - draws0) / elapsed,
    frame_ms_p50: q(gaps, 0.5),
    frame_ms_p95: q(gaps, 0.95),
    draw_ms_p50: q(drawMs, 0.5),
    draw_ms_p95: q(drawMs, 0.95),
    columns_last_frame: nl.stats.columns,
    view: [v0, v1],
  };
}"""


def _page_bytes(browser: Any, base: str, path: str) -> dict[str, int]:
    """JS + CSS bytes a page loads: its own (views, page module, view CSS) and shared."""
    sizes: dict[str, int] = {}
    context = browser.new_context()  # empty cache: no 304s with empty bodies
    page = context.new_page()

    def on_response(resp: Any) -> None:
        url = resp.url
        if "/static/" in url and (url.endswith(".js") or url.endswith(".css")):
            with contextlib.suppress(Exception):  # a response without a body (aborted)
                sizes[url] = len(resp.body())

    page.on("response", on_response)
    page.goto(base + path, wait_until="networkidle")
    context.close()
    own = sum(n for u, n in sizes.items() if "/js/lib/" not in u and "bitmesh.css" not in u)
    return {"own": own, "shared": sum(sizes.values()) - own, "total": sum(sizes.values())}


def main() -> None:
    chromium = harness.chromium_executable()
    if not Path(chromium).exists():
        print(json.dumps({"bench": "numberline", "skipped": f"no Chromium at {chromium}"}))
        return
    with harness.live_server() as base, sync_playwright() as p:
        browser = harness.chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/formats/bfloat16")
        page.wait_for_selector("#app[data-ready='1']", timeout=30_000)
        page.locator("#fx-numberline canvas").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        ms = SECONDS * 1000
        idle = page.evaluate(IDLE, ms)
        full = page.evaluate(MEASURE, {"ms": ms, "mode": "full"})
        zoomed = page.evaluate(MEASURE, {"ms": ms, "mode": "zoomed"})
        values = page.evaluate("window.__bitmesh.numberline.stats")
        page.close()
        sizes = {
            path: _page_bytes(browser, base, path)
            for path in ("/formats", "/formats/bfloat16", "/compare")
        }
        browser.close()
    result = {
        "bench": "numberline",
        "format": "bfloat16",
        "seconds_per_scenario": SECONDS,
        "wheel_pan_full": full,
        "hook_pan_zoomed": zoomed,
        "fps": round(min(full["fps"], zoomed["fps"]), 1),
        "idle_raf_fps": round(idle, 1),
        "target_fps": 50,
        "draws_total": values["draws"],
        "page_js_css_bytes": sizes,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
