// /moe: the query string is the state. The page asks /api/v1/moe with exactly its query
// string (plus routes=true, which only adds the copies to animate) and draws the answer; the
// sliders offer the values the answer's `controls` lists, every control shows the answer's
// `query`, and the choices of the selects come from the OpenAPI document and the presets.
// The view's state keys (app/pages.py) stay in the URL and reach no API: t (the animation's
// playhead, ms into its loop, written when the reader pauses or scrubs) and expert (pinned).
import { $, $$, h, clear } from "../lib/dom.js";
import { pageQuery, fillSelect } from "../lib/pagequery.js";
import { metric } from "../lib/metric.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtBytes, fmtInt, fmtNum, fmtPct, fmtTime } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { NOT_API_KEYS } from "../lib/urlstate.js";
import { mount as mountFlow, LOOP_MS } from "../views/moe-flow.js";
import { mount as mountCharts, expertLines } from "../views/moe-charts.js";
import { pinDetail, unpinOnEscape, indexIn } from "../lib/pin.js";

const ARCH = ["experts", "top_k", "hidden", "shared_experts"];
const NUMBERS = ["max_nodes", "shared_experts", "hidden", "gpus_per_node", "seed"];
const TEXTS = ["dispatch_dtype", "combine_dtype"];

const state = pageQuery(NOT_API_KEYS);
let shown = null;
const load = latest();
const errors = errorBox($("#moe-errors"));
const flow = mountFlow($("#moe-flow"), {
  t: indexIn(state.params.get("t"), LOOP_MS), // a playhead outside the loop is no playhead
  onPause: (t) => state.set({ t }),
  onPick: (e) => togglePin(e),
});
const charts = mountCharts($("#moe-charts"), { onPick: (e) => togglePin(e) });
const detail = pinDetail($("#moe-flow"), () => setPin(null));
unpinOnEscape(() => state.params.has("expert") && setPin(null));

/** The pinned expert of the answer `d`, or null (an index it lacks is no pin). */
const pinned = (d) => indexIn(state.params.get("expert"), d.experts);

function setPin(e) {
  state.set({ expert: e });
  if (shown) drawPin(shown);
}
const togglePin = (e) => setPin(shown && pinned(shown) === e ? null : e);

/** The pinned expert outlined in the flow and the load chart, its figures under the flow. */
function drawPin(d) {
  const e = pinned(d);
  flow.setPin(e);
  charts.update(d, e);
  if (e === null) detail.clear();
  else detail.show(e, expertLines(d, e));
}
mountShareBar($("#share"), { getSvg: () => charts.exportSvg(), name: "bitmesh-moe", embedHeight: 1200 });

function setParams(patch, remove = []) {
  state.set(patch, [...remove, "t"]); // a new layer replays from the start
  refresh();
}

// ------------------------------------------------------------------ controls

/** The value a slider stands for at its current position. */
function sliderValue(input) {
  const c = shown.controls[input.dataset.param];
  return input.dataset.kind === "list" ? c[Number(input.value)] : Number(input.value);
}

function syncSlider(input, d) {
  const key = input.dataset.param;
  const c = d.controls[key];
  const current = d.query[key];
  if (input.dataset.kind === "list") {
    input.min = "0";
    input.max = String(c.length - 1);
    if (document.activeElement !== input) input.value = String(Math.max(0, c.indexOf(current)));
  } else {
    input.min = String(c.min);
    input.max = String(c.max);
    input.step = String(c.step);
    if (document.activeElement !== input) input.value = String(current);
  }
  $(`#moe-${key}-out`).textContent = fmtNum(current, 4);
}

function syncControls(d) {
  for (const input of $$("input[type=range][data-param]")) syncSlider(input, d);
  const q = d.query;
  $("#moe-model").value = q.model || "";
  for (const k of ["routing", "popularity"]) $(`#moe-${k}`).value = q[k];
  $("#moe-dropless").checked = Boolean(q.dropless);
  for (const k of [...NUMBERS, ...TEXTS]) {
    const input = $(`#moe-${k}`);
    if (document.activeElement !== input) input.value = q[k] === null ? "" : String(q[k]);
  }
  const gpu = $("#moe-gpu");
  if (![...gpu.options].some((o) => o.value === q.gpu)) gpu.append(h("option", { value: q.gpu }, q.gpu));
  gpu.value = q.gpu;
}

function wireControls() {
  $("#moe-controls").addEventListener("submit", (ev) => ev.preventDefault());
  for (const input of $$("input[type=range][data-param]")) {
    input.addEventListener("input", () => shown && ($(`#moe-${input.dataset.param}-out`).textContent = fmtNum(sliderValue(input), 4)));
    input.addEventListener("change", () => shown && setParams({ [input.dataset.param]: sliderValue(input) }));
  }
  $("#moe-model").addEventListener("change", (ev) => {
    const name = ev.target.value;
    if (name) return setParams({ model: name }, ARCH);
    const keep = shown ? Object.fromEntries(ARCH.map((k) => [k, shown.query[k]])) : {};
    setParams(keep, ["model"]);
  });
  for (const k of ["routing", "popularity", "gpu"]) $(`#moe-${k}`).addEventListener("change", (ev) => setParams({ [k]: ev.target.value }));
  $("#moe-dropless").addEventListener("change", (ev) => setParams({ dropless: ev.target.checked ? "true" : "false" }));
  for (const k of [...NUMBERS, ...TEXTS]) {
    const input = $(`#moe-${k}`);
    input.addEventListener("change", () => setParams({ [k]: input.value.trim() }));
  }
}

// ------------------------------------------------------------------ metrics

function stepsTable(d) {
  const rows = [];
  for (const [way, title] of [["flat", "Flat"], ["hierarchical", "Hierarchical"]]) {
    for (const dir of ["dispatch", "combine"]) {
      d.all_to_all[way][dir].steps.forEach((s, i) => {
        rows.push(h("tr", {}, h("td", {}, i === 0 ? `${title} ${dir}` : ""), h("td", {}, s.label), h("td", {}, s.link.replace("_", "-")), h("td", { class: "num" }, fmtBytes(s.bytes)), h("td", { class: "num" }, fmtTime(s.time))));
      });
    }
  }
  return h("div", { class: "table-scroll" }, h("table", { class: "data moe-steps" },
    h("thead", {}, h("tr", {}, h("th", {}, "All-to-all"), h("th", {}, "Step"), h("th", {}, "Link"), h("th", { class: "num" }, "Bytes, all GPUs"), h("th", { class: "num" }, "Time"))),
    h("tbody", {}, rows)));
}

function renderMetrics(d) {
  const el = $("#moe-metrics");
  clear(el);
  const a = d.all_to_all;
  const none = d.experts_per_token[0] || 0;
  el.append(
    h("p", { class: "moe-setup" }, `${d.model_title || "Custom layer"}: ${fmtInt(d.tokens)} tokens, ${d.experts} experts, top-${d.top_k}${d.shared_experts ? ` + ${d.shared_experts} shared` : ""}, hidden ${fmtInt(d.hidden)}, on ${d.ep} GPUs (${d.experts_per_rank} experts each${d.nodes > 1 ? `, ${d.nodes} nodes` : ""}); ${d.routing === "expert_choice" ? "experts choose tokens" : "tokens choose experts"}.`),
    h(
      "div",
      { class: "metrics" },
      metric("Capacity", fmtInt(d.capacity), d.capacity, "capacity", d.dropless ? "not enforced (dropless)" : d.capacity_formula, "GShard / Switch: ceil(capacity factor · tokens · k / experts) copies per expert"),
      metric("Dropped", fmtPct(d.dropped_fraction), d.dropped_fraction, "dropped_fraction", `${fmtInt(d.dropped)} of ${fmtInt(d.routed_copies)} copies`),
      metric("GPU imbalance", `${fmtNum(d.imbalance, 3)}×`, d.imbalance, "imbalance", "busiest GPU's copies / mean", "The slowest GPU sets the layer's time"),
      metric("Expert imbalance", `${fmtNum(d.expert_imbalance, 3)}×`, d.expert_imbalance, "expert_imbalance", "busiest expert / mean, before capacity"),
      metric("Dispatch, flat", fmtTime(a.flat.dispatch.time), a.flat.dispatch.time, "flat_dispatch_time", `${fmtBytes(a.flat.dispatch.network_bytes)} over the network`),
      metric("Dispatch, hierarchical", fmtTime(a.hierarchical.dispatch.time), a.hierarchical.dispatch.time, "hierarchical_dispatch_time", `${fmtBytes(a.hierarchical.dispatch.network_bytes)} over the network`),
      metric("Combine, flat", fmtTime(a.flat.combine.time), a.flat.combine.time, "flat_combine_time"),
      metric("Combine, hierarchical", fmtTime(a.hierarchical.combine.time), a.hierarchical.combine.time, "hierarchical_combine_time"),
      metric("Tokens with no expert", fmtInt(none), none, "tokens_without_expert", d.routing === "expert_choice" ? "no expert picked them" : "every copy dropped"),
    ),
    stepsTable(d),
  );
  $("#moe-notes-list").replaceChildren(...d.notes.map((n) => h("span", { class: "moe-note" }, n, " ")));
}

// ------------------------------------------------------------------ fetch and draw

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/moe?${state.api({ routes: "true" })}`);
    shown = d;
    for (const el of $$("#app .loading")) el.remove();
    syncControls(d);
    renderMetrics(d);
    flow.update(d);
    drawPin(d);
    document.title = `Experts: ${d.experts} on ${d.ep} GPUs · bitmesh`;
  } catch (err) {
    errors.show(err);
  }
}

async function loadChoices() {
  try {
    const [doc, models, gpus] = await Promise.all([fetchJSON("/api/v1/openapi.json"), fetchJSON("/api/v1/presets/models"), fetchJSON("/api/v1/presets/gpus")]);
    const declared = Object.fromEntries(doc.paths["/api/v1/moe"].get.parameters.map((p) => [p.name, p.schema]));
    for (const k of ["routing", "popularity"]) {
      fillSelect($(`#moe-${k}`), declared[k].enum.map((v) => ({ value: v, label: v.replace("_", " ") })), shown ? shown.query[k] : declared[k].default);
    }
    const moes = models.models.filter((m) => m.experts > 0);
    fillSelect($("#moe-model"), [{ value: "", label: "custom" }, ...moes.map((m) => ({ value: m.name, label: m.title }))], shown ? shown.query.model || "" : "");
    fillSelect($("#moe-gpu"), gpus.gpus.map((g) => ({ value: g.name, label: g.title })), shown ? shown.query.gpu : declared.gpu.default);
  } catch (err) {
    errors.show(err);
  }
}

wireControls();
Promise.all([refresh(), loadChoices()]).then(() => shown && syncControls(shown));
