// Both runs over time: sequences in the running batch, and tokens out per second, continuous
// batching against static batching on one time axis, with a playhead the page moves.
//
// mountTimeline(el) -> {update(data), playhead(t), exportSvg(), destroy()}
import { svg, h } from "../lib/dom.js";
import { fmtTime, fmtNum } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart } from "./collectives-svgchart.js";
import { secondsLabel } from "./inference-scales.js";

export const RUNS = [
  { key: "continuous", title: "continuous batching" },
  { key: "static", title: "static batching" },
];
const PANELS = [
  { key: "running", title: "Sequences in the batch", value: (s, i) => s.running[i] },
  {
    key: "rate",
    title: "Tokens out per second",
    value: (s, i) => ((s.prefills[i] + s.decode_tokens[i]) * s.steps[i]) / Math.max(1e-12, s.end[i] - s.start[i]),
  },
];

/** The step-line points of one run in one panel: (time, value) at each segment's edges. */
export function stepLine(seg, panel) {
  const pts = [];
  for (let i = 0; i < seg.start.length; i += 1) {
    const v = panel.value(seg, i);
    pts.push([seg.start[i], v], [seg.end[i], v]);
  }
  return pts;
}

/** The time both runs span: from 0 to the later last segment's end. */
export function timeSpan(data) {
  return Math.max(...RUNS.map((r) => {
    const s = data[r.key].trace.segments;
    return s.end.length ? s.end[s.end.length - 1] : 0;
  }), 1e-9);
}

function hover(ev, data, panel, x) {
  const t = x.invert(ev.offsetX);
  const lines = [`${panel.title} at ${fmtTime(t)}`];
  for (const r of RUNS) {
    const s = data[r.key].trace.segments;
    const i = s.start.findIndex((a, k) => a <= t && t < s.end[k]);
    lines.push([r.title, i < 0 ? "idle" : fmtNum(panel.value(s, i), 4)]);
  }
  showTip(ev, lines);
  moveTip(ev);
}

function drawPanel(root, data, panel, box, x, width) {
  let top = 0;
  for (const r of RUNS) {
    for (const [, v] of stepLine(data[r.key].trace.segments, panel)) top = Math.max(top, v);
  }
  top = top * 1.08 || 1;
  const y = (v) => box.bottom - (v / top) * (box.bottom - box.top);
  const ax = svg("g", { class: "axis" });
  for (const t of niceTicks(0, top, 4)) {
    ax.append(svg("line", { x1: box.left, x2: box.right, y1: y(t), y2: y(t), class: "srv-grid" }), svg("text", { x: box.left - 6, y: y(t) + 4, "text-anchor": "end" }, fmtNum(t, 3)));
  }
  ax.append(svg("text", { x: box.left + 4, y: box.top - 6, class: "axis-label" }, panel.title));
  root.append(ax);
  for (const r of RUNS) {
    const pts = stepLine(data[r.key].trace.segments, panel).map(([t, v]) => `${x(t)},${y(v)}`);
    root.append(svg("polyline", { points: pts.join(" "), class: `srv-line srv-${r.key}`, dataset: { run: r.key, panel: panel.key } }));
  }
  const hit = svg("rect", { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top, class: "srv-hit" });
  hit.addEventListener("pointermove", (ev) => hover(ev, data, panel, x));
  hit.addEventListener("pointerleave", hideTip);
  root.append(hit);
}

function draw(root, legend, width, data) {
  const narrow = width < 520;
  const m = { left: narrow ? 44 : 56, right: 22 };
  const panelH = narrow ? 120 : 140;
  const H = PANELS.length * (panelH + 26) + 34;
  root.setAttribute("viewBox", `0 0 ${width} ${H}`);
  root.setAttribute("width", width);
  root.setAttribute("height", H);
  const t1 = timeSpan(data);
  const x = (t) => m.left + (t / t1) * (width - m.left - m.right);
  x.invert = (px) => ((px - m.left) / (width - m.left - m.right)) * t1;
  PANELS.forEach((panel, i) => {
    const top = i * (panelH + 26) + 20;
    drawPanel(root, data, panel, { left: m.left, right: width - m.right, top, bottom: top + panelH }, x, width);
  });
  const bottom = PANELS.length * (panelH + 26) + 2;
  const ax = svg("g", { class: "axis" });
  for (const t of niceTicks(0, t1, narrow ? 4 : 8)) ax.append(svg("text", { x: x(t), y: bottom, "text-anchor": "middle" }, secondsLabel(t)));
  ax.append(svg("text", { x: (m.left + width - m.right) / 2, y: bottom + 16, "text-anchor": "middle", class: "axis-label" }, "Simulated time (seconds since the first arrival)"));
  root.append(ax);
  Object.assign(root.dataset, { x0: String(m.left), x1: String(width - m.right), t1: String(t1), height: String(bottom - 12) });
  const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), text);
  legend.append(...RUNS.map((r) => item(`srv-${r.key}`, r.title)), item("srv-playhead-swatch", "now (the pools above)"));
}

export function mountTimeline(el) {
  const chart = svgChart(el, { className: "srv-svg", label: "Running batch and throughput over time, continuous and static batching", legendClass: "srv-legend", draw });
  const head = h("div", { class: "srv-playhead", "aria-hidden": "true" });
  el.style.position = "relative";
  el.append(head);
  return {
    update: chart.update,
    playhead(t) {
      const d = chart.exportSvg().dataset;
      if (!d.t1) return;
      const x0 = Number(d.x0);
      const x1 = Number(d.x1);
      head.style.left = `${x0 + (Math.min(t, Number(d.t1)) / Number(d.t1)) * (x1 - x0)}px`;
      head.style.height = `${d.height}px`;
    },
    exportSvg: chart.exportSvg,
    destroy() {
      head.remove();
      chart.destroy();
    },
  };
}
