// Two charts of one /api/v1/moe answer in one SVG (so "Download SVG" keeps both): the load of
// every expert against the capacity line, its dropped part hatched; and the ep × ep dispatch
// matrix as a heatmap, the diagonal (copies that stay on their GPU) outlined.
//
// mount(el, {onPick}) -> {update(data, pin), exportSvg(), destroy()}: `pin` is the pinned
// expert (its bar outlined); a click or Enter on a bar calls onPick(expert).
import { svg } from "../lib/dom.js";
import { cssVar, groupColor, mix } from "../lib/colors.js";
import { fmtBytes, fmtInt, fmtPct } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart } from "./collectives-svgchart.js";
import { pinnable } from "../lib/pin.js";

const M = { top: 16, right: 12, bottom: 46, left: 54 };

export function mount(el, { onPick = null } = {}) {
  const chart = svgChart(el, { className: "moe-svg", label: "Expert load against capacity, and the all-to-all matrix", legendClass: "moe-legend", draw: (root, legend, width, s) => draw(root, legend, width, s.data, s.pin, onPick) });
  return { ...chart, update: (data, pin = null) => chart.update({ data, pin }) };
}

/** An expert's tooltip lines (the page shows the same lines for the pinned expert). */
export function expertLines(d, e) {
  const load = d.expert_load[e];
  return [`Expert ${e} on GPU ${d.expert_rank[e]}`, ["routed", fmtInt(load)], ["kept", fmtInt(d.expert_kept[e])], ["dropped", fmtInt(d.expert_dropped[e])], ["capacity", d.dropless ? "none (dropless)" : fmtInt(d.capacity)], ["share of copies", fmtPct(load / d.routed_copies)]];
}

/** Where each chart goes: side by side when wide, stacked when narrow. */
export function chartLayout(width) {
  const wide = width >= 760;
  const loadW = wide ? Math.round(width * 0.58) : width;
  const side = Math.min(wide ? width - loadW - 16 : width, 380);
  const loadH = 260;
  const matrixTop = wide ? 0 : loadH + 18;
  return { wide, load: { x: 0, y: 0, w: loadW, h: loadH }, matrix: { x: wide ? loadW + 16 : 0, y: matrixTop, w: side, h: side + 44 }, height: wide ? Math.max(loadH, side + 44) : matrixTop + side + 44 };
}

function draw(root, legend, width, d, pin, onPick) {
  const L = chartLayout(width);
  root.setAttribute("viewBox", `0 0 ${width} ${L.height}`);
  root.setAttribute("width", width);
  root.setAttribute("height", L.height);
  defs(root);
  root.append(loadChart(d, L.load, pin, onPick), matrixChart(d, L.matrix));
  legendItems(legend, d);
}

function defs(root) {
  const pattern = svg("pattern", { id: "moe-hatch", width: 5, height: 5, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    svg("rect", { width: 5, height: 5, fill: cssVar("--surface") }),
    svg("rect", { width: 2, height: 5, fill: cssVar("--danger") }));
  root.append(svg("defs", {}, pattern));
}

function loadChart(d, box, pin, onPick) {
  const g = svg("g", { class: "moe-load", transform: `translate(${box.x},${box.y})` });
  const x0 = M.left;
  const x1 = box.w - M.right;
  const y0 = box.h - M.bottom;
  const top = Math.max(1, ...d.expert_load, d.dropless ? 0 : d.capacity) * 1.08;
  const y = (v) => y0 - (v / top) * (y0 - M.top);
  const gap = d.experts <= 64 ? 1 : 0;
  const groupGap = d.ep <= 32 ? 4 : 0;
  const bw = (x1 - x0 - groupGap * (d.ep - 1)) / d.experts;
  const bx = (e) => x0 + e * bw + d.expert_rank[e] * groupGap;
  const ax = svg("g", { class: "axis" });
  for (const t of niceTicks(0, top, 5)) {
    ax.append(svg("line", { x1: x0, x2: x1, y1: y(t), y2: y(t), class: "moe-grid" }), svg("text", { x: x0 - 6, y: y(t) + 4, "text-anchor": "end" }, fmtInt(t)));
  }
  ax.append(svg("text", { x: 12, y: (M.top + y0) / 2, transform: `rotate(-90 12 ${(M.top + y0) / 2})`, "text-anchor": "middle", class: "axis-label" }, "Token copies routed"));
  ax.append(svg("text", { x: (x0 + x1) / 2, y: box.h - 6, "text-anchor": "middle", class: "axis-label" }, `Expert (0–${d.experts - 1}), grouped by the GPU that holds it`));
  const every = Math.ceil(d.ep / Math.max(1, Math.floor((x1 - x0) / 44)));
  for (let r = 0; r < d.ep; r += every) {
    const a = bx(r * d.experts_per_rank);
    const b = bx((r + 1) * d.experts_per_rank - 1) + bw;
    ax.append(svg("text", { x: (a + b) / 2, y: y0 + 15, "text-anchor": "middle" }, `GPU ${r}`));
  }
  g.append(ax);
  const bars = svg("g", { class: "moe-bars" });
  d.expert_load.forEach((load, e) => {
    const kept = d.expert_kept[e];
    const w = Math.max(0.5, bw - gap);
    const mark = svg("g", { class: `moe-bar${e === pin ? " moe-pinned" : ""}`, dataset: { expert: String(e) } },
      svg("rect", { x: bx(e), y: y(kept), width: w, height: Math.max(0, y0 - y(kept)), fill: groupColor(d.expert_rank[e]) }),
      d.expert_dropped[e] ? svg("rect", { x: bx(e), y: y(load), width: w, height: y(kept) - y(load), fill: "url(#moe-hatch)", class: "moe-dropped" }) : null);
    mark.addEventListener("pointermove", (ev) => {
      showTip(ev, expertLines(d, e));
      moveTip(ev);
    });
    mark.addEventListener("pointerleave", hideTip);
    if (onPick) pinnable(mark, () => onPick(e)).setAttribute("aria-label", `Expert ${e}: ${fmtInt(load)} copies routed`);
    bars.append(mark);
  });
  g.append(bars);
  if (!d.dropless) {
    g.append(svg("line", { x1: x0, x2: x1, y1: y(d.capacity), y2: y(d.capacity), class: "moe-capacity" }),
      svg("text", { x: x1, y: y(d.capacity) - 4, "text-anchor": "end", class: "moe-capacity-label" }, `capacity ${fmtInt(d.capacity)}`));
  }
  return g;
}

function matrixChart(d, box) {
  const n = d.ep;
  const g = svg("g", { class: "moe-matrix", transform: `translate(${box.x},${box.y})` });
  const left = 40;
  const topPad = 36;
  const size = Math.max(40, Math.min(box.w - left - 8, box.h - topPad - 36));
  const c = size / n;
  const values = d.dispatch_bytes;
  const max = Math.max(1, ...values.map((row) => Math.max(...row)));
  const lo = cssVar("--surface-2");
  const hi = cssVar("--accent");
  g.append(n <= 64 ? cellRects(values, max, left, topPad, c, lo, hi) : cellImage(values, max, left, topPad, size, lo, hi));
  if (n <= 64) {
    for (let s = 0; s < n; s++) g.append(svg("rect", { x: left + s * c, y: topPad + s * c, width: c, height: c, class: "moe-diagonal" }));
  }
  for (let k = d.gpus_per_node; d.nodes > 1 && k < n; k += d.gpus_per_node) {
    // ranks fill nodes in order: a line between nodes (pairs across it use the network)
    g.append(svg("line", { x1: left + k * c, x2: left + k * c, y1: topPad, y2: topPad + size, class: "moe-node-line" }),
      svg("line", { x1: left, x2: left + size, y1: topPad + k * c, y2: topPad + k * c, class: "moe-node-line" }));
  }
  const hit = svg("rect", { x: left, y: topPad, width: size, height: size, fill: "transparent" });
  hit.addEventListener("pointermove", (ev) => {
    const r = hit.getBoundingClientRect();
    const t = Math.min(n - 1, Math.floor(((ev.clientX - r.left) / r.width) * n));
    const s = Math.min(n - 1, Math.floor(((ev.clientY - r.top) / r.height) * n));
    showTip(ev, [`GPU ${s} → GPU ${t}${s === t ? " (stays local)" : ""}`, ["token copies", fmtInt(d.dispatch_tokens[s][t])], ["dispatch", fmtBytes(values[s][t])], ["combine back", fmtBytes(d.combine_bytes[t][s])]]);
    moveTip(ev);
  });
  hit.addEventListener("pointerleave", hideTip);
  g.append(hit);
  const every = Math.ceil(n / Math.max(1, Math.floor(size / 18)));
  const ax = svg("g", { class: "axis" });
  for (let i = 0; i < n; i += every) {
    ax.append(svg("text", { x: left + (i + 0.5) * c, y: topPad - 6, "text-anchor": "middle" }, String(i)), svg("text", { x: left - 5, y: topPad + (i + 0.5) * c + 4, "text-anchor": "end" }, String(i)));
  }
  ax.append(svg("text", { x: left + size / 2, y: 11, "text-anchor": "middle", class: "axis-label" }, "to GPU (experts)"));
  ax.append(svg("text", { x: 10, y: topPad + size / 2, transform: `rotate(-90 10 ${topPad + size / 2})`, "text-anchor": "middle", class: "axis-label" }, "from GPU (tokens)"));
  g.append(ax, gradient(d, left, topPad + size + 10, size, lo, hi, max));
  return g;
}

function cellRects(values, max, left, top, c, lo, hi) {
  const cells = svg("g", { class: "moe-cells" });
  values.forEach((row, s) => row.forEach((v, t) => {
    cells.append(svg("rect", { x: left + t * c, y: top + s * c, width: c + 0.02, height: c + 0.02, fill: mix(lo, hi, v / max) }));
  }));
  return cells;
}

/** Many ranks: one pixel per cell in an embedded image (an SVG of 65,536 rects is slow). */
function cellImage(values, max, left, top, size, lo, hi) {
  const n = values.length;
  const cv = document.createElement("canvas");
  cv.width = n;
  cv.height = n;
  const cx = cv.getContext("2d");
  values.forEach((row, s) => row.forEach((v, t) => {
    cx.fillStyle = mix(lo, hi, v / max);
    cx.fillRect(t, s, 1, 1);
  }));
  return svg("image", { href: cv.toDataURL(), x: left, y: top, width: size, height: size, preserveAspectRatio: "none", class: "moe-cells-image" });
}

function gradient(d, x, y, w, lo, hi, max) {
  const g = svg("g", { class: "moe-scale" });
  const steps = 24;
  for (let i = 0; i < steps; i++) g.append(svg("rect", { x: x + (i * w) / steps, y, width: w / steps + 0.5, height: 8, fill: mix(lo, hi, i / (steps - 1)) }));
  g.append(svg("text", { x, y: y + 21, "text-anchor": "start", class: "moe-scale-label" }, "0 B"), svg("text", { x: x + w, y: y + 21, "text-anchor": "end", class: "moe-scale-label" }, `${fmtBytes(max)} dispatched per GPU pair`));
  return g;
}

function legendItems(legend, d) {
  const item = (swatch, text) => {
    const el = document.createElement("span");
    el.className = "legend-item";
    el.append(swatch, text);
    return el;
  };
  const sw = (cls, bg) => {
    const s = document.createElement("span");
    s.className = `swatch ${cls}`;
    if (bg) s.style.background = bg;
    return s;
  };
  const shown = Math.min(d.ep, 10);
  for (let r = 0; r < shown; r++) legend.append(item(sw("", groupColor(r)), `kept on GPU ${r}`));
  if (d.ep > shown) legend.append(item(sw("", ""), `… ${d.ep - shown} more GPUs`));
  legend.append(item(sw("moe-hatch-swatch", ""), "dropped (over capacity)"));
  if (!d.dropless) legend.append(item(sw("moe-cap-swatch", ""), "capacity"));
  legend.append(item(sw("moe-diag-swatch", ""), "matrix diagonal: stays on its GPU"));
  if (d.nodes > 1) legend.append(item(sw("moe-node-swatch", ""), `node boundary (${d.gpus_per_node} GPUs per node)`));
}
