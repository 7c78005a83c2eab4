// Where a pass's time goes: per phase, one bar split by op (coloured by the op's kind) and one
// split by what bounds it (compute, memory, communication), on the phase's own time axis.
//
// mount(el, {onPick}) -> {update({data, pin}), exportSvg(), destroy()}: the pinned op's segment
// ("phase:name") is outlined; a click or Enter on an op's segment calls onPick(key).
import { svg, h } from "../lib/dom.js";
import { fmtTime, fmtPct } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart } from "./collectives-svgchart.js";
import { pinnable } from "../lib/pin.js";
import { PHASES, KINDS } from "./inference-roofline.js";

const BAR = 22;
const BOUNDS = ["compute", "memory", "communication"];
const PHASE_TITLES = { prefill: "Prefill", decode: "Decode step" };

/** Segments of the two bars of one phase (pure data → widths in seconds). */
export function phaseBars(phase) {
  let t = 0;
  const byOp = phase.ops.filter((o) => o.time > 0).map((o) => {
    const seg = { start: t, value: o.time, cls: `inf-kind-${o.kind}`, name: o.title, op: o };
    t += o.time;
    return seg;
  });
  let b = 0;
  const byBound = BOUNDS.map((k) => {
    const seg = { start: b, value: phase.time_by_bound[k], cls: `inf-bound-${k}`, name: `${k}-bound ops`, bound: k };
    b += phase.time_by_bound[k];
    return seg;
  }).filter((s) => s.value > 0);
  return { byOp, byBound, total: Math.max(t, b) };
}

function tip(ev, phase, seg) {
  const lines = [`${PHASE_TITLES[phase.name]}: ${seg.name}`, ["time", fmtTime(seg.value)], ["of the pass", fmtPct(seg.value / phase.time)]];
  if (seg.op) lines.push(["bound by", seg.op.bound], ["layers", seg.op.layers]);
  showTip(ev, lines);
  moveTip(ev);
}

function bar(g, segs, phase, x, y, label, pin, onPick) {
  g.append(svg("text", { x: x(0) - 8, y: y + BAR / 2 + 4, "text-anchor": "end", class: "inf-bar-label" }, label));
  for (const s of segs) {
    const key = s.op ? `${phase.name}:${s.op.name}` : null;
    const rect = svg("rect", { x: x(s.start), y, width: Math.max(0.5, x(s.start + s.value) - x(s.start)), height: BAR, class: `inf-seg ${s.cls}${key && key === pin ? " inf-pinned" : ""}`, dataset: { phase: phase.name, name: s.op ? s.op.name : s.bound, time: String(s.value) } });
    rect.addEventListener("pointermove", (ev) => tip(ev, phase, s));
    rect.addEventListener("pointerleave", hideTip);
    if (key && onPick) pinnable(rect, () => onPick(key));
    g.append(rect);
  }
}

function draw(root, legend, width, { data, pin }, onPick) {
  const narrow = width < 520;
  const m = { left: narrow ? 70 : 92, right: 14 };
  const blockH = 2 * BAR + 70;
  const H = PHASES.length * blockH + 6;
  root.setAttribute("viewBox", `0 0 ${width} ${H}`);
  root.setAttribute("width", width);
  root.setAttribute("height", H);
  PHASES.forEach((name, i) => {
    const phase = data.phases[name];
    const { byOp, byBound, total } = phaseBars(phase);
    const top = i * blockH + 18;
    const x = (v) => m.left + (v / (total || 1)) * (width - m.left - m.right);
    const g = svg("g", { class: "inf-phase", dataset: { phase: name } });
    const stages = phase.stage_times.length > 1 ? `, ${phase.stage_times.length} stages in turn` : "";
    g.append(svg("text", { x: 4, y: top - 4, class: "inf-phase-title" }, `${PHASE_TITLES[name]} · ${fmtTime(phase.time)} (batch ${phase.batch}, ${phase.tokens.toLocaleString("en-US")} tokens${stages})`));
    bar(g, byOp, phase, x, top + 4, "by op", pin, onPick);
    bar(g, byBound, phase, x, top + BAR + 10, "by bound");
    const axisY = top + 2 * BAR + 14;
    const ax = svg("g", { class: "axis" });
    for (const t of niceTicks(0, total, narrow ? 3 : 6)) {
      ax.append(svg("line", { x1: x(t), x2: x(t), y1: axisY, y2: axisY + 4 }), svg("text", { x: x(t), y: axisY + 15, "text-anchor": "middle" }, fmtTime(t)));
    }
    ax.append(svg("text", { x: (m.left + width - m.right) / 2, y: axisY + 29, "text-anchor": "middle", class: "axis-label" }, "Time of the pass"));
    g.append(ax);
    root.append(g);
  });
  const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), text);
  legend.append(
    ...KINDS.map((k) => item(`inf-kind-${k}`, `${k} op`)),
    item("inf-kind-communication", "collective"),
    ...BOUNDS.map((k) => item(`inf-bound-${k}`, `${k}-bound`)),
  );
}

export function mount(el, { onPick } = {}) {
  const chart = svgChart(el, { className: "inf-svg", label: "Time of a prefill and a decode step, by op and by bound", legendClass: "inf-legend", draw: (root, legend, width, s) => draw(root, legend, width, s, onPick) });
  return { ...chart, update: (data, pin = null) => chart.update({ data, pin }) };
}
