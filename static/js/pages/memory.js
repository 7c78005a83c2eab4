// /memory: the query string is the state. The page sends exactly its query string to
// /api/v1/memory and draws the answer; every control shows the answer's `query` (each
// parameter as computed, defaults filled in), so no default, limit or rule lives here.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtBytes, fmtInt, fmtPct } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { NOT_API_KEYS, SITE_KEYS } from "../lib/urlstate.js";
import { mount } from "../views/memory.js";
import { LANDING_QUERY, SEGMENTS, shortGpu, termLabel } from "../views/memory-model.js";
import { buildControls, syncControls as syncAssumptions, syncSelect } from "../views/memory-controls.js";
import { mountSchedule } from "../views/memory-schedule.js";
import { renderAnatomy } from "../views/memory-anatomy.js";
import { renderSticky, renderVerdict } from "../views/memory-verdict.js";

/**
 * Keys no API sees: the site's (theme, controls) and the view's state (the pinned stage and
 * segment, declared in app/pages.py). The API answers unknown keys with a 422.
 */
const PAGE_ONLY = NOT_API_KEYS;

const app = $("#app");
const form = $("#mem-controls");
const errors = errorBox($("#mem-errors"));
const verdictEl = $("#mem-verdict");
const termsBody = $("#mem-terms tbody");
const noteEl = $("#mem-note");
const chart = mount($("#mem-chart"), { onPin: pinTo });
const pipeline = mountSchedule($("#mem-pipeline"), $("#mem-pipeline-body"));
/** Custom-architecture fields: the inputs of #mem-custom, named as the API names them. */
const ARCH = $$("#mem-custom input[name]").map((el) => el.name);

let params = startingParams();
let shown = null; // the last answer drawn
let shownFor = ""; // the API query it answers
let declared = {}; // the endpoint's declared defaults, fetched only if the first answer fails
let models = new Map();
let gpus = new Map();
let scheduleLabels = new Map(); // schedule name → how people write it, from /memory/options

mountShareBar($("#share"), {
  getSvg: () => chart.exportSvg(shown ? setupSummary(shown) : ""),
  name: "bitmesh-memory",
  embedHeight: 1050, // the embed folds its controls and table: verdict + chart ≈ 1,000 px at 600 px wide
});

// ------------------------------------------------------------------ the query string

/** The URL's parameters; a URL naming no API parameter starts from the landing layout. */
function startingParams() {
  const q = new URLSearchParams(location.search);
  if ([...q.keys()].some((k) => !PAGE_ONLY.includes(k))) return q;
  const landing = new URLSearchParams(LANDING_QUERY);
  for (const k of PAGE_ONLY) if (q.has(k)) landing.set(k, q.get(k));
  return landing;
}

/** Exactly the page's query string, less the page's own keys: what the API is asked. */
function apiQuery() {
  const q = new URLSearchParams(params);
  for (const k of PAGE_ONLY) q.delete(k);
  return q.toString();
}

function writeUrl() {
  const s = params.toString();
  const next = s ? `?${s}` : "";
  if (next !== location.search) history.replaceState(null, "", location.pathname + next);
}

/**
 * A parameter as the page shows it: as the API computed it when the last answer is for the
 * current query (defaults filled in, names as the registries spell them), else the URL's value
 * while a newer request is on its way, else the last answer's.
 */
function value(key) {
  const current = shown && shownFor === apiQuery();
  if (!current && params.has(key)) return params.get(key);
  const v = shown ? shown.query[key] : declared[key];
  return v === undefined || v === null ? "" : String(v);
}

/**
 * With no answer drawn yet (the first query is invalid), the controls the query leaves out
 * show the endpoint's declared defaults, read from the API's OpenAPI document.
 */
async function loadDeclaredDefaults() {
  try {
    const doc = await fetchJSON("/api/v1/openapi.json");
    const declaredParams = doc.paths["/api/v1/memory"].get.parameters;
    declared = Object.fromEntries(declaredParams.map((p) => [p.name, p.schema ? p.schema.default : undefined]));
    syncControls();
  } catch (_) {
    /* the controls stay blank until a valid answer fills them */
  }
}

/** Which kind of model the query names: a preset, a custom architecture or a parameter count. */
function modelKind() {
  if (params.has("model")) return "preset";
  if (ARCH.some((k) => params.has(k))) return "custom";
  return params.has("params") ? "params" : "preset";
}

function update(patch, { remove = [], now = false, delay = false } = {}) {
  for (const k of remove) params.delete(k);
  for (const [k, v] of Object.entries(patch)) params.set(k, String(v));
  writeUrl();
  syncControls();
  schedule(now ? 0 : delay ? 400 : 90);
}

// ------------------------------------------------------------------ controls -> query

function chooseModel(v) {
  const current = models.get(value("model")) || models.values().next().value;
  if (v === "custom") {
    const arch = current ? Object.fromEntries(ARCH.map((k) => [k, current[k]])) : {};
    update(arch, { remove: ["model", "params"], now: true });
  } else if (v === "params") {
    const total = shown ? shown.params_total : current ? current.total_params : "";
    update({ params: total }, { remove: ["model", ...ARCH], now: true });
  } else {
    update({ model: v }, { remove: ["params", ...ARCH], now: true });
  }
}

function wireControls() {
  $("#mem-model").addEventListener("change", (e) => chooseModel(e.target.value));
  for (const sel of $$("select[name]", form)) {
    if (sel.name === "model" || sel.closest("[data-control]")) continue;
    sel.addEventListener("change", () => (sel.value === "" && sel.dataset.optional ? update({}, { remove: [sel.name], now: true }) : update({ [sel.name]: sel.value }, { now: true })));
  }
  $("#mem-sp").addEventListener("change", (e) => update({ sequence_parallel: e.target.checked }, { now: true }));
  $("#mem-fp8").addEventListener("change", (e) => update({ fp8_activations: e.target.checked }, { now: true }));
  for (const group of $$(".segmented[data-param]", form)) {
    group.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-value]");
      if (b) update({ [group.dataset.param]: b.dataset.value }, { now: true });
    });
  }
  for (const inp of $$("#mem-custom input[name]")) {
    inp.addEventListener("input", () => {
      if (/^\d+$/.test(inp.value)) update({ [inp.name]: inp.value });
    });
  }
  $("#mem-params").addEventListener("input", (e) => {
    const v = Number.parseFloat(e.target.value);
    if (Number.isFinite(v) && v > 0) update({ params: Math.round(v * 1e9) });
  });
  for (const wrap of $$(".mem-stepper")) wireStepper(wrap);
  const seq = $("#mem-seq");
  seq.addEventListener("input", () => update({ seq_len: 2 ** Number(seq.value) }));
  $("#mem-layout").addEventListener("change", (e) => {
    if (!e.target.value) return;
    const q = new URLSearchParams(e.target.value);
    for (const k of SITE_KEYS) if (params.has(k)) q.set(k, params.get(k)); // a new layout: no pin
    location.search = `?${q}`;
  });
}

/** A degree: typed, doubled or halved (the degrees people use are powers of two). */
function wireStepper(wrap) {
  const key = wrap.dataset.key;
  const input = $("input", wrap);
  input.addEventListener("input", () => {
    if (/^\d+$/.test(input.value)) update({ [key]: input.value });
  });
  for (const btn of $$("button[data-dir]", wrap)) {
    btn.addEventListener("click", () => {
      const v = Number(value(key));
      if (!Number.isFinite(v) || v < 1) return;
      const next = btn.dataset.dir === "1" ? v * 2 : Math.floor(v / 2);
      if (next >= 1 && next !== v) update({ [key]: next }, { now: true });
    });
  }
}

// ------------------------------------------------------------------ query -> controls

function selectValue(sel, v) {
  if (v && ![...sel.options].some((o) => o.value === v)) sel.append(h("option", { value: v }, v));
  sel.value = v;
}

function pressed(group, v) {
  for (const b of $$("button[data-value]", group)) b.setAttribute("aria-pressed", String(b.dataset.value === v));
}

function syncControls() {
  const kind = modelKind();
  selectValue($("#mem-model"), kind === "preset" ? value("model") : kind);
  for (const sel of $$("select[name]", form)) {
    if (sel.name === "model" || sel.closest("[data-control]")) continue;
    if (sel.dataset.optional) syncSelect(sel, value(sel.name), params.has(sel.name));
    else selectValue(sel, value(sel.name));
  }
  syncAssumptions(form, value, (k) => params.has(k));
  $("#mem-fp8").checked = value("fp8_activations") === "true";
  for (const inp of $$("#mem-custom input[name], .mem-stepper input")) {
    const key = inp.name || inp.closest(".mem-stepper").dataset.key;
    if (document.activeElement !== inp) inp.value = value(key);
  }
  const pin = $("#mem-params");
  if (document.activeElement !== pin && value("params")) pin.value = String(Number((Number(value("params")) / 1e9).toPrecision(6)));
  for (const group of $$(".segmented[data-param]", form)) pressed(group, value(group.dataset.param));
  $("#mem-sp").checked = value("sequence_parallel") === "true";
  const seqLen = Number(value("seq_len"));
  if (seqLen > 0) $("#mem-seq").value = String(Math.round(Math.log2(seqLen)));
  $("#mem-seq-out").textContent = seqLen > 0 ? `${fmtInt(seqLen)} tokens` : "";
  const inference = value("mode") === "inference";
  $("#mem-seq-name").textContent = inference ? "Context length" : "Sequence length";
  $("#mem-model-info").textContent = modelInfo(kind);
  $("#mem-custom").hidden = kind !== "custom";
  $("#mem-params-only").hidden = kind !== "params";
  form.classList.toggle("is-inference", inference);
  form.classList.toggle("is-params", kind === "params");
  const moe = kind === "preset" && models.get(value("model")) && models.get(value("model")).experts > 0;
  form.classList.toggle("is-moe", Boolean(moe));
  syncLayout();
}

function modelInfo(kind) {
  if (kind === "custom") {
    const counted = shown && shown.model === "custom" ? `${fmtBillions(shown.params_total)} parameters (counted by the API). ` : "";
    return `${counted}Dense transformer: gated MLP, grouped-query attention.`;
  }
  if (kind === "params") return "Model states only (weights, gradients, Adam): no activations without an architecture.";
  const m = models.get(value("model"));
  if (!m) return "";
  const moe = m.experts ? ` · ${m.experts} experts, ${m.experts_per_token} active` : "";
  const active = m.experts ? ` (${fmtBillions(m.active_params)} active)` : "";
  return `${fmtBillions(m.total_params)} parameters${active} · ${m.layers} layers · hidden ${fmtInt(m.hidden)} · ${m.heads} heads, ${m.kv_heads} KV${moe}`;
}

const fmtBillions = (x) => `${(x / 1e9).toFixed(x >= 1e11 ? 0 : 1)} B`;

// ------------------------------------------------------------------ published layouts

/** The layout option whose every parameter the last answer computed with, if any. */
function syncLayout() {
  const sel = $("#mem-layout");
  const eff = shown ? shown.query : null;
  const same = (k, v) => eff && k in eff && (k === "params" ? Number(eff[k]) === Number(v) : String(eff[k]) === v);
  const match = [...sel.options].find((o) => o.value && [...new URLSearchParams(o.value)].every(([k, v]) => same(k, v)));
  sel.value = match ? match.value : "";
  return match || null;
}

async function loadCatalogues() {
  const [layouts, m, g, opts] = await Promise.allSettled([
    fetchJSON("/api/v1/presets/parallel"),
    fetchJSON("/api/v1/presets/models"),
    fetchJSON("/api/v1/presets/gpus"),
    fetchJSON("/api/v1/memory/options"),
  ]);
  if (opts.status === "fulfilled") {
    const sched = opts.value.controls.find((c) => c.name === "schedule");
    if (sched) scheduleLabels = new Map(sched.choices.map((c) => [c.value, c.label]));
    buildControls(form, opts.value, (patch, remove = [], { delay = false } = {}) => update(patch, { remove, now: !delay, delay }));
  } else errors.show(opts.reason);
  if (layouts.status === "fulfilled") {
    for (const p of layouts.value.presets) {
      $("#mem-layout").append(h("option", { value: p.memory_query, title: p.source, dataset: { provenance: p.provenance } }, `${p.title} (${p.provenance})`));
    }
  }
  if (m.status === "fulfilled") {
    models = new Map(m.value.models.map((x) => [x.name, x]));
    fillSelect($("#mem-model"), m.value.models.map((x) => ({ value: x.name, label: x.title })), [
      { value: "custom", label: "Custom architecture…" },
      { value: "params", label: "Parameter count only…" },
    ]);
  } else errors.show(m.reason);
  if (g.status === "fulfilled") {
    gpus = new Map(g.value.gpus.map((x) => [x.name, x]));
    fillSelect($("#mem-gpu"), g.value.gpus.map((x) => ({ value: x.name, label: shortGpu(x.title) })));
  } else errors.show(g.reason);
  syncControls();
  if (shown) render(shown);
}

function fillSelect(select, items, extra = []) {
  clear(select);
  for (const it of items) select.append(h("option", { value: it.value }, it.label));
  if (extra.length) select.append(h("optgroup", { label: "Your own" }, ...extra.map((it) => h("option", { value: it.value }, it.label))));
}

// ------------------------------------------------------------------ fetch

const load = latest();
let timer = 0;
function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(refresh, delay);
}

async function refresh() {
  const url = `/api/v1/memory?${apiQuery()}`;
  app.dataset.apiUrl = url;
  app.classList.add("is-loading");
  try {
    const data = await load(url);
    shown = data;
    shownFor = url.slice(url.indexOf("?") + 1);
    errors.clear();
    markInvalid(null);
    app.classList.remove("is-stale", "is-loading", "no-data");
    syncControls();
    render(data);
    app.dataset.loaded = url;
  } catch (err) {
    if (err && err.name === "AbortError") return;
    showFailure(err, url);
  }
}

function showFailure(err, url) {
  if (!shown && !Object.keys(declared).length) loadDeclaredDefaults();
  app.classList.remove("is-loading");
  app.classList.toggle("is-stale", Boolean(shown));
  app.classList.toggle("no-data", !shown);
  errors.show(err);
  markInvalid(err);
  const fold = form.closest("details"); // embeds fold the controls away: show the bad one
  if (fold) fold.open = true;
  verdictEl.classList.remove("fits", "over", "tight");
  $("#mem-sticky").replaceChildren();
  verdictEl.replaceChildren(h("div", { class: "mem-verdict-error" },
    h("b", {}, "The API cannot compute this layout. "), err && err.message ? err.message : String(err),
    h("span", { class: "muted" }, shown ? " The chart shows the last valid layout." : " Change the highlighted setting.")));
  app.dataset.loaded = `error:${url}`;
}

/** Mark the controls the API named in its error, with the API's message under each. */
function markInvalid(err) {
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
  for (const el of $$(".mem-field-error", form)) el.remove();
  const fields = [];
  if (err && Array.isArray(err.detail)) {
    for (const d of err.detail) if (Array.isArray(d.loc)) fields.push([String(d.loc[d.loc.length - 1]), d.msg]);
  } else if (err && err.status === 404) {
    const m = /unknown (\w+)/.exec(err.message);
    if (m) fields.push([m[1], err.message]);
  }
  for (const [f, msg] of fields) {
    const el = $(`[name="${CSS.escape(f)}"], [data-param="${CSS.escape(f)}"]`, form);
    if (!el) continue;
    el.setAttribute("aria-invalid", "true");
    const control = el.closest(".mem-steppers") || el.closest(".control");
    if (control && msg) control.append(h("span", { class: "mem-field-error", role: "status" }, msg));
  }
}

// ------------------------------------------------------------------ render

function gpuName(data) {
  const gpu = gpus.get(data.gpu);
  return gpu ? shortGpu(gpu.title) : data.gpu;
}

function renderNote(data) {
  const stages = data.per_stage;
  const parts = [];
  if (stages.length > 1) {
    parts.push(`Each bar is one GPU of a pipeline stage; the ${fmtInt(data.gpus_per_stage)} GPUs of a stage (dp × tp × cp) hold the same bytes.`);
    const first = stages.find((x) => x.has_embedding);
    const last = stages.find((x) => x.has_lm_head);
    if (data.mode === "train" && first === last) parts.push(`Stage ${first.stage} holds both the embedding and the LM head (the V-shaped schedule folds the last chunk back onto it) and ${inFlight(first)} of activations in flight.`);
    else if (data.mode === "train") parts.push(`Stage ${first.stage} holds the embeddings and ${inFlight(first)} of activations in flight; stage ${last.stage} holds the LM head and ${inFlight(last)}.`);
    else parts.push("Stage 0 holds the embeddings, the last stage the LM head; the KV cache is split by the layers each stage owns.");
  } else {
    const tp = data.query.tp;
    parts.push(`One pipeline stage: every GPU holds all layers${tp > 1 ? `, each matrix split ${tp} ways by TP` : ""}.`);
  }
  parts.push(...data.notes.map((n) => (/[.!?]$/.test(n.trim()) ? n.trim() : `${n.trim()}.`)));
  const gpu = gpus.get(data.gpu);
  if (gpu) parts.push(`Capacity: the ${shortGpu(gpu.title)}'s ${gpu.memory_gb_datasheet} GB of HBM are ${gpu.memory_gb_datasheet} GiB = ${fmtBytes(data.capacity)}.`);
  parts.push("GB = 10⁹ bytes.");
  noteEl.textContent = parts.join(" ");
}

/** Whether the layout is a published run (with its source) or illustrative, as the API says. */
function renderProvenance(data) {
  const el = $("#mem-provenance");
  const lay = data.layout;
  el.hidden = !lay;
  $("#mem-accounting").textContent = data.accounting;
  if (!lay) return;
  const published = lay.provenance === "published";
  el.dataset.provenance = lay.provenance;
  el.replaceChildren(
    h("span", { class: "mem-prov-badge" }, published ? "Published layout" : "Illustrative layout"),
    ` ${lay.title}. `, h("span", { class: "muted" }, `${published ? "Source" : "Based on"}: ${lay.source}.${lay.assumed ? ` Assumed: ${lay.assumed}` : ""}`));
}

/** What the query's dtypes and batch come to: the weights per class and the microbatches. */
function renderDerived(data) {
  const w = data.weights;
  const dflt = $("#mem-dtype option[data-default]");
  dflt.dataset.label = `Default: ${data.weights_default}`;
  if (!params.has("dtype")) dflt.textContent = dflt.dataset.label;
  $("#mem-weights").textContent = data.model === "params" ? "" : `Stored as: attention ${w.attention} · MLP ${w.mlp} · embeddings ${w.embedding} · router ${w.router}`;
  const how = data.query.global_batch ? "from the global batch" : data.query.microbatches ? "as given" : "the fewest that fill the pipeline";
  $("#mem-microbatches").textContent = data.mode === "train" ? `${fmtInt(data.microbatches)} microbatches per iteration (${how}).` : "";
}

function inFlight(stage) {
  const m = Number(stage.microbatches_in_flight.toFixed(2));
  return m === 1 ? "1 microbatch" : `${m} microbatches`;
}

/** One line naming what the chart is of, so an embed (controls folded) still says it. */
export function setupSummary(data) {
  const q = data.query;
  const m = models.get(data.model);
  const model = data.model === "params" ? `Ψ = ${fmtInt(data.params_total)} parameters` : data.model === "custom" ? `custom ${q.layers}-layer model (hidden ${fmtInt(q.hidden)})` : m ? m.title : data.model;
  const degrees = ["dp", "tp", "pp", "cp", "ep"].filter((k) => q[k] > 1).map((k) => `${k.toUpperCase()} ${fmtInt(q[k])}`);
  const w = data.weights;
  const mixed = new Set(Object.values(w)).size > 1;
  const weights = mixed ? `weights: MLP ${w.mlp}, rest ${w.attention}` : w.attention;
  const parts = [model, data.mode === "train" ? "training" : "inference", weights];
  parts.push(`${degrees.length ? degrees.join(" × ") : "1 GPU"}${data.world_size > 1 ? ` (${fmtInt(data.world_size)} GPUs)` : ""}`);
  if (data.mode === "train") {
    if (q.pp > 1) parts.push(`${scheduleLabels.get(q.schedule) || q.schedule}, ${fmtInt(data.microbatches)} microbatches`);
    if (q.chunks > 1) parts.push(`${q.chunks} chunks per rank`);
    parts.push(`ZeRO-${q.zero}`);
    if (data.model !== "params") {
      parts.push(`seq ${fmtInt(q.seq_len)} × micro batch ${q.micro_batch}`);
      parts.push(q.recompute === "none" ? "no recompute" : `${q.recompute} recompute`);
      parts.push(q.attention === "flash" ? "FlashAttention" : "eager attention");
      if (q.sequence_parallel) parts.push("sequence parallel");
    }
  } else {
    parts.push(`${fmtInt(q.batch)} × ${fmtInt(q.seq_len)} tokens of KV cache in ${q.kv_dtype}`);
  }
  return parts.join(" · ");
}

/** A formula, then each quantity it defines on a line of its own (the text is unchanged). */
function formulaLines(formula) {
  return formula.split("; ").flatMap((part, i) => (i ? ["; ", h("br"), part] : [part]));
}

function renderTerms(data) {
  const rows = data.terms.map((t) => {
    const seg = SEGMENTS.find((s) => s.key === t.segment);
    const sw = h("span", { class: "swatch", style: { background: seg ? `var(${seg.color})` : "" } });
    return h("tr", { "data-term": t.name, "data-segment": t.segment },
      h("th", { scope: "row" }, h("span", { class: "mem-term-name" }, sw, termLabel(t.name))),
      h("td", { class: "num", title: `${fmtInt(t.bytes)} bytes` }, fmtBytes(t.bytes, 2)),
      h("td", { class: "mem-formula" }, h("code", {}, formulaLines(t.formula))),
      h("td", { class: "mem-source" }, t.source));
  });
  rows.push(h("tr", { class: "mem-total-row" },
    h("th", { scope: "row" }, "Total (fullest GPU)"),
    h("td", { class: "num", title: `${fmtInt(data.total)} bytes` }, fmtBytes(data.total, 2)),
    h("td", { class: "mem-formula" }, h("code", {}, `capacity ${fmtInt(data.capacity)} B`)),
    h("td", { class: "mem-source" }, h("a", { href: app.dataset.apiUrl, rel: "nofollow" }, "this answer as JSON"))));
  termsBody.replaceChildren(...rows);
}

function render(data) {
  const gpu = gpus.get(data.gpu);
  chart.update(data, {
    gpuTitle: gpu ? gpu.title : data.gpu,
    xLabel: data.per_stage.length > 1 ? "Pipeline stage (one GPU of each)" : "One GPU (no pipeline)",
  });
  $("#mem-world").textContent = `${fmtInt(data.world_size)} GPU${data.world_size === 1 ? "" : "s"}`;
  $("#mem-world").title = "dp × tp × pp × cp GPUs (EP is carved out of DP, as in Megatron-LM)";
  $("#mem-setup").textContent = setupSummary(data);
  renderVerdict(verdictEl, data, gpuName(data), (change) => update(change, { now: true }));
  renderSticky($("#mem-sticky"), data);
  pipeline.update(data);
  renderAnatomy($("#mem-anatomy"), $("#mem-anatomy-body"), data);
  renderDerived(data);
  renderProvenance(data);
  renderNote(data);
  renderTerms(data);
  showPin(data);
}

// ------------------------------------------------------------------ the pinned bar and segment

/** Pin bar `stage`'s `segment` ("" for the whole bar; -1 clears) and keep it in the URL. */
function pinTo(stage, segment) {
  pinParams(stage, segment);
  if (shown) showPin(shown);
}

function pinParams(stage, segment) {
  if (stage >= 0) params.set("stage", String(stage));
  else params.delete("stage");
  if (stage >= 0 && segment) params.set("segment", segment);
  else params.delete("segment");
  writeUrl();
}

/**
 * The URL's pin, checked against the answer drawn: a stage it has, a segment that stage holds
 * bytes of. Anything else is dropped (from the URL too) without a word: it is not an API input.
 */
function validPin(data) {
  const raw = params.get("stage");
  const stage = raw !== null && /^\d+$/.test(raw) ? Number(raw) : -1;
  const bar = stage >= 0 && stage < data.per_stage.length ? data.per_stage[stage] : null;
  if (!bar) return { stage: -1, segment: "" };
  const segment = params.get("segment") || "";
  const holds = SEGMENTS.some((s) => s.key === segment) && bar.terms.some((t) => t.segment === segment && t.bytes > 0);
  return { stage, segment: holds ? segment : "" };
}

function showPin(data) {
  const { stage, segment } = validPin(data);
  if (String(stage) !== (params.get("stage") ?? "-1") || segment !== (params.get("segment") || "")) pinParams(stage, segment);
  chart.pin(stage, segment);
  pipeline.pin(stage);
  for (const row of termsBody.querySelectorAll("tr[data-segment]")) row.classList.toggle("pinned", Boolean(segment) && row.dataset.segment === segment);
  const box = $("#mem-pin");
  box.hidden = stage < 0;
  box.dataset.stage = String(stage);
  box.dataset.segment = segment;
  const lines = chart.pinnedLines();
  if (stage < 0 || !lines) return box.replaceChildren();
  const [title, ...rest] = lines;
  const list = h("dl", { class: "mem-pin-list" });
  for (const line of rest) {
    if (Array.isArray(line)) list.append(h("dt", {}, line[0]), h("dd", {}, line[1]));
    else list.append(h("dd", {}, line));
  }
  box.replaceChildren(h("p", { class: "mem-pin-title" }, h("b", {}, title),
    h("button", { type: "button", class: "mem-pin-clear pin-close", "aria-label": "Unpin", title: "Unpin (Esc)", onclick: () => pinTo(-1, "") }, "×")), list);
}

// ------------------------------------------------------------------ go

// The phone's summary shows only once the full verdict has scrolled out of view.
new IntersectionObserver((entries) => {
  for (const e of entries) app.classList.toggle("verdict-away", !e.isIntersecting && e.boundingClientRect.top < 0);
}).observe(verdictEl);

wireControls();
writeUrl();
syncControls();
loadCatalogues();
refresh();
