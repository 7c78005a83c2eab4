// /inference: the query string is the state. The page sends its query string (less the view's
// state key `op`, the pinned op) to /api/v1/inference and draws the answer; every control shows
// the answer's `query`.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtBytes, fmtNum, fmtTime, fmtInt, fmtPct } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { mount } from "../views/inference.js";
import { opLines } from "../views/inference-roofline.js";
import { pinDetail, unpinOnEscape } from "../lib/pin.js";
import { si } from "../views/inference-scales.js";
import { queryState, fillSelect, showValue, wireControls, metric, storageDtypes } from "../views/inference-page.js";

const SCALE = { slo: 1e-3 };
const NUMBERS = ["tp", "pp", "ep", "dp", "batch", "context", "slo", "compute_efficiency", "memory_efficiency", "gpus_per_node"];
const SELECTS = ["model", "gpu", "dtype", "kv_dtype", "compute_dtype"];
// the model and layout parameters /serving takes too (the memory endpoint's names)
const SHARED = ["model", "gpu", "tp", "pp", "ep", "dp", "dtype", "kv_dtype"];

const load = latest();
const state = queryState(refresh, () => shown && drawPin(shown));
const errors = errorBox($("#inf-errors"));
let shown = null;
/** The pinned op as [phase, op record] of the answer `d`, or null for a key it does not list. */
function pinned(d) {
  const [phase, name] = (state.params.get("op") || "").split(":");
  const op = d.phases[phase] && d.phases[phase].ops.find((o) => o.name === name);
  return op ? [phase, op] : null;
}
const togglePin = (key) => state.set("op", state.params.get("op") === key && shown && pinned(shown) ? null : key);
const view = mount({ roofline: $("#inf-roofline"), bars: $("#inf-bars"), curve: $("#inf-curve") }, { onPick: togglePin });
const detail = pinDetail($("#inf-roofline"), () => state.set("op", null));
unpinOnEscape(() => state.params.has("op") && state.set("op", null));

/** Draw `d` with its pinned op ringed on the charts and its figures under the roofline. */
function drawPin(d) {
  const pin = pinned(d);
  const key = pin ? `${pin[0]}:${pin[1].name}` : null;
  view.update(d, key);
  if (pin) detail.show(key, opLines(pin[0], pin[1]));
  else detail.clear();
  for (const row of $$("#inf-ops tbody tr")) row.classList.toggle("inf-pinned", Boolean(pin) && pin[0] === d.phase && row.dataset.op === pin[1].name);
}
mountShareBar($("#share"), { getSvg: () => view.exportSvg(), name: "bitmesh-inference", embedHeight: 1100 });

function syncControls(d) {
  for (const k of [...NUMBERS, ...SELECTS]) {
    const el = $(`#inf-${k}`);
    if (el && document.activeElement !== el) showValue(el, d.query[k], SCALE[k] || 1);
  }
  const slider = $("#inf-batch-log");
  if (document.activeElement !== slider) slider.value = String(Math.round(Math.log2(d.query.batch)));
  for (const b of $$(".segmented [data-phase]")) b.setAttribute("aria-pressed", String(b.dataset.phase === d.phase));
}

$("#inf-controls").addEventListener("submit", (ev) => ev.preventDefault());
wireControls("inf", SELECTS, NUMBERS, state.set, SCALE);
$("#inf-batch-log").addEventListener("input", (ev) => state.set("batch", 2 ** Number(ev.target.value)));
for (const b of $$(".segmented [data-phase]")) b.addEventListener("click", () => state.set("phase", b.dataset.phase));

// ------------------------------------------------------------------ drawing

function renderHeadline(d) {
  const el = $("#inf-headline");
  clear(el);
  const r = d.requests;
  const q = d.query;
  const layout = [q.tp > 1 ? `TP ${q.tp}` : null, q.pp > 1 ? `PP ${q.pp}` : null, q.ep > 1 ? `EP ${q.ep}` : null, q.dp > 1 ? `DP ${q.dp}` : null].filter(Boolean).join(" × ") || "one GPU";
  el.append(
    h("p", { class: "inf-setup" }, `${d.model.title} on ${d.gpu.title}, ${layout} (${fmtInt(d.world_size)} GPU${d.world_size > 1 ? "s" : ""}); weights ${q.dtype}, KV cache ${q.kv_dtype}; ${fmtInt(r.batch)} × ${fmtInt(r.context)} tokens.`),
    h(
      "div",
      { class: "metrics inf-metrics" },
      metric("TTFT", fmtTime(r.ttft), r.ttft, "ttft", "the prefill of the batch"),
      metric("Time / token", fmtTime(r.tpot), r.tpot, "tpot", `${fmtNum(r.tokens_per_second_per_user, 3)} tokens/s per user`),
      metric("Tokens/s per GPU", si(r.tokens_per_second_per_gpu), r.tokens_per_second_per_gpu, "tokens_per_second_per_gpu", d.world_size > 1 ? `${si(r.tokens_per_second)} for all ${fmtInt(d.world_size)} GPUs` : "one GPU serves it all"),
      metric("Critical batch", fmtNum(d.critical_batch, 4), d.critical_batch, "critical_batch", d.critical_batch_formula),
      metric("Whole step compute bound", d.critical_batch_step === null ? "never" : `batch ${fmtInt(d.critical_batch_step)}`, d.critical_batch_step, "critical_batch_step", `at ${fmtInt(r.context)} cached tokens (KV reads included)`),
      metric("Weights / GPU", fmtBytes(d.weights_per_gpu), d.weights_per_gpu, "weights_per_gpu", `of ${fmtBytes(d.gpu.memory_bytes)}`),
    ),
  );
}

function renderTables(d) {
  const ops = $("#inf-ops tbody");
  clear(ops);
  for (const o of d.ops) {
    ops.append(h("tr", { title: `${o.formula}\n${o.source}`, dataset: { op: o.name } },
      h("td", {}, o.title), h("td", { class: "num" }, fmtInt(o.layers)),
      h("td", { class: "num" }, o.flops ? si(o.flops) : "—"), h("td", { class: "num" }, fmtBytes(o.bytes)),
      h("td", { class: "num" }, o.intensity ? fmtNum(o.intensity, 3) : "—"),
      h("td", {}, o.bound + (o.algorithm ? ` (${o.algorithm.replace(/_/g, " ")})` : "")),
      h("td", { class: "num" }, fmtTime(o.time))));
  }
  const layout = $("#inf-layout tbody");
  clear(layout);
  const chips = (axes, cls, sign) => (axes.length ? axes.map((a) => h("span", { class: `inf-chip ${cls}` }, `${sign} ${a.toUpperCase()}`)) : h("span", { class: "muted" }, "—"));
  for (const s of d.layout) {
    layout.append(h("tr", { dataset: { share: s.name } }, h("td", {}, s.title), h("td", { class: "num" }, fmtBytes(s.bytes_per_gpu)),
      h("td", {}, chips(s.split_over, "inf-chip-split", "÷")), h("td", {}, chips(s.duplicated_over, "inf-chip-dup", "×")), h("td", { class: "muted" }, s.note)));
  }
  const tp = $("#inf-tp-table tbody");
  clear(tp);
  for (const p of d.tp_sweep) {
    tp.append(h("tr", { class: p.tp === d.query.tp ? "inf-current" : "" }, h("td", { class: "num" }, String(p.tp)), h("td", { class: "num" }, fmtTime(p.ttft)),
      h("td", { class: "num" }, fmtTime(p.tpot)), h("td", { class: "num" }, si(p.tokens_per_second_per_gpu)),
      h("td", { class: "num" }, fmtBytes(p.weights_per_gpu)), h("td", { class: "num" }, fmtTime(p.communication_time))));
  }
  const notes = $("#inf-notes");
  clear(notes);
  notes.append(...d.notes.map((n) => h("li", {}, n)));
  const c = d.curve;
  $("#inf-curve-note").textContent = c.slo_batch === null
    ? `No batch meets ${fmtTime(c.slo)} per token with its KV cache in memory.`
    : `Under ${fmtTime(c.slo)} per token, batch ${fmtInt(c.slo_batch)} gives ${si(c.slo_tokens_per_second_per_gpu)}tokens/s per GPU; the cache holds ${fmtNum(c.max_concurrency, 3)} sequences of ${fmtInt(c.context + 1)} tokens (${fmtPct(Math.min(1, (c.slo_batch * d.query.pp) / Math.max(c.max_concurrency, 1e-9)), 0)} used).`;
}

// ------------------------------------------------------------------ fetch

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/inference?${state.apiQuery()}`);
    for (const el of $$("#app .loading")) el.remove();
    syncControls(d);
    renderHeadline(d);
    shown = d;
    renderTables(d);
    drawPin(d);
    document.title = `Inference: ${d.model.title}, batch ${d.requests.batch} · bitmesh`;
    const same = new URLSearchParams(SHARED.filter((k) => d.query[k] !== null).map((k) => [k, d.query[k]]));
    $("#inf-to-serving").href = `/serving?${same}`;
  } catch (err) {
    errors.show(err);
  }
}

async function start() {
  try {
    const [models, gpus, dtypes] = await Promise.all([fetchJSON("/api/v1/presets/models"), fetchJSON("/api/v1/presets/gpus"), fetchJSON("/api/v1/dtypes")]);
    fillSelect($("#inf-model"), models.models.map((m) => ({ value: m.name, label: m.title })));
    fillSelect($("#inf-gpu"), gpus.gpus.map((g) => ({ value: g.name, label: g.title })));
    fillSelect($("#inf-dtype"), storageDtypes(dtypes));
    fillSelect($("#inf-kv_dtype"), storageDtypes(dtypes));
  } catch (err) {
    errors.show(err);
  }
  await refresh();
}

start();
