// The layouts of /api/v1/plan as points: step time across, memory per GPU up, one colour per
// pipeline degree, filled where the step was priced exactly (hollow: the screen's estimate),
// the memory-time Pareto front joined and ringed, the GPU's capacity as a rule. Clicking a
// point picks its layout (the page marks its table row).
//
// mount(el, {onPick}) -> {update({data, pick}), exportSvg(), destroy()}; preview(el).
import { svg, h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { fmtTime, fmtPct, fmtBytes } from "../lib/format.js";
import { linear } from "../lib/scale.js";
import { palette } from "../lib/colors.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart, ensureStylesheet } from "./collectives-svgchart.js";
import { pinnable } from "../lib/pin.js";

/** A layout's tooltip lines (the page shows the same lines for the picked layout). */
export function layoutLines(l) {
  return [`#${l.rank} ${l.label}`, ["step", fmtTime(l.step_time)], ["memory per GPU", fmtBytes(l.memory_per_gpu)], ["MFU", fmtPct(l.mfu)], l.exact ? "priced exactly" : "estimated", l.pareto ? "on the Pareto front" : l.versus_best];
}

/** Points and the front (pure: data → positions in data units and colour groups). */
export function points(data) {
  const degrees = [...new Set(data.layouts.map((l) => l.pp))].sort((a, b) => a - b);
  const pts = data.layouts.map((l) => ({ layout: l, x: l.step_time, y: l.memory_per_gpu, group: degrees.indexOf(l.pp) }));
  const front = pts.filter((p) => p.layout.pareto).sort((a, b) => a.x - b.x);
  return { pts, front, degrees };
}

function domain(values, pad) {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || Math.abs(hi) * 0.1 || 1;
  return [lo - span * pad, hi + span * pad];
}

export function mount(el, { onPick } = {}) {
  return svgChart(el, {
    className: "pl-svg",
    label: "Memory per GPU against step time for every layout listed",
    legendClass: "pl-legend",
    draw: (root, legend, width, state) => draw(root, legend, width, state, onPick),
  });
}

function draw(root, legend, width, { data, pick }, onPick) {
  const narrow = width < 560;
  const m = { top: 18, right: 18, bottom: 46, left: narrow ? 58 : 70 };
  const W = width;
  const H = narrow ? 300 : 360;
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  root.setAttribute("width", W);
  root.setAttribute("height", H);
  const { pts, front, degrees } = points(data);
  const cap = data.layouts[0].memory_capacity;
  const [x0, x1] = domain(pts.map((p) => p.x), 0.08);
  const [y0, y1] = domain([...pts.map((p) => p.y), cap], 0.08);
  const x = linear(x0, x1, m.left, W - m.right);
  const y = linear(Math.max(0, y0), y1, H - m.bottom, m.top);
  drawAxes(root, x, y, W, H, m, narrow);
  root.append(
    svg("line", { x1: m.left, x2: W - m.right, y1: y(cap), y2: y(cap), class: "pl-capacity" }),
    svg("text", { x: W - m.right - 4, y: y(cap) - 5, "text-anchor": "end", class: "pl-capacity-label" }, `GPU capacity ${fmtBytes(cap)}`),
  );
  if (front.length > 1) {
    const path = front.map((p, i) => `${i ? "L" : "M"}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join("");
    root.append(svg("path", { d: path, class: "pl-front" }));
  }
  for (const p of pts) root.append(mark(p, x, y, pick, onPick));
  const item = (style, cls, text) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}`, style }), text);
  legend.append(
    ...degrees.map((d, i) => item({ background: palette(i) }, "", `PP ${d}`)),
    item(null, "pl-front-swatch", "Pareto front: no layout is both faster and smaller"),
    item(null, "pl-hollow-swatch", "hollow: the screen's estimate (not simulated)"),
    item(null, "pl-capacity-swatch", "the GPU's memory"),
  );
}

function drawAxes(root, x, y, W, H, m, narrow) {
  const g = svg("g", { class: "axis" });
  for (const t of x.ticks(narrow ? 4 : 7)) {
    g.append(
      svg("line", { x1: x(t), x2: x(t), y1: m.top, y2: H - m.bottom, class: "pl-grid" }),
      svg("text", { x: x(t), y: H - m.bottom + 14, "text-anchor": "middle" }, fmtTime(t)),
    );
  }
  for (const t of y.ticks(5)) {
    g.append(
      svg("line", { x1: m.left, x2: W - m.right, y1: y(t), y2: y(t), class: "pl-grid" }),
      svg("text", { x: m.left - 6, y: y(t) + 4, "text-anchor": "end" }, fmtBytes(t, 0)),
    );
  }
  g.append(
    svg("text", { x: (m.left + W - m.right) / 2, y: H - 8, "text-anchor": "middle", class: "axis-label" }, "Step time (seconds per optimizer step)"),
    svg("text", { x: 14, y: (m.top + H - m.bottom) / 2, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 14 ${(m.top + H - m.bottom) / 2})` }, "Memory per GPU (fullest stage)"),
  );
  root.append(g);
}

function mark(p, x, y, pick, onPick) {
  const l = p.layout;
  const picked = pick === l.rank;
  const attrs = { cx: x(p.x), cy: y(p.y), r: l.pareto ? 6.5 : 5, class: `pl-dot${l.exact ? "" : " pl-estimate"}${l.pareto ? " pl-pareto" : ""}${picked ? " pl-picked" : ""}`, dataset: { rank: String(l.rank) } };
  const dot = svg("circle", { ...attrs, tabindex: 0, role: "button", "aria-label": `#${l.rank} ${l.label}` });
  const colour = palette(p.group);
  dot.style.fill = l.exact ? colour : "transparent";
  dot.style.stroke = l.exact && !picked ? "var(--surface)" : colour;
  dot.addEventListener("pointermove", (ev) => {
    showTip(ev, layoutLines(l));
    moveTip(ev);
  });
  dot.addEventListener("pointerleave", hideTip);
  return pinnable(dot, () => onPick && onPick(l.rank));
}

/** The home gallery's preview: the one-node example's plan (two requests). */
export async function preview(el) {
  ensureStylesheet("/static/css/views/plan.css");
  const { examples } = await fetchJSON("/api/v1/plan/examples");
  const gpus = (e) => Number(new URLSearchParams(e.query).get("gpus"));
  const small = examples.reduce((a, b) => (gpus(b) < gpus(a) ? b : a)); // the quickest to plan
  const data = await fetchJSON(`/api/v1/plan?${small.query}`);
  const root = svg("svg", { class: "pl-svg", role: "img", "aria-label": `Layouts of ${small.title}` });
  draw(root, h("div"), 420, { data, pick: null }, null);
  Object.assign(root.style, { width: "100%", height: "100%" });
  el.append(root);
}
