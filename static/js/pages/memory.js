// /memory: read the URL, fetch /api/v1/memory (debounced, latest wins), draw the bars, the
// verdict and the table of terms, and keep every control in the URL.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox, num } from "../lib/api.js";
import { readState } from "../lib/urlstate.js";
import { fmtBytes, fmtInt, fmtPct } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { mount } from "../views/memory.js";
import { SEGMENTS, barsFrom, parseChange, segmentOf, shortGpu, verdict } from "../views/memory-model.js";

const ARCH = ["layers", "hidden", "heads", "kv_heads", "ffn", "vocab"];
const DEGREES = ["dp", "tp", "pp", "cp", "ep", "chunks", "micro_batch", "batch"];
const MAX_DEGREE = 65536;

const SCHEMA = {
  model: { type: "str", default: "llama3-70b" },
  gpu: { type: "str", default: "h100-sxm" },
  mode: { type: "str", default: "train", choices: ["train", "inference"] },
  dtype: { type: "str", default: "bfloat16" },
  kv_dtype: { type: "str", default: "bfloat16" },
  dp: { type: "int", default: 1, min: 1, max: MAX_DEGREE },
  tp: { type: "int", default: 1, min: 1, max: MAX_DEGREE },
  pp: { type: "int", default: 1, min: 1, max: MAX_DEGREE },
  cp: { type: "int", default: 1, min: 1, max: MAX_DEGREE },
  ep: { type: "int", default: 1, min: 1, max: MAX_DEGREE },
  chunks: { type: "int", default: 1, min: 1, max: 16 },
  zero: { type: "int", default: 0, min: 0, max: 3 },
  micro_batch: { type: "int", default: 1, min: 1, max: MAX_DEGREE },
  batch: { type: "int", default: 1, min: 1, max: MAX_DEGREE },
  microbatches: { type: "int", default: null, min: 1, max: 1024 },
  seq_len: { type: "int", default: 8192, min: 1, max: 1 << 24 },
  recompute: { type: "str", default: "none", choices: ["none", "selective", "full"] },
  sequence_parallel: { type: "bool", default: false },
  layers: { type: "int", default: 32, min: 1 },
  hidden: { type: "int", default: 4096, min: 1 },
  heads: { type: "int", default: 32, min: 1 },
  kv_heads: { type: "int", default: 8, min: 1 },
  ffn: { type: "int", default: 14336, min: 1 },
  vocab: { type: "int", default: 128256, min: 1 },
  params: { type: "float", default: 7.5e9, min: 1 },
};

/** What /memory shows with no query: a 70B model on 256 H100s, the way Megatron lays it out. */
const LANDING = { model: "llama3-70b", dp: 8, tp: 8, pp: 4, zero: 1, seq_len: 8192, sequence_parallel: true, recompute: "selective" };

/** The API's dtype aliases, shown under their registry names. */
const DTYPE_ALIASES = { bf16: "bfloat16", fp16: "float16", half: "float16", fp32: "float32", fp8: "float8_e4m3fn", e4m3: "float8_e4m3fn", e5m2: "float8_e5m2", fp4: "mxfp4" };

function initialState() {
  const q = new URLSearchParams(location.search);
  const owned = Object.keys(SCHEMA).some((k) => q.has(k));
  const s = readState(SCHEMA);
  for (const k of ["dtype", "kv_dtype"]) s[k] = DTYPE_ALIASES[String(s[k]).toLowerCase()] || s[k];
  if (!owned) return { ...s, ...LANDING };
  if (!q.has("model")) {
    if (q.has("layers") || q.has("hidden")) s.model = "custom";
    else if (q.has("params")) s.model = "params";
  }
  return s;
}

/**
 * The query string for both the page and the API: the model (preset, custom architecture or
 * parameter count), then every setting that applies in this mode. `all` keeps defaults.
 */
export function memoryQuery(state, all = false) {
  const q = new URLSearchParams();
  const put = (k) => {
    if (state[k] === null || state[k] === undefined) return;
    if (all || k === "seq_len" || state[k] !== SCHEMA[k].default) {
      q.set(k, SCHEMA[k].type === "bool" ? String(Boolean(state[k])) : String(state[k]));
    }
  };
  if (state.model === "custom") for (const k of ARCH) q.set(k, String(state[k]));
  else if (state.model === "params") q.set("params", String(Math.round(state.params)));
  else q.set("model", state.model);
  ["gpu", "mode", "dtype", "dp", "tp", "pp", "cp", "ep", "seq_len"].forEach(put);
  if (state.mode === "train") ["chunks", "zero", "micro_batch", "microbatches", "recompute", "sequence_parallel"].forEach(put);
  else ["batch", "kv_dtype"].forEach(put);
  return q;
}

function writeUrl(state) {
  const q = memoryQuery(state);
  for (const [k, v] of new URLSearchParams(location.search)) if (!(k in SCHEMA)) q.set(k, v);
  const s = q.toString();
  const next = s ? `?${s}` : "";
  if (next !== location.search) history.replaceState(null, "", location.pathname + next);
}

// ------------------------------------------------------------------ setup

const state = initialState();
const app = $("#app");
const form = $("#mem-controls");
const errors = errorBox($("#mem-errors"));
const chartEl = $("#mem-chart");
const verdictEl = $("#mem-verdict");
const termsBody = $("#mem-terms tbody");
const noteEl = $("#mem-note");
let models = new Map();
let gpus = new Map();
let lastData = null;

const chart = mount(chartEl);
mountShareBar($("#share"), {
  getSvg: () => {
    const m = models.get(state.model);
    return chart.exportSvg(setupSummary(state, m ? m.title : ""));
  },
  name: "bitmesh-memory",
  embedHeight: 1050, // the embed folds its controls and table: verdict + chart ≈ 1,000 px at 600 px wide
});

function setOptions(select, items, extra = []) {
  const current = select.value;
  clear(select);
  for (const it of items) select.append(h("option", { value: it.value }, it.label));
  if (extra.length) {
    const grp = h("optgroup", { label: "Your own" });
    for (const it of extra) grp.append(h("option", { value: it.value }, it.label));
    select.append(grp);
  }
  select.value = current;
}

/**
 * A published layout's query with the memory techniques every such run uses but papers rarely
 * list: attention that never stores the s×s score matrix (FlashAttention, which Korthikanti et
 * al. 2022 Table 2 count as "selective" recompute) and, with TP, Megatron sequence parallelism.
 * Without them Table 2 charges 5as/h·sbh per layer for the scores: Llama 3 405B on its Table 4
 * layout would need 867 GB per GPU instead of about 82 GB.
 */
export function publishedLayoutQuery(query) {
  const q = new URLSearchParams(query);
  if (!q.has("recompute")) q.set("recompute", "selective");
  if (!q.has("sequence_parallel") && Number(q.get("tp") || 1) > 1) q.set("sequence_parallel", "true");
  return q.toString();
}

/** Whether the page state is exactly the layout in `query` (every key it sets agrees). */
function stateMatches(query) {
  for (const [k, v] of new URLSearchParams(query)) {
    if (k === "model" ? state.model !== v : k === "params" ? state.model !== "params" || Number(v) !== Math.round(state.params) : !(k in SCHEMA) || String(state[k]) !== v) return false;
  }
  return true;
}

function syncLayout() {
  const sel = $("#mem-layout");
  const match = [...sel.options].find((o) => o.value && stateMatches(o.value));
  sel.value = match ? match.value : "";
  return match || null;
}

async function loadLayouts() {
  try {
    const { presets } = await fetchJSON("/api/v1/presets/parallel");
    const sel = $("#mem-layout");
    for (const p of presets) {
      sel.append(h("option", { value: publishedLayoutQuery(p.memory_query), title: p.source, dataset: { published: "1" } }, `${p.title} (published degrees)`));
    }
  } catch (_) {
    /* the layout picker is a convenience; the page works without it */
  }
  syncLayout();
  if (lastData) renderNote(lastData);
}

$("#mem-layout").addEventListener("change", (e) => {
  const query = e.target.value;
  if (!query) return;
  const q = new URLSearchParams(query);
  const theme = new URLSearchParams(location.search).get("theme");
  if (theme) q.set("theme", theme);
  location.search = `?${q}`;
});

async function loadPresets() {
  try {
    const [m, g] = await Promise.all([fetchJSON("/api/v1/presets/models"), fetchJSON("/api/v1/presets/gpus")]);
    models = new Map(m.models.map((x) => [x.name, x]));
    gpus = new Map(g.gpus.map((x) => [x.name, x]));
    setOptions($("#mem-model"), m.models.map((x) => ({ value: x.name, label: x.title })), [
      { value: "custom", label: "Custom architecture…" },
      { value: "params", label: "Parameter count only…" },
    ]);
    setOptions($("#mem-gpu"), g.gpus.map((x) => ({ value: x.name, label: `${shortGpu(x.title)}` })));
  } catch (err) {
    errors.show(err);
  }
  syncControls();
}

// ------------------------------------------------------------------ controls -> state

function setState(patch, { now = false } = {}) {
  Object.assign(state, patch);
  writeUrl(state);
  syncControls();
  schedule(now ? 0 : 90);
}

function prefillCustom(kind) {
  const m = models.get(state.model);
  if (!m) return {};
  if (kind === "params") return { params: m.total_params };
  return { layers: m.layers, hidden: m.hidden, heads: m.heads, kv_heads: m.kv_heads, ffn: m.ffn, vocab: m.vocab };
}

$("#mem-model").addEventListener("change", (e) => {
  const v = e.target.value;
  const patch = { model: v };
  if (v === "custom" || v === "params") Object.assign(patch, prefillCustom(v));
  setState(patch, { now: true });
});
$("#mem-gpu").addEventListener("change", (e) => setState({ gpu: e.target.value }, { now: true }));
$("#mem-dtype").addEventListener("change", (e) => setState({ dtype: e.target.value }, { now: true }));
$("#mem-kv_dtype").addEventListener("change", (e) => setState({ kv_dtype: e.target.value }, { now: true }));
$("#mem-sp").addEventListener("change", (e) => setState({ sequence_parallel: e.target.checked }, { now: true }));

for (const [id, key, parse] of [
  ["#mem-mode", "mode", String],
  ["#mem-zero", "zero", Number],
  ["#mem-recompute", "recompute", String],
]) {
  $(id).addEventListener("click", (e) => {
    const b = e.target.closest("button[data-value]");
    if (b) setState({ [key]: parse(b.dataset.value) }, { now: true });
  });
}

for (const key of ARCH) {
  $(`#mem-${key}`).addEventListener("input", (e) => {
    const v = Number.parseInt(e.target.value, 10);
    if (Number.isFinite(v) && v >= 1) setState({ [key]: v });
  });
}
$("#mem-params").addEventListener("input", (e) => {
  const v = Number.parseFloat(e.target.value);
  if (Number.isFinite(v) && v > 0) setState({ params: Math.round(v * 1e9) });
});

for (const wrap of $$(".mem-stepper")) {
  const key = wrap.dataset.key;
  const input = $("input", wrap);
  const max = SCHEMA[key].max;
  input.max = String(max);
  input.addEventListener("input", () => {
    const v = Number.parseInt(input.value, 10);
    if (Number.isFinite(v) && v >= 1 && v <= max) setState({ [key]: v });
  });
  for (const btn of $$("button[data-dir]", wrap)) {
    btn.addEventListener("click", () => {
      const up = btn.dataset.dir === "1";
      const v = state[key];
      // double / halve: the degrees people actually use are powers of two
      const next = up ? Math.min(max, v * 2) : Math.max(1, Math.floor(v / 2));
      if (next !== v) setState({ [key]: next }, { now: true });
    });
  }
}

const seq = $("#mem-seq");
seq.addEventListener("input", () => setState({ seq_len: 2 ** Number(seq.value) }));

// ------------------------------------------------------------------ state -> controls

function pressed(groupId, value) {
  for (const b of $$(`${groupId} button[data-value]`)) b.setAttribute("aria-pressed", String(b.dataset.value === String(value)));
}

function modelInfo() {
  const m = models.get(state.model);
  if (state.model === "custom") return "Dense transformer: gated MLP, grouped-query attention.";
  if (state.model === "params") return "Model states only (weights, gradients, Adam): no activations without an architecture.";
  if (!m) return "";
  const b = (x) => `${(x / 1e9).toFixed(x >= 1e11 ? 0 : 1)} B`;
  const moe = m.experts ? ` · ${m.experts} experts, ${m.experts_per_token} active` : "";
  const active = m.experts ? ` (${b(m.active_params)} active)` : "";
  return `${b(m.total_params)} parameters${active} · ${m.layers} layers · hidden ${fmtInt(m.hidden)} · ${m.heads} heads, ${m.kv_heads} KV${moe}`;
}

function syncControls() {
  const modelSel = $("#mem-model");
  if (![...modelSel.options].some((o) => o.value === state.model)) modelSel.append(h("option", { value: state.model }, state.model));
  modelSel.value = state.model;
  const gpuSel = $("#mem-gpu");
  if (![...gpuSel.options].some((o) => o.value === state.gpu)) gpuSel.append(h("option", { value: state.gpu }, state.gpu));
  gpuSel.value = state.gpu;
  for (const key of ["dtype", "kv_dtype"]) {
    const sel = $(`#mem-${key}`);
    if (![...sel.options].some((o) => o.value === state[key])) sel.append(h("option", { value: state[key] }, state[key]));
    sel.value = state[key];
  }
  $("#mem-model-info").textContent = modelInfo();
  $("#mem-custom").hidden = state.model !== "custom";
  $("#mem-params-only").hidden = state.model !== "params";
  for (const k of ARCH) {
    const inp = $(`#mem-${k}`);
    if (document.activeElement !== inp) inp.value = String(state[k]);
  }
  const pin = $("#mem-params");
  if (document.activeElement !== pin) pin.value = String(Number((state.params / 1e9).toPrecision(6)));
  for (const key of DEGREES) {
    const inp = $(`#mem-${key}`);
    if (document.activeElement !== inp) inp.value = String(state[key]);
  }
  pressed("#mem-mode", state.mode);
  pressed("#mem-zero", state.zero);
  pressed("#mem-recompute", state.recompute);
  $("#mem-sp").checked = state.sequence_parallel;
  const lg = Math.log2(state.seq_len);
  seq.value = String(Math.round(lg));
  $("#mem-seq-out").textContent = `${fmtInt(state.seq_len)} tokens`;
  $("#mem-seq-name").textContent = state.mode === "inference" ? "Context length" : "Sequence length";
  form.classList.toggle("is-inference", state.mode === "inference");
  form.classList.toggle("is-params", state.model === "params");
  showWorld(state.dp * state.tp * state.pp * state.cp);
  syncLayout();
}

function showWorld(world) {
  $("#mem-world").textContent = `${fmtInt(world)} GPU${world === 1 ? "" : "s"}`;
  $("#mem-world").title = "dp × tp × pp × cp GPUs (EP is carved out of DP, as in Megatron-LM)";
}

// ------------------------------------------------------------------ fetch

const load = latest();
let timer = 0;
function schedule(delay) {
  clearTimeout(timer);
  timer = setTimeout(refresh, delay);
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
    const el = $(`#mem-${f === "sequence_parallel" ? "sp" : f === "seq_len" ? "seq" : f}`);
    if (!el) continue;
    el.setAttribute("aria-invalid", "true");
    const control = el.closest(".mem-steppers") || el.closest(".control");
    if (control && msg) control.append(h("span", { class: "mem-field-error", role: "status" }, msg));
  }
}

async function refresh() {
  const url = `/api/v1/memory?${memoryQuery(state, true)}`;
  app.dataset.apiUrl = url;
  app.classList.add("is-loading");
  try {
    const data = await load(url);
    lastData = data;
    errors.clear();
    markInvalid(null);
    app.classList.remove("is-stale", "is-loading", "no-data");
    app.dataset.loaded = url;
    render(data);
  } catch (err) {
    if (err && err.name === "AbortError") return;
    app.classList.remove("is-loading");
    app.classList.toggle("is-stale", Boolean(lastData));
    errors.show(err);
    markInvalid(err);
    const fold = form.closest("details"); // embeds fold the controls away: show the bad one
    if (fold) fold.open = true;
    app.dataset.loaded = `error:${url}`;
    app.classList.toggle("no-data", !lastData);
    verdictEl.classList.remove("fits", "over", "tight");
    const msg = h("div", { class: "mem-verdict-error" },
      h("b", {}, "The API cannot compute this layout. "), err && err.message ? err.message : String(err),
      h("span", { class: "muted" }, lastData ? " The chart shows the last valid layout." : " Change the highlighted setting."));
    verdictEl.replaceChildren(msg);
  }
}

// ------------------------------------------------------------------ render

function segLabel(name) {
  const s = SEGMENTS.find((x) => x.key === name);
  return s ? s.label : name.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

function worstStage(data) {
  const st = Array.isArray(data.per_stage) ? data.per_stage : [];
  if (st.length < 2) return null;
  return st.reduce((a, b) => (num(b.total) > num(a.total) ? b : a));
}

function renderVerdict(data) {
  const cap = num(data.capacity);
  const total = num(data.total);
  const v = verdict(total, cap);
  const fits = typeof data.fits === "boolean" ? data.fits : v.fits;
  const gpu = gpus.get(state.gpu);
  const gpuName = gpu ? shortGpu(gpu.title) : state.gpu;
  const worst = worstStage(data);
  const where = worst ? ` on stage ${worst.stage}, the fullest` : "";
  // the meter spans max(total, capacity): used up to capacity, then the overflow hatched
  const span = Math.max(total, cap);
  const fill = h("div", { class: "mem-meter-fill" });
  const overflow = h("div", { class: "mem-meter-over" });
  const tick = h("div", { class: "mem-meter-cap" });
  fill.style.width = `${(100 * Math.min(total, cap)) / span}%`;
  overflow.style.left = `${(100 * cap) / span}%`;
  overflow.style.width = `${(100 * Math.max(0, total - cap)) / span}%`;
  tick.style.left = `${(100 * cap) / span}%`;
  const meter = h("div", { class: "mem-meter", role: "img", "aria-label": `${fmtPct(v.used, 0)} of capacity` }, fill, overflow, tick);

  const headline = fits
    ? `${fmtBytes(v.headroom)} headroom · uses ${fmtPct(v.used, 0)} of capacity`
    : `${fmtBytes(-v.headroom)} over · needs ${fmtPct(v.used, 0)} of capacity`;
  const advice = Array.isArray(data.advice) ? data.advice : [];
  const adviceBlock = advice.length
    ? h("div", { class: "mem-advice" },
        h("span", { class: "mem-advice-title" }, fits ? "To lower it further" : "What to change"),
        h("div", { class: "mem-advice-list" },
          advice.map((a) => {
            const change = a.params && typeof a.params === "object" ? a.params : parseChange(a.change);
            // A bigger pp, tp or cp lowers the bytes per GPU by buying more GPUs: say so.
            const next = { ...state, ...change };
            const gpusNow = state.dp * state.tp * state.pp * state.cp;
            const gpusNext = ["dp", "tp", "pp", "cp"].reduce((a, k) => a * (Number(next[k]) || 1), 1);
            const more = gpusNext !== gpusNow;
            const btn = h("button", { type: "button", class: `mem-advice-btn ${a.fits ? "fits" : "over"}`,
              title: more ? `Apply this change: ${fmtInt(gpusNext)} GPUs instead of ${fmtInt(gpusNow)}` : "Apply this change (same GPU count)" },
              h("code", {}, a.change), ` → ${fmtBytes(a.total)} `, h("span", { class: "mem-advice-verdict" }, a.fits ? "fits" : "still over"),
              more ? h("span", { class: "mem-advice-gpus" }, ` · ${fmtInt(gpusNext)} GPUs`) : null);
            btn.addEventListener("click", () => applyChange(change));
            return btn;
          })),
        !fits && advice.every((a) => !a.fits)
          ? h("span", { class: "muted" }, "No single change is enough: apply one and look again.")
          : null)
    : !fits
      ? h("p", { class: "mem-advice muted" }, "No single change fits; try more pipeline stages, ZeRO-3, full recompute or a bigger GPU.")
      : null;

  const tight = fits && v.used > 0.9;
  verdictEl.classList.toggle("tight", tight);
  verdictEl.classList.toggle("fits", fits);
  verdictEl.classList.toggle("over", !fits);
  verdictEl.replaceChildren(
    h("div", { class: "mem-verdict-row" },
      h("div", { class: "mem-verdict-badge", "data-fits": String(fits) },
        h("span", { class: "mem-verdict-icon", "aria-hidden": "true" }, fits ? "✓" : "✕"),
        h("span", { class: "mem-verdict-text" }, tight ? "Fits, barely" : fits ? "Fits" : "Does not fit")),
      h("div", { class: "mem-verdict-numbers" },
        h("div", { class: "mem-verdict-total" },
          h("span", { class: "mem-total-value", "data-bytes": String(total) }, fmtBytes(total)),
          h("span", { class: "mem-of" }, ` of ${fmtBytes(cap)} on one ${gpuName}`)),
        h("div", { class: "mem-verdict-sub" }, `${headline}${where}.`),
        tight ? h("div", { class: "mem-verdict-sub mem-tight-note" }, "Under 10% free: the CUDA context, NCCL buffers and allocator fragmentation often take a few GB.") : null)),
    meter,
    ...(adviceBlock ? [adviceBlock] : []),
  );
}

function applyChange(change) {
  const patch = {};
  for (const [k, raw] of Object.entries(change)) {
    if (!(k in SCHEMA)) continue;
    const spec = SCHEMA[k];
    patch[k] = typeof raw !== "string" ? raw : spec.type === "int" ? Number.parseInt(raw, 10) : spec.type === "float" ? Number(raw) : spec.type === "bool" ? raw === "true" || raw === "1" : raw;
  }
  setState(patch, { now: true });
}

function renderNote(data) {
  const n = Array.isArray(data.per_stage) ? data.per_stage.length : 1;
  const same = state.dp * state.tp * state.cp;
  const parts = [];
  if (n > 1) {
    parts.push(`Each bar is one GPU of a pipeline stage; the ${fmtInt(same)} GPUs of a stage (dp × tp × cp) hold the same bytes.`);
    if (state.mode === "train") parts.push(`Stage 0 holds the embeddings and, under 1F1B, ${n} microbatches of activations in flight; the last stage holds the LM head and 1 microbatch.`);
    else parts.push("Stage 0 holds the embeddings, the last stage the LM head; the KV cache is split by the layers each stage owns.");
  } else {
    parts.push(`One pipeline stage: every GPU holds all layers${state.tp > 1 ? `, each matrix split ${state.tp} ways by TP` : ""}.`);
  }
  const layout = syncLayout();
  if (layout && layout.dataset.published) {
    parts.push(`Published layout (${layout.title}); the paper gives the parallel degrees, and the page assumes FlashAttention-style attention (Korthikanti's "selective" recompute)${state.tp > 1 ? " and sequence parallelism" : ""}, without which the same layout cannot fit.`);
  }
  if (Array.isArray(data.notes)) parts.push(...data.notes.map((n) => (/[.!?]$/.test(n.trim()) ? n.trim() : `${n.trim()}.`)));
  const gpu = gpus.get(state.gpu);
  if (gpu) parts.push(`Capacity: the ${shortGpu(gpu.title)}'s ${gpu.memory_gb_datasheet} GB of HBM are ${gpu.memory_gb_datasheet} GiB = ${fmtBytes(gpu.memory_bytes)}.`);
  parts.push("GB = 10⁹ bytes.");
  noteEl.textContent = parts.join(" ");
}

/** One line naming what the chart is of, so an embed (controls folded) still says it. */
export function setupSummary(st, modelTitle) {
  const model = st.model === "params" ? `Ψ = ${fmtInt(Math.round(st.params))} parameters` : st.model === "custom" ? `custom ${st.layers}-layer model (hidden ${fmtInt(st.hidden)})` : modelTitle || st.model;
  const degrees = ["dp", "tp", "pp", "cp", "ep"].filter((k) => st[k] > 1).map((k) => `${k.toUpperCase()} ${fmtInt(st[k])}`);
  const gpus = st.dp * st.tp * st.pp * st.cp;
  const parts = [model, st.mode === "train" ? "training" : "inference", st.dtype];
  parts.push(`${degrees.length ? degrees.join(" × ") : "1 GPU"}${gpus > 1 ? ` (${fmtInt(gpus)} GPUs)` : ""}`);
  if (st.mode === "train") {
    if (st.chunks > 1) parts.push(`${st.chunks} chunks per rank`);
    parts.push(`ZeRO-${st.zero}`);
    if (st.model !== "params") {
      parts.push(`seq ${fmtInt(st.seq_len)} × micro batch ${st.micro_batch}`);
      parts.push(st.recompute === "none" ? "no recompute" : `${st.recompute} recompute`);
      if (st.sequence_parallel) parts.push("sequence parallel");
    }
  } else {
    parts.push(`${fmtInt(st.batch)} × ${fmtInt(st.seq_len)} tokens of KV cache in ${st.kv_dtype}`);
  }
  return parts.join(" · ");
}

function renderTerms(data) {
  const terms = Array.isArray(data.terms) ? data.terms : [];
  const rows = terms.map((t) => {
    const seg = SEGMENTS.find((s) => s.key === segmentOf(t.name));
    const sw = h("span", { class: "swatch" });
    sw.style.background = `var(${seg.color})`;
    return h("tr", { "data-term": t.name },
      h("th", { scope: "row" }, h("span", { class: "mem-term-name" }, sw, segLabel(t.name))),
      h("td", { class: "num", title: `${fmtInt(t.bytes)} bytes` }, fmtBytes(num(t.bytes), 2)),
      h("td", { class: "mem-formula" }, h("code", {}, t.formula || "")),
      h("td", { class: "mem-source" }, t.source || ""));
  });
  rows.push(h("tr", { class: "mem-total-row" },
    h("th", { scope: "row" }, "Total (fullest GPU)"),
    h("td", { class: "num", title: `${fmtInt(data.total)} bytes` }, fmtBytes(num(data.total), 2)),
    h("td", { class: "mem-formula" }, h("code", {}, `capacity ${fmtInt(data.capacity)} B`)),
    h("td", { class: "mem-source" }, h("a", { href: app.dataset.apiUrl, rel: "nofollow" }, "this answer as JSON"))));
  termsBody.replaceChildren(...rows);
}

function render(data) {
  const gpu = gpus.get(state.gpu);
  chart.update(data, {
    gpuTitle: gpu ? gpu.title : state.gpu,
    xLabel: (data.per_stage || []).length > 1 ? "Pipeline stage (one GPU of each)" : "One GPU (no pipeline)",
  });
  if (data.world_size) showWorld(num(data.world_size));
  if (state.model === "custom" && data.params_total) {
    const b = num(data.params_total) / 1e9;
    $("#mem-model-info").textContent = `${b.toFixed(b >= 100 ? 0 : 2)} B parameters (counted by the API). ${modelInfo()}`;
  }
  const m = models.get(state.model);
  $("#mem-setup").textContent = setupSummary(state, m ? m.title : "");
  renderVerdict(data);
  renderNote(data);
  renderTerms(data);
}

// ------------------------------------------------------------------ go

writeUrl(state);
syncControls();
loadLayouts();
loadPresets().then(() => {
  if (lastData) render(lastData);
});
refresh();
