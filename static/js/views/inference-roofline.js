// The roofline (log-log): attained FLOP/s against arithmetic intensity, the roof
// min(peak, bandwidth · intensity) with its ridge point, and every op of prefill and of decode
// as a dot. When the query changes the dots glide (in log space) to their new places.
//
// mount(el, {onPick}) -> {update(data, pin), exportSvg(), destroy()}: `pin` is the pinned op's
// key ("phase:name"), ringed; a click or Enter on a dot calls onPick(key).
import { svg, h } from "../lib/dom.js";
import { createLoop, easeInOut } from "../lib/anim.js";
import { fmtTime } from "../lib/format.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart } from "./collectives-svgchart.js";
import { pinnable } from "../lib/pin.js";
import { logScale, decades, si, pow10Label, logLerp } from "./inference-scales.js";

export const PHASES = ["prefill", "decode"];
export const KINDS = ["matmul", "attention", "norm", "elementwise"];
const TWEEN_MS = 450;

/** The dots of a response: one per compute op per phase (pure data → positions). */
export function rooflinePoints(data) {
  const out = [];
  for (const phase of PHASES) {
    for (const op of data.phases[phase].ops) {
      if (op.kind === "communication" || !(op.flops > 0) || !(op.time > 0)) continue;
      out.push({ key: `${phase}:${op.name}`, phase, op, x: op.intensity, y: op.flops / op.time });
    }
  }
  return out;
}

/** An op's tooltip lines (the page shows the same lines for the pinned op). */
export function opLines(phase, o) {
  const lines = [`${phase}: ${o.title}`];
  if (o.flops > 0) lines.push(["FLOPs", si(o.flops)]);
  lines.push(["bytes", `${si(o.bytes)}B`]);
  if (o.intensity) lines.push(["intensity", `${o.intensity.toPrecision(3)} FLOP/B`]);
  if (o.flops > 0 && o.time > 0) lines.push(["attained", `${si(o.flops / o.time)}FLOP/s`]);
  lines.push(["time", fmtTime(o.time)], ["bound by", o.bound], ["layers", o.layers]);
  return lines;
}

/** Grid lines and tick labels at the powers of ten of two log scales, and the axis titles. */
export function logAxes(root, x, y, box, { xTick, yTick, xLabel, yLabel }) {
  const g = svg("g", { class: "axis" });
  for (const t of x.ticks()) {
    g.append(
      svg("line", { x1: x(t), x2: x(t), y1: box.top, y2: box.bottom, class: "inf-grid" }),
      svg("text", { x: x(t), y: box.bottom + 14, "text-anchor": "middle" }, xTick(t)),
    );
  }
  for (const t of y.ticks()) {
    g.append(
      svg("line", { x1: box.left, x2: box.right, y1: y(t), y2: y(t), class: "inf-grid" }),
      svg("text", { x: box.left - 6, y: y(t) + 4, "text-anchor": "end" }, yTick(t)),
    );
  }
  const mid = (box.top + box.bottom) / 2;
  g.append(
    svg("text", { x: (box.left + box.right) / 2, y: box.bottom + 32, "text-anchor": "middle", class: "axis-label" }, xLabel),
    svg("text", { x: 12, y: mid, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 12 ${mid})` }, yLabel),
  );
  root.append(g);
}

function roof(root, data, x, y, box) {
  const { peak, bandwidth, ridge } = data.roofline;
  const [x0, x1] = x.domain;
  const pts = [[x0, bandwidth * x0], [ridge, peak], [x1, peak]].map(([a, b]) => `${x(a)},${y(b)}`);
  root.append(
    svg("polyline", { points: pts.join(" "), class: "inf-roof" }),
    svg("line", { x1: x(ridge), x2: x(ridge), y1: y(peak), y2: box.bottom, class: "inf-ridge" }),
  );
  const label = svg("text", { x: x(ridge) + 6, y: y(peak) + 14, class: "inf-ridge-label" }, `ridge ${ridge.toFixed(0)} FLOP/B`);
  label.addEventListener("pointermove", (ev) => {
    showTip(ev, ["Ridge point", ["peak", `${si(peak)}FLOP/s`], ["bandwidth", `${si(bandwidth)}B/s`], ["ridge = peak / bandwidth", `${ridge.toFixed(1)} FLOP/B`], "Left of it an op is limited by memory, right of it by compute."]);
    moveTip(ev);
  });
  label.addEventListener("pointerleave", hideTip);
  root.append(label);
}

function dot(p, cx, cy, pin, onPick) {
  const cls = `inf-dot inf-kind-${p.op.kind} inf-${p.phase}${p.key === pin ? " inf-pinned" : ""}`;
  const attrs = { class: cls, dataset: { op: p.op.name, phase: p.phase, intensity: String(p.op.intensity) }, tabindex: 0, role: "button", "aria-pressed": String(p.key === pin), "aria-label": `${p.phase} ${p.op.title}` };
  const el = p.phase === "prefill"
    ? svg("circle", { ...attrs, cx, cy, r: 6 })
    : svg("rect", { ...attrs, x: cx - 5.5, y: cy - 5.5, width: 11, height: 11, transform: `rotate(45 ${cx} ${cy})` });
  const tip = (ev) => {
    showTip(ev, opLines(p.phase, p.op));
    moveTip(ev);
  };
  el.addEventListener("pointermove", tip);
  el.addEventListener("focus", (ev) => tip({ clientX: ev.target.getBoundingClientRect().x, clientY: ev.target.getBoundingClientRect().y }));
  el.addEventListener("pointerleave", hideTip);
  el.addEventListener("blur", hideTip);
  if (onPick) pinnable(el, () => onPick(p.key));
  return el;
}

function legendItems(legend) {
  const item = (cls, text, shape = "swatch") => h("span", { class: "legend-item" }, h("span", { class: `${shape} ${cls}` }), text);
  legend.append(
    item("inf-shape-prefill", "prefill (circle)", "inf-shape"),
    item("inf-shape-decode", "decode (diamond)", "inf-shape"),
    ...KINDS.map((k) => item(`inf-kind-${k}`, k === "elementwise" ? "elementwise (SiLU·up)" : k)),
    item("inf-roof-swatch", "roof: min(peak, bandwidth × intensity)"),
  );
}

function draw(root, legend, width, state, onPick) {
  const { data, from, k, pin } = state;
  const narrow = width < 520;
  const W = width;
  const H = narrow ? 300 : 380;
  const box = { left: narrow ? 52 : 64, right: W - 12, top: 12, bottom: H - 42 };
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  root.setAttribute("width", W);
  root.setAttribute("height", H);
  const pts = rooflinePoints(data);
  const [xlo, xhi] = decades([...pts.map((p) => p.x), data.roofline.ridge * 4]);
  const [ylo, yhi] = decades([...pts.map((p) => p.y), data.roofline.peak * 1.5]);
  const x = logScale(xlo, xhi, box.left, box.right);
  const y = logScale(ylo, yhi, box.bottom, box.top);
  logAxes(root, x, y, box, {
    xTick: pow10Label,
    yTick: (v) => si(v, 2),
    xLabel: "Arithmetic intensity (FLOPs per byte of HBM traffic, log)",
    yLabel: narrow ? "FLOP/s (log)" : "Attained FLOP/s per GPU (log)",
  });
  roof(root, data, x, y, box);
  const g = svg("g", { class: "inf-dots" });
  for (const p of pts) {
    const was = from && from.get(p.key);
    const px = was ? logLerp(was.x, p.x, k) : p.x;
    const py = was ? logLerp(was.y, p.y, k) : p.y;
    g.append(dot(p, x(px), y(py), pin, onPick));
    if (p.key === pin) g.append(svg("circle", { cx: x(px), cy: y(py), r: 12, class: "inf-pin-ring" }));
  }
  root.append(g);
  legendItems(legend);
}

export function mount(el, { onPick } = {}) {
  const chart = svgChart(el, { className: "inf-svg", label: "Roofline: every op of prefill and decode", legendClass: "inf-legend", draw: (root, legend, width, s) => draw(root, legend, width, s, onPick) });
  let current = null;
  let pin = null;
  let from = null;
  let shown = new Map();
  const loop = createLoop(el, (ms) => {
    const k = easeInOut(ms / TWEEN_MS);
    chart.update({ data: current, from, k, pin });
    if (k >= 1) {
      shown = new Map(rooflinePoints(current).map((p) => [p.key, p]));
      return false;
    }
    return true;
  });
  return {
    update(data, pinned = null) {
      pin = pinned;
      if (data === current) return chart.update({ data, from: null, k: 1, pin }); // a new pin only
      from = current ? positionsAt(shown) : null;
      current = data;
      if (!from || !loop.start()) {
        shown = new Map(rooflinePoints(data).map((p) => [p.key, p]));
        chart.update({ data, from: null, k: 1, pin });
      }
    },
    exportSvg: chart.exportSvg,
    destroy() {
      loop.destroy();
      chart.destroy();
    },
  };
}

function positionsAt(shown) {
  return new Map([...shown].map(([key, p]) => [key, { x: p.x, y: p.y }]));
}
