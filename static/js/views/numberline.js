// A zoomable, pannable canvas number line of every representable finite value of a format.
//
// Performance (65,536 bf16 codes must pan smoothly): positions are precomputed once per scale
// in a sorted Float64Array; a frame binary-searches the visible window and then walks it one
// pixel column at a time (each step is another binary search), so a frame costs
// O(min(points, pixels) · log points) and never touches off-screen values. Requests to redraw
// are coalesced by createRedraw, so there is at most one draw per animation frame.
import { createLoop, createRedraw, easeInOut } from "../lib/anim.js";
import { onResize, setupCanvas } from "../lib/canvas.js";
import { classColor, cssVar, onThemeChange } from "../lib/colors.js";
import { h } from "../lib/dom.js";
import { fmtFull, fmtNum, fmtPow2 } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { attachPanZoom } from "./panzoom.js";

export const CLASS_INDEX = { zero: 0, subnormal: 1, normal: 2, inf: 3, nan: 4 };
export const CLASS_LIST = ["zero", "subnormal", "normal", "inf", "nan"];

// ---------- pure geometry ----------

/** Symmetric log₂: linear near 0 (|x| ≲ c), log₂|x| far from it, odd so negatives show. */
export function symlog(x, c) {
  return Math.sign(x) * Math.log2(1 + Math.abs(x) / c);
}

/** Inverse of symlog. */
export function symexp(t, c) {
  return Math.sign(t) * c * (2 ** Math.abs(t) - 1);
}

/** The transform for a scale: {fwd(x) -> t, inv(t) -> x}. */
export function makeTransform(scale, c) {
  if (scale === "log") return { fwd: (x) => symlog(x, c), inv: (t) => symexp(t, c) };
  return { fwd: (x) => x, inv: (t) => t };
}

/** First index i with arr[i] >= x (arr sorted ascending). */
export function lowerBound(arr, x) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the element of sorted `arr` nearest to x (-1 when empty). */
export function nearestIndex(arr, x) {
  if (!arr.length) return -1;
  const i = lowerBound(arr, x);
  if (i <= 0) return 0;
  if (i >= arr.length) return arr.length - 1;
  return x - arr[i - 1] <= arr[i] - x ? i - 1 : i;
}

/**
 * Pixel columns to draw for sorted positions T seen through the window [t0, t1] on `width`
 * pixels: [{x, i, n}] with the first index i in the column and the number n of values in it.
 * At most `width + 1` columns whatever the number of points (decimation).
 */
export function columns(T, t0, t1, width) {
  const out = [];
  const k = width / (t1 - t0);
  let i = lowerBound(T, t0);
  const end = lowerBound(T, t1 + 1e-12 * Math.abs(t1 - t0));
  while (i < end) {
    const x = Math.floor((T[i] - t0) * k);
    // first index whose column is > x
    const next = Math.max(i + 1, lowerBound(T, t0 + (x + 1) / k));
    const stop = Math.min(next, end);
    out.push({ x, i, n: stop - i });
    i = stop;
  }
  return out;
}

/** Prepare the sorted finite values of a /values payload: {values, T, codes, classes}. */
export function prepare(payload, num) {
  const n = payload.codes.length;
  const all = new Float64Array(n);
  const finite = [];
  for (let j = 0; j < n; j += 1) {
    all[j] = num(payload.values[j]);
    if (Number.isFinite(all[j])) finite.push(j);
  }
  const idx = Uint32Array.from(finite);
  // by value; −0 before +0 so that stepping down from +0 visits −0
  idx.sort((a, b) => all[a] - all[b] || (Object.is(all[a], -0) ? -1 : Object.is(all[b], -0) ? 1 : 0));
  const values = new Float64Array(idx.length);
  const codes = new Uint32Array(idx.length);
  const classes = new Uint8Array(idx.length);
  idx.forEach((j, k) => {
    values[k] = all[j];
    codes[k] = payload.codes[j];
    classes[k] = CLASS_INDEX[payload.classes[j]] ?? 2;
  });
  return { values, codes, classes };
}

/** A value for a tooltip: exact when short (e4m3's 0.013671875), else "≈" and 9 digits. */
export function tipValue(v) {
  const t = String(v);
  if (Object.is(v, -0)) return "−0";
  return t.length <= 14 && !t.includes("e") ? t.replace("-", "−") : `≈ ${fmtNum(v, 9)}`;
}

/** Smallest positive value (the symlog threshold). */
export function smallestPositive(values) {
  const i = lowerBound(values, Number.MIN_VALUE);
  return i < values.length ? values[i] : 1;
}

const SUP_NICE = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128];

/** Axis ticks for a window [t0, t1] of the given scale: [{t, label}]. */
export function axisTicks(scale, t0, t1, width, c) {
  const tr = makeTransform(scale, c);
  const target = Math.max(2, Math.floor(width / 78));
  if (scale === "log") {
    const ticks = [];
    const maxAbsT = Math.max(Math.abs(t0), Math.abs(t1));
    const kHi = Math.ceil(Math.log2(Math.max(tr.inv(maxAbsT), c)));
    // smallest |t| in window (0 when window straddles 0)
    const minAbsT = t0 <= 0 && t1 >= 0 ? 0 : Math.min(Math.abs(t0), Math.abs(t1));
    const kLo = Math.floor(Math.log2(Math.max(tr.inv(minAbsT), c)));
    const span = kHi - kLo;
    // both sides of zero may show: halve the budget
    const sides = t0 < 0 && t1 > 0 ? 2 : 1;
    const budget = Math.max(1, Math.floor(target / sides));
    if (span >= 2 || minAbsT === 0) {
      const step = SUP_NICE.find((s) => span / s <= budget) ?? Math.ceil(span / budget);
      if (t0 <= 0 && t1 >= 0) ticks.push({ t: 0, label: "0" });
      for (let k = Math.ceil(kLo / step) * step; k <= kHi; k += step) {
        const p = 2 ** k;
        const tp = tr.fwd(p);
        if (tp >= t0 && tp <= t1) ticks.push({ t: tp, label: fmtPow2(k) });
        if (-tp >= t0 && -tp <= t1) ticks.push({ t: -tp, label: `−${fmtPow2(k)}` });
      }
      if (ticks.length >= 2) return ticks.sort((a, b) => a.t - b.t);
    }
    // deep zoom inside a binade: the log is nearly linear there, so use linear value ticks
    const v0 = tr.inv(t0);
    const v1 = tr.inv(t1);
    return niceTicks(v0, v1, target).map((v) => ({ t: tr.fwd(v), label: fmtNum(v, 6) }));
  }
  return niceTicks(t0, t1, target).map((v) => ({ t: v, label: fmtNum(v, 6) }));
}

/** Clamp a view window to sane limits for the data extent. */
export function clampView(view, extent, scale) {
  let [t0, t1] = view;
  const full = extent[1] - extent[0] || 1;
  const pad = full * 0.05;
  const center = (t0 + t1) / 2;
  const minSpan = scale === "log" ? 1e-7 : Math.max(Math.abs(center) * 1e-10, 1e-300);
  let span = Math.min(Math.max(t1 - t0, minSpan), full + 2 * pad);
  let c = Math.min(Math.max(center, extent[0] - pad + span / 2), extent[1] + pad - span / 2);
  if (!Number.isFinite(c)) c = (extent[0] + extent[1]) / 2;
  if (!Number.isFinite(span)) span = full;
  t0 = c - span / 2;
  t1 = c + span / 2;
  return [t0, t1];
}

// ---------- the view ----------

const MARGIN = { left: 12, right: 12 };
const BAND = { top: 34, height: 56 };

/**
 * mount(el, state): state = {data: prepare(...), scale: "log"|"linear", view: [t0,t1]|null,
 * marker: {input, value, below, above, code} | null, current: code | null,
 * onPick(code), onView(view), label}.
 */
export function mount(el, state) {
  let s = { scale: "log", view: null, marker: null, current: null, ...state };
  let T = new Float64Array(0);
  let c = 1;
  let tr = makeTransform("log", 1);
  let extent = [0, 1];
  let width = 600;
  let height = 150;
  let hover = -1;
  let snap = { from: null, to: null, p: 1 };
  let ctx = null;
  let sized = [0, 0, 0];
  const stats = { draws: 0, lastDrawMs: 0, columns: 0 };

  const canvas = h("canvas", {
    class: "numberline-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": "Number line of every representable value. Drag or use arrow keys to pan, wheel or + and − to zoom.",
  });
  el.append(canvas);

  function rebuild() {
    const d = s.data;
    c = smallestPositive(d.values);
    tr = makeTransform(s.scale, c);
    T = new Float64Array(d.values.length);
    for (let i = 0; i < T.length; i += 1) T[i] = tr.fwd(d.values[i]);
    extent = T.length ? [T[0], T[T.length - 1]] : [0, 1];
    if (extent[0] === extent[1]) extent = [extent[0] - 1, extent[1] + 1];
  }

  function fullView() {
    const full = extent[1] - extent[0];
    return [extent[0] - full * 0.03, extent[1] + full * 0.03];
  }

  function view() {
    if (!s.view) s.view = fullView();
    return s.view;
  }

  const xOf = (t) => {
    const [t0, t1] = view();
    return MARGIN.left + ((t - t0) / (t1 - t0)) * (width - MARGIN.left - MARGIN.right);
  };
  const tOf = (x) => {
    const [t0, t1] = view();
    return t0 + ((x - MARGIN.left) / (width - MARGIN.left - MARGIN.right)) * (t1 - t0);
  };

  function draw() {
    const start = performance.now();
    stats.draws += 1;
    // resize the backing store only when the size changes: touching canvas styles every frame
    // would cost a style recalculation per frame
    if (!ctx || sized[0] !== width || sized[1] !== height || sized[2] !== devicePixelRatio) {
      ctx = setupCanvas(canvas, width, height);
      sized = [width, height, devicePixelRatio];
    }
    const [t0, t1] = view();
    const plotW = width - MARGIN.left - MARGIN.right;
    const surface = cssVar("--surface");
    const border = cssVar("--border");
    const muted = cssVar("--muted");
    const text = cssVar("--text");
    const accent = cssVar("--accent");
    ctx.fillStyle = surface;
    ctx.fillRect(0, 0, width, height);
    const bandY = BAND.top;
    const bandH = BAND.height;
    const axisY = bandY + bandH + 6;

    // rounding interval [below, above]
    const m = s.marker;
    if (m && Number.isFinite(m.input)) {
      const lo = Number.isFinite(m.below) ? m.below : m.input;
      const hi = Number.isFinite(m.above) ? m.above : m.input;
      let xa = xOf(tr.fwd(lo));
      let xb = xOf(tr.fwd(hi));
      if (xb - xa < 3) {
        const mid = (xa + xb) / 2;
        xa = mid - 1.5;
        xb = mid + 1.5;
      }
      ctx.fillStyle = accent;
      ctx.globalAlpha = 0.13;
      ctx.fillRect(xa, bandY - 10, xb - xa, bandH + 10);
      ctx.globalAlpha = 0.7;
      ctx.fillRect(xa, bandY - 10, 1, bandH + 10);
      ctx.fillRect(xb - 1, bandY - 10, 1, bandH + 10);
      ctx.globalAlpha = 1;
      // name the interval's ends once there is room for them
      if (xb - xa > 150 && Number.isFinite(m.below) && Number.isFinite(m.above)) {
        ctx.font = `10px ${cssVar("--mono")}`;
        ctx.textBaseline = "top";
        ctx.textAlign = "left";
        const tag = (text, x, right) => {
          const w = ctx.measureText(text).width + 6;
          const bx = right ? x - w : x;
          ctx.fillStyle = surface;
          ctx.fillRect(bx, bandY + 3, w, 13);
          ctx.fillStyle = accent;
          ctx.fillText(text, bx + 3, bandY + 4);
        };
        tag(`below ${fmtNum(m.below, 6)}`, Math.max(xa + 3, 2), false);
        tag(`above ${fmtNum(m.above, 6)}`, Math.min(xb - 3, width - 2), true);
      }
    }

    // value ticks, one per pixel column (decimated); the tick height shows density
    const cols = columns(T, t0, t1, plotW);
    stats.columns = cols.length;
    let maxN = 1;
    for (const col of cols) if (col.n > maxN) maxN = col.n;
    // axis-aligned fillRects on whole pixels: no path building and no anti-aliasing work,
    // which matters with a software rasteriser and ~1,000 columns per frame
    const dense = maxN > 1;
    const logMax = Math.log2(maxN + 1);
    const cls = s.data.classes;
    const tickW = dense ? 1 : 2;
    ["zero", "subnormal", "normal"].forEach((name, k) => {
      ctx.fillStyle = classColor(name);
      for (const col of cols) {
        if (Math.min(2, cls[col.i]) !== k) continue;
        const hh = Math.round(bandH * (dense ? 0.35 + (0.65 * Math.log2(col.n + 1)) / logMax : 1));
        ctx.fillRect(MARGIN.left + col.x, bandY + bandH - hh, tickW, hh);
      }
    });

    // axis
    ctx.fillStyle = border;
    ctx.fillRect(MARGIN.left, axisY, plotW, 1);
    ctx.font = `11px ${cssVar("--mono")}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    let lastRight = -Infinity;
    // a format without zero or negatives (E8M0) gets no "0" tick and a plain log₂ axis label
    const positiveOnly = Boolean(s.positiveOnly);
    for (const tick of axisTicks(s.scale, t0, t1, plotW, c)) {
      if (positiveOnly && s.scale === "log" && tick.t <= 0) continue;
      const x = xOf(tick.t);
      if (x < MARGIN.left - 0.5 || x > width - MARGIN.right + 0.5) continue;
      ctx.fillStyle = border;
      ctx.fillRect(Math.round(x), axisY, 1, 5);
      const wLabel = ctx.measureText(tick.label).width;
      const lx = Math.min(Math.max(x, wLabel / 2 + 2), width - wLabel / 2 - 2);
      if (lx - wLabel / 2 < lastRight + 6) continue;
      ctx.fillStyle = muted;
      ctx.fillText(tick.label, lx, axisY + 7);
      lastRight = lx + wLabel / 2;
    }
    ctx.font = `11px ${cssVar("--font")}`;
    ctx.fillStyle = muted;
    ctx.textAlign = "left";
    const unit = s.scale !== "log" ? "value (linear)"
      : positiveOnly ? "value (log₂ scale; positive values only, no zero)"
      : `value (symmetric log₂; linear within ±${fmtNum(c)})`;
    ctx.fillText(unit, MARGIN.left, axisY + 24);
    const [iv0, iv1] = [lowerBound(T, t0), lowerBound(T, t1)];
    const count = `${(iv1 - iv0).toLocaleString("en-US")} of ${T.length.toLocaleString("en-US")} values in view`;
    const fits = ctx.measureText(unit).width + ctx.measureText(count).width + 24 < width - MARGIN.left - MARGIN.right;
    ctx.textAlign = fits ? "right" : "left";
    ctx.fillText(count, fits ? width - MARGIN.right : MARGIN.left, fits ? axisY + 24 : axisY + 38);

    // current value and the animated snap from the input to it
    if (m && Number.isFinite(m.value)) {
      const xv = xOf(tr.fwd(m.value));
      const xi = Number.isFinite(m.input) ? xOf(tr.fwd(m.input)) : xv;
      if (Number.isFinite(m.input)) {
        ctx.strokeStyle = muted;
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        ctx.moveTo(xi + 0.5, 14);
        ctx.lineTo(xi + 0.5, bandY + bandH);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      const p = easeInOut(snap.p);
      const xs = xi + (xv - xi) * p;
      ctx.strokeStyle = text;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(xv, bandY - 4);
      ctx.lineTo(xv, bandY + bandH);
      ctx.stroke();
      ctx.lineWidth = 1;
      ctx.fillStyle = accent;
      ctx.beginPath();
      ctx.arc(xs, bandY - 12, 5, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = text;
      ctx.font = `600 11px ${cssVar("--mono")}`;
      ctx.textBaseline = "top";
      // exact when short: bf16's tie 1.00390625 must not read "1.00391"
      const mk = (x) => (String(x).length <= 11 && !String(x).includes("e") ? fmtFull(x) : fmtNum(x, 6));
      let label = Number.isFinite(m.input) && m.input !== m.value ? `${mk(m.input)} → ${mk(m.value)}` : mk(m.value);
      // float32 0.1 → 0.100000001: never "0.1 → 0.1"
      if (Number.isFinite(m.input) && m.input !== m.value && mk(m.input) === mk(m.value)) label = `${fmtFull(m.input)} → ${fmtNum(m.value, 10)}`;
      const lw = ctx.measureText(label).width;
      ctx.textAlign = "left";
      ctx.fillText(label, Math.min(Math.max(xv - lw / 2, 2), width - lw - 2), 2);
    } else if (m && Number.isFinite(m.input)) {
      // the input rounded to NaN or ±∞: no point on the line, so mark the input and say so
      const xi = xOf(tr.fwd(m.input));
      ctx.strokeStyle = cssVar("--danger");
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(xi + 0.5, 14);
      ctx.lineTo(xi + 0.5, bandY + bandH);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = cssVar("--danger");
      ctx.font = `600 11px ${cssVar("--mono")}`;
      ctx.textBaseline = "top";
      ctx.textAlign = "left";
      const v = m.value;
      const label = `${fmtNum(m.input, 6)} → ${Number.isNaN(v) ? "NaN" : v > 0 ? "+∞" : "−∞"} (off the line)`;
      const lw = ctx.measureText(label).width;
      ctx.fillText(label, Math.min(Math.max(xi - lw / 2, 2), width - lw - 2), 2);
    }

    // hover ring
    if (hover >= 0 && hover < T.length) {
      const x = xOf(T[hover]);
      ctx.strokeStyle = accent;
      ctx.lineWidth = 2;
      ctx.strokeRect(x - 3, bandY - 2, 6, bandH + 4);
      ctx.lineWidth = 1;
    }
    stats.lastDrawMs = performance.now() - start;
  }

  const redraw = createRedraw(draw);

  // ---- snap animation ----
  const loop = createLoop(canvas, (ms) => {
    snap.p = Math.min(1, ms / 700);
    redraw();
    return snap.p < 1;
  });

  // ---- interaction ----
  function setView(v, notify = true) {
    s.view = clampView(v, extent, s.scale);
    redraw();
    if (notify && s.onView) s.onView(s.view);
  }
  function zoomAt(x, factor) {
    const [t0, t1] = view();
    const t = tOf(x);
    setView([t - (t - t0) / factor, t + (t1 - t) / factor]);
  }
  function panBy(dx) {
    const [t0, t1] = view();
    const dt = (dx / (width - MARGIN.left - MARGIN.right)) * (t1 - t0);
    setView([t0 - dt, t1 - dt]);
  }

  const nearestOnScreen = (x) => {
    const i = nearestIndex(T, tOf(x));
    return i >= 0 && Math.abs(xOf(T[i]) - x) <= 24 ? i : -1;
  };
  const setHover = (i) => {
    if (i !== hover) {
      hover = i;
      redraw();
    }
  };
  const detach = attachPanZoom(canvas, {
    zoomAt,
    panBy,
    reset: () => setView(fullView()),
    width: () => width,
    hover(e, p) {
      const i = nearestOnScreen(p.x);
      setHover(i);
      if (i < 0) {
        hideTip();
        return;
      }
      const d = s.data;
      const bits = s.bits || 8;
      const hx = (c) => `0x${c.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), "0")} (${c})`;
      // +0 and −0 share one tick: name both codes
      const zeros = [i];
      if (d.values[i] === 0) {
        zeros.length = 0;
        for (let j = lowerBound(d.values, 0); j < d.values.length && d.values[j] === 0; j += 1) zeros.push(j);
      }
      showTip(e, [
        zeros.length > 1 ? "±0" : tipValue(d.values[i]),
        ["code", zeros.map((j) => hx(d.codes[j])).join(", ")],
        ["class", CLASS_LIST[d.classes[i]]],
        s.onPick ? "click to select" : "",
      ].filter(Boolean));
    },
    leave: () => setHover(-1),
    tap(p) {
      const i = nearestOnScreen(p.x);
      if (i >= 0 && s.onPick) s.onPick(s.data.codes[i]);
    },
  });

  const offResize = onResize(el, (w) => {
    width = Math.max(200, w);
    height = width < 560 ? 160 : 150;
    redraw();
  });
  const offTheme = onThemeChange(() => redraw());

  rebuild();
  if (s.view) s.view = clampView(s.view, extent, s.scale);
  redraw();

  return {
    canvas,
    stats,
    update(next) {
      const prevScale = s.scale;
      const prevData = s.data;
      const prevMarker = s.marker;
      s = { ...s, ...next };
      if (s.data !== prevData || s.scale !== prevScale) {
        rebuild();
        if (s.scale !== prevScale && !("view" in next)) s.view = null;
        if (s.view) s.view = clampView(s.view, extent, s.scale);
      }
      const m = s.marker;
      if (m && (!prevMarker || prevMarker.value !== m.value || prevMarker.input !== m.input)) {
        snap = { p: 0 };
        if (next.animate === false || !loop.start()) snap.p = 1;
        // keep the chosen value on screen when it changes; not for the first marker after
        // mount, whose view came from the URL (a shared zoom must reload as it was shared)
        if (prevMarker && Number.isFinite(m.value)) {
          const t = tr.fwd(m.value);
          const [t0, t1] = view();
          if (t < t0 || t > t1) {
            const span = t1 - t0;
            setView([t - span / 2, t + span / 2]);
          }
        }
      }
      redraw();
    },
    zoomIn: () => zoomAt(MARGIN.left + (width - MARGIN.left - MARGIN.right) / 2, 1.5),
    zoomOut: () => zoomAt(MARGIN.left + (width - MARGIN.left - MARGIN.right) / 2, 1 / 1.5),
    reset: () => setView(fullView()),
    /** Zoom so that the value (and its rounding interval) fills about a third of the width. */
    focus(value, lo, hi) {
      if (!Number.isFinite(value)) return;
      const t = tr.fwd(value);
      let a = Number.isFinite(lo) ? tr.fwd(lo) : t;
      let b = Number.isFinite(hi) ? tr.fwd(hi) : t;
      if (!(b > a)) {
        const i = nearestIndex(T, t);
        a = T[Math.max(0, i - 2)];
        b = T[Math.min(T.length - 1, i + 2)];
      }
      const span = Math.max((b - a) * 3, 1e-9);
      setView([t - span / 2, t + span / 2]);
    },
    panBy,
    setView,
    get view() {
      return view();
    },
    toSvg: () => exportSvg(s, T, view(), tr, c, width),
    destroy() {
      loop.destroy();
      detach();
      offResize();
      offTheme();
      canvas.remove();
    },
  };
}

/** A static SVG of the visible number line (for "Download SVG"). */
function exportSvg(s, T, [t0, t1], tr, c, width) {
  const NS = "http://www.w3.org/2000/svg";
  const W = Math.max(400, width);
  const H = 130;
  const el = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const root = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, "font-family": "monospace", "font-size": 11 });
  const plotW = W - 24;
  const xOf = (t) => 12 + ((t - t0) / (t1 - t0)) * plotW;
  const cols = columns(T, t0, t1, plotW);
  const byClass = [[], [], []];
  for (const col of cols) byClass[Math.min(2, s.data.classes[col.i])].push(`M${(12 + col.x).toFixed(1)} 30v46`);
  ["zero", "subnormal", "normal"].forEach((name, k) => {
    if (byClass[k].length) root.append(el("path", { d: byClass[k].join(""), stroke: classColor(name), "stroke-width": 1 }));
  });
  root.append(el("line", { x1: 12, x2: 12 + plotW, y1: 82, y2: 82, stroke: cssVar("--border") }));
  for (const tick of axisTicks(s.scale, t0, t1, plotW, c)) {
    const x = xOf(tick.t);
    root.append(el("line", { x1: x, x2: x, y1: 82, y2: 87, stroke: cssVar("--border") }));
    root.append(el("text", { x, y: 100, "text-anchor": "middle", fill: cssVar("--muted") }, tick.label));
  }
  const m = s.marker;
  if (m && Number.isFinite(m.value)) {
    const x = xOf(tr.fwd(m.value));
    root.append(el("line", { x1: x, x2: x, y1: 24, y2: 76, stroke: cssVar("--text"), "stroke-width": 2 }));
    root.append(el("text", { x, y: 16, "text-anchor": "middle", fill: cssVar("--text") }, fmtNum(m.value, 6)));
  }
  root.append(el("text", { x: 12, y: 122, fill: cssVar("--muted") }, `${s.label || "values"} · ${s.scale === "log" ? "symmetric log₂ scale" : "linear scale"}`));
  return root;
}
