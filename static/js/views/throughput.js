// Where one GPU's time goes under a throughput claim: one bar from 0 to 100% of the GPU's
// time, split into the shares /api/v1/throughput returns (`time`: model FLOPs at peak,
// recomputation at peak, the pipeline bubble, the rest), with the MFU of every convention
// marked above it as ticks.
//
// mount(el, {onPick}) -> {update({data, pin}), exportSvg(), destroy()}; preview(el) for the home
// gallery. `pin` names the convention the reader pinned (its tick drawn larger); clicking a tick
// calls onPick(name).
import { svg, h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { fmtPct, fmtNum } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart, ensureStylesheet } from "./collectives-svgchart.js";
import { pinnable } from "../lib/pin.js";

const BAR = 34;

/** Segments laid end to end (pure: data → geometry in fractions of the bar). */
export function segments(data) {
  let x0 = 0;
  return data.time.map((t, i) => {
    const seg = { ...t, index: i, x0, x1: x0 + t.fraction };
    x0 = seg.x1;
    return seg;
  });
}

/** A convention's tooltip lines (the page shows the same lines for the pinned one). */
export function conventionLines(c) {
  return [c.title, [c.kind === "hfu" ? "HFU" : "MFU", fmtPct(c.mfu)], ["TFLOP/s per GPU", fmtNum(c.tflops_per_gpu, 4)], ["FLOPs per token", fmtNum(c.flops_per_token, 4)], c.formula];
}

export function mount(el, { onPick } = {}) {
  return svgChart(el, { className: "tp-svg", label: "Where each GPU's time goes", legendClass: "tp-legend", draw: (root, legend, width, s) => draw(root, legend, width, s.data, s.pin, onPick) });
}

function draw(root, legend, width, data, pin = null, onPick = null) {
  const narrow = width < 520;
  const m = { top: 58, right: 18, bottom: 44, left: 18 };
  const W = width;
  const H = m.top + BAR + m.bottom;
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  root.setAttribute("width", W);
  root.setAttribute("height", H);
  const top = Math.max(1, ...data.conventions.map((c) => c.mfu));
  const x = (f) => m.left + (f / top) * (W - m.left - m.right);
  const axis = svg("g", { class: "axis" });
  for (const t of niceTicks(0, top, narrow ? 4 : 8)) {
    axis.append(
      svg("line", { x1: x(t), x2: x(t), y1: m.top - 6, y2: m.top + BAR + 4, class: "tp-grid" }),
      svg("text", { x: x(t), y: m.top + BAR + 18, "text-anchor": "middle" }, fmtPct(t, 0)),
    );
  }
  axis.append(svg("text", { x: (m.left + W - m.right) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, "Share of each GPU's time (the peak's FLOP/s × time = 100%)"));
  root.append(axis);
  for (const seg of segments(data)) {
    if (seg.fraction <= 0) continue;
    const rect = svg("rect", { x: x(seg.x0), y: m.top, width: Math.max(1, x(seg.x1) - x(seg.x0)), height: BAR, class: `tp-seg tp-${seg.name}`, dataset: { share: seg.name } });
    rect.addEventListener("pointermove", (ev) => {
      showTip(ev, [seg.title, ["share of the GPU's time", fmtPct(seg.fraction)], seg.detail]);
      moveTip(ev);
    });
    rect.addEventListener("pointerleave", hideTip);
    root.append(rect);
  }
  drawTicks(root, data, x, m.top, pin, onPick);
  const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), text);
  legend.append(...data.time.map((t) => item(`tp-${t.name}`, t.title)), item("tp-tick-swatch", "utilisation under each convention (ticks above the bar)"));
}

function drawTicks(root, data, x, y0, pin, onPick) {
  data.conventions.forEach((c, i) => {
    const cx = x(c.mfu);
    const y = y0 - 10 - (i % 3) * 14;
    const pinned = c.name === pin;
    const g = svg("g", { class: `tp-tick tp-tick-${c.kind}${pinned ? " tp-pinned" : ""}`, dataset: { convention: c.name }, role: "button", "aria-pressed": String(pinned), "aria-label": `${c.title}: ${fmtPct(c.mfu)}` });
    g.append(svg("line", { x1: cx, x2: cx, y1: y, y2: y0, class: "tp-tick-line" }), svg("circle", { cx, cy: y, r: pinned ? 6 : 4 }));
    g.addEventListener("pointermove", (ev) => {
      showTip(ev, conventionLines(c));
      moveTip(ev);
    });
    g.addEventListener("pointerleave", hideTip);
    if (onPick) pinnable(g, () => onPick(c.name));
    root.append(g);
  });
}

/** The home gallery's preview: the first published run's claim (two requests). */
export async function preview(el) {
  ensureStylesheet("/static/css/views/throughput.css");
  const gallery = await fetchJSON("/api/v1/throughput/gallery");
  const data = await fetchJSON(`/api/v1/throughput?${gallery.runs[0].throughput_query}`);
  const root = svg("svg", { class: "tp-svg", role: "img", "aria-label": `Where the GPU's time goes: ${gallery.runs[0].title}` });
  draw(root, h("div"), 420, data);
  Object.assign(root.style, { width: "100%", height: "100%" });
  el.append(root);
}
