// The input histogram morphing into the dequantized one (same bins, heights and colour
// interpolated by t ∈ [0, 1]), with the representable values of the selected block as a rug and
// faint lines, and the error histogram below. Every frame is derived from t; the morph plays
// with requestAnimationFrame and jumps to its end under prefers-reduced-motion.
import { svg, clear } from "../lib/dom.js";
import { createLoop, createRedraw, easeInOut, prefersReducedMotion } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { cssVar, mix, onThemeChange } from "../lib/colors.js";
import { fmtInt, fmtNum } from "../lib/format.js";
import { linear, niceTicks } from "../lib/scale.js";
import { axisBottom, axisLeft, countScale, frame, tip } from "./quantize-svg.js";

const MORPH_MS = 1400;

/** Chart size for a container width. */
export function histSize(width) {
  const narrow = width < 560;
  return { width, height: narrow ? 230 : 280, m: { top: 12, right: 12, bottom: 46, left: narrow ? 54 : 62 } };
}

/** Bin geometry: one {x, w, input, dequantized, lo, hi} per bin on scale x. */
export function bins(hist, x) {
  const { edges, counts } = hist.input;
  const deq = hist.dequantized.counts;
  return counts.map((c, i) => {
    const x0 = x(edges[i]);
    const x1 = x(edges[i + 1]);
    return { x: x0, w: Math.max(0.5, x1 - x0 - (x1 - x0 > 3 ? 1 : 0)), input: c, dequantized: deq[i], lo: edges[i], hi: edges[i + 1] };
  });
}

/** The morph chart: bars + the input's outline + the grid; returns a setter for t. */
function drawMorph(el, data, t0) {
  const { width, height, m } = histSize(el.clientWidth || 600);
  const hist = data.histograms;
  const edges = hist.input.edges;
  const f = frame(width, height, m, `Histogram of ${data.data.n} values before and after ${data.scheme.title}`);
  const x = linear(edges[0], edges[edges.length - 1], 0, f.w);
  const top = Math.max(1, ...hist.input.counts, ...hist.dequantized.counts);
  const y = countScale(top, f.h, 5);
  axisLeft(f.plot, y, f.w, { ticks: y.ticks(5), format: fmtInt, label: "values per bin", inset: m.left - 14 });
  const marks = data.grid_in_block; // every value the selected block can store, in range
  const gridG = svg("g", { class: "q-grid" });
  for (const value of marks) {
    const px = x(value);
    if (marks.length <= 160) gridG.append(svg("line", { class: "q-grid-line", x1: px, x2: px, y1: 0, y2: f.h }));
    const rug = svg("line", { class: "q-grid-rug", x1: px, x2: px, y1: f.h - 9, y2: f.h, "data-value": value });
    tip(rug, () => [`A value block ${data.block.index} can store`, ["value", fmtNum(value, 6)], ["element × multiplier", fmtNum(data.block.multiplier, 6)]]);
    gridG.append(rug);
  }
  const geo = bins(hist, x);
  const barsG = svg("g", { class: "q-bars" });
  const rects = geo.map((b) => {
    const r = svg("rect", { x: b.x, width: b.w, class: "q-bar", "data-input": b.input, "data-dequantized": b.dequantized });
    tip(r, () => [`[${fmtNum(b.lo)}, ${fmtNum(b.hi)})`, ["input values", fmtInt(b.input)], ["dequantized values", fmtInt(b.dequantized)]]);
    barsG.append(r);
    return r;
  });
  const outline = geo.map((b) => `M${b.x},${y(b.input)}h${b.w}`).join("");
  f.plot.append(gridG, barsG, svg("path", { class: "q-outline", d: outline }), outside(hist.input, f.w, "values"));
  axisBottom(f.plot, x, f.h, { ticks: niceTicks(x.domain[0], x.domain[1], width < 560 ? 5 : 8), format: (v) => fmtNum(v, 3), label: "value" });
  clear(el).append(f.root);
  const setT = (t) => {
    const e = easeInOut(t);
    const fill = mix(cssVar("--q-input"), cssVar("--q-deq"), e);
    rects.forEach((r, i) => {
      const c = geo[i].input + (geo[i].dequantized - geo[i].input) * e;
      r.setAttribute("y", y(c));
      r.setAttribute("height", Math.max(0, f.h - y(c)));
      r.setAttribute("fill", fill);
    });
    f.root.dataset.t = t.toFixed(3);
  };
  setT(t0);
  return { root: f.root, setT };
}

/** "← 16 below" / "17 above →": what a central range leaves out, at the plot's top corners. */
function outside(h, w, what) {
  const g = svg("g", { class: "q-outside" });
  if (h.below) {
    const t = svg("text", { x: 4, y: 12, "data-below": h.below }, `← ${fmtInt(h.below)} below`);
    tip(t, () => [`${fmtInt(h.below)} ${what} below ${fmtNum(h.edges[0], 4)}`, "outside the central range, not binned"]);
    g.append(t);
  }
  if (h.above) {
    const t = svg("text", { x: w - 4, y: 12, "text-anchor": "end", "data-above": h.above }, `${fmtInt(h.above)} above →`);
    tip(t, () => [`${fmtInt(h.above)} ${what} above ${fmtNum(h.edges[h.edges.length - 1], 4)}`, "outside the central range, not binned"]);
    g.append(t);
  }
  return g;
}

/** The error histogram x − q(x) on its own symmetric edges. */
function drawError(el, data) {
  const { width, m } = histSize(el.clientWidth || 600);
  const height = width < 560 ? 170 : 190;
  const { edges, counts } = data.histograms.error;
  const f = frame(width, height, m, `Histogram of the quantization error, ${data.scheme.title}`);
  const x = linear(edges[0], edges[edges.length - 1], 0, f.w);
  const y = countScale(Math.max(1, ...counts), f.h, 4);
  axisLeft(f.plot, y, f.w, { ticks: y.ticks(4), format: fmtInt, label: "values per bin", inset: m.left - 14 });
  counts.forEach((c, i) => {
    const x0 = x(edges[i]);
    const w = Math.max(0.5, x(edges[i + 1]) - x0 - 1);
    const r = svg("rect", { class: "q-err-bar", x: x0, width: w, y: y(c), height: f.h - y(c), "data-count": c });
    tip(r, () => [`error in [${fmtNum(edges[i])}, ${fmtNum(edges[i + 1])})`, ["values", fmtInt(c)]]);
    f.plot.append(r);
  });
  f.plot.append(outside(data.histograms.error, f.w, "errors"));
  axisBottom(f.plot, x, f.h, { ticks: niceTicks(x.domain[0], x.domain[1], width < 560 ? 4 : 7), format: (v) => fmtNum(v, 3), label: "error x − q(x) (same unit as the values)" });
  clear(el).append(f.root);
}

/**
 * mount(histEl, errEl, {slider, play, t, onScrub}) -> {update(data), replay(), svg(), destroy()}.
 * `update` redraws for a new answer; the first one replays the morph unless `t` (a playhead in
 * [0, 1], e.g. from the URL) opens it paused there. `onScrub(t)` hears the reader's scrubs, and
 * `onScrub(null)` a replay (which ends on the default frame, the dequantized histogram).
 */
export function mount(histEl, errEl, { slider, play, t: paused = null, onScrub = () => {} }) {
  let data = null;
  let morph = null;
  let t = 1;
  const loop = createLoop(histEl, (ms) => {
    t = Math.min(1, ms / MORPH_MS);
    morph.setT(t);
    slider.value = String(Math.round(t * 1000));
    return t < 1;
  });
  const redraw = createRedraw(() => {
    if (!data) return;
    morph = drawMorph(histEl, data, t);
    drawError(errEl, data);
  });
  const replay = () => {
    loop.stop();
    t = 0;
    if (!loop.start()) t = 1; // reduced motion: straight to the dequantized histogram
    if (morph) morph.setT(t);
    slider.value = String(Math.round(t * 1000));
    onScrub(null);
  };
  slider.addEventListener("input", () => {
    loop.stop();
    t = Number(slider.value) / 1000;
    if (morph) morph.setT(t);
    onScrub(t);
  });
  play.addEventListener("click", replay);
  const off = onResize(histEl, redraw);
  const offTheme = onThemeChange(redraw);
  return {
    update(next) {
      const first = data === null;
      data = next;
      if (first) t = paused ?? (prefersReducedMotion() ? t : 0);
      morph = drawMorph(histEl, data, t);
      drawError(errEl, data);
      if (first && paused === null) replay();
      else slider.value = String(Math.round(t * 1000));
    },
    replay,
    svg: () => (morph ? morph.root : null),
    destroy() {
      loop.destroy();
      off();
      offTheme();
    },
  };
}
