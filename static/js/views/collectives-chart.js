// Time (or bus bandwidth) against message size for every algorithm of one collective, as the
// API's `sweep` gives it: log-log for time, log-linear for busbw. The chosen algorithm's
// latency-bound region is shaded up to its half-bandwidth size; a pasted nccl-tests run is
// drawn on the busbw chart as points with its fitted curve and the model at the same sizes.
//
// mount(el) -> {update({data, measure, fit}), exportSvg(), destroy()}
import { svg, h } from "../lib/dom.js";
import { palette } from "../lib/colors.js";
import { fmtBytesBinary, fmtTime, fmtNum } from "../lib/format.js";
import { num } from "../lib/api.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart } from "./collectives-svgchart.js";

const GB = 1e9;

function logScale(d0, d1, r0, r1) {
  const a = Math.log(d0);
  const k = (r1 - r0) / (Math.log(d1) - a || 1);
  return (x) => r0 + (Math.log(x) - a) * k;
}

function linScale(d0, d1, r0, r1) {
  const k = (r1 - r0) / (d1 - d0 || 1);
  return (x) => r0 + (x - d0) * k;
}

/** Powers of ten covering [lo, hi]. */
function decades(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) out.push(10 ** e);
  return out;
}

function path(points) {
  return points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
}

export function mount(el) {
  return svgChart(el, { className: "co-chart-svg", label: "Time against message size", legendClass: "co-chart-legend", draw });
}

/** Scales, series and ticks of the chart (pure: numbers in, geometry out). */
export function geometry(state, width) {
  const { data, measure, fit } = state;
  const busbw = measure === "busbw";
  const narrow = width < 560;
  const H = narrow ? 270 : 320;
  const m = { top: 14, right: 14, bottom: 44, left: busbw ? 52 : 66 };
  const sizes = data.sweep.sizes;
  const series = data.sweep.series.map((s, i) => ({ ...s, color: palette(i), values: (busbw ? s.bus_bandwidth : s.times).map(num) }));
  const chosen = series.find((s) => s.algorithm === data.algorithm) || series[0];
  const measured = busbw && fit ? fit.rows : [];
  const all = series.flatMap((s) => s.values).concat(measured.map((r) => num(r.bus_bandwidth)));
  const x = logScale(sizes[0], sizes[sizes.length - 1], m.left, width - m.right);
  let y;
  let yTicks;
  if (busbw) {
    const top = Math.max(...all) * 1.08;
    y = linScale(0, top, H - m.bottom, m.top);
    yTicks = niceTicks(0, top, 5).map((v) => [v, `${fmtNum(v / GB, 3)}`]);
  } else {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...all)));
    y = logScale(lo, hi, H - m.bottom, m.top);
    yTicks = decades(lo, hi).map((v) => [v, fmtTime(v)]);
  }
  const xTicks = sizes.filter((s) => (Math.log2(s) - Math.log2(sizes[0])) % (narrow ? 10 : 5) === 0);
  const yLabel = busbw ? "Bus bandwidth (GB/s)" : "Time per call";
  return { busbw, W: width, H, m, plotW: width - m.right, sizes, series, chosen, measured, x, y, xTicks, yTicks, yLabel };
}

function drawZone(root, g) {
  const { m, H, plotW, x, sizes } = g;
  const half = num(g.chosen.half_bandwidth_bytes);
  if (!(Number.isFinite(half) && half > sizes[0])) return;
  const xh = Math.min(x(half), plotW);
  root.append(
    svg("rect", { x: m.left, y: m.top, width: xh - m.left, height: H - m.bottom - m.top, class: "co-latency-zone" }),
    svg("line", { x1: xh, x2: xh, y1: m.top, y2: H - m.bottom, class: "co-half-line" }),
    svg("text", { x: m.left + 6, y: m.top + 14, class: "co-zone-label" }, "latency-bound"),
  );
  if (xh < plotW - 110) root.append(svg("text", { x: plotW - 6, y: m.top + 14, class: "co-zone-label", "text-anchor": "end" }, "bandwidth-bound"));
}

function drawAxes(root, g) {
  const { m, H, plotW, x, y } = g;
  const ax = svg("g", { class: "axis" });
  for (const s of g.xTicks) {
    ax.append(svg("line", { x1: x(s), x2: x(s), y1: H - m.bottom, y2: H - m.bottom + 4 }), svg("text", { x: x(s), y: H - m.bottom + 16, "text-anchor": "middle" }, fmtBytesBinary(s, 0)));
  }
  for (const [v, label] of g.yTicks) {
    ax.append(svg("line", { x1: m.left, x2: plotW, y1: y(v), y2: y(v), class: "co-grid" }), svg("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, label));
  }
  const mid = (m.top + H - m.bottom) / 2;
  ax.append(
    svg("line", { x1: m.left, x2: plotW, y1: H - m.bottom, y2: H - m.bottom }),
    svg("text", { x: (m.left + plotW) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, "Message size (bytes, nccl-tests' convention)"),
    svg("text", { x: 12, y: mid, transform: `rotate(-90 12 ${mid})`, "text-anchor": "middle", class: "axis-label" }, g.yLabel),
  );
  root.append(ax);
}

function drawSeries(root, legend, g, state) {
  const { sizes, x, y, chosen } = g;
  const dim = state.fit && g.busbw;
  for (const s of g.series) {
    const d = path(sizes.map((sz, i) => [x(sz), y(s.values[i])]));
    root.append(svg("path", { d, class: s === chosen ? "co-series co-series-chosen" : "co-series", stroke: s.color, opacity: dim ? 0.35 : 1 }));
    legend.append(h("span", { class: "legend-item" }, h("span", { class: "swatch", style: { background: s.color } }), `${s.title}${s === chosen ? " (shown above)" : ""}`));
  }
  const half = fmtBytesBinary(num(chosen.half_bandwidth_bytes));
  legend.append(h("span", { class: "legend-item" }, h("span", { class: "swatch co-swatch-zone" }), `latency-bound below ${half} (${chosen.title.toLowerCase()})`));
  const cur = g.busbw ? num(state.data.bus_bandwidth) : num(state.data.time);
  root.append(svg("circle", { cx: x(state.data.bytes), cy: y(cur), r: 5, class: "co-current", stroke: chosen.color }));
}

function drawFit(root, legend, g, f) {
  const { x, y } = g;
  const gbs = (v) => `${fmtNum(num(v) / GB, 4)} GB/s`;
  root.append(
    svg("path", { d: path(f.rows.map((r) => [x(r.bytes), y(num(r.fitted_bus_bandwidth))])), class: "co-fit" }),
    svg("path", { d: path(f.rows.map((r, i) => [x(r.bytes), y(num(f.model.bus_bandwidth[i]))])), class: "co-fit-model" }),
  );
  for (const r of f.rows) {
    const dot = svg("circle", { cx: x(r.bytes), cy: y(num(r.bus_bandwidth)), r: 3.5, class: "co-measured" });
    dot.addEventListener("pointermove", (ev) => {
      showTip(ev, [`nccl-tests: ${fmtBytesBinary(r.bytes)}`, ["time", fmtTime(r.time)], ["busbw", gbs(r.bus_bandwidth)], ["fit", gbs(r.fitted_bus_bandwidth)]]);
      moveTip(ev);
    });
    dot.addEventListener("pointerleave", hideTip);
    root.append(dot);
  }
  const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: cls }), text);
  legend.append(item("co-key-measured", "your nccl-tests rows"), item("co-key-fit", "fitted curve"), item("co-key-model", `model (${f.model.gpu}, ${f.ranks} ranks)`));
}

/** A crosshair that reads every series at the nearest size. */
function drawHover(root, g) {
  const { m, H, plotW, x, sizes } = g;
  const hover = svg("line", { class: "co-hover", y1: m.top, y2: H - m.bottom, x1: -10, x2: -10 });
  const catcher = svg("rect", { x: m.left, y: m.top, width: plotW - m.left, height: H - m.bottom - m.top, class: "co-catch" });
  root.append(hover, catcher);
  const fmt = (v) => (g.busbw ? `${fmtNum(v / GB, 4)} GB/s` : fmtTime(v));
  catcher.addEventListener("pointermove", (ev) => {
    const box = root.getBoundingClientRect();
    const px = ((ev.clientX - box.left) * g.W) / box.width;
    let best = 0;
    sizes.forEach((s, i) => {
      if (Math.abs(x(s) - px) < Math.abs(x(sizes[best]) - px)) best = i;
    });
    hover.setAttribute("x1", x(sizes[best]));
    hover.setAttribute("x2", x(sizes[best]));
    showTip(ev, [`${fmtBytesBinary(sizes[best])} (${sizes[best].toLocaleString("en-US")} B)`, ...g.series.map((s) => [s.title, fmt(s.values[best])])]);
    moveTip(ev);
  });
  catcher.addEventListener("pointerleave", () => {
    hover.setAttribute("x1", -10);
    hover.setAttribute("x2", -10);
    hideTip();
  });
}

function draw(root, legend, width, state) {
  const g = geometry(state, width);
  root.setAttribute("viewBox", `0 0 ${g.W} ${g.H}`);
  root.setAttribute("width", g.W);
  root.setAttribute("height", g.H);
  drawZone(root, g);
  drawAxes(root, g);
  drawSeries(root, legend, g, state);
  if (g.measured.length) drawFit(root, legend, g, state.fit);
  drawHover(root, g);
}
