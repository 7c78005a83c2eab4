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
import { binadeCounts, drawStrip, log2Ticks, minPositive, positiveValues } from "./valuestrip.js";

const ROW = { label: 18, strip: 30, gap: 12 };
const AXIS = 46;
const PAD = { left: 10, right: 10, top: 6 };

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
  const lo = Math.min(...formats.map((f) => Math.floor(Math.log2(minPositive(f)))));
  const hi = Math.max(...formats.map((f) => Math.floor(Math.log2(f.max)) + 1));
  const pad = Math.max(0.5, (hi - lo) * 0.02);
  return [lo - pad, hi + pad];
}

export function rowsHeight(n) {
  return PAD.top + n * (ROW.label + ROW.strip + ROW.gap) + AXIS;
}

export function mount(el, state) {
  let s = { range: null, ...state };
  const canvas = h("canvas", {
    class: "compare-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": "Positive values of each format on a shared log₂ axis. Drag or arrow keys pan; wheel, pinch or + − zoom.",
  });
  el.append(canvas);
  let width = 800;
  let cache = new Map();
  const stats = { draws: 0 };

  const range = () => s.range || defaultRange(s.formats);
  const xOf = (k) => {
    const [k0, k1] = range();
    return PAD.left + ((k - k0) / (k1 - k0)) * (width - PAD.left - PAD.right);
  };
  const kOf = (x) => {
    const [k0, k1] = range();
    return k0 + ((x - PAD.left) / (width - PAD.left - PAD.right)) * (k1 - k0);
  };
  const valuesOf = (f) => {
    if (!cache.has(f.name)) cache.set(f.name, { values: positiveValues(f), counts: binadeCounts(f) });
    return cache.get(f.name);
  };
  const maxLog = () => Math.max(3, ...s.formats.map((f) => f.mantissa_bits));

  function draw() {
    stats.draws += 1;
    const height = rowsHeight(s.formats.length);
    const ctx = setupCanvas(canvas, width, height);
    const [k0, k1] = range();
    const x0 = PAD.left;
    const x1 = width - PAD.right;
    ctx.fillStyle = cssVar("--surface");
    ctx.fillRect(0, 0, width, height);
    const ticks = log2Ticks(k0, k1, x1 - x0);
    const axisY = height - AXIS + 4;
    // grid lines at labelled powers of two; 2^0 = 1 stronger
    for (const t of ticks) {
      const x = Math.round(xOf(t.k)) + 0.5;
      ctx.fillStyle = cssVar("--border");
      ctx.globalAlpha = t.k === 0 ? 1 : 0.55;
      ctx.fillRect(x, PAD.top, 1, axisY - PAD.top);
    }
    ctx.globalAlpha = 1;
    const pxPerBinade = (x1 - x0) / (k1 - k0);
    s.formats.forEach((f, i) => {
      const y = PAD.top + i * (ROW.label + ROW.strip + ROW.gap);
      const color = palette(s.colorIndex ? s.colorIndex(f.name, i) : i);
      const { values, counts } = valuesOf(f);
      ctx.font = `600 12px ${cssVar("--mono")}`;
      ctx.fillStyle = color;
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.fillText(f.name, x0, y + 2);
      const nameW = ctx.measureText(f.name).width;
      ctx.font = `11px ${cssVar("--font")}`;
      ctx.fillStyle = cssVar("--muted");
      ctx.fillText(`  ${fmtInt(f.finite_count)} finite · ${fmtNum(Math.log2(f.max / minPositive(f)), 3)} binades · ${fmtInt(2 ** f.mantissa_bits)} per binade`, x0 + nameW, y + 3);
      const sy = y + ROW.label;
      ctx.fillStyle = cssVar("--surface-2");
      ctx.fillRect(x0, sy, x1 - x0, ROW.strip);
      const { ticks: drewTicks } = drawStrip(ctx, f, { x0, x1, k0, k1, y: sy, hh: ROW.strip, color, maxLog: maxLog(), values });
      if (!drewTicks && pxPerBinade >= 30) {
        ctx.font = `10px ${cssVar("--mono")}`;
        ctx.fillStyle = cssVar("--text");
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        for (const [k, c] of counts) {
          const xm = xOf(k + 0.5);
          if (xm < x0 + 10 || xm > x1 - 10) continue;
          const label = c >= 1024 ? fmtPow2(Math.round(Math.log2(c))) : String(c);
          if (ctx.measureText(label).width < pxPerBinade - 4) ctx.fillText(label, xm, sy + ROW.strip / 2);
        }
      }
      // the format runs past the window: say where it ends
      const lo = Math.log2(minPositive(f));
      const hi = Math.log2(f.max);
      ctx.font = `10px ${cssVar("--mono")}`;
      ctx.textBaseline = "middle";
      for (const [edge, k, text] of [["left", lo, `◀ down to ${fmtPow2(Math.floor(lo))}`], ["right", hi, `up to ${fmtNum(f.max, 3)} ▶`]]) {
        if ((edge === "left" && k >= k0) || (edge === "right" && k <= k1)) continue;
        const w = ctx.measureText(text).width + 8;
        const bx = edge === "left" ? x0 : x1 - w;
        ctx.fillStyle = cssVar("--surface");
        ctx.globalAlpha = 1;
        ctx.fillRect(bx, sy + ROW.strip / 2 - 8, w, 16);
        ctx.globalAlpha = 1;
        ctx.fillStyle = color;
        ctx.textAlign = edge === "left" ? "left" : "right";
        ctx.fillText(text, edge === "left" ? bx + 4 : x1 - 4, sy + ROW.strip / 2);
      }
    });
    // axis
    ctx.fillStyle = cssVar("--border");
    ctx.fillRect(x0, axisY, x1 - x0, 1);
    ctx.font = `11px ${cssVar("--mono")}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    let last = -Infinity;
    for (const t of ticks) {
      const x = xOf(t.k);
      ctx.fillStyle = cssVar("--border");
      ctx.fillRect(Math.round(x), axisY, 1, 5);
      const w = ctx.measureText(t.label).width;
      if (x - w / 2 < last + 6 || x - w / 2 < 0 || x + w / 2 > width) continue;
      ctx.fillStyle = cssVar("--muted");
      ctx.fillText(t.label, x, axisY + 8);
      last = x + w / 2;
    }
    ctx.font = `11px ${cssVar("--font")}`;
    ctx.textAlign = "left";
    ctx.fillText("positive value, log₂ scale (one binade = [2ᵏ, 2ᵏ⁺¹))", x0, axisY + 26);
  }
  const redraw = createRedraw(draw);

  function setRange(r, notify = true) {
    let [k0, k1] = r;
    const span = Math.min(Math.max(k1 - k0, 0.05), 400);
    const c = Math.min(Math.max((k0 + k1) / 2, -300), 300);
    k0 = c - span / 2;
    k1 = c + span / 2;
    s.range = [k0, k1];
    redraw();
    if (notify && s.onRange) s.onRange(s.range);
  }
  const zoomAt = (x, f) => {
    const [k0, k1] = range();
    const k = kOf(x);
    setRange([k - (k - k0) / f, k + (k1 - k) / f]);
  };
  const panBy = (dx) => {
    const [k0, k1] = range();
    const dk = (dx / (width - PAD.left - PAD.right)) * (k1 - k0);
    setRange([k0 - dk, k1 - dk]);
  };

  const detach = attachPanZoom(canvas, {
    zoomAt,
    panBy,
    reset: () => setRange(fitRange(s.formats)),
    width: () => width,
    hover(e, p) {
      const row = Math.floor((p.y - PAD.top) / (ROW.label + ROW.strip + ROW.gap));
      const f = s.formats[row];
      if (!f || p.y > rowsHeight(s.formats.length) - AXIS) {
        hideTip();
        return;
      }
      const k = kOf(p.x);
      const b = Math.floor(k);
      const { values, counts } = valuesOf(f);
      const lines = [f.name, ["binade", `[${fmtPow2(b)}, ${fmtPow2(b + 1)}) = [${edge(2 ** b)}, ${edge(2 ** (b + 1))})`], ["values in it", fmtInt(counts.get(b) || 0)]];
      if (values && values.length <= 4096 && counts.get(b)) {
        let best = null;
        for (const v of values) if (best === null || Math.abs(Math.log2(v) - k) < Math.abs(Math.log2(best) - k)) best = v;
        lines.push(["nearest value", fmtNum(best, 8)]);
      }
      showTip(e, lines);
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
    /** The stacked lines as SVG for "Download SVG". */
    toSvg() {
      const height = rowsHeight(s.formats.length);
      const [k0, k1] = range();
      const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, "font-family": "monospace", "font-size": 11 });
      const x0 = PAD.left;
      const x1 = width - PAD.right;
      s.formats.forEach((f, i) => {
        const y = PAD.top + i * (ROW.label + ROW.strip + ROW.gap);
        const color = palette(s.colorIndex ? s.colorIndex(f.name, i) : i);
        root.append(svg("text", { x: x0, y: y + 13, fill: color, "font-weight": 700 }, f.name));
        const { values, counts } = valuesOf(f);
        const sy = y + ROW.label;
        const visible = values ? values.filter((v) => Math.log2(v) >= k0 && Math.log2(v) <= k1) : null;
        if (visible && visible.length * 1.2 <= x1 - x0) {
          const d = visible.map((v) => `M${xOf(Math.log2(v)).toFixed(1)} ${sy}v${ROW.strip}`).join("");
          root.append(svg("path", { d, stroke: color, "stroke-width": 1 }));
        } else {
          for (const [k, c] of counts) {
            const xa = Math.max(x0, xOf(k));
            const xb = Math.min(x1, xOf(k + 1));
            if (xb <= xa) continue;
            const frac = 0.25 + (0.75 * Math.log2(c + 1)) / Math.log2(2 ** maxLog() + 1);
            root.append(svg("rect", { x: xa, y: sy + ROW.strip * (1 - frac), width: xb - xa, height: ROW.strip * frac, fill: color, "fill-opacity": 0.5 }));
          }
        }
      });
      const axisY = height - AXIS + 4;
      root.append(svg("line", { x1: x0, x2: x1, y1: axisY, y2: axisY, stroke: cssVar("--border") }));
      for (const t of log2Ticks(k0, k1, x1 - x0)) {
        root.append(svg("text", { x: xOf(t.k), y: axisY + 16, "text-anchor": "middle", fill: cssVar("--muted") }, t.label));
      }
      root.append(svg("text", { x: x0, y: axisY + 36, fill: cssVar("--muted") }, "positive value, log₂ scale"));
      return root;
    },
    destroy() {
      detach();
      off();
      offTheme();
      canvas.remove();
    },
  };
}

/** Home-gallery preview: four formats stacked on one log₂ axis. */
export async function preview(el) {
  const names = ["float8_e4m3fn", "float8_e5m2", "float6_e2m3fn", "float4_e2m1fn"];
  const { formats } = await fetchJSON("/api/v1/formats");
  const chosen = names.map((n) => formats.find((f) => f.name === n)).filter(Boolean);
  const canvas = h("canvas", { role: "img", "aria-label": "FP8, FP6 and FP4 positive values on one log₂ axis" });
  el.append(canvas);
  const k0 = -17.5;
  const k1 = 16.5;
  const draw = (width) => {
    const height = el.clientHeight || 120;
    const ctx = setupCanvas(canvas, width, height);
    const x0 = 62;
    const x1 = width - 10;
    const rowH = (height - 26) / chosen.length;
    chosen.forEach((f, i) => {
      const y = 6 + i * rowH;
      const color = palette([0, 1, 2, 3][i]);
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
