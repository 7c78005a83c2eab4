// Pan and zoom a 1-D canvas axis with every input people use: wheel (vertical zooms around the
// pointer, horizontal pans), drag, two-finger pinch, and the keyboard (+/− zoom, arrows pan,
// 0/Home resets). Shared by the explorer's number line and /compare.
import { eventToElementCoordinates } from "../lib/canvas.js";
import { hideTip } from "../lib/tooltip.js";

/**
 * attachPanZoom(canvas, {zoomAt(x, factor), panBy(dx), reset(), width(), hover(event, point),
 * leave(), tap(point)}). `hover` runs on pointer moves that are not drags, `tap` on a click
 * without movement. Returns a detach function.
 */
export function attachPanZoom(canvas, handlers) {
  const { zoomAt, panBy, reset, width } = handlers;
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
  const onKey = (e) => {
    const mid = width() / 2;
    if (e.key === "+" || e.key === "=") zoomAt(mid, 1.5);
    else if (e.key === "-" || e.key === "_") zoomAt(mid, 1 / 1.5);
    else if (e.key === "ArrowLeft") panBy(width() * 0.1);
    else if (e.key === "ArrowRight") panBy(-width() * 0.1);
    else if (e.key === "0" || e.key === "Home") reset();
    else return;
    e.preventDefault();
  };

  canvas.addEventListener("wheel", onWheel, { passive: false });
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  canvas.addEventListener("pointerleave", onLeave);
  canvas.addEventListener("keydown", onKey);
  return () => {
    canvas.removeEventListener("wheel", onWheel);
    canvas.removeEventListener("pointerdown", onDown);
    canvas.removeEventListener("pointermove", onMove);
    canvas.removeEventListener("pointerup", onUp);
    canvas.removeEventListener("pointercancel", onUp);
    canvas.removeEventListener("pointerleave", onLeave);
    canvas.removeEventListener("keydown", onKey);
  };
}
