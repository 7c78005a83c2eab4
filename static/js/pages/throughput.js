// /throughput: the query string is the claim. The page sends exactly its query string to
// /api/v1/throughput and draws the answer; every control shows the answer's `query`. A URL
// naming no model starts from the first published run of /api/v1/throughput/gallery.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtNum, fmtPct, fmtInt, fmtTime } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { STATE_KEYS } from "../lib/urlstate.js";
import { mount, conventionLines } from "../views/throughput.js";
import { mount as mountErrors } from "../views/throughput-errors.js";
import { queryState, fillSelect, sameQuery, numberInput, metric } from "../views/plan-state.js";
import { pinDetail, pinnable, unpinOnEscape } from "../lib/pin.js";

const CLAIMS = ["tokens_per_second", "tokens_per_second_per_gpu", "step_time", "gpu_hours", "tflops_per_gpu"];
const NUMBERS = ["seq_len", "gpus", "global_batch_tokens", "gpu_hours_tokens", "tp", "pp", "dp", "cp", "ep", "zero", "micro_batch", "microbatches", "chunks", "train_tokens"];
const SELECTS = ["gpu", "tflops_convention", "recompute", "peak"];
const CUSTOM = ["layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "mlp", "norm", "params"];

// the view's state keys (the pinned convention) redraw what is shown; any other key asks again
const state = queryState((key) => (STATE_KEYS.includes(key) ? shown && drawPin(shown) : refresh()));
let gallery = null;
let shown = null;
const load = latest();
const errors = errorBox($("#tp-errors"));
/** The pinned convention of the answer `d`, or null (a name it does not list is no pin). */
const pinned = (d) => d.conventions.find((c) => c.name === state.params.get("convention")) || null;
const togglePin = (name) => state.set("convention", shown && pinned(shown)?.name === name ? null : name);
const bar = mount($("#tp-time"), { onPick: togglePin });
const detail = pinDetail($("#tp-time"), () => state.set("convention", null));
unpinOnEscape(() => state.params.has("convention") && state.set("convention", null));
const errorChart = mountErrors($("#tp-errors-chart"));
mountShareBar($("#share"), { getSvg: () => bar.exportSvg(), name: "bitmesh-throughput", embedHeight: 1000 });

function show(el, v) {
  if (!el || document.activeElement === el) return;
  el.value = v === null || v === undefined ? "" : String(v);
}

function syncControls(d) {
  const q = d.query;
  for (const k of [...NUMBERS, ...SELECTS, "model"]) show($(`#tp-${k}`), q[k]);
  show($("#tp-global_batch_tokens_layout"), q.global_batch_tokens);
  $("#tp-kind").value = d.claim.kind;
  show($("#tp-value"), q[d.claim.kind]);
  for (const el of $$(".tp-extra")) el.hidden = el.dataset.kind !== d.claim.kind;
  const match = gallery && gallery.runs.find((r) => sameQuery(r.throughput_query, state.apiQuery()));
  $("#tp-run").value = match ? match.name : "";
}

function wireControls() {
  $("#tp-form").addEventListener("submit", (ev) => ev.preventDefault());
  for (const k of SELECTS) $(`#tp-${k}`).addEventListener("change", (ev) => state.set(k, ev.target.value));
  $("#tp-model").addEventListener("change", (ev) => {
    if (!ev.target.value) return; // a custom architecture lives in the URL only
    for (const k of CUSTOM) state.params.delete(k);
    state.set("model", ev.target.value);
  });
  for (const k of NUMBERS) numberInput($(`#tp-${k}`), () => k, state);
  numberInput($("#tp-global_batch_tokens_layout"), () => "global_batch_tokens", state);
  numberInput($("#tp-value"), () => $("#tp-kind").value, state);
  $("#tp-kind").addEventListener("change", (ev) => {
    const value = $("#tp-value").value;
    for (const c of CLAIMS) state.params.delete(c);
    state.set(ev.target.value, value);
  });
  $("#tp-run").addEventListener("change", (ev) => {
    const run = gallery.runs.find((r) => r.name === ev.target.value);
    if (!run) return;
    state.load(run.throughput_query);
    refresh();
  });
}

// ------------------------------------------------------------------ drawing

/** A token count as people say it: 1e12 → "1 trillion", 3e11 → "300 billion". */
function tokens(n) {
  for (const [v, word] of [[1e12, "trillion"], [1e9, "billion"], [1e6, "million"]]) if (n >= v) return `${fmtNum(n / v, 3)} ${word}`;
  return fmtInt(n);
}

function duration(seconds) {
  if (seconds === null) return "—";
  const days = seconds / 86400;
  return days >= 1 ? `${fmtNum(days, 3)} days` : fmtTime(seconds);
}

function renderHeadline(d) {
  const ref = d.conventions.find((c) => c.name === d.reference) || d.conventions[0];
  const im = d.implied;
  const el = $("#tp-headline");
  clear(el);
  el.append(
    h("p", { class: "tp-claim-text" }, `${d.model_title}: ${d.claim.text}.`),
    h(
      "div",
      { class: "metrics" },
      metric("Tokens/s per GPU", fmtNum(d.tokens_per_second_per_gpu, 4), d.tokens_per_second_per_gpu, "tokens_per_second_per_gpu", d.tokens_per_second === null ? "give the GPUs for the total" : `${fmtNum(d.tokens_per_second, 4)} in all`),
      metric("MFU", fmtPct(ref.mfu), ref.mfu, "mfu", `${ref.title}, ${d.peak.title} peak`),
      metric("TFLOP/s per GPU", fmtNum(ref.tflops_per_gpu, 4), ref.tflops_per_gpu, "tflops_per_gpu", `of ${fmtNum(d.peak.tflops, 4)}`),
      metric(`${tokens(im.train_tokens)} tokens take`, duration(im.seconds), im.seconds ?? "", "seconds", d.gpus ? `on ${fmtInt(d.gpus)} GPUs` : ""),
      metric("GPU-hours", fmtNum(im.gpu_hours, 4), im.gpu_hours, "gpu_hours", `${fmtNum(im.tokens_per_gpu_hour, 4)} tokens per GPU-hour`),
    ),
  );
}

function renderConventions(d) {
  const body = $("#tp-conventions tbody");
  clear(body);
  for (const c of d.conventions) {
    const kind = c.kind === "hfu" ? "HFU" : "MFU";
    body.append(pinnable(
      h(
        "tr",
        { class: c.name === d.reference ? "tp-reference" : "", title: `${c.substituted}\n${c.source}`, dataset: { convention: c.name } },
        h("td", {}, c.title, h("div", { class: "muted tp-kind" }, kind)),
        h("td", { class: "mono tp-formula" }, c.formula),
        h("td", { class: "num" }, fmtNum(c.flops_per_token, 4)),
        h("td", { class: "num", dataset: { value: String(c.tflops_per_gpu) } }, fmtNum(c.tflops_per_gpu, 4)),
        h("td", { class: `num ${c.mfu > 1 ? "tp-impossible" : ""}`, dataset: { value: String(c.mfu) } }, `${fmtPct(c.mfu)} ${kind}`),
      ),
      () => togglePin(c.name),
    ));
  }
  const peaks = $("#tp-peaks tbody");
  clear(peaks);
  for (const p of d.peaks) {
    peaks.append(
      h(
        "tr",
        { class: p.used ? "tp-reference" : "", dataset: { peak: p.name } },
        h("td", {}, p.title, p.used ? h("span", { class: "muted" }, " (used above)") : null),
        h("td", { class: "num" }, p.tflops === null ? "none" : fmtNum(p.tflops, 4)),
        h("td", { class: "num" }, p.mfu === null ? "—" : fmtPct(p.mfu)),
      ),
    );
  }
}

/** The pinned convention: its row and tick marked, its figures under the bar. */
function drawPin(d) {
  const pin = pinned(d);
  for (const row of $$("#tp-conventions tbody tr")) {
    const on = Boolean(pin) && row.dataset.convention === pin.name;
    row.classList.toggle("tp-pinned", on);
  }
  bar.update({ data: d, pin: pin && pin.name });
  if (pin) detail.show(pin.name, conventionLines(pin));
  else detail.clear();
}

function renderChecks(d) {
  const list = $("#tp-checks");
  clear(list);
  for (const c of d.checks) {
    const mark = c.ok === null ? "–" : c.ok ? "✓" : "✗";
    const cls = c.ok === null ? "tp-unknown" : c.ok ? "tp-ok" : "tp-bad";
    const link = c.memory_query ? h("a", { href: `/memory?${c.memory_query}` }, " open on /memory") : null;
    list.append(h("li", { class: cls, dataset: { check: c.name } }, h("span", { class: "tp-mark", "aria-hidden": "true" }, mark), h("b", {}, c.title), h("span", {}, `: ${c.detail}`), link));
  }
  const notes = $("#tp-notes");
  clear(notes);
  notes.append(h("li", {}, d.peak.source), ...d.notes.map((n) => h("li", {}, n)));
}

function renderGallery(g) {
  $("#tp-gallery-help").textContent = `Each run's claim read under every convention of its kind; the one its source used lands within ±${fmtPct(g.tolerance, 0)}. Open a run to decode it.`;
  errorChart.update(g);
  const body = $("#tp-gallery tbody");
  clear(body);
  for (const r of g.runs) {
    body.append(
      h(
        "tr",
        { dataset: { run: r.name } },
        h("td", {}, h("a", { href: `/throughput?${r.throughput_query}` }, r.title)),
        h("td", {}, r.published.text),
        h("td", {}, r.reproduced.title),
        h("td", { class: "num" }, String(Number(r.reproduced.value.toPrecision(4)))),
        h("td", { class: "num" }, fmtPct(r.reproduced.error)),
        h("td", { class: "muted tp-source" }, r.source),
      ),
    );
  }
}

// ------------------------------------------------------------------ fetch

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/throughput?${state.apiQuery()}`);
    for (const el of $$("#app .loading")) el.remove();
    syncControls(d);
    renderHeadline(d);
    shown = d;
    renderConventions(d);
    drawPin(d);
    renderChecks(d);
    document.title = `Throughput: ${d.claim.text} · bitmesh`;
  } catch (err) {
    errors.show(err);
  }
}

async function start() {
  wireControls();
  try {
    const [g, models, gpus] = await Promise.all([
      fetchJSON("/api/v1/throughput/gallery"),
      fetchJSON("/api/v1/presets/models"),
      fetchJSON("/api/v1/presets/gpus"),
    ]);
    gallery = g;
    fillSelect($("#tp-run"), g.runs.map((r) => ({ value: r.name, label: r.title })));
    fillSelect($("#tp-model"), models.models.map((m) => ({ value: m.name, label: m.title })));
    fillSelect($("#tp-gpu"), gpus.gpus.map((x) => ({ value: x.name, label: x.title })));
    fillSelect($("#tp-tflops_convention"), g.conventions.map((c) => ({ value: c.name, label: c.title })));
    const recompute = [...new Set(g.conventions.flatMap((c) => c.recompute))];
    fillSelect($("#tp-recompute"), recompute.map((r) => ({ value: r, label: `${r} recomputation` })));
    renderGallery(g);
    if (state.empty()) state.load(g.runs[0].throughput_query);
  } catch (err) {
    errors.show(err);
  }
  await refresh();
}

start();
