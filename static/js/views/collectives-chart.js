// Time (or bus bandwidth) against message size for every algorithm of one collective, as the
// API's `sweep` gives it: log-log for time, log-linear for busbw. The chosen algorithm's
// latency-bound region is shaded up to its half-bandwidth size; a pasted nccl-tests run is
// drawn on the busbw chart as points with its fitted curve and the model at the same sizes.
//
// mount(el) -> {update({data, measure, fit}), exportSvg(), destroy()}
import { svg, h, clear } from "../lib/dom.js";
import { createRedraw } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { palette, onThemeChange } from "../lib/colors.js";
import { fmtBytesBinary, fmtTime, fmtNum } from "../lib/format.js";
import { num } from "../lib/api.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";

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
  let state = null;
  let width = 0;
  const root = svg("svg", { class: "co-chart-svg", role: "img", "aria-label": "Time against message size" });
  const legend = h("div", { class: "legend co-chart-legend" });
  el.append(root, legend);

  function draw() {
    clear(root);
    clear(legend);
    if (!state || !width) return;
    const { data, measure, fit } = state;
    const busbw = measure === "busbw";
    const narrow = width < 560;
    const H = narrow ? 270 : 320;
    const m = { top: 14, right: 14, bottom: 44, left: busbw ? 52 : 66 };
    const W = width;
    root.setAttribute("viewBox", `0 0 ${W} ${H}`);
    root.setAttribute("width", W);
    root.setAttribute("height", H);
    const sizes = data.sweep.sizes;
    const series = data.sweep.series.map((s, i) => ({ ...s, color: palette(i), values: (busbw ? s.bus_bandwidth : s.times).map(num) }));
    const chosen = series.find((s) => s.algorithm === data.algorithm) || series[0];
    const measured = busbw && fit ? fit.rows : [];
    const all = series.flatMap((s) => s.values).concat(measured.map((r) => num(r.bus_bandwidth)));
    const x = logScale(sizes[0], sizes[sizes.length - 1], m.left, W - m.right);
    let y;
    let yTicks;
    let yLabel;
    if (busbw) {
      const top = Math.max(...all) * 1.08;
      y = linScale(0, top, H - m.bottom, m.top);
      yTicks = niceTicks(0, top, 5).map((v) => [v, `${fmtNum(v / GB, 3)}`]);
      yLabel = "Bus bandwidth (GB/s)";
    } else {
      const lo = 10 ** Math.floor(Math.log10(Math.min(...all)));
      const hi = 10 ** Math.ceil(Math.log10(Math.max(...all)));
      y = logScale(lo, hi, H - m.bottom, m.top);
      yTicks = decades(lo, hi).map((v) => [v, fmtTime(v)]);
      yLabel = "Time per call";
    }
    const plotW = W - m.right;
    // latency-bound region of the chosen algorithm
    const half = num(chosen.half_bandwidth_bytes);
    if (Number.isFinite(half) && half > sizes[0]) {
      const xh = Math.min(x(half), plotW);
      root.append(
        svg("rect", { x: m.left, y: m.top, width: xh - m.left, height: H - m.bottom - m.top, class: "co-latency-zone" }),
        svg("line", { x1: xh, x2: xh, y1: m.top, y2: H - m.bottom, class: "co-half-line" }),
        svg("text", { x: m.left + 6, y: m.top + 14, class: "co-zone-label" }, "latency-bound"),
      );
      if (xh < plotW - 110) root.append(svg("text", { x: plotW - 6, y: m.top + 14, class: "co-zone-label", "text-anchor": "end" }, "bandwidth-bound"));
    }
    // axes
    const ax = svg("g", { class: "axis" });
    const every = narrow ? 10 : 5;
    for (const s of sizes) {
      if ((Math.log2(s) - Math.log2(sizes[0])) % every !== 0) continue;
      ax.append(svg("line", { x1: x(s), x2: x(s), y1: H - m.bottom, y2: H - m.bottom + 4 }), svg("text", { x: x(s), y: H - m.bottom + 16, "text-anchor": "middle" }, fmtBytesBinary(s, 0)));
    }
    for (const [v, label] of yTicks) {
      ax.append(svg("line", { x1: m.left, x2: plotW, y1: y(v), y2: y(v), class: "co-grid" }), svg("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, label));
    }
    ax.append(
      svg("line", { x1: m.left, x2: plotW, y1: H - m.bottom, y2: H - m.bottom }),
      svg("text", { x: (m.left + plotW) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, "Message size (bytes, nccl-tests' convention)"),
      svg("text", { x: 12, y: (m.top + H - m.bottom) / 2, transform: `rotate(-90 12 ${(m.top + H - m.bottom) / 2})`, "text-anchor": "middle", class: "axis-label" }, yLabel),
    );
    root.append(ax);
    // series
    for (const s of series) {
      const dim = fit && busbw;
      root.append(
        svg("path", {
          d: path(sizes.map((sz, i) => [x(sz), y(s.values[i])])),
          class: s === chosen ? "co-series co-series-chosen" : "co-series",
          stroke: s.color,
          opacity: dim ? 0.35 : 1,
        }),
      );
      legend.append(h("span", { class: "legend-item" }, h("span", { class: "swatch", style: { background: s.color } }), `${s.title}${s === chosen ? " (shown above)" : ""}`));
    }
    legend.append(h("span", { class: "legend-item" }, h("span", { class: "swatch co-swatch-zone" }), `latency-bound below ${fmtBytesBinary(half)} (${chosen.title.toLowerCase()})`));
    // the current call
    const cur = busbw ? num(data.bus_bandwidth) : num(data.time);
    root.append(svg("circle", { cx: x(data.bytes), cy: y(cur), r: 5, class: "co-current", stroke: chosen.color }));
    if (measured.length) drawFit(fit, x, y);
    // hover: the values of every series at the nearest size
    const hover = svg("line", { class: "co-hover", y1: m.top, y2: H - m.bottom, x1: -10, x2: -10 });
    const catcher = svg("rect", { x: m.left, y: m.top, width: plotW - m.left, height: H - m.bottom - m.top, class: "co-catch" });
    root.append(hover, catcher);
    catcher.addEventListener("pointermove", (ev) => {
      const box = root.getBoundingClientRect();
      const px = ((ev.clientX - box.left) * W) / box.width;
      let best = 0;
      sizes.forEach((s, i) => {
        if (Math.abs(x(s) - px) < Math.abs(x(sizes[best]) - px)) best = i;
      });
      hover.setAttribute("x1", x(sizes[best]));
      hover.setAttribute("x2", x(sizes[best]));
      const fmt = (v) => (busbw ? `${fmtNum(v / GB, 4)} GB/s` : fmtTime(v));
      showTip(ev, [`${fmtBytesBinary(sizes[best])} (${sizes[best].toLocaleString("en-US")} B)`, ...series.map((s) => [s.title, fmt(s.values[best])])]);
      moveTip(ev);
    });
    catcher.addEventListener("pointerleave", () => {
      hover.setAttribute("x1", -10);
      hover.setAttribute("x2", -10);
      hideTip();
    });

    function drawFit(f, xs, ys) {
      const rows = f.rows;
      root.append(
        svg("path", { d: path(rows.map((r) => [xs(r.bytes), ys(num(r.fitted_bus_bandwidth))])), class: "co-fit" }),
        svg("path", { d: path(rows.map((r, i) => [xs(r.bytes), ys(num(f.model.bus_bandwidth[i]))])), class: "co-fit-model" }),
      );
      for (const r of rows) {
        const dot = svg("circle", { cx: xs(r.bytes), cy: ys(num(r.bus_bandwidth)), r: 3.5, class: "co-measured" });
        dot.addEventListener("pointermove", (ev) => {
          showTip(ev, [`nccl-tests: ${fmtBytesBinary(r.bytes)}`, ["time", fmtTime(r.time)], ["busbw", `${fmtNum(num(r.bus_bandwidth) / GB, 4)} GB/s`], ["fit", `${fmtNum(num(r.fitted_bus_bandwidth) / GB, 4)} GB/s`]]);
          moveTip(ev);
        });
        dot.addEventListener("pointerleave", hideTip);
        root.append(dot);
      }
      legend.append(
        h("span", { class: "legend-item" }, h("span", { class: "co-key-measured" }), "your nccl-tests rows"),
        h("span", { class: "legend-item" }, h("span", { class: "co-key-fit" }), "fitted curve"),
        h("span", { class: "legend-item" }, h("span", { class: "co-key-model" }), `model (${f.model.gpu}, ${f.ranks} ranks)`),
      );
    }
  }

  const redraw = createRedraw(draw);
  const unResize = onResize(el, (w) => {
    width = w;
    redraw();
  });
  const unTheme = onThemeChange(redraw);
  return {
    update(next) {
      state = next;
      redraw();
    },
    exportSvg() {
      return root;
    },
    destroy() {
      unResize();
      unTheme();
      root.remove();
      legend.remove();
    },
  };
}
