// /plan: the query string is the plan. The page sends its query string (less the view's state
// keys: sort, pick; and the site's: theme, controls) to /api/v1/plan and draws the answer;
// every control shows the answer's `query`, and the option lists come from its `options`. A
// URL naming no model starts from the first of /api/v1/plan/examples.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtNum, fmtPct, fmtInt, fmtTime, fmtBytes } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { mount, layoutLines } from "../views/plan.js";
import { STATE_KEYS } from "../lib/urlstate.js";
import { queryState, fillSelect, sameQuery, numberInput, metric } from "../views/plan-state.js";
import { pinDetail, unpinOnEscape } from "../lib/pin.js";

const NUMBERS = ["gpus", "seq_len", "global_batch_tokens", "max_tp", "max_pp", "max_cp", "max_ep", "max_chunks", "max_micro_batch", "compute_efficiency", "top"];
const SELECTS = ["gpu", "compute_dtype"];
const LISTS = ["schedules", "zero_stages", "recompute"];
const CUSTOM = ["layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "mlp", "norm"];

// a change to the plan (not to sorting or picking) asks the API again and drops the pick
const state = queryState((key) => {
  if (STATE_KEYS.includes(key)) return shown && draw(shown);
  state.params.delete("pick");
  state.write();
  return refresh();
});
let examples = [];
let shown = null;
const load = latest();
const errors = errorBox($("#pl-errors"));
/** The picked layout's rank, or null (a rank the answer does not list is no pick). */
const picked = () => {
  const rank = Number(state.params.get("pick"));
  return shown && shown.layouts.some((l) => l.rank === rank) ? rank : null;
};
const togglePick = (rank) => state.set("pick", rank === picked() ? null : rank);
const chart = mount($("#pl-scatter"), { onPick: togglePick });
const detail = pinDetail($("#pl-scatter"), () => state.set("pick", null));
unpinOnEscape(() => picked() !== null && state.set("pick", null));
mountShareBar($("#share"), { getSvg: () => chart.exportSvg(), name: "bitmesh-plan", embedHeight: 1100 });

// ------------------------------------------------------------------ controls

function syncControls(d) {
  const q = d.query;
  for (const k of [...NUMBERS, ...SELECTS, "model"]) {
    const el = $(`#pl-${k}`);
    if (el && document.activeElement !== el) el.value = q[k] === null || q[k] === undefined ? "" : String(q[k]);
  }
  const items = {
    schedules: d.options.schedules.map((s) => ({ value: s.name, label: s.label })),
    zero_stages: d.options.zero_stages.map((z) => ({ value: String(z), label: `ZeRO-${z}` })),
    recompute: d.options.recompute.map((r) => ({ value: r, label: r })),
  };
  for (const key of LISTS) {
    const box = $(`#pl-${key}`);
    const chosen = new Set(String(q[key]).split(","));
    clear(box);
    for (const it of items[key]) {
      const input = h("input", { type: "checkbox", value: it.value, checked: chosen.has(it.value) });
      input.addEventListener("change", () => {
        const picked = $$("input:checked", box).map((i) => i.value);
        state.set(key, picked.join(","));
      });
      box.append(h("label", { class: "pl-option" }, input, it.label));
    }
  }
  const match = examples.find((e) => sameQuery(e.query, state.apiQuery()));
  $("#pl-example").value = match ? match.query : "";
}

function wireControls() {
  $("#pl-form").addEventListener("submit", (ev) => ev.preventDefault());
  for (const k of SELECTS) $(`#pl-${k}`).addEventListener("change", (ev) => state.set(k, ev.target.value));
  $("#pl-model").addEventListener("change", (ev) => {
    if (!ev.target.value) return; // a custom architecture lives in the URL only
    for (const k of CUSTOM) state.params.delete(k);
    state.set("model", ev.target.value);
  });
  for (const k of NUMBERS) numberInput($(`#pl-${k}`), () => k, state);
  $("#pl-example").addEventListener("change", (ev) => {
    if (!ev.target.value) return;
    state.load(ev.target.value);
    state.params.delete("pick");
    state.write();
    refresh();
  });
  for (const th of $$("#pl-table th[data-sort] button")) {
    th.addEventListener("click", () => {
      const key = th.parentElement.dataset.sort;
      state.set("sort", state.params.get("sort") === key ? `-${key}` : key);
    });
  }
}

// ------------------------------------------------------------------ drawing

function renderSummary(d) {
  const best = d.layouts[0];
  const s = d.searched;
  const el = $("#pl-summary");
  clear(el);
  el.append(
    h("p", { class: "pl-setup" }, `${d.model_title} on ${fmtInt(d.gpus)} × ${d.gpu_title} (${d.gpus_per_node} per node), ${fmtInt(d.sequences)} sequences per step. Searched ${fmtInt(s.candidates)} layouts of ${fmtInt(s.structures)} splits; ${fmtInt(s.memory_checks)} checked against memory, ${fmtInt(s.pruned)} ruled out by a leaner one, ${fmtInt(s.tied)} only tying a listed one.`),
    h("p", { class: "pl-best" }, h("b", {}, "Fastest: "), best.label),
    h(
      "div",
      { class: "metrics" },
      metric("Step time", fmtTime(best.step_time), best.step_time, "step_time", best.exact ? "priced exactly" : "estimated"),
      metric("MFU", fmtPct(best.mfu), best.mfu, "mfu", `${fmtNum(d.peak_tflops, 4)} TFLOP/s peak`),
      metric("Tokens/s per GPU", fmtNum(best.tokens_per_second_per_gpu, 4), best.tokens_per_second_per_gpu, "tokens_per_second_per_gpu", `${fmtNum(best.tokens_per_second, 4)} in all`),
      metric("Memory per GPU", fmtBytes(best.memory_per_gpu), best.memory_per_gpu, "memory_per_gpu", `of ${fmtBytes(best.memory_capacity)} (${best.memory_verdict})`),
    ),
    h("ul", { class: "pl-why" }, ...d.why.map((w) => h("li", {}, w))),
  );
}

function sorted(layouts) {
  const spec = state.params.get("sort");
  if (!spec) return layouts;
  const key = spec.replace(/^-/, "");
  const sign = spec.startsWith("-") ? -1 : 1;
  return [...layouts].sort((a, b) => sign * (a[key] > b[key] ? 1 : a[key] < b[key] ? -1 : a.rank - b.rank));
}

function links(l) {
  const out = [["memory", l.links.memory], ["pipeline", l.links.pipeline], ["mesh", l.links.mesh], ["comm.", l.links.communication], ["MFU", l.links.throughput]];
  return out.filter(([, href]) => href).map(([name, href]) => h("a", { href, class: "pl-link" }, name));
}

function renderTable(d) {
  const pick = picked();
  const spec = state.params.get("sort") || "";
  for (const th of $$("#pl-table th[data-sort]")) {
    const key = th.dataset.sort;
    th.setAttribute("aria-sort", spec === key ? "ascending" : spec === `-${key}` ? "descending" : "none");
  }
  const body = $("#pl-table tbody");
  clear(body);
  for (const l of sorted(d.layouts)) {
    const row = h(
      "tr",
      { class: `${l.pareto ? "pl-pareto-row" : ""} ${l.rank === pick ? "pl-picked-row" : ""}`, dataset: { rank: String(l.rank) }, title: l.versus_best },
      h("td", { class: "num" }, String(l.rank)),
      h("td", {}, l.label, l.exact ? null : h("span", { class: "muted" }, " (estimate)")),
      h("td", { class: "num", dataset: { value: String(l.step_time) } }, fmtTime(l.step_time)),
      h("td", { class: "num" }, fmtPct(l.mfu)),
      h("td", { class: "num" }, fmtNum(l.tokens_per_second_per_gpu, 4)),
      h("td", { class: "num", dataset: { value: String(l.memory_per_gpu) } }, fmtBytes(l.memory_per_gpu)),
      h("td", { class: "num" }, fmtPct(l.bubble_fraction)),
      h("td", { class: "num" }, fmtTime(l.exposed_communication_time)),
      h("td", { class: "pl-links" }, ...links(l)),
    );
    row.addEventListener("click", (ev) => ev.target.tagName !== "A" && togglePick(l.rank));
    body.append(row);
  }
}

function renderInfeasible(d) {
  const body = $("#pl-infeasible tbody");
  clear(body);
  for (const r of d.infeasible) {
    body.append(h("tr", { dataset: { reason: r.reason } }, h("td", {}, r.label), h("td", {}, r.reason.replaceAll("_", " ")), h("td", {}, r.detail)));
  }
  const notes = $("#pl-notes");
  clear(notes);
  notes.append(...d.notes.map((n) => h("li", {}, n)));
}

/** The picked layout's detail under the scatter: its tooltip's lines, pinned. */
function renderPick(d) {
  const l = d.layouts.find((x) => x.rank === picked());
  if (!l) return detail.clear();
  detail.show(l.rank, layoutLines(l));
}

function draw(d) {
  renderSummary(d);
  chart.update({ data: d, pick: picked() });
  renderPick(d);
  renderTable(d);
  renderInfeasible(d);
}

// ------------------------------------------------------------------ fetch

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/plan?${state.apiQuery()}`);
    shown = d;
    for (const el of $$("#app .loading")) el.remove();
    syncControls(d);
    draw(d);
    document.title = `Plan: ${d.model_title} on ${fmtInt(d.gpus)} GPUs · bitmesh`;
  } catch (err) {
    errors.show(err);
  }
}

async function start() {
  wireControls();
  try {
    const [ex, models, gpus] = await Promise.all([
      fetchJSON("/api/v1/plan/examples"),
      fetchJSON("/api/v1/presets/models"),
      fetchJSON("/api/v1/presets/gpus"),
    ]);
    examples = ex.examples;
    fillSelect($("#pl-example"), examples.map((e) => ({ value: e.query, label: e.title })));
    fillSelect($("#pl-model"), models.models.map((m) => ({ value: m.name, label: m.title })));
    fillSelect($("#pl-gpu"), gpus.gpus.map((g) => ({ value: g.name, label: g.title })));
    if (state.empty() && examples.length) state.load(examples[0].query);
  } catch (err) {
    errors.show(err);
  }
  await refresh();
}

start();
