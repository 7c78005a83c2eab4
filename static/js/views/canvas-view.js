// Plumbing the canvas views (mesh, sharding) share. A view keeps its state in one object `v`
// with {canvas, ctxCache, draws, tween, loop}; these steps read and update it.
import { createLoop, createRedraw } from "../lib/anim.js";
import { onResize, setupCanvas } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";

/** The 2-D context at w × hh CSS px; the backing store is resized only when the size changes. */
export function viewContext(v, w, hh) {
  const dpr = window.devicePixelRatio || 1;
  const c = v.ctxCache;
  if (!c || c.w !== w || c.h !== hh || c.dpr !== dpr) v.ctxCache = { ctx: setupCanvas(v.canvas, w, hh), w, h: hh, dpr };
  v.ctxCache.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return v.ctxCache.ctx;
}

/** Count a painted frame (tests and benches read `data-draws`). */
export function countDraw(v) {
  v.draws += 1;
  v.canvas.dataset.draws = String(v.draws);
}

/**
 * After a tween frame at `ms` of `total`: keep going (true), or end the tween, paint the still
 * frame with `drawStill(v)` and stop the loop (false).
 */
export function tweenGoesOn(v, ms, total, drawStill) {
  countDraw(v);
  if (ms < total) return true;
  v.tween = null;
  v.canvas.dataset.animating = "0";
  drawStill(v);
  return false;
}

/**
 * Start the tween set in `v.tween` (true), or, under reduced motion, drop it so the caller
 * jumps to the final picture (false).
 */
export function startTween(v) {
  if (v.loop.start()) {
    v.canvas.dataset.animating = "1";
    return true;
  }
  v.tween = null;
  return false;
}

/** No tween: mark the view still and queue one redraw. */
export function settle(v) {
  v.canvas.dataset.animating = "0";
  v.redraw();
}

/**
 * Wire a canvas view's redraw, animation loop, pointer, keyboard, resize and theme handling.
 * `hooks`: {frame(v), tween(v, ms), pointer(v), keyboard(v), minWidth, ready(v) (has data),
 * resized(v) and themed(v) (called only when ready)}. Returns a function that unwires it all.
 */
export function wireCanvasView(v, hooks) {
  v.redraw = createRedraw(() => hooks.frame(v));
  v.loop = createLoop(v.canvas, (ms) => hooks.tween(v, ms));
  hooks.pointer(v);
  hooks.keyboard(v);
  const stopResize = onResize(v.wrap, (w) => {
    v.width = Math.max(hooks.minWidth, w);
    if (hooks.ready(v)) hooks.resized(v);
  });
  const stopTheme = onThemeChange(() => requestAnimationFrame(() => {
    if (hooks.ready(v)) hooks.themed(v);
  }));
  return () => {
    v.loop.destroy();
    stopResize();
    stopTheme();
  };
}
