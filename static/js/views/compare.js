// Stacked number lines of several formats' positive finite values on one shared log₂ axis.
// Each row is one tick per value where they fit, and shaded per-binade blocks (height ~ log₂ of
// the count, count printed when there is room) where they are dense, so range and density
// compare at a glance. Wheel / pinch / +− zoom, drag / arrows pan.
import { fetchJSON } from "../lib/api.js";
import { createRedraw } from "../lib/anim.js";
import { onResize, setupCanvas } from "../lib/canvas.js";
import { cssVar, onThemeChange, palette } from "../lib/colors.js";
import { h, svg } from "../lib/dom.js";
import { fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { attachPanZoom } from "./panzoom.js";
import { binadeList, drawStrip, log2Ticks, positiveValues } from "./valuestrip.js";

const ROW = { label: 18, strip: 30, gap: 12 };
const AXIS = 46;
const PAD = { left: 10, right: 10, top: 6 };
const ROW_H = ROW.label + ROW.strip + ROW.gap;
const NEAREST_SEARCH = 2 ** 12; // a tooltip names the nearest value when the format has fewer

/**
 * The default window: the formats of at most 8 bits when the selection mixes them with wider
 * ones (whose rows then run off both edges, marked with arrows), else every format.
 */
export function defaultRange(formats) {
  const small = formats.filter((f) => f.bits <= 8);
  return fitRange(small.length && small.length < formats.length ? small : formats);
}

/** A binade edge 2^k: exact when short (2⁻⁶ = 0.015625, not "0.01563"), else 4 digits. */
export function edge(v) {
  const t = String(v);
  return t.length <= 10 && !t.includes("e") ? t : fmtNum(v);
}

/** The log₂ window that shows every format's positive values: [k0, k1]. */
export function fitRange(formats) {
  if (!formats.length) return [-10, 10];
  const lo = Math.min(...formats.map((f) => Math.floor(Math.log2(f.min_positive))));
  const hi = Math.max(...formats.map((f) => Math.floor(Math.log2(f.max)) + 1));
  const pad = Math.max(0.5, (hi - lo) * 0.02);
  return [lo - pad, hi + pad];
}

export function rowsHeight(n) {
  return PAD.top + n * ROW_H + AXIS;
}

/** The frame's geometry: window [k0, k1], plot edges, x of a log₂ position. */
function geometry(width, [k0, k1], n) {
  const x0 = PAD.left;
  const x1 = width - PAD.right;
  const height = rowsHeight(n);
  const xOf = (k) => x0 + ((k - k0) / (k1 - k0)) * (x1 - x0);
  const kOf = (x) => k0 + ((x - x0) / (x1 - x0)) * (k1 - k0);
  return { width, height, k0, k1, x0, x1, axisY: height - AXIS + 4, pxPerBinade: (x1 - x0) / (k1 - k0), xOf, kOf };
}

/** Grid lines at the labelled powers of two; 2^0 = 1 stronger. */
function drawGrid(ctx, g, ticks) {
  ctx.fillStyle = cssVar("--border");
  for (const t of ticks) {
    ctx.globalAlpha = t.k === 0 ? 1 : 0.55;
    ctx.fillRect(Math.round(g.xOf(t.k)) + 0.5, PAD.top, 1, g.axisY - PAD.top);
  }
  ctx.globalAlpha = 1;
}

/** One format's row: its name and key numbers (the API's), its strip, counts, edge arrows. */
function drawRow(ctx, g, f, y, color, list, maxLog) {
  ctx.font = `600 12px ${cssVar("--mono")}`;
  ctx.fillStyle = color;
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  ctx.fillText(f.name, g.x0, y + 2);
  const nameW = ctx.measureText(f.name).width;
  ctx.font = `11px ${cssVar("--font")}`;
  ctx.fillStyle = cssVar("--muted");
  ctx.fillText(`  ${fmtInt(f.finite_count)} finite · ${fmtNum(f.dynamic_range, 3)} binades · ${fmtInt(f.values_per_binade)} per binade`, g.x0 + nameW, y + 3);
  const sy = y + ROW.label;
  ctx.fillStyle = cssVar("--surface-2");
  ctx.fillRect(g.x0, sy, g.x1 - g.x0, ROW.strip);
  const { ticks } = drawStrip(ctx, f, { x0: g.x0, x1: g.x1, k0: g.k0, k1: g.k1, y: sy, hh: ROW.strip, color, maxLog, values: list });
  if (!ticks && g.pxPerBinade >= 30) drawCounts(ctx, g, f, sy);
  drawEdges(ctx, g, f, sy, color);
}

/** Per-binade counts printed in the blocks when there is room. */
function drawCounts(ctx, g, f, sy) {
  ctx.font = `10px ${cssVar("--mono")}`;
  ctx.fillStyle = cssVar("--text");
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const b of binadeList(f)) {
    const xm = g.xOf(b.exponent + 0.5);
    if (xm < g.x0 + 10 || xm > g.x1 - 10) continue;
    const label = b.count >= 1024 ? fmtPow2(Math.round(Math.log2(b.count))) : String(b.count);
    if (ctx.measureText(label).width < g.pxPerBinade - 4) ctx.fillText(label, xm, sy + ROW.strip / 2);
  }
}

/** The format runs past the window: say where it ends. */
function drawEdges(ctx, g, f, sy, color) {
  const lo = Math.log2(f.min_positive);
  const hi = Math.log2(f.max);
  ctx.font = `10px ${cssVar("--mono")}`;
  ctx.textBaseline = "middle";
  for (const [side, k, text] of [["left", lo, `◀ down to ${fmtPow2(Math.floor(lo))}`], ["right", hi, `up to ${fmtNum(f.max, 3)} ▶`]]) {
    if ((side === "left" && k >= g.k0) || (side === "right" && k <= g.k1)) continue;
    const w = ctx.measureText(text).width + 8;
    const bx = side === "left" ? g.x0 : g.x1 - w;
    ctx.fillStyle = cssVar("--surface");
    ctx.fillRect(bx, sy + ROW.strip / 2 - 8, w, 16);
    ctx.fillStyle = color;
    ctx.textAlign = side;
    ctx.fillText(text, side === "left" ? bx + 4 : g.x1 - 4, sy + ROW.strip / 2);
  }
}

/** The shared log₂ axis: ticks, labels that do not collide, and its name. */
function drawAxis(ctx, g, ticks) {
  ctx.fillStyle = cssVar("--border");
  ctx.fillRect(g.x0, g.axisY, g.x1 - g.x0, 1);
  ctx.font = `11px ${cssVar("--mono")}`;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let last = -Infinity;
  for (const t of ticks) {
    const x = g.xOf(t.k);
    ctx.fillStyle = cssVar("--border");
    ctx.fillRect(Math.round(x), g.axisY, 1, 5);
    const w = ctx.measureText(t.label).width;
    if (x - w / 2 < last + 6 || x - w / 2 < 0 || x + w / 2 > g.width) continue;
    ctx.fillStyle = cssVar("--muted");
    ctx.fillText(t.label, x, g.axisY + 8);
    last = x + w / 2;
  }
  ctx.font = `11px ${cssVar("--font")}`;
  ctx.textAlign = "left";
  ctx.fillText("positive value, log₂ scale (one binade = [2ᵏ, 2ᵏ⁺¹))", g.x0, g.axisY + 26);
}

/** A window of at least 0.05 and at most 400 binades, centred within 2^±300. */
function clampRange([k0, k1]) {
  const span = Math.min(Math.max(k1 - k0, 0.05), 400);
  const c = Math.min(Math.max((k0 + k1) / 2, -300), 300);
  return [c - span / 2, c + span / 2];
}

/** The format whose row is at height y, or undefined (between rows' ends, on the axis). */
function rowAt(formats, y) {
  if (y > rowsHeight(formats.length) - AXIS) return undefined;
  return formats[Math.floor((y - PAD.top) / ROW_H)];
}

/** Tooltip lines for a point in format f's row at log₂ position k. */
function rowTip(f, list, k) {
  const b = Math.floor(k);
  const binade = binadeList(f).find((x) => x.exponent === b);
  const lines = [f.name, ["binade", `[${fmtPow2(b)}, ${fmtPow2(b + 1)}) = [${edge(2 ** b)}, ${edge(2 ** (b + 1))})`], ["values in it", fmtInt(binade ? binade.count : 0)]];
  if (list && list.values.length <= NEAREST_SEARCH && binade) {
    let best = null;
    for (const v of list.values) if (best === null || Math.abs(Math.log2(v) - k) < Math.abs(Math.log2(best) - k)) best = v;
    lines.push(["nearest value", fmtNum(best, 8)]);
  }
  return lines;
}

/** The stacked lines as SVG for "Download SVG". */
function exportSvg(g, formats, colorOf, valuesOf, maxLog) {
  const root = svg("svg", { viewBox: `0 0 ${g.width} ${g.height}`, width: g.width, height: g.height, "font-family": "monospace", "font-size": 11 });
  formats.forEach((f, i) => {
    const y = PAD.top + i * ROW_H;
    const color = colorOf(f, i);
    root.append(svg("text", { x: g.x0, y: y + 13, fill: color, "font-weight": 700 }, f.name));
    const list = valuesOf(f);
    const sy = y + ROW.label;
    const visible = list ? list.values.filter((v) => Math.log2(v) >= g.k0 && Math.log2(v) <= g.k1) : null;
    if (visible && visible.length * 1.2 <= g.x1 - g.x0) {
      const d = visible.map((v) => `M${g.xOf(Math.log2(v)).toFixed(1)} ${sy}v${ROW.strip}`).join("");
      root.append(svg("path", { d, stroke: color, "stroke-width": 1 }));
      return;
    }
    for (const b of binadeList(f)) {
      const xa = Math.max(g.x0, g.xOf(b.exponent));
      const xb = Math.min(g.x1, g.xOf(b.exponent + 1));
      if (xb <= xa) continue;
      const frac = 0.25 + (0.75 * Math.log2(b.count + 1)) / Math.log2(2 ** maxLog + 1);
      root.append(svg("rect", { x: xa, y: sy + ROW.strip * (1 - frac), width: xb - xa, height: ROW.strip * frac, fill: color, "fill-opacity": 0.5 }));
    }
  });
  root.append(svg("line", { x1: g.x0, x2: g.x1, y1: g.axisY, y2: g.axisY, stroke: cssVar("--border") }));
  for (const t of log2Ticks(g.k0, g.k1, g.x1 - g.x0)) {
    root.append(svg("text", { x: g.xOf(t.k), y: g.axisY + 16, "text-anchor": "middle", fill: cssVar("--muted") }, t.label));
  }
  root.append(svg("text", { x: g.x0, y: g.axisY + 36, fill: cssVar("--muted") }, "positive value, log₂ scale"));
  return root;
}

/** One frame: the grid, a row per format, the shared axis. */
function drawChart(canvas, g, formats, colorOf, valuesOf, maxLog) {
  const ctx = setupCanvas(canvas, g.width, g.height);
  ctx.fillStyle = cssVar("--surface");
  ctx.fillRect(0, 0, g.width, g.height);
  const ticks = log2Ticks(g.k0, g.k1, g.x1 - g.x0);
  drawGrid(ctx, g, ticks);
  formats.forEach((f, i) => drawRow(ctx, g, f, PAD.top + i * ROW_H, colorOf(f, i), valuesOf(f), maxLog));
  drawAxis(ctx, g, ticks);
}

const LABEL = "Positive values of each format on a shared log₂ axis. Drag or arrow keys pan; wheel, pinch or + − zoom.";

/**
 * state: {formats: [FormatInfo], range: [k0, k1] | null, colorIndex(name, i), onRange(range)}.
 * Wheel / pinch / +− zoom, drag / arrows pan.
 */
export function mount(el, state) {
  let s = { range: null, ...state };
  if (s.range) s.range = clampRange(s.range); // a shared window, kept within sane limits
  const canvas = h("canvas", { class: "compare-canvas", tabindex: "0", role: "img", "aria-label": LABEL });
  el.append(canvas);
  let width = 800;
  let cache = new Map();
  const stats = { draws: 0, rows: [] }; // rows: the formats the last frame drew, in order

  const range = () => s.range || defaultRange(s.formats);
  const geom = () => geometry(width, range(), s.formats.length);
  const kOf = (x) => geom().kOf(x);
  const valuesOf = (f) => cache.get(f.name) ?? cache.set(f.name, positiveValues(f)).get(f.name);
  const colorOf = (f, i) => palette(s.colorIndex ? s.colorIndex(f.name, i) : i);
  const maxLog = () => Math.max(3, ...s.formats.map((f) => f.mantissa_bits));

  const redraw = createRedraw(() => {
    stats.draws += 1;
    stats.rows = s.formats.map((f) => f.name);
    drawChart(canvas, geom(), s.formats, colorOf, valuesOf, maxLog());
  });

  function setRange(r, notify = true) {
    s.range = clampRange(r);
    redraw();
    if (notify && s.onRange) s.onRange(s.range);
  }
  const zoomAt = (x, f) => {
    const [k0, k1] = range();
    const k = kOf(x);
    setRange([k - (k - k0) / f, k + (k1 - k) / f]);
  };
  const panBy = (dx) => {
    const dk = kOf(0) - kOf(dx);
    setRange(range().map((k) => k + dk));
  };

  const detach = attachPanZoom(canvas, {
    zoomAt,
    panBy,
    reset: () => setRange(fitRange(s.formats)),
    width: () => width,
    hover(e, p) {
      const f = rowAt(s.formats, p.y);
      if (f) showTip(e, rowTip(f, valuesOf(f), kOf(p.x)));
      else hideTip();
    },
  });
  const off = onResize(el, (w) => {
    width = Math.max(240, w);
    redraw();
  });
  const offTheme = onThemeChange(redraw);
  redraw();

  return {
    canvas,
    stats,
    update(next) {
      s = { ...s, ...next };
      cache = new Map([...cache].filter(([k]) => s.formats.some((f) => f.name === k)));
      redraw();
    },
    zoomIn: () => zoomAt(width / 2, 1.5),
    zoomOut: () => zoomAt(width / 2, 1 / 1.5),
    fit: () => setRange(fitRange(s.formats)),
    setRange,
    get range() {
      return range();
    },
    toSvg: () => exportSvg(geom(), s.formats, colorOf, valuesOf, maxLog()),
    destroy() {
      detach();
      off();
      offTheme();
      canvas.remove();
    },
  };
}

/** Home-gallery preview: the formats of at most 8 bits that /api/v1/compare shows by default,
 * stacked on one log₂ axis. */
export async function preview(el) {
  const chosen = (await fetchJSON("/api/v1/compare")).formats.filter((f) => f.bits <= 8);
  const canvas = h("canvas", { role: "img", "aria-label": `${chosen.map((f) => f.name).join(", ")}: positive values on one log₂ axis` });
  el.append(canvas);
  const [k0, k1] = fitRange(chosen);
  const draw = (width) => {
    const height = el.clientHeight || 120;
    const ctx = setupCanvas(canvas, width, height);
    const x0 = 62;
    const x1 = width - 10;
    const rowH = (height - 26) / chosen.length;
    chosen.forEach((f, i) => {
      const y = 6 + i * rowH;
      const color = palette(i);
      drawStrip(ctx, f, { x0, x1, k0, k1, y, hh: rowH - 6, color, maxLog: 3 });
      ctx.font = `600 10px ${cssVar("--mono")}`;
      ctx.fillStyle = color;
      ctx.textBaseline = "middle";
      ctx.textAlign = "left";
      ctx.fillText(f.name.replace(/^float\d_/, ""), 8, y + (rowH - 6) / 2);
    });
    ctx.fillStyle = cssVar("--muted");
    ctx.font = `10px ${cssVar("--mono")}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    for (const t of log2Ticks(k0, k1, x1 - x0)) {
      ctx.fillText(t.label, x0 + ((t.k - k0) / (k1 - k0)) * (x1 - x0), height - 6);
    }
  };
  onResize(el, draw);
  onThemeChange(() => draw(el.clientWidth));
}
