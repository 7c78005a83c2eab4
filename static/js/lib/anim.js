// Animation helpers. Frames are derived from time t (never incremental mutation), drawing
// happens at most once per animation frame, and loops pause when hidden or off-screen and do
// not run under prefers-reduced-motion, nor in an embed that is a static figure (controls=0:
// it has no pause button, so it must not move by itself; a playhead in its URL picks the frame).

export function prefersReducedMotion() {
  return matchMedia("(prefers-reduced-motion: reduce)").matches || document.body?.dataset.controls === "0";
}

/**
 * Coalesce redraw requests: `const redraw = createRedraw(draw); redraw(); redraw();`
 * calls draw() once, on the next animation frame.
 */
export function createRedraw(draw) {
  let queued = 0;
  return function request() {
    if (queued) return;
    queued = requestAnimationFrame((t) => {
      queued = 0;
      draw(t);
    });
  };
}

/**
 * A requestAnimationFrame loop calling frame(elapsedMs) while `el` is visible and the tab is
 * shown. `start()` returns false (and does nothing) under prefers-reduced-motion unless
 * `force` is set, so callers can jump straight to the final state.
 */
export function createLoop(el, frame) {
  let raf = 0;
  let running = false;
  let visible = true;
  let startT = null;
  let elapsedBefore = 0;

  const tick = (t) => {
    raf = 0;
    if (!running) return;
    if (startT === null) startT = t;
    const keep = frame(elapsedBefore + (t - startT));
    if (keep === false) {
      stop();
      return;
    }
    schedule();
  };
  const schedule = () => {
    if (running && visible && !document.hidden && !raf) raf = requestAnimationFrame(tick);
  };
  const pauseClock = () => {
    if (raf) cancelAnimationFrame(raf);
    raf = 0;
    if (startT !== null) {
      elapsedBefore += performance.now() - startT;
      startT = null;
    }
  };

  const io = new IntersectionObserver((entries) => {
    visible = entries.some((e) => e.isIntersecting);
    if (visible) schedule();
    else pauseClock();
  });
  if (el) io.observe(el);
  const onVis = () => (document.hidden ? pauseClock() : schedule());
  document.addEventListener("visibilitychange", onVis);

  function start({ force = false, from = 0 } = {}) {
    if (prefersReducedMotion() && !force) return false;
    elapsedBefore = from;
    startT = null;
    running = true;
    schedule();
    return true;
  }
  function stop() {
    running = false;
    pauseClock();
  }
  return {
    start,
    stop,
    get running() {
      return running;
    },
    destroy() {
      stop();
      io.disconnect();
      document.removeEventListener("visibilitychange", onVis);
    },
  };
}

/** Smooth step easing for tweens: 0 → 0, 1 → 1. */
export function easeInOut(x) {
  const t = Math.min(1, Math.max(0, x));
  return t * t * (3 - 2 * t);
}
