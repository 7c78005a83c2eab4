// The latency–throughput curve: each batch size as a point, time per output token against
// decode throughput per GPU (log-log), the SLO as a vertical line, the batches whose KV cache
// does not fit hollow, the query's batch ringed and the best batch under the SLO marked.
//
// mount(el) -> {update(data), exportSvg(), destroy()}
import { svg, h } from "../lib/dom.js";
import { fmtTime, fmtInt } from "../lib/format.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart } from "./collectives-svgchart.js";
import { logAxes } from "./inference-roofline.js";
import { logScale, decades, si, pow10Label, secondsLabel } from "./inference-scales.js";

function point(p, data, x, y) {
  const chosen = p.batch === data.requests.batch;
  const best = p.batch === data.curve.slo_batch;
  const cls = `inf-pt ${p.fits ? (p.meets_slo ? "inf-pt-ok" : "inf-pt-slow") : "inf-pt-nofit"}${best ? " inf-pt-best" : ""}`;
  const g = svg("g", { class: "inf-pt-g", dataset: { batch: String(p.batch) } });
  if (chosen) g.append(svg("circle", { cx: x(p.tpot), cy: y(p.tokens_per_second_per_gpu), r: 10, class: "inf-pt-ring" }));
  const c = svg("circle", { cx: x(p.tpot), cy: y(p.tokens_per_second_per_gpu), r: best ? 7 : 5, class: cls, tabindex: 0, role: "img", "aria-label": `batch ${p.batch}` });
  const tip = (ev) => {
    showTip(ev, [`Batch ${fmtInt(p.batch)}`, ["time per token", fmtTime(p.tpot)], ["tokens/s per GPU", si(p.tokens_per_second_per_gpu)], ["tokens/s per user", si(p.tokens_per_second_per_user)], ["TTFT (prefill of the batch)", fmtTime(p.ttft)], ["decode step", p.compute_bound ? "compute bound" : "memory bound"], ["KV cache", p.fits ? "fits" : "does not fit"], ["meets the SLO", p.meets_slo ? "yes" : "no"]]);
    moveTip(ev);
  };
  c.addEventListener("pointermove", tip);
  c.addEventListener("pointerleave", hideTip);
  g.append(c);
  if (best || chosen || (p.batch & (p.batch - 1)) === 0 && Math.log2(p.batch) % 3 === 0) {
    g.append(svg("text", { x: x(p.tpot) + 8, y: y(p.tokens_per_second_per_gpu) - 6, class: "inf-pt-label" }, `${fmtInt(p.batch)}`));
  }
  return g;
}

function draw(root, legend, width, data) {
  const narrow = width < 520;
  const H = narrow ? 280 : 330;
  const box = { left: narrow ? 50 : 60, right: width - 30, top: 14, bottom: H - 42 };
  root.setAttribute("viewBox", `0 0 ${width} ${H}`);
  root.setAttribute("width", width);
  root.setAttribute("height", H);
  const pts = data.curve.points;
  const [xlo, xhi] = decades([...pts.map((p) => p.tpot), data.curve.slo]);
  const [ylo, yhi] = decades(pts.map((p) => p.tokens_per_second_per_gpu));
  const x = logScale(xlo, xhi, box.left, box.right);
  const y = logScale(ylo, yhi, box.bottom, box.top);
  logAxes(root, x, y, box, {
    xTick: secondsLabel,
    yTick: pow10Label,
    xLabel: "Time per output token (decode step, log)",
    yLabel: narrow ? "tokens/s per GPU" : "Decode tokens/s per GPU (log)",
  });
  root.append(svg("polyline", { points: pts.map((p) => `${x(p.tpot)},${y(p.tokens_per_second_per_gpu)}`).join(" "), class: "inf-curve-line" }));
  const sx = x(data.curve.slo);
  root.append(
    svg("line", { x1: sx, x2: sx, y1: box.top, y2: box.bottom, class: "inf-slo" }),
    svg("text", { x: sx - 4, y: box.top + 12, "text-anchor": "end", class: "inf-slo-label" }, `SLO ${fmtTime(data.curve.slo)}`),
  );
  for (const p of pts) root.append(point(p, data, x, y));
  const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), text);
  legend.append(
    item("inf-pt-ok", "meets the SLO"),
    item("inf-pt-slow", "slower than the SLO"),
    item("inf-pt-nofit", "KV cache does not fit (vLLM rule)"),
    item("inf-pt-best", "largest batch under the SLO"),
    item("inf-slo-swatch", "SLO (time per output token)"),
    item("inf-ring-swatch", "this batch"),
  );
}

export function mount(el) {
  return svgChart(el, { className: "inf-svg", label: "Latency against throughput over batch sizes", legendClass: "inf-legend", draw });
}
