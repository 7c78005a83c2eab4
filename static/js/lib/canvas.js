// Canvas setup: the backing store is CSS size × devicePixelRatio, drawing in CSS pixels.

/** Size `canvas` to cssWidth × cssHeight CSS pixels and return its 2-D context scaled to them. */
export function setupCanvas(canvas, cssWidth, cssHeight) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(cssWidth * dpr));
  const hgt = Math.max(1, Math.round(cssHeight * dpr));
  if (canvas.width !== w || canvas.height !== hgt) {
    canvas.width = w;
    canvas.height = hgt;
  }
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** Pointer position in the element's own CSS-pixel coordinates. */
export function eventToElementCoordinates(event, el) {
  const r = el.getBoundingClientRect();
  return { x: event.clientX - r.left, y: event.clientY - r.top };
}

/** Call `cb(width)` now and whenever `el`'s content width changes. Returns a disconnect fn. */
export function onResize(el, cb) {
  let last = -1;
  const ro = new ResizeObserver(() => {
    const w = Math.floor(el.clientWidth);
    if (w !== last && w > 0) {
      last = w;
      cb(w);
    }
  });
  ro.observe(el);
  return () => ro.disconnect();
}
