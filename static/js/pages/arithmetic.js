// /arithmetic: three panels on one URL. The running sum owns the plain keys and asks
// /api/v1/accumulate; the dot product owns dot_* (/api/v1/accumulate/dot) and attention attn_*
// (/api/v1/attention). Each panel sends exactly its keys and shows its controls as the answer's
// `query` says; names come from /api/v1/quantize/schemes. Nothing is computed here.
import { $, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtInt, fmtNum, fmtPct } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { NOT_API_KEYS } from "../lib/urlstate.js";
import { mount as mountSum } from "../views/arithmetic.js";
import { drawLogLog, mountPlot } from "../views/arithmetic-plot.js";
import { UrlState, fillChoices, syncForm, wireForm } from "../views/quantize-state.js";

// the view's state (the running sum's pinned term `step`) is the page's, not an API's
const url = new UrlState(NOT_API_KEYS);
const sumChart = mountSum($("#a-sum-chart"), { pinBox: $("#a-sum-pin"), term: sharedStep(), onPin: writeStep });
const dotPlot = mountPlot($("#a-dot-chart"));
const attnPlot = mountPlot($("#a-attn-chart"));

/** The pinned term from the URL: a whole number (a term the answer has, or no pin), else none. */
function sharedStep() {
  const raw = url.params.get("step");
  if (raw === null) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw);
  writeStep(null); // not a term number: drop it, silently
  return null;
}

function writeStep(term) {
  if (term === null) url.params.delete("step");
  else url.params.set("step", String(term));
  url.write();
}

/** One panel: its form, its endpoint, its loader and what to draw with an answer. */
function makePanel(formId, errorsId, apiId, draw) {
  const form = $(formId);
  const panel = url.panel(form.dataset.prefix);
  const errors = errorBox($(errorsId));
  const load = latest();
  let timer = 0;
  const refresh = async () => {
    const q = panel.apiQuery();
    const target = `${form.dataset.endpoint}${q ? `?${q}` : ""}`;
    $(apiId).href = target;
    try {
      const data = await load(target);
      errors.clear();
      panel.answered(data, q);
      form.dataset.query = q;
      draw(data);
      syncForm(form, panel);
    } catch (err) {
      errors.show(err);
    }
  };
  wireForm(form, (patch, now) => {
    panel.set(patch);
    clearTimeout(timer);
    timer = setTimeout(refresh, now ? 0 : 300);
  });
  return { form, panel, refresh };
}

// ------------------------------------------------------------------ running sum

function metric(key, label, raw, text, sub) {
  return h("div", { class: "metric" }, h("div", { class: "label" }, label),
    h("div", { class: "value", "data-metric": key, "data-value": String(raw) }, text),
    sub ? h("div", { class: "sub" }, sub) : null);
}

function drawSum(d) {
  clear($("#a-sum-metrics")).append(
    metric("final", `Sum in ${d.accumulator}`, d.final, fmtNum(d.final, 7), "one term at a time"),
    metric("fp32_final", "Sum in float32", d.fp32_final, fmtNum(d.fp32_final, 7), "same terms"),
    metric("pairwise_final", `Pairwise in ${d.accumulator}`, d.pairwise_final, fmtNum(d.pairwise_final, 7), "a balanced tree of adds"),
    metric("exact", "Exact sum", d.exact, fmtNum(d.exact, 7), "math.fsum of the terms"),
    metric("relative_error", "Relative error", d.relative_error, fmtPct(d.relative_error, 2), "|sum − exact| / |exact|"),
    metric("stalled_at", "Stops growing at", d.stalled_at ?? "", d.stalled_at === null ? "never" : `index ${fmtInt(d.stalled_at)}`, "first term lost entirely"),
  );
  clear($("#a-sum-legend")).append(
    legendItem("a-sw-exact", "exact sum (float64)"),
    legendItem("a-sw-fp32", "float32 accumulator"),
    legendItem("a-sw-low", `${d.accumulator} accumulator`),
    d.stalled_at === null ? null : legendItem("a-sw-stall", "where the sum stops growing"),
    h("span", { class: "legend-item muted" }, "hover the chart for the values, click to pin a term"),
  );
  $("#a-stall-note").textContent = stallNote(d);
  sumChart.update(d);
}

function legendItem(cls, text) {
  return h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), text);
}

/** The stall in words, every number from the answer. */
export function stallNote(d) {
  if (d.stalled_at === null) {
    return `No term was lost: every one of the ${fmtInt(d.n)} additions changed the ${d.accumulator} sum (unit roundoff ${fmtNum(d.unit_roundoff)}).`;
  }
  return `From index ${fmtInt(d.stalled_at)} on, the ${d.accumulator} sum is stuck: at ${fmtNum(d.stall_sum, 7)} its neighbouring values are ` +
    `${fmtNum(d.stall_ulp, 7)} apart, and a term of ${fmtNum(d.stall_term, 7)} is no more than half that gap, so sum + term rounds ` +
    `back to ${fmtNum(d.stall_sum, 7)} (ties go to the even neighbour). The float32 accumulator ends at ${fmtNum(d.fp32_final, 7)}, ` +
    `the exact sum is ${fmtNum(d.exact, 7)}, and adding pairwise in ${d.accumulator} keeps the partial sums small: ${fmtNum(d.pairwise_final, 7)}.`;
}

// ------------------------------------------------------------------ dot product and attention

function drawDot(d) {
  const series = [
    { name: `${d.accumulator} accumulator`, values: d.relative_error, cls: "a-low" },
    { name: "float32 accumulator", values: d.fp32_relative_error, cls: "a-fp32" },
    { name: `√L·u bound (u = ${fmtNum(d.unit_roundoff)})`, values: d.bound, cls: "a-bound", dashed: true },
  ];
  const tipLines = (s, i) => [s.name, ["length L", fmtInt(d.lengths[i])], ["relative error", fmtNum(s.values[i], 4)], ["√L·u", fmtNum(d.bound[i], 4)]];
  dotPlot.show((el) => drawLogLog(el, d.lengths, series, {
    label: `Dot-product error against length, ${d.format} inputs, ${d.accumulator} sum`,
    xLabel: "length L (terms in the dot product)", yLabel: "relative error |dot − exact| / Σ|a·b|", tipLines,
  }));
  clear($("#a-dot-legend")).append(...series.map((s) => legendItem(`${s.cls}-sw`, s.name)),
    h("span", { class: "legend-item muted" }, "points at 0 error are not drawn on the log axis"));
  const last = d.lengths.length - 1;
  $("#a-dot-note").textContent = `Inputs rounded to ${d.format}, each product exact, the running sum rounded to ${d.accumulator} after every add. ` +
    `The dashed line is √L·u, the probabilistic bound of Higham and Mary (2019): rounding errors that behave like independent random ones stay under it; a sum that stalls does not. At L = ${fmtInt(d.lengths[last])}: ` +
    `${fmtNum(d.relative_error[last], 3)} with a ${d.accumulator} sum, ${fmtNum(d.fp32_relative_error[last], 3)} with a float32 one.`;
}

function drawAttention(d) {
  const series = [
    { name: "output error, K plain", values: d.clean.output_error, cls: "a-clean" },
    { name: "output error, K with outlier channels", values: d.outliers.output_error, cls: "a-outl" },
    { name: "weight error, K plain", values: d.clean.weight_error, cls: "a-clean-w" },
    { name: "weight error, K with outlier channels", values: d.outliers.weight_error, cls: "a-outl-w" },
  ];
  const tipLines = (s, i) => [s.name, ["length L", fmtInt(d.lengths[i])], ["relative error", fmtNum(s.values[i], 4)]];
  attnPlot.show((el) => drawLogLog(el, d.lengths, series, {
    label: `Attention error against sequence length, Q K V in ${d.query.format}, P in ${d.query.p_format}`,
    xLabel: "sequence length L (tokens)", yLabel: "relative error vs float64 (Frobenius)", tipLines,
  }));
  clear($("#a-attn-legend")).append(...series.map((s) => legendItem(`${s.cls}-sw`, s.name)));
  $("#a-attn-note").textContent = `One head, d = ${d.query.head_dim}: Q, K, V in ${d.query.format} and the probabilities P̃ = exp(S − max) in ${d.query.p_format}, scaled per ${d.query.scheme}, ` +
    `scores and sums in float32, against the same head in float64. The outlier channels (${d.outlier_channels.join(", ")}) add ±${fmtNum(d.query.outlier_scale)} to K: ` +
    "softmax does not see a constant offset, so the exact answer is unchanged, but the scale it inflates costs precision.";
}

// ------------------------------------------------------------------ start

const panels = [
  makePanel("#a-sum-form", "#a-sum-errors", "#a-sum-api", drawSum),
  makePanel("#a-dot-form", "#a-dot-errors", "#a-dot-api", drawDot),
  makePanel("#a-attn-form", "#a-attn-errors", "#a-attn-api", drawAttention),
];
$("#a-play").addEventListener("click", () => sumChart.replay());
mountShareBar($("#share"), { getSvg: () => sumChart.svg(), name: "bitmesh-arithmetic", embedHeight: 1400 });

fetchJSON("/api/v1/quantize/schemes").then((cat) => {
  const lists = { ...cat, tensor_distributions: cat.distributions.filter((d) => d.tensor) };
  for (const p of panels) {
    fillChoices(p.form, lists);
    syncForm(p.form, p.panel);
  }
}, (err) => errorBox($("#a-sum-errors")).show(err));
for (const p of panels) p.refresh();
