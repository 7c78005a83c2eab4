// Pan and zoom a 1-D canvas axis with every input people use: wheel (vertical zooms around the
// pointer, horizontal pans), drag, two-finger pinch, and the keyboard (+/− zoom, arrows pan,
// 0/Home resets). Shared by the explorer's number line and /compare.
import { eventToElementCoordinates } from "../lib/canvas.js";
import { hideTip } from "../lib/tooltip.js";

/** +/− zoom around the middle, arrows pan by a tenth, 0/Home resets. */
function keyHandler({ zoomAt, panBy, reset, width }) {
  const keys = {
    "+": () => zoomAt(width() / 2, 1.5),
    "=": () => zoomAt(width() / 2, 1.5),
    "-": () => zoomAt(width() / 2, 1 / 1.5),
    _: () => zoomAt(width() / 2, 1 / 1.5),
    ArrowLeft: () => panBy(width() * 0.1),
    ArrowRight: () => panBy(-width() * 0.1),
    0: reset,
    Home: reset,
  };
  return (e) => {
    if (!(e.key in keys)) return;
    keys[e.key]();
    e.preventDefault();
  };
}

/**
 * attachPanZoom(canvas, {zoomAt(x, factor), panBy(dx), reset(), width(), hover(event, point),
 * leave(), tap(point)}). `hover` runs on pointer moves that are not drags, `tap` on a click
 * without movement. Returns a detach function.
 */
export function attachPanZoom(canvas, handlers) {
  const { zoomAt, panBy } = handlers;
  const pointers = new Map();
  let pinch = 0;
  let dragged = false;

  const onWheel = (e) => {
    e.preventDefault();
    const { x } = eventToElementCoordinates(e, canvas);
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    const dx = e.deltaMode === 1 ? e.deltaX * 16 : e.deltaX;
    if (Math.abs(dx) > Math.abs(dy)) panBy(-dx);
    else zoomAt(x, Math.exp(-dy * 0.002));
  };
  const onDown = (e) => {
    canvas.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, eventToElementCoordinates(e, canvas));
    dragged = false;
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = Math.hypot(a.x - b.x, a.y - b.y);
    }
  };
  const onMove = (e) => {
    const p = eventToElementCoordinates(e, canvas);
    if (!pointers.has(e.pointerId)) {
      if (handlers.hover) handlers.hover(e, p);
      return;
    }
    const prev = pointers.get(e.pointerId);
    pointers.set(e.pointerId, p);
    if (pointers.size === 1) {
      if (p.x !== prev.x) {
        dragged = true;
        panBy(p.x - prev.x);
      }
    } else if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      if (pinch > 0 && d > 0) zoomAt((a.x + b.x) / 2, d / pinch);
      pinch = d;
      dragged = true;
    }
    hideTip();
  };
  const onUp = (e) => {
    const wasDrag = dragged;
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = 0;
    if (e.type === "pointerup" && !wasDrag && pointers.size === 0 && handlers.tap) {
      handlers.tap(eventToElementCoordinates(e, canvas));
    }
    if (pointers.size === 0) dragged = false;
  };
  const onLeave = () => {
    hideTip();
    if (handlers.leave) handlers.leave();
  };
  const onKey = keyHandler(handlers);

  const listeners = [["wheel", onWheel, { passive: false }], ["pointerdown", onDown], ["pointermove", onMove], ["pointerup", onUp], ["pointercancel", onUp], ["pointerleave", onLeave], ["keydown", onKey]];
  for (const [type, fn, opts] of listeners) canvas.addEventListener(type, fn, opts);
  return () => {
    for (const [type, fn] of listeners) canvas.removeEventListener(type, fn);
  };
}
