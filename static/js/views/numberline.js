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
import { h, svg } from "../lib/dom.js";
import { fmtFull, fmtNum, fmtPow2 } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { attachPanZoom } from "./panzoom.js";

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

/** Prepare the sorted finite values of a /values payload: {values, codes, classes}, where
 * classes[i] is the API's class of values[i] ("zero", "subnormal", "normal"). */
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
  const classes = new Array(idx.length);
  idx.forEach((j, k) => {
    values[k] = all[j];
    codes[k] = payload.codes[j];
    classes[k] = payload.classes[j];
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

// ---------- drawing steps (each takes the frame's geometry) ----------

const MARGIN = { left: 12, right: 12 };
const BAND = { top: 34, height: 56 };

/** Where things go in one frame: the window [t0, t1], the band and axis rows, x of a t. */
function frameGeometry(width, height, [t0, t1], tr, c) {
  const plotW = width - MARGIN.left - MARGIN.right;
  const bandY = BAND.top;
  const bandH = BAND.height;
  return {
    width, height, t0, t1, tr, c, plotW, bandY, bandH,
    axisY: bandY + bandH + 6,
    xOf: (t) => MARGIN.left + ((t - t0) / (t1 - t0)) * plotW,
  };
}

function themeColors() {
  return {
    surface: cssVar("--surface"), border: cssVar("--border"), muted: cssVar("--muted"),
    text: cssVar("--text"), accent: cssVar("--accent"), danger: cssVar("--danger"),
    mono: cssVar("--mono"), font: cssVar("--font"),
  };
}

/** The rounding interval [below, above] as a shaded band, its ends named when they fit. */
function drawInterval(ctx, g, m, col) {
  const lo = Number.isFinite(m.below) ? m.below : m.input;
  const hi = Number.isFinite(m.above) ? m.above : m.input;
  let xa = g.xOf(g.tr.fwd(lo));
  let xb = g.xOf(g.tr.fwd(hi));
  if (xb - xa < 3) {
    const mid = (xa + xb) / 2;
    xa = mid - 1.5;
    xb = mid + 1.5;
  }
  ctx.fillStyle = col.accent;
  ctx.globalAlpha = 0.13;
  ctx.fillRect(xa, g.bandY - 10, xb - xa, g.bandH + 10);
  ctx.globalAlpha = 0.7;
  ctx.fillRect(xa, g.bandY - 10, 1, g.bandH + 10);
  ctx.fillRect(xb - 1, g.bandY - 10, 1, g.bandH + 10);
  ctx.globalAlpha = 1;
  if (xb - xa <= 150 || !Number.isFinite(m.below) || !Number.isFinite(m.above)) return;
  ctx.font = `10px ${col.mono}`;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  const tag = (label, x, right) => {
    const w = ctx.measureText(label).width + 6;
    const bx = right ? x - w : x;
    ctx.fillStyle = col.surface;
    ctx.fillRect(bx, g.bandY + 3, w, 13);
    ctx.fillStyle = col.accent;
    ctx.fillText(label, bx + 3, g.bandY + 4);
  };
  tag(`below ${fmtNum(m.below, 6)}`, Math.max(xa + 3, 2), false);
  tag(`above ${fmtNum(m.above, 6)}`, Math.min(xb - 3, g.width - 2), true);
}

/**
 * Value ticks, one per pixel column (decimated), coloured by the API's class; the tick
 * height shows how many values share the column. Axis-aligned fillRects on whole pixels: no
 * path building and no anti-aliasing work, which matters with a software rasteriser and
 * ~1,000 columns per frame. Returns the number of columns drawn.
 */
function drawTicks(ctx, g, T, classes) {
  const cols = columns(T, g.t0, g.t1, g.plotW);
  let maxN = 1;
  for (const col of cols) if (col.n > maxN) maxN = col.n;
  const dense = maxN > 1;
  const logMax = Math.log2(maxN + 1);
  const tickW = dense ? 1 : 2;
  const byClass = new Map();
  for (const col of cols) {
    const cls = classes[col.i];
    if (!byClass.has(cls)) byClass.set(cls, []);
    byClass.get(cls).push(col);
  }
  for (const [cls, group] of byClass) {
    ctx.fillStyle = classColor(cls);
    for (const col of group) {
      const hh = Math.round(g.bandH * (dense ? 0.35 + (0.65 * Math.log2(col.n + 1)) / logMax : 1));
      ctx.fillRect(MARGIN.left + col.x, g.bandY + g.bandH - hh, tickW, hh);
    }
  }
  return cols.length;
}

/** The axis: ticks, labels that do not collide, the scale's name and the count in view
 * (returned). */
function drawAxis(ctx, g, s, T, col) {
  ctx.fillStyle = col.border;
  ctx.fillRect(MARGIN.left, g.axisY, g.plotW, 1);
  ctx.font = `11px ${col.mono}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let lastRight = -Infinity;
  // a format without zero or negatives (E8M0) gets no "0" tick and a plain log₂ axis label
  const positiveOnly = Boolean(s.positiveOnly);
  for (const tick of axisTicks(s.scale, g.t0, g.t1, g.plotW, g.c)) {
    if (positiveOnly && s.scale === "log" && tick.t <= 0) continue;
    const x = g.xOf(tick.t);
    if (x < MARGIN.left - 0.5 || x > g.width - MARGIN.right + 0.5) continue;
    ctx.fillStyle = col.border;
    ctx.fillRect(Math.round(x), g.axisY, 1, 5);
    const wLabel = ctx.measureText(tick.label).width;
    const lx = Math.min(Math.max(x, wLabel / 2 + 2), g.width - wLabel / 2 - 2);
    if (lx - wLabel / 2 < lastRight + 6) continue;
    ctx.fillStyle = col.muted;
    ctx.fillText(tick.label, lx, g.axisY + 7);
    lastRight = lx + wLabel / 2;
  }
  ctx.font = `11px ${col.font}`;
  ctx.fillStyle = col.muted;
  ctx.textAlign = "left";
  const unit = s.scale !== "log" ? "value (linear)"
    : positiveOnly ? "value (log₂ scale; positive values only, no zero)"
    : `value (symmetric log₂; linear within ±${fmtNum(g.c)})`;
  ctx.fillText(unit, MARGIN.left, g.axisY + 24);
  const inView = lowerBound(T, g.t1) - lowerBound(T, g.t0);
  const count = `${inView.toLocaleString("en-US")} of ${T.length.toLocaleString("en-US")} values in view`;
  const fits = ctx.measureText(unit).width + ctx.measureText(count).width + 24 < g.plotW;
  ctx.textAlign = fits ? "right" : "left";
  ctx.fillText(count, fits ? g.width - MARGIN.right : MARGIN.left, fits ? g.axisY + 24 : g.axisY + 38);
  return inView;
}

/** A value's label: exact when short (bf16's tie 1.00390625 must not read "1.00391"). */
const markLabel = (x) => (String(x).length <= 11 && !String(x).includes("e") ? fmtFull(x) : fmtNum(x, 6));

/** The chosen value, the input it came from, and the dot that snaps from one to the other. */
function drawMarker(ctx, g, m, snapP, col) {
  const xv = g.xOf(g.tr.fwd(m.value));
  const hasInput = Number.isFinite(m.input);
  const xi = hasInput ? g.xOf(g.tr.fwd(m.input)) : xv;
  if (hasInput) dashedLine(ctx, xi, 14, g.bandY + g.bandH, col.muted);
  ctx.strokeStyle = col.text;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(xv, g.bandY - 4);
  ctx.lineTo(xv, g.bandY + g.bandH);
  ctx.stroke();
  ctx.lineWidth = 1;
  ctx.fillStyle = col.accent;
  ctx.beginPath();
  ctx.arc(xi + (xv - xi) * easeInOut(snapP), g.bandY - 12, 5, 0, Math.PI * 2);
  ctx.fill();
  let label = hasInput && m.input !== m.value ? `${markLabel(m.input)} → ${markLabel(m.value)}` : markLabel(m.value);
  // float32 0.1 → 0.100000001: never "0.1 → 0.1"
  if (hasInput && m.input !== m.value && markLabel(m.input) === markLabel(m.value)) label = `${fmtFull(m.input)} → ${fmtNum(m.value, 10)}`;
  topLabel(ctx, g, label, xv, col.text, col);
}

/** The input rounded to NaN or ±∞: no point on the line, so mark the input and say so. */
function drawOffLine(ctx, g, m, col) {
  const xi = g.xOf(g.tr.fwd(m.input));
  dashedLine(ctx, xi, 14, g.bandY + g.bandH, col.danger);
  const v = m.value;
  topLabel(ctx, g, `${fmtNum(m.input, 6)} → ${Number.isNaN(v) ? "NaN" : v > 0 ? "+∞" : "−∞"} (off the line)`, xi, col.danger, col);
}

function dashedLine(ctx, x, y0, y1, color) {
  ctx.strokeStyle = color;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(x + 0.5, y0);
  ctx.lineTo(x + 0.5, y1);
  ctx.stroke();
  ctx.setLineDash([]);
}

function topLabel(ctx, g, label, x, color, col) {
  ctx.fillStyle = color;
  ctx.font = `600 11px ${col.mono}`;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  const lw = ctx.measureText(label).width;
  ctx.fillText(label, Math.min(Math.max(x - lw / 2, 2), g.width - lw - 2), 2);
}

/** One frame: background, interval, ticks, axis, marker, hover ring. Returns what it drew:
 * {columns, inView} (tick columns, values in the window). */
function drawFrame(ctx, g, s, hover, snapP) {
  const T = g.T;
  const col = themeColors();
  ctx.fillStyle = col.surface;
  ctx.fillRect(0, 0, g.width, g.height);
  const m = s.marker;
  if (m && Number.isFinite(m.input)) drawInterval(ctx, g, m, col);
  const columnsDrawn = drawTicks(ctx, g, T, s.data.classes);
  const inView = drawAxis(ctx, g, s, T, col);
  if (m && Number.isFinite(m.value)) drawMarker(ctx, g, m, snapP, col);
  else if (m && Number.isFinite(m.input)) drawOffLine(ctx, g, m, col);
  if (hover >= 0 && hover < T.length) {
    ctx.strokeStyle = col.accent;
    ctx.lineWidth = 2;
    ctx.strokeRect(g.xOf(T[hover]) - 3, g.bandY - 2, 6, g.bandH + 4);
    ctx.lineWidth = 1;
  }
  return { columns: columnsDrawn, inView };
}

// ---------- the view ----------

/** Tooltip lines for the value at sorted index i (+0 and −0 share one tick: name both). */
function tipLines(d, i, bits, pickable) {
  const hx = (code) => `0x${code.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), "0")} (${code})`;
  const same = [i];
  if (d.values[i] === 0) {
    same.length = 0;
    for (let j = lowerBound(d.values, 0); j < d.values.length && d.values[j] === 0; j += 1) same.push(j);
  }
  return [
    same.length > 1 ? "±0" : tipValue(d.values[i]),
    ["code", same.map((j) => hx(d.codes[j])).join(", ")],
    ["class", d.classes[i]],
    pickable ? "click to select" : "",
  ].filter(Boolean);
}

/**
 * The number line's state and its named steps: positions (`rebuild`), the window (`view`,
 * `setView`, `zoomAt`, `panBy`), a frame (`draw`), pointer input (`hoverAt`, `tapAt`) and
 * state changes (`update`).
 */
class NumberLine {
  constructor(el, state) {
    this.s = { scale: "log", view: null, marker: null, current: null, ...state };
    this.T = new Float64Array(0);
    this.c = 1;
    this.tr = makeTransform("log", 1);
    this.extent = [0, 1];
    this.width = 600;
    this.height = 150;
    this.hover = -1;
    this.snap = 1;
    this.ctx = null;
    this.sized = [0, 0, 0];
    // what the last frame drew: tick columns, values in the window, values on the line
    this.stats = { draws: 0, lastDrawMs: 0, columns: 0, inView: 0, values: 0 };
    this.canvas = h("canvas", {
      class: "numberline-canvas",
      tabindex: "0",
      role: "img",
      "aria-label": "Number line of every representable value. Drag or use arrow keys to pan, wheel or + and − to zoom.",
    });
    el.append(this.canvas);
    this.redraw = createRedraw(() => this.draw());
    // the dot's snap from the input to the chosen value, derived from elapsed time
    this.loop = createLoop(this.canvas, (ms) => {
      this.snap = Math.min(1, ms / 700);
      this.redraw();
      return this.snap < 1;
    });
  }

  /** Positions of every value under the current scale (once per data or scale change). */
  rebuild() {
    const d = this.s.data;
    this.c = smallestPositive(d.values);
    this.tr = makeTransform(this.s.scale, this.c);
    this.T = new Float64Array(d.values.length);
    for (let i = 0; i < this.T.length; i += 1) this.T[i] = this.tr.fwd(d.values[i]);
    this.extent = this.T.length ? [this.T[0], this.T[this.T.length - 1]] : [0, 1];
    if (this.extent[0] === this.extent[1]) this.extent = [this.extent[0] - 1, this.extent[1] + 1];
  }

  fullView() {
    const full = this.extent[1] - this.extent[0];
    return [this.extent[0] - full * 0.03, this.extent[1] + full * 0.03];
  }

  view() {
    if (!this.s.view) this.s.view = this.fullView();
    return this.s.view;
  }

  tOf(x) {
    const [t0, t1] = this.view();
    return t0 + ((x - MARGIN.left) / (this.width - MARGIN.left - MARGIN.right)) * (t1 - t0);
  }

  geometry() {
    return { ...frameGeometry(this.width, this.height, this.view(), this.tr, this.c), T: this.T };
  }

  draw() {
    const start = performance.now();
    this.stats.draws += 1;
    // resize the backing store only when the size changes: touching canvas styles every
    // frame would cost a style recalculation per frame
    const want = [this.width, this.height, devicePixelRatio];
    if (!this.ctx || want.some((v, i) => v !== this.sized[i])) {
      this.ctx = setupCanvas(this.canvas, this.width, this.height);
      this.sized = want;
    }
    const drawn = drawFrame(this.ctx, this.geometry(), this.s, this.hover, this.snap);
    Object.assign(this.stats, drawn, { values: this.T.length });
    this.stats.lastDrawMs = performance.now() - start;
  }

  setView(v, notify = true) {
    this.s.view = clampView(v, this.extent, this.s.scale);
    this.redraw();
    if (notify && this.s.onView) this.s.onView(this.s.view);
  }

  zoomAt(x, factor) {
    const [t0, t1] = this.view();
    const t = this.tOf(x);
    this.setView([t - (t - t0) / factor, t + (t1 - t) / factor]);
  }

  panBy(dx) {
    const [t0, t1] = this.view();
    const dt = (dx / (this.width - MARGIN.left - MARGIN.right)) * (t1 - t0);
    this.setView([t0 - dt, t1 - dt]);
  }

  zoomCentre(factor) {
    this.zoomAt(MARGIN.left + (this.width - MARGIN.left - MARGIN.right) / 2, factor);
  }

  /** Sorted index of the value nearest to pixel x, or −1 when none is within 24 px. */
  nearestOnScreen(x) {
    const i = nearestIndex(this.T, this.tOf(x));
    const g = this.geometry();
    return i >= 0 && Math.abs(g.xOf(this.T[i]) - x) <= 24 ? i : -1;
  }

  hoverAt(e, p) {
    const i = this.nearestOnScreen(p.x);
    if (i !== this.hover) {
      this.hover = i;
      this.redraw();
    }
    if (i < 0) hideTip();
    else showTip(e, tipLines(this.s.data, i, this.s.bits || 8, Boolean(this.s.onPick)));
  }

  tapAt(p) {
    const i = this.nearestOnScreen(p.x);
    if (i >= 0 && this.s.onPick) this.s.onPick(this.s.data.codes[i]);
  }

  /** Keep the chosen value on screen when it changes (not for the first marker after mount,
   * whose view came from the URL: a shared zoom must reload as it was shared). */
  follow(m) {
    const t = this.tr.fwd(m.value);
    const [t0, t1] = this.view();
    if (t < t0 || t > t1) this.setView([t - (t1 - t0) / 2, t + (t1 - t0) / 2]);
  }

  update(next) {
    const prev = this.s;
    this.s = { ...prev, ...next };
    if (this.s.data !== prev.data || this.s.scale !== prev.scale) {
      this.rebuild();
      if (this.s.scale !== prev.scale && !("view" in next)) this.s.view = null;
      if (this.s.view) this.s.view = clampView(this.s.view, this.extent, this.s.scale);
    }
    const m = this.s.marker;
    const moved = m && (!prev.marker || prev.marker.value !== m.value || prev.marker.input !== m.input);
    if (moved) {
      this.snap = 0;
      if (next.animate === false || !this.loop.start()) this.snap = 1;
      if (prev.marker && Number.isFinite(m.value)) this.follow(m);
    }
    this.redraw();
  }

  /** Zoom so that the value (and its rounding interval) fills about a third of the width. */
  focus(value, lo, hi) {
    if (!Number.isFinite(value)) return;
    const t = this.tr.fwd(value);
    let a = Number.isFinite(lo) ? this.tr.fwd(lo) : t;
    let b = Number.isFinite(hi) ? this.tr.fwd(hi) : t;
    if (!(b > a)) {
      const i = nearestIndex(this.T, t);
      a = this.T[Math.max(0, i - 2)];
      b = this.T[Math.min(this.T.length - 1, i + 2)];
    }
    const span = Math.max((b - a) * 3, 1e-9);
    this.setView([t - span / 2, t + span / 2]);
  }
}

/**
 * mount(el, state): state = {data: prepare(...), scale: "log"|"linear", view: [t0,t1]|null,
 * marker: {input, value, below, above} | null, onPick(code), onView(view), label, bits,
 * positiveOnly}.
 */
export function mount(el, state) {
  const nl = new NumberLine(el, state);
  const detach = attachPanZoom(nl.canvas, {
    zoomAt: (x, f) => nl.zoomAt(x, f),
    panBy: (dx) => nl.panBy(dx),
    reset: () => nl.setView(nl.fullView()),
    width: () => nl.width,
    hover: (e, p) => nl.hoverAt(e, p),
    leave: () => {
      if (nl.hover !== -1) {
        nl.hover = -1;
        nl.redraw();
      }
    },
    tap: (p) => nl.tapAt(p),
  });
  const offResize = onResize(el, (w) => {
    nl.width = Math.max(200, w);
    nl.height = nl.width < 560 ? 160 : 150;
    nl.redraw();
  });
  const offTheme = onThemeChange(() => nl.redraw());
  nl.rebuild();
  if (nl.s.view) nl.s.view = clampView(nl.s.view, nl.extent, nl.s.scale);
  nl.redraw();

  return {
    canvas: nl.canvas,
    stats: nl.stats,
    update: (next) => nl.update(next),
    zoomIn: () => nl.zoomCentre(1.5),
    zoomOut: () => nl.zoomCentre(1 / 1.5),
    reset: () => nl.setView(nl.fullView()),
    focus: (value, lo, hi) => nl.focus(value, lo, hi),
    panBy: (dx) => nl.panBy(dx),
    setView: (v, notify) => nl.setView(v, notify),
    get view() {
      return nl.view();
    },
    toSvg: () => exportSvg(nl.s, nl.T, nl.view(), nl.tr, nl.c, nl.width),
    destroy() {
      nl.loop.destroy();
      detach();
      offResize();
      offTheme();
      nl.canvas.remove();
    },
  };
}

/** A static SVG of the visible number line (for "Download SVG"). */
function exportSvg(s, T, [t0, t1], tr, c, width) {
  const W = Math.max(400, width);
  const H = 130;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, "font-family": "monospace", "font-size": 11 });
  const plotW = W - 24;
  const xOf = (t) => 12 + ((t - t0) / (t1 - t0)) * plotW;
  const byClass = new Map();
  for (const col of columns(T, t0, t1, plotW)) {
    const cls = s.data.classes[col.i];
    if (!byClass.has(cls)) byClass.set(cls, []);
    byClass.get(cls).push(`M${(12 + col.x).toFixed(1)} 30v46`);
  }
  for (const [cls, d] of byClass) root.append(svg("path", { d: d.join(""), stroke: classColor(cls), "stroke-width": 1 }));
  root.append(svg("line", { x1: 12, x2: 12 + plotW, y1: 82, y2: 82, stroke: cssVar("--border") }));
  for (const tick of axisTicks(s.scale, t0, t1, plotW, c)) {
    const x = xOf(tick.t);
    root.append(svg("line", { x1: x, x2: x, y1: 82, y2: 87, stroke: cssVar("--border") }));
    root.append(svg("text", { x, y: 100, "text-anchor": "middle", fill: cssVar("--muted") }, tick.label));
  }
  const m = s.marker;
  if (m && Number.isFinite(m.value)) {
    const x = xOf(tr.fwd(m.value));
    root.append(svg("line", { x1: x, x2: x, y1: 24, y2: 76, stroke: cssVar("--text"), "stroke-width": 2 }));
    root.append(svg("text", { x, y: 16, "text-anchor": "middle", fill: cssVar("--text") }, fmtNum(m.value, 6)));
  }
  root.append(svg("text", { x: 12, y: 122, fill: cssVar("--muted") }, `${s.label || "values"} · ${s.scale === "log" ? "symmetric log₂ scale" : "linear scale"}`));
  return root;
}
