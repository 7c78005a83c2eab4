// /serving: the query string is the state. The page sends exactly its query string to
// /api/v1/inference/batching and draws the answer: the engine's KV capacity, both runs' pools
// replayed from the trace, their timelines and figures; controls show the answer's `query`.
// The view's state keys (app/pages.py) stay in the URL and reach no API: t (the playhead, in
// simulated seconds, written when the reader pauses or lets go of the slider) and request (the
// request pinned).
import { $, $$, h, svg, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtBytes, fmtNum, fmtTime, fmtInt, fmtPct } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { mount, requestLines } from "../views/serving.js";
import { indexIn, numberOr, pinDetail, unpinOnEscape } from "../lib/pin.js";
import { queryState, fillSelect, showValue, wireControls, metric, storageDtypes } from "../views/inference-page.js";

const NUMBERS = ["tp", "requests", "rate", "prompt_len", "output_len", "seed", "num_blocks", "block_size", "memory_fraction", "max_model_len", "max_num_seqs", "max_batched_tokens"];
const SELECTS = ["model", "gpu", "engine", "kv_dtype", "distribution"];

const load = latest();
const state = queryState(refresh, () => shown && drawPin(shown), ["t"]); // a new run replays from its start
const errors = errorBox($("#srv-errors"));
let shown = null;
const view = mount({ continuous: $("#srv-pool-continuous"), static: $("#srv-pool-static"), timeline: $("#srv-timeline"), transport: $("#srv-transport") }, {
  t: numberOr(state.params.get("t")),
  onPause: (t) => state.set("t", Number(t.toPrecision(6))),
  onPick: (r) => state.set("request", shown && pinned(shown) === r ? null : r),
});
const pinHost = h("div");
$("#srv-pool-legend").after(pinHost);
const detail = pinDetail(pinHost, () => state.set("request", null));
unpinOnEscape(() => state.params.has("request") && state.set("request", null));

/** The pinned request of the answer `d`, or null (an id its trace lacks is no pin). */
const pinned = (d) => (d.continuous.trace ? indexIn(state.params.get("request"), d.continuous.trace.requests.arrival.length) : null);

/** The pinned request's blocks outlined in both pools, its lengths and times under them. */
function drawPin(d) {
  const r = pinned(d);
  view.setPin(r);
  if (r === null) detail.clear();
  else detail.show(r, requestLines(d, r));
}
mountShareBar($("#share"), { getSvg: () => view.exportSvg(), name: "bitmesh-serving", embedHeight: 1200 });

function syncControls(d) {
  for (const k of [...NUMBERS, ...SELECTS]) {
    const el = $(`#srv-${k}`);
    if (el && document.activeElement !== el) showValue(el, d.query[k]);
  }
  $("#srv-num_blocks").placeholder = fmtInt(d.kv.num_blocks);
}

$("#srv-controls").addEventListener("submit", (ev) => ev.preventDefault());
wireControls("srv", SELECTS, NUMBERS, state.set);

// ------------------------------------------------------------------ drawing

/** The GPU's memory as the engine splits it (tightest stage), one bar. */
function memoryBar(kv) {
  const st = kv.stages[kv.tightest_stage];
  const pool = st.num_blocks * st.block_bytes;
  const parts = [
    ["weights", "srv-mem-weights", st.weights],
    ["activation peak", "srv-mem-act", st.activations],
    ["outside the model", "srv-mem-other", kv.overhead],
    ["KV pool", "srv-mem-kv", pool],
  ];
  const used = parts.reduce((a, p) => a + p[2], 0);
  parts.push(["not used by the engine", "srv-mem-free", Math.max(0, kv.memory - used)]);
  const root = svg("svg", { class: "srv-membar", width: "100%", height: 44, role: "img", "aria-label": "GPU memory as the engine splits it" });
  let x = 0;
  const total = Math.max(kv.memory, used);
  for (const [name, cls, bytes] of parts) {
    const w = (bytes / total) * 100;
    if (w <= 0) continue;
    const r = svg("rect", { x: `${x}%`, y: 4, width: `${w}%`, height: 22, class: `srv-mem ${cls}` });
    r.addEventListener("pointermove", (ev) => { showTip(ev, [name, ["bytes", fmtBytes(bytes)], ["of the GPU", fmtPct(bytes / kv.memory)]]); moveTip(ev); });
    r.addEventListener("pointerleave", hideTip);
    root.append(r);
    x += w;
  }
  root.append(svg("text", { x: "100%", y: 40, "text-anchor": "end", class: "axis-label" }, used > kv.memory ? `${fmtBytes(used)} asked of ${fmtBytes(kv.memory)}: it does not fit` : `${fmtBytes(kv.memory)} of HBM per GPU`));
  const legend = h("div", { class: "legend" }, ...parts.map(([name, cls]) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), name)));
  return [root, legend];
}

function renderKV(d) {
  const kv = d.kv;
  const el = $("#srv-kv");
  clear(el);
  const e = kv.engine;
  const kinds = kv.stages[kv.tightest_stage].kinds.map((k) => `${k.layers} ${k.kind} layers: ${fmtBytes(k.bytes_per_token)} per token each, ${fmtInt(k.blocks_per_request)} blocks per request`).join("; ");
  el.append(
    h("h2", { class: "panel-title" }, `KV capacity under ${e.title}'s rule`),
    h("p", { class: "srv-rule" }, `${e.rule}. ${e.fraction_knob} = ${kv.memory_fraction} (of ${e.fraction_of} memory), ${e.block_knob} = ${kv.block_size}.`),
    h("div", { class: "metrics srv-metrics" },
      metric("Block", fmtBytes(kv.block_bytes), kv.block_bytes, "block_bytes", `${kv.block_size} tokens, every layer`),
      metric("Blocks", fmtInt(kv.num_blocks), kv.num_blocks, "num_blocks", d.query.num_blocks ? `the pool simulated: ${fmtInt(d.num_blocks)}` : "the pool simulated"),
      metric("KV tokens / GPU", fmtInt(kv.kv_tokens), kv.kv_tokens, "kv_tokens", kinds),
      metric("Max concurrency", fmtNum(kv.max_concurrency, 4), kv.max_concurrency, "max_concurrency", `requests of ${fmtInt(kv.query.max_model_len)} tokens`)),
    ...memoryBar(kv),
  );
}

const ROWS = [
  ["tokens_per_second", "Output tokens / s", (v) => fmtNum(v, 4)],
  ["requests_per_second", "Requests / s", (v) => fmtNum(v, 4)],
  ["output_tokens", "Output tokens", fmtInt],
  ["makespan", "First arrival to last token", fmtTime],
  ["busy_time", "Engine computing", fmtTime],
  ["ttft_mean", "Mean TTFT", fmtTime],
  ["ttft_p50", "Median TTFT", fmtTime],
  ["ttft_p99", "p99 TTFT", fmtTime],
  ["tpot_mean", "Mean time per output token", fmtTime],
  ["mean_batch", "Mean sequences per step", (v) => fmtNum(v, 3)],
  ["peak_blocks", "Most blocks held", fmtInt],
  ["preemptions", "Preemptions (recomputed)", fmtInt],
  ["steps", "Engine steps", fmtInt],
];

function renderSummary(d) {
  const body = $("#srv-summary tbody");
  clear(body);
  for (const [key, label, fmt] of ROWS) {
    body.append(h("tr", {}, h("td", {}, label), ...["continuous", "static"].map((run) => h("td", { class: "num", dataset: { run, metric: key, value: String(d[run].summary[key]) } }, fmt(d[run].summary[key])))));
  }
  for (const run of ["continuous", "static"]) {
    const s = d[run].summary;
    $(`#srv-sub-${run}`).textContent = `${fmtNum(s.tokens_per_second, 4)} tokens/s, peak ${fmtInt(s.peak_blocks)} of ${fmtInt(d.num_blocks)} blocks`;
  }
  const g = d.disaggregation;
  const box = $("#srv-disagg-body");
  clear(box);
  box.append(
    h("div", { class: "metrics" },
      metric("Prefill per decode replica", fmtNum(g.prefill_replicas_per_decode_replica, 3), g.prefill_replicas_per_decode_replica, "prefill_replicas_per_decode_replica", g.formula),
      metric("Prefill replica", `${fmtNum(g.prefill_requests_per_second, 4)} req/s`, g.prefill_requests_per_second, "prefill_requests_per_second", `${g.prefill_batch} prompts per pass, TTFT ${fmtTime(g.ttft)}`),
      metric("Decode replica", `${fmtNum(g.decode_requests_per_second, 4)} req/s`, g.decode_requests_per_second, "decode_requests_per_second", `batch ${fmtInt(g.decode_batch)} at ${fmtInt(g.decode_context)} tokens, ${fmtTime(g.tpot)} per token`)),
    h("p", { class: "muted srv-source" }, g.source),
  );
  const notes = $("#srv-notes");
  clear(notes);
  notes.append(...[...d.notes, ...d.kv.notes].map((n) => h("li", {}, n)));
  const legend = $("#srv-pool-legend");
  clear(legend);
  legend.append(
    h("span", { class: "legend-item" }, h("span", { class: "swatch srv-free" }), "free block"),
    h("span", { class: "legend-item" }, h("span", { class: "swatch srv-held" }), "a block a request holds (one colour per request, colours repeat)"),
  );
}

// ------------------------------------------------------------------ fetch

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/inference/batching?${state.apiQuery()}`);
    for (const el of $$("#app .loading")) el.remove();
    fillSelect($("#srv-engine"), d.kv.engines.map((e) => ({ value: e.name, label: e.title })));
    syncControls(d);
    renderKV(d);
    renderSummary(d);
    view.update(d);
    shown = d;
    drawPin(d);
    if (!d.continuous.trace) errors.show(new Error(d.notes[d.notes.length - 1]));
    document.title = `Serving: ${d.query.requests} requests · bitmesh`;
  } catch (err) {
    errors.show(err);
  }
}

async function start() {
  try {
    const [models, gpus, dtypes] = await Promise.all([fetchJSON("/api/v1/presets/models"), fetchJSON("/api/v1/presets/gpus"), fetchJSON("/api/v1/dtypes")]);
    fillSelect($("#srv-model"), models.models.map((m) => ({ value: m.name, label: m.title })));
    fillSelect($("#srv-gpu"), gpus.gpus.map((g) => ({ value: g.name, label: g.title })));
    fillSelect($("#srv-kv_dtype"), storageDtypes(dtypes));
  } catch (err) {
    errors.show(err);
  }
  await refresh();
}

start();
