// A log-log chart of a few named series (points joined by lines, dashed ones for bounds), used
// for dot-product error against length and attention error against sequence length. Points
// that are 0 cannot sit on a log axis: they are left out and counted in the point's series note.
import { svg, clear } from "../lib/dom.js";
import { onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";
import { fmtInt } from "../lib/format.js";
import { num } from "../lib/api.js";
import { axisBottom, axisLeft, frame, logScale, pow2Ticks, tip } from "./quantize-svg.js";

/** Bounds of the positive values of every series: [xlo, xhi, ylo, yhi] padded to decades. */
export function logExtent(xs, series) {
  const ys = series.flatMap((s) => s.values.map(num)).filter((v) => v > 0 && Number.isFinite(v));
  const xv = xs.filter((v) => v > 0);
  if (!ys.length || !xv.length) return null;
  const ylo = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yhi = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  return [Math.min(...xv), Math.max(...xv), ylo, yhi === ylo ? ylo * 10 : yhi];
}

/** Tick label on a log axis: a decade as 10⁻³, a 2× or 5× tick as 2·10⁻³. */
export function decade(v) {
  const sup = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  const e = Math.floor(Math.log10(v) + 1e-9);
  const mant = Math.round(v / 10 ** e);
  const pow = `10${String(e).split("").map((c) => sup[c] ?? c).join("")}`;
  return mant === 1 ? pow : `${mant}·${pow}`;
}

/**
 * Draw `series` ([{name, values, cls, dashed, note}]) against `xs` into el.
 * opts: {label, xLabel, yLabel, xFormat, tipLines(series, i) -> lines}.
 */
export function drawLogLog(el, xs, series, opts) {
  const width = el.clientWidth || 600;
  const narrow = width < 560;
  const m = { top: 12, right: narrow ? 10 : 18, bottom: 46, left: narrow ? 54 : 62 };
  const f = frame(width, narrow ? 260 : 320, m, opts.label);
  const ext = logExtent(xs, series);
  if (!ext) {
    f.plot.append(svg("text", { x: f.w / 2, y: f.h / 2, "text-anchor": "middle" }, "Every error is 0: nothing to draw on a log axis."));
    clear(el).append(f.root);
    return f.root;
  }
  const x = logScale(ext[0], ext[1] > ext[0] ? ext[1] : ext[0] * 2, 0, f.w);
  const y = logScale(ext[2], ext[3], f.h, 0);
  axisLeft(f.plot, y, f.w, { ticks: y.ticks(), format: decade, label: opts.yLabel, inset: m.left - 14 });
  axisBottom(f.plot, x, f.h, { ticks: pow2Ticks(x.domain[0], x.domain[1]), format: opts.xFormat || fmtInt, label: opts.xLabel });
  for (const s of series) f.plot.append(seriesMarks(s, xs, x, y, opts));
  clear(el).append(f.root);
  return f.root;
}

function seriesMarks(s, xs, x, y, opts) {
  const g = svg("g", { class: `a-series ${s.cls}`, "data-series": s.name });
  const pts = xs.map((xv, i) => ({ i, xv, yv: num(s.values[i]) })).filter((p) => p.yv > 0 && Number.isFinite(p.yv));
  const d = pts.map((p, k) => `${k ? "L" : "M"}${x(p.xv).toFixed(1)},${y(p.yv).toFixed(1)}`).join("");
  g.append(svg("path", { class: `a-line${s.dashed ? " is-dashed" : ""}`, d }));
  if (!s.dashed) {
    for (const p of pts) {
      const c = svg("circle", { class: "a-dot", cx: x(p.xv), cy: y(p.yv), r: 3.5, "data-x": p.xv, "data-y": String(s.values[p.i]) });
      tip(c, () => opts.tipLines(s, p.i), { focusable: true });
      g.append(c);
    }
  }
  return g;
}

/** mountPlot(el) -> {show(draw), svg()}: `draw(el)` again on resize and theme change. */
export function mountPlot(el) {
  let draw = null;
  let root = null;
  const redraw = () => {
    if (draw) root = draw(el);
  };
  onResize(el, redraw);
  onThemeChange(redraw);
  return {
    show(next) {
      draw = next;
      redraw();
    },
    svg: () => root,
  };
}
