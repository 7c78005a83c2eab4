// A running sum as it grows: the exact sum, the same terms in a float32 accumulator and in the
// chosen low-precision one, revealed term by term (a clip rectangle whose width follows time t,
// so each frame derives from t), with the stall point marked. `preview(el)` draws the API's
// default sum for the home gallery.
import { h, svg, clear } from "../lib/dom.js";
import { createLoop, prefersReducedMotion } from "../lib/anim.js";
import { onResize, eventToElementCoordinates } from "../lib/canvas.js";
import { fetchJSON, num } from "../lib/api.js";
import { onThemeChange } from "../lib/colors.js";
import { fmtInt, fmtNum } from "../lib/format.js";
import { linear, niceTicks } from "../lib/scale.js";
import { showTip, hideTip } from "../lib/tooltip.js";
import { axisBottom, axisLeft, frame, tip } from "./quantize-svg.js";

const REVEAL_MS = 2200;
let clipIds = 0;

/** The three series of an answer, in drawing order (low precision on top). */
export function sumSeries(d) {
  return [
    { key: "fp32_sums", cls: "a-fp32", name: "float32 accumulator" },
    { key: "partial_sums", cls: "a-low", name: `${d.accumulator} accumulator` },
    { key: "exact_sums", cls: "a-exact", name: "exact (float64)" },
  ];
}

/** y extent over every finite point of every series (0 always included). */
export function sumExtent(d) {
  let lo = 0;
  let hi = 0;
  for (const s of sumSeries(d)) {
    for (const v of d[s.key]) {
      const x = num(v);
      if (Number.isFinite(x)) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
  }
  return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
}

function path(d, key, x, y) {
  let out = "";
  let pen = false;
  d.indices.forEach((i, k) => {
    const v = num(d[key][k]);
    if (!Number.isFinite(v)) {
      pen = false;
      return;
    }
    out += `${pen ? "L" : "M"}${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return out;
}

/** The chart for answer d; returns {root, reveal(fraction), setPin(k)}. */
function drawSum(el, d, pin) {
  const width = el.clientWidth || 600;
  const narrow = width < 560;
  const m = { top: 14, right: narrow ? 10 : 18, bottom: 46, left: narrow ? 56 : 66 };
  const f = frame(width, narrow ? 270 : 340, m, `Running sum of ${d.n} terms in ${d.accumulator} against the exact sum`);
  const x = linear(0, d.n, 0, f.w);
  const [lo, hi] = sumExtent(d);
  const y = linear(lo, hi + (hi - lo) * 0.06, f.h, 0);
  axisLeft(f.plot, y, f.w, { ticks: niceTicks(lo, hi, 5), format: (v) => fmtNum(v, 4), label: "running sum", inset: m.left - 14 });
  axisBottom(f.plot, x, f.h, { ticks: niceTicks(0, d.n, narrow ? 4 : 7), format: fmtInt, label: "terms added" });
  const id = `a-clip-${(clipIds += 1)}`;
  const clipRect = svg("rect", { x: 0, y: -4, width: f.w, height: f.h + 8 });
  f.plot.append(svg("clipPath", { id }, clipRect));
  const lines = svg("g", { "clip-path": `url(#${id})` });
  for (const s of sumSeries(d)) lines.append(svg("path", { class: `a-line ${s.cls}`, d: path(d, s.key, x, y), "data-series": s.key }));
  f.plot.append(lines);
  const stall = d.stalled_at === null ? null : stallMark(d, x, y, f.h);
  if (stall) f.plot.append(stall);
  const pinG = svg("g", { class: "a-pin" });
  f.plot.append(pinG, hoverLayer(d, x, f, pin));
  clear(el).append(f.root);
  const reveal = (fraction) => {
    clipRect.setAttribute("width", String(Math.max(0, fraction) * f.w + 1));
    if (stall) stall.classList.toggle("is-hidden", fraction * d.n < d.stalled_at);
    f.root.dataset.reveal = fraction.toFixed(3);
  };
  /** Mark sample k (or nothing, for null): a line across the chart and a dot on each series. */
  const setPin = (k) => {
    clear(pinG);
    if (k === null) return;
    const px = x(d.indices[k] + 1);
    pinG.dataset.term = String(d.indices[k] + 1);
    pinG.append(svg("line", { x1: px, x2: px, y1: 0, y2: f.h, style: { stroke: "var(--text)", strokeWidth: "1.5", strokeDasharray: "3 3" } }));
    for (const s of sumSeries(d)) {
      const v = num(d[s.key][k]);
      const style = { fill: `var(--${s.cls})`, stroke: "var(--surface)", strokeWidth: "1.5" };
      if (Number.isFinite(v)) pinG.append(svg("circle", { cx: px, cy: y(v), r: 4.5, style, "data-series": s.key, "data-value": String(v) }));
    }
  };
  return { root: f.root, reveal, setPin };
}

function stallMark(d, x, y, h) {
  const px = x(d.stalled_at);
  const g = svg("g", { class: "a-stall", "data-stalled-at": d.stalled_at });
  g.append(
    svg("line", { x1: px, x2: px, y1: 0, y2: h }),
    svg("circle", { cx: px, cy: y(num(d.stall_sum)), r: 5 }),
    svg("text", { x: px + 8, y: Math.max(14, y(num(d.stall_sum)) - 10) }, `stuck at ${fmtNum(d.stall_sum, 6)} from index ${fmtInt(d.stalled_at)}`),
  );
  tip(g, () => [`The sum stops growing at index ${fmtInt(d.stalled_at)}`, ["sum", fmtNum(d.stall_sum, 6)], ["term", fmtNum(d.stall_term, 6)], [`${d.accumulator} spacing there`, fmtNum(d.stall_ulp, 6)]], { focusable: true });
  return g;
}

/** Every series' value after sample k, as tooltip or detail lines. */
export function pinLines(d, k) {
  return [`After term ${fmtInt(d.indices[k] + 1)}`, ...sumSeries(d).map((s) => [s.name, fmtNum(d[s.key][k], 7)])];
}

/** The sample nearest to term number `term` (1-based, as the x axis counts), or null. */
export function sampleOf(d, term) {
  if (!Number.isInteger(term) || term < 1 || term > d.n || !d.indices.length) return null;
  let best = 0;
  d.indices.forEach((v, k) => {
    if (Math.abs(v + 1 - term) < Math.abs(d.indices[best] + 1 - term)) best = k;
  });
  return best;
}

/** A transparent layer: the pointer's term index, with every series' value there. A click,
 * tap or Enter pins that term (`pin.set(k)`), again or Escape unpins; arrows move the pin. */
function hoverLayer(d, x, f, pin) {
  const layer = svg("rect", { class: "a-hover", x: 0, y: 0, width: f.w, height: f.h, tabindex: "0",
    "aria-label": "Running sum values: hover or focus; click or Enter pins a term, arrows move it, Escape unpins" });
  const nearest = (px) => sampleOf(d, Math.min(d.n, Math.max(1, Math.round(x.invert(px))))) ?? 0;
  const pointed = (e) => nearest(eventToElementCoordinates(e, layer).x);
  layer.addEventListener("pointermove", (e) => showTip(e, pinLines(d, pointed(e))));
  layer.addEventListener("pointerleave", hideTip);
  layer.addEventListener("click", (e) => {
    const k = pointed(e);
    pin.set(pin.get() === k ? null : k);
  });
  layer.addEventListener("keydown", (e) => {
    const k = pin.get();
    const last = d.indices.length - 1;
    const moves = { Enter: k === null ? last : null, Escape: null, ArrowLeft: Math.max(0, (k ?? last) - 1), ArrowRight: Math.min(last, (k ?? last) + 1) };
    if (!(e.key in moves) || (e.key === "Escape" && k === null)) return;
    e.preventDefault();
    pin.set(moves[e.key]);
  });
  layer.addEventListener("focus", () => {
    const r = layer.getBoundingClientRect();
    showTip({ clientX: r.right - 40, clientY: r.top }, pinLines(d, pin.get() ?? d.indices.length - 1));
  });
  layer.addEventListener("blur", hideTip);
  return layer;
}

/** The pinned term's values below the chart (the tooltip's lines, kept). */
function showPinned(box, d, k) {
  if (!box) return;
  box.hidden = k === null;
  if (k === null) return;
  const [title, ...rows] = pinLines(d, k);
  box.replaceChildren(h("b", {}, title), ...rows.map(([label, v]) => h("span", { class: "a-pin-row" }, ` · ${label}: `, h("b", {}, v))),
    h("span", { class: "muted" }, " · Escape or a click on it unpins"));
}

/**
 * mount(el, {pinBox, term, onPin}) -> {update(d), replay(), svg()}: reveals each new answer
 * over REVEAL_MS. `term` (a term number, e.g. from the URL) opens pinned there with the whole
 * sum shown; `onPin(term | null)` hears every pin and unpin; `pinBox` shows the pinned values.
 */
export function mount(el, { pinBox = null, term = null, onPin = () => {} } = {}) {
  let d = null;
  let chart = null;
  let fraction = 1;
  let pinned = null; // a sample index of d
  let wanted = term; // the term to pin once an answer arrives
  const loop = createLoop(el, (ms) => {
    fraction = Math.min(1, ms / REVEAL_MS);
    chart.reveal(fraction);
    return fraction < 1;
  });
  const pin = {
    get: () => pinned,
    set(k) {
      pinned = k;
      chart.setPin(k);
      showPinned(pinBox, d, k);
      onPin(k === null ? null : d.indices[k] + 1);
    },
  };
  const draw = () => {
    if (!d) return;
    chart = drawSum(el, d, pin);
    chart.reveal(fraction);
    chart.setPin(pinned);
  };
  const replay = () => {
    loop.stop();
    fraction = 0;
    if (!loop.start()) fraction = 1;
    if (chart) chart.reveal(fraction);
  };
  onResize(el, draw);
  onThemeChange(draw);
  return {
    update(next) {
      const term = wanted ?? (pinned === null || !d ? null : d.indices[pinned] + 1);
      const first = d === null;
      d = next;
      pinned = term === null ? null : sampleOf(d, term);
      wanted = null;
      // a link to a pinned term opens on the whole sum, paused, as its sender saw it
      const still = first && pinned !== null;
      fraction = prefersReducedMotion() || still ? 1 : 0;
      draw();
      showPinned(pinBox, d, pinned);
      if (term !== null && pinned === null) onPin(null); // out of range: unpinned
      if (!still) replay();
    },
    replay,
    svg: () => (chart ? chart.root : null),
  };
}

/** Home-gallery preview: the API's default running sum, exact against low precision. */
export async function preview(el) {
  const d = await fetchJSON("/api/v1/accumulate");
  const W = Math.max(200, el.clientWidth || 300);
  const H = Math.max(100, el.clientHeight || 120);
  const x = linear(0, d.n, 8, W - 8);
  const [lo, hi] = sumExtent(d);
  const y = linear(lo, hi, H - 8, 8);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: "100%", role: "img",
    "aria-label": `Summing ${d.n} terms in ${d.accumulator}: the sum stops at ${fmtNum(d.final)}` });
  root.style.display = "block";
  root.append(
    svg("path", { d: path(d, "exact_sums", x, y), style: { fill: "none", stroke: "var(--muted)", strokeWidth: "1.5", strokeDasharray: "4 3" } }),
    svg("path", { d: path(d, "partial_sums", x, y), style: { fill: "none", stroke: "var(--c1)", strokeWidth: "2.5" } }),
  );
  el.append(root);
}
