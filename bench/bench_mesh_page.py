"""Frame rate of the /mesh page with 16,384 GPUs while the pointer sweeps over the canvas.

Starts uvicorn on a free port and Debian's Chromium through Playwright, opens
/mesh?axes=dp:128,pp:16,cp:1,tp:8 and, for about 3 s, moves the pointer to a new GPU on every
animation frame (a pointermove dispatched from requestAnimationFrame), counting rAF frames and the
redraws the view actually did. A second run drives the real mouse from Playwright. Prints one
JSON line:

    .venv/bin/python bench/bench_mesh_page.py
"""

from __future__ import annotations

import json
import time
from typing import Any

import harness
from playwright.sync_api import sync_playwright

AXES = "dp:128,pp:16,cp:1,tp:8"
CANVAS = "canvas.mesh-canvas"
SECONDS = 3.0

SWEEP = """async (seconds) => {
  const canvas = document.querySelector('canvas.mesh-canvas');
  const view = canvas.bitmeshView;
  const world = Number(canvas.dataset.cells);
  const draws0 = Number(canvas.dataset.draws);
  const ms0 = view.stats.drawMs;
  const times = [];
  let hoverChanges = 0;
  let last = -1;
  await new Promise((resolve) => {
    const t0 = performance.now();
    let k = 0;
    function frame(t) {
      times.push(t);
      // a new GPU every frame, striding through the whole mesh
      const rank = (k * 977) % world;
      k += 1;
      const p = view.cellCentre(rank);
      const box = canvas.getBoundingClientRect();
      canvas.dispatchEvent(new PointerEvent('pointermove', {
        clientX: box.left + p.x, clientY: box.top + p.y, bubbles: true,
      }));
      const shown = Number(canvas.dataset.hoverRank);
      if (shown !== last) { hoverChanges += 1; last = shown; }
      if (t - t0 < seconds * 1000) requestAnimationFrame(frame); else resolve();
    }
    requestAnimationFrame(frame);
  });
  const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
  const q = (f) => gaps[Math.min(gaps.length - 1, Math.floor(f * gaps.length))];
  const span = (times[times.length - 1] - times[0]) / 1000;
  return {
    frames: times.length - 1,
    seconds: span,
    redraws: Number(canvas.dataset.draws) - draws0,
    draw_ms: view.stats.drawMs - ms0,
    hover_changes: hoverChanges,
    frame_ms_p50: q(0.5),
    frame_ms_p95: q(0.95),
    frame_ms_max: gaps[gaps.length - 1],
  };
}"""

COUNT_FRAMES = """() => {
  window.__frames = 0;
  window.__stop = false;
  const tick = () => { window.__frames += 1; if (!window.__stop) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  return Number(document.querySelector('canvas.mesh-canvas').dataset.draws);
}"""


def _page_bytes() -> int:
    files = [
        "static/js/pages/mesh.js",
        "static/js/views/mesh.js",
        "static/js/views/mesh-layout.js",
        "static/js/views/canvas-view.js",
        "static/css/views/mesh.css",
    ]
    return sum((harness.ROOT / f).stat().st_size for f in files)


def _real_mouse(page: Any, seconds: float) -> dict[str, float]:
    """Drive the real (CDP) mouse in a zig-zag over the canvas while counting rAF frames."""
    box = page.locator("canvas.mesh-canvas").bounding_box()
    draws0 = page.evaluate(COUNT_FRAMES)
    t0 = time.monotonic()
    moves = 0
    while time.monotonic() - t0 < seconds:
        fx = (moves * 0.137) % 1.0
        fy = (moves * 0.071) % 1.0
        page.mouse.move(
            box["x"] + 2 + fx * (box["width"] - 4), box["y"] + 2 + fy * min(box["height"] - 4, 800)
        )
        moves += 1
    span = time.monotonic() - t0
    frames = page.evaluate("() => { window.__stop = true; return window.__frames; }")
    draws = page.evaluate(
        "() => Number(document.querySelector('canvas.mesh-canvas').dataset.draws)"
    )
    return {
        "seconds": round(span, 3),
        "mouse_moves": moves,
        "frames": frames,
        "fps": round(frames / span, 1),
        "redraws": draws - draws0,
    }


def main() -> None:
    with harness.live_server() as base, sync_playwright() as p:
        browser = harness.chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        t0 = time.monotonic()
        page.goto(f"{base}/mesh?axes={AXES}")
        page.wait_for_selector("#app[data-state='ready']")
        page.wait_for_function(
            "() => Number(document.querySelector('canvas.mesh-canvas').dataset.draws) > 0"
        )
        load_s = time.monotonic() - t0
        page.evaluate(
            f"() => document.querySelector('{CANVAS}').scrollIntoView({{block: 'start'}})"
        )
        page.wait_for_timeout(300)
        world = int(page.locator("canvas.mesh-canvas").get_attribute("data-cells") or 0)
        sweep = page.evaluate(SWEEP, SECONDS)
        real = _real_mouse(page, SECONDS)
        browser.close()
    fps = sweep["frames"] / sweep["seconds"] if sweep["seconds"] else 0.0
    print(
        json.dumps(
            {
                "bench": "mesh_page_hover",
                "axes": AXES,
                "world": world,
                "load_to_first_draw_s": round(load_s, 3),
                "fps": round(fps, 1),
                "frames": sweep["frames"],
                "seconds": round(sweep["seconds"], 3),
                "redraws": sweep["redraws"],
                "redraws_per_s": round(sweep["redraws"] / sweep["seconds"], 1),
                "redraw_ms_avg": round(sweep["draw_ms"] / max(1, sweep["redraws"]), 2),
                "hover_changes": sweep["hover_changes"],
                "frame_ms_p50": round(sweep["frame_ms_p50"], 2),
                "frame_ms_p95": round(sweep["frame_ms_p95"], 2),
                "frame_ms_max": round(sweep["frame_ms_max"], 2),
                "real_mouse": real,
                "target_fps": 30,
                "page_js_css_bytes": _page_bytes(),
            }
        )
    )


if __name__ == "__main__":
    main()
