// The step of one GPU as bars on one time axis: the step itself (compute, exposed
// communication, bubble), then every parallelism axis's collectives split by link
// (intra-node, network) with the part not hidden behind compute marked underneath.
// Each axis's label links to its biggest collective on /collectives; a click on its bars (or
// Enter on them) pins the axis, again or Escape unpins.
//
// mount(el, {onPin}) -> {update(data, pinned), exportSvg(), destroy()}
import { svg, h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { fmtTime, fmtBytes, fmtPct } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart, ensureStylesheet } from "./collectives-svgchart.js";

const ROW = 30;
const GAP = 12;

/** The rows of the chart: the step, a rule, then one row per axis (pure data → geometry). */
export function rows(data) {
  const step = {
    key: "step",
    label: "Step",
    sub: `${fmtTime(data.step_time)}`,
    segments: [
      { cls: "cm-compute", value: data.compute_time, name: "compute", tip: ["compute", fmtTime(data.compute_time)] },
      { cls: "cm-exposed", value: data.exposed_communication_time, name: "exposed communication", tip: ["exposed communication", fmtTime(data.exposed_communication_time)] },
      { cls: "cm-bubble", value: data.bubble_time, name: "pipeline bubble", tip: ["bubble", fmtTime(data.bubble_time)] },
    ],
  };
  const axes = data.axes.map((a) => ({
    key: a.axis,
    label: `${a.axis.toUpperCase()} ×${a.group_size}`,
    title: a.title,
    sub: fmtTime(a.time),
    href: `/collectives?${a.collectives_query}`,
    exposed: a.exposed_time,
    axis: a,
    segments: [
      { cls: "cm-intra", value: a.time_by_link.intra_node, name: "intra-node link" },
      { cls: "cm-network", value: a.time_by_link.network, name: "network" },
    ],
  }));
  return { step, axes };
}

export function mount(el, { onPin } = {}) {
  let refocus = null; // the axis whose bars had the focus: a redraw replaces them
  const pin = onPin && ((axis, from) => {
    refocus = from;
    onPin(axis);
  });
  const chart = svgChart(el, {
    className: "cm-svg",
    label: "Step time and communication per axis",
    legendClass: "cm-legend",
    draw(root, legend, width, s) {
      draw(root, legend, width, s.data, { pinned: s.pinned, onPin: pin });
      const bars = refocus && root.querySelector(`.cm-row[data-key="${refocus}"] .cm-bars`);
      if (bars) bars.focus({ preventScroll: true });
      refocus = null;
    },
  });
  if (onPin) chart.exportSvg().addEventListener("keydown", (ev) => ev.key === "Escape" && pin("", ev.target.closest(".cm-row")?.dataset.key));
  return { ...chart, update: (data, pinned = "") => chart.update({ data, pinned }) };
}

/** An axis row's bars as one focusable mark: click or Enter pins the axis (or unpins it). */
function pinnable(g, row, pinned, onPin) {
  const toggle = () => onPin(row.key === pinned ? "" : row.key, row.key);
  Object.assign(g.dataset, { pinned: String(row.key === pinned) });
  g.setAttribute("tabindex", "0");
  g.setAttribute("role", "button");
  g.setAttribute("aria-pressed", String(row.key === pinned));
  g.setAttribute("aria-label", `${row.title}: ${row.key === pinned ? "unpin" : "pin"} this axis`);
  g.addEventListener("click", toggle);
  g.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    toggle();
  });
}

function draw(root, legend, width, data, { pinned = "", onPin = null } = {}) {
  const { step, axes } = rows(data);
  const narrow = width < 560;
  const m = { top: 22, right: 16, bottom: 40, left: narrow ? 74 : 150 };
  const all = [step, ...axes];
  const H = m.top + all.length * (ROW + GAP) + 14 + m.bottom;
  const W = width;
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  root.setAttribute("width", W);
  root.setAttribute("height", H);
  const top = Math.max(data.step_time, ...axes.map((a) => a.segments[0].value + a.segments[1].value)) * 1.04 || 1;
  const x = (v) => m.left + (v / top) * (W - m.left - m.right);
  const ticks = niceTicks(0, top, narrow ? 4 : 7);
  const ax = svg("g", { class: "axis" });
  const bottom = H - m.bottom;
  for (const t of ticks) {
    ax.append(
      svg("line", { x1: x(t), x2: x(t), y1: m.top, y2: bottom, class: "cm-grid" }),
      svg("text", { x: x(t), y: bottom + 14, "text-anchor": "middle" }, fmtTime(t)),
    );
  }
  ax.append(svg("text", { x: (m.left + W - m.right) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, "Seconds per training step, one GPU (the slowest pipeline rank)"));
  root.append(ax);
  let y = m.top;
  all.forEach((row, i) => {
    if (i === 1) {
      root.append(svg("line", { x1: 8, x2: W - m.right, y1: y + 1, y2: y + 1, class: "cm-rule" }));
      y += 14;
    }
    const g = svg("g", { class: `cm-row${row.key === pinned ? " pinned" : ""}`, dataset: { key: row.key } });
    if (row.key === pinned) g.append(svg("rect", { x: 4, y: y - 4, width: W - m.right - 4, height: ROW + 8, rx: 4, class: "cm-pin-band" }));
    const bars = svg("g", { class: "cm-bars" });
    const label = svg("text", { x: m.left - 8, y: y + ROW / 2 - 2, "text-anchor": "end", class: "cm-row-label" }, row.label);
    const sub = svg("text", { x: m.left - 8, y: y + ROW / 2 + 11, "text-anchor": "end", class: "cm-row-sub" }, row.sub);
    if (row.href) {
      const a = svg("a", { href: row.href, class: "cm-axis-link", "aria-label": `${row.title}: open its biggest collective on /collectives` }, label, sub);
      g.append(a);
    } else {
      g.append(label, sub);
    }
    let x0 = 0;
    for (const seg of row.segments) {
      if (seg.value <= 0) continue;
      const rect = svg("rect", { x: x(x0), y, width: Math.max(1, x(x0 + seg.value) - x(x0)), height: ROW - (row.href ? 8 : 0), class: `cm-seg ${seg.cls}` });
      rect.addEventListener("pointermove", (ev) => tipFor(ev, data, row, seg));
      rect.addEventListener("pointerleave", hideTip);
      bars.append(rect);
      x0 += seg.value;
    }
    if (row.href && row.exposed > 0) {
      const bar = svg("rect", { x: x(0), y: y + ROW - 6, width: Math.max(1, x(row.exposed) - x(0)), height: 5, class: "cm-seg cm-exposed" });
      bar.addEventListener("pointermove", (ev) => tipFor(ev, data, row, { name: "exposed", value: row.exposed }));
      bar.addEventListener("pointerleave", hideTip);
      bars.append(bar);
    }
    g.append(bars);
    if (row.axis && onPin) pinnable(bars, row, pinned, onPin);
    if (row.key === "step" && data.step_time > 0) {
      const share = 1 - data.compute_time / data.step_time;
      g.append(svg("text", { x: x(data.step_time), y: y - 6, class: "cm-share", "text-anchor": "end" }, `${fmtPct(share, 0)} of the step is not compute`));
    }
    root.append(g);
    y += ROW + GAP;
  });
  const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), text);
  legend.append(
    item("cm-compute", "compute"),
    item("cm-exposed", "communication not hidden (under each axis: its exposed part)"),
    item("cm-bubble", "pipeline bubble"),
    item("cm-intra", "collective time on NVLink / in-node links"),
    item("cm-network", "collective time on the network"),
  );
}

function tipFor(ev, data, row, seg) {
  const lines = [row.title ? `${row.title}: ${seg.name}` : seg.name, ["time", fmtTime(seg.value)]];
  if (row.axis) {
    lines.push(["all of it", fmtTime(row.axis.time)], ["exposed", fmtTime(row.axis.exposed_time)], ["sent per GPU", fmtBytes(row.axis.wire_bytes_per_gpu)], "Click to pin it; its label opens its biggest collective");
  } else {
    lines.push(["of the step", fmtPct(seg.value / data.step_time)]);
  }
  showTip(ev, lines);
  moveTip(ev);
}

/** The home gallery's preview: the first published example's step and axes (two requests). */
export async function preview(el) {
  ensureStylesheet("/static/css/views/communication.css");
  const { examples } = await fetchJSON("/api/v1/communication/examples");
  const data = await fetchJSON(`/api/v1/communication?${examples[0].query}`);
  const root = svg("svg", { class: "cm-svg", role: "img", "aria-label": `Communication bill of ${examples[0].title}` });
  draw(root, h("div"), 420, data);
  Object.assign(root.style, { width: "100%", height: "100%" });
  el.append(root);
}
