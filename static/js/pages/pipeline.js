// /pipeline: read the URL, fetch GET /api/v1/pipeline (and the race schedule), mount the
// Gantt view, show the metrics, keep every control in the URL.
import { h, clear, $ } from "../lib/dom.js";
import { errorBox, latest } from "../lib/api.js";
import { readState, writeState, apiQuery } from "../lib/urlstate.js";
import { fmtNum, fmtPct, fmtInt } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { mount } from "../views/pipeline.js";

export const SCHEDULES = {
  gpipe: "GPipe",
  "1f1b": "1F1B",
  interleaved_1f1b: "Interleaved 1F1B",
  zb_h1: "ZB-H1",
  zb_h2: "ZB-H2",
  zbv: "ZB-V",
  dualpipev: "DualPipeV",
};
const V_SHAPED = new Set(["zbv", "dualpipev"]);

const schema = {
  schedule: { type: "str", default: "1f1b", choices: Object.keys(SCHEDULES) },
  stages: { type: "int", default: 4, min: 1, max: 128 },
  microbatches: { type: "int", default: 8, min: 1, max: 1024 },
  chunks: { type: "int", default: 2, min: 2, max: 16 },
  forward: { type: "float", default: 1 }, // negative: the API's 422 names it
  backward_input: { type: "float", default: 1 }, // negative: the API's 422 names it
  backward_weight: { type: "float", default: 1 }, // negative: the API's 422 names it
  p2p: { type: "float", default: 0 },
  forward_backward: { type: "float", default: null },
  stage_costs: { type: "str", default: "" },
  race: { type: "str", default: "", choices: ["", ...Object.keys(SCHEDULES)] },
  speed: { type: "float", default: 1, min: 0.5, max: 8 },
};

const PRESETS = {
  ideal: { forward: 1, backward_input: 1, backward_weight: 1, p2p: 0, forward_backward: null, stage_costs: "" },
  zb: { forward: 1, backward_input: 1.5, backward_weight: 0.5, p2p: 0, forward_backward: null, stage_costs: "" },
  p2p: { p2p: 0.1 },
};

const state = readState(schema);
const form = $("#pl-form");
const inputs = {
  schedule: $("#pl-schedule"),
  stages: $("#pl-stages"),
  microbatches: $("#pl-microbatches"),
  chunks: $("#pl-chunks"),
  forward: $("#pl-forward"),
  backward_input: $("#pl-backward-input"),
  backward_weight: $("#pl-backward-weight"),
  p2p: $("#pl-p2p"),
  forward_backward: $("#pl-forward-backward"),
  stage_costs: $("#pl-stage-costs"),
  race: $("#pl-race"),
};
const chunksNote = $("#pl-chunks-note");
const fbControl = $("#pl-fb-control");
const chartEl = $("#pl-chart");
const metricsEl = $("#pl-metrics");
const errors = errorBox($("#pl-errors"));
const apiLink = $("#pl-api-link");
const traceLink = $("#pl-trace-link");
const loadMain = latest();
const loadRace = latest();
let view = null;

/** The API query for `schedule` with the page's sizes and costs. */
export function pipelineQuery(st, schedule) {
  const q = {
    schedule,
    stages: st.stages,
    microbatches: st.microbatches,
    forward: st.forward,
    backward_input: st.backward_input,
    backward_weight: st.backward_weight,
    p2p: st.p2p,
  };
  const keys = ["schedule", "stages", "microbatches"];
  if (schedule === "interleaved_1f1b") {
    q.chunks = st.chunks;
    keys.push("chunks");
  }
  keys.push("forward", "backward_input", "backward_weight", "p2p");
  if (schedule === "dualpipev" && st.forward_backward !== null) {
    q.forward_backward = st.forward_backward;
    keys.push("forward_backward");
  }
  const costs = (st.stage_costs || "").replace(/\s+/g, "");
  if (costs) {
    q.stage_costs = costs;
    keys.push("stage_costs");
  }
  return apiQuery(q, keys);
}

function syncInputs() {
  for (const [key, el] of Object.entries(inputs)) {
    if (key === "chunks") continue;
    const v = state[key];
    if (document.activeElement !== el) el.value = v === null || v === undefined ? "" : String(v);
    el.removeAttribute("aria-invalid");
  }
  const s = state.schedule;
  const chunks = inputs.chunks;
  if (s === "interleaved_1f1b") {
    chunks.disabled = false;
    if (document.activeElement !== chunks) chunks.value = String(state.chunks);
    chunksNote.textContent = "v: model chunks per rank; interleaving divides the bubble by v. m must be a multiple of p, as Megatron-LM asserts.";
  } else if (V_SHAPED.has(s)) {
    chunks.disabled = true;
    chunks.value = "2";
    chunksNote.textContent = "v is fixed at 2 for V schedules: chunk 0 runs down ranks 0 → p − 1, chunk 1 comes back up p − 1 → 0.";
  } else {
    chunks.disabled = true;
    chunks.value = "1";
    chunksNote.textContent = "v = 1: one model chunk per rank (interleaved 1F1B, ZB-V and DualPipeV hold more).";
  }
  fbControl.hidden = !(s === "dualpipev" || state.race === "dualpipev");
}

function readInput(key) {
  const el = inputs[key];
  const spec = schema[key];
  if (spec.type === "str") return { ok: true, value: el.value.trim() };
  const raw = el.value.trim();
  if (raw === "" && spec.default === null) return { ok: true, value: null };
  const v = spec.type === "int" ? Number(raw) : Number.parseFloat(raw);
  if (raw === "" || !Number.isFinite(v) || (spec.type === "int" && !Number.isInteger(v))) return { ok: false };
  return { ok: true, value: v };
}

let debounce = 0;
function onControl(ev) {
  const key = Object.keys(inputs).find((k) => inputs[k] === ev.target);
  if (!key) return;
  const r = readInput(key);
  if (!r.ok) {
    ev.target.setAttribute("aria-invalid", "true");
    return;
  }
  ev.target.removeAttribute("aria-invalid");
  state[key] = r.value;
  clearTimeout(debounce);
  const wait = ev.type === "change" || ev.target.tagName === "SELECT" ? 0 : 350;
  debounce = setTimeout(refresh, wait);
}
form.addEventListener("input", onControl);
form.addEventListener("change", onControl);
form.addEventListener("submit", (ev) => ev.preventDefault());

for (const btn of document.querySelectorAll("[data-preset]")) {
  btn.addEventListener("click", () => {
    Object.assign(state, PRESETS[btn.dataset.preset]);
    refresh();
  });
}

function metric(label, value, sub, attrs = {}) {
  return h(
    "div",
    { class: "metric", title: attrs.title },
    h("div", { class: "label" }, label),
    h("div", { class: "value", dataset: attrs.dataset }, value),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}

function summary(d) {
  const pr = d.per_rank || [];
  const busy = pr.reduce((a, r) => a + Number(r.busy), 0);
  const idle = pr.reduce((a, r) => a + Number(r.idle), 0);
  const peak = pr.reduce((a, r) => Math.max(a, Number(r.peak_activations)), 0);
  const peakRank = pr.findIndex((r) => Number(r.peak_activations) === peak);
  return {
    busy,
    idle,
    peak,
    peakRank,
    peak0: pr.length ? Number(pr[0].peak_activations) : 0,
    ranks: pr.length || d.ranks || 1,
    ops: d.op_count ?? (Array.isArray(d.ops) ? d.ops.length : d.ops.kind.length),
  };
}

function closedFormText(cf) {
  if (!cf) return { value: "—", sub: "no closed form in the papers for this schedule", title: "" };
  if (!cf.applies) {
    // still say what the paper's formula claims, so the gap to the simulation is visible
    const claim = Number.isFinite(Number(cf.bubble_fraction)) ? `the formula gives ${fmtPct(cf.bubble_fraction)}, but: ` : "";
    return { value: "n/a", sub: `${claim}${cf.note || "the closed form does not apply here"}`, title: `${cf.formula}\n${cf.source}` };
  }
  return { value: fmtPct(cf.bubble_fraction), sub: `makespan ${fmtNum(cf.makespan, 6)}; formula below`, title: `${cf.formula}\nSource: ${cf.source}${cf.note ? `\n${cf.note}` : ""}` };
}

function renderMetrics(main, race) {
  clear(metricsEl);
  const s = summary(main);
  const cf = closedFormText(main.closed_form);
  const grid = h(
    "div",
    { class: "metrics", "data-schedule": main.schedule },
    metric("makespan", fmtNum(main.makespan, 6), main.closed_form && main.closed_form.applies ? `closed form ${fmtNum(main.closed_form.makespan, 6)}` : "cost units", {
      dataset: { metric: "makespan", value: String(main.makespan) },
    }),
    metric("bubble, simulated", fmtPct(main.bubble_fraction), "1 − Σ busy / (ranks × makespan)", {
      dataset: { metric: "bubble", value: String(main.bubble_fraction) },
    }),
    metric("bubble, closed form", cf.value, cf.sub, {
      title: cf.title,
      dataset: { metric: "closed-form", value: main.closed_form ? String(main.closed_form.bubble_fraction) : "" },
    }),
    metric(
      "peak activations",
      fmtNum(s.peak, 4),
      `microbatches in flight (rank ${s.peakRank})${s.peakRank !== 0 ? `; rank 0: ${fmtNum(s.peak0, 4)}` : ""}${main.chunks > 1 ? `; one chunk's forward holds 1/${main.chunks} of a microbatch` : ""}`,
      {
        title: "Stored activations, in units of one microbatch through the rank's whole share of the model: a forward adds them, the last backward op of that microbatch (B, or W when split) frees them.",
        dataset: { metric: "peak", value: String(s.peak) },
      },
    ),
    metric("ops", fmtInt(s.ops), `${main.ranks} ranks × ${main.chunks} chunk${main.chunks > 1 ? "s" : ""} × ${main.parameters ? main.parameters.microbatches : "?"} microbatches`, {
      dataset: { metric: "ops", value: String(s.ops) },
    }),
    metric("busy · idle per rank", `${fmtNum(s.busy / s.ranks, 5)} · ${fmtNum(s.idle / s.ranks, 5)}`, "mean over ranks, cost units", {
      dataset: { metric: "busy-idle" },
    }),
  );
  metricsEl.append(grid);
  if (main.closed_form) {
    metricsEl.append(
      h("p", { class: "pl-formula muted" }, h("b", {}, "Closed form: "), main.closed_form.formula, " — ", main.closed_form.source, main.closed_form.note ? ` (${main.closed_form.note})` : ""),
    );
  }
  if (main.source) metricsEl.append(h("p", { class: "pl-formula muted" }, h("b", {}, "Schedule: "), main.title || main.schedule, " — ", main.source));
  if (race) {
    const r = summary(race);
    const rcf = closedFormText(race.closed_form);
    const rows = [
      ["makespan", fmtNum(main.makespan, 6), fmtNum(race.makespan, 6)],
      ["bubble, simulated", fmtPct(main.bubble_fraction), fmtPct(race.bubble_fraction)],
      ["bubble, closed form", cf.value, rcf.value],
      ["peak activations (rank 0)", `${fmtNum(s.peak, 4)} (${fmtNum(s.peak0, 4)})`, `${fmtNum(r.peak, 4)} (${fmtNum(r.peak0, 4)})`],
      ["ops", fmtInt(s.ops), fmtInt(r.ops)],
    ];
    const speedup = Number(main.makespan) / Number(race.makespan);
    metricsEl.append(
      h(
        "div",
        { class: "table-scroll pl-race-table" },
        h(
          "table",
          { class: "data" },
          h("thead", {}, h("tr", {}, h("th", {}, "race"), h("th", { class: "num" }, SCHEDULES[main.schedule]), h("th", { class: "num" }, SCHEDULES[race.schedule]))),
          h("tbody", {}, rows.map(([a, b, c]) => h("tr", {}, h("td", {}, a), h("td", { class: "num" }, b), h("td", { class: "num" }, c)))),
        ),
      ),
      h(
        "p",
        { class: "pl-race-verdict" },
        speedup > 1.0005
          ? `${SCHEDULES[race.schedule]} finishes first: ${fmtNum(speedup, 4)}× faster than ${SCHEDULES[main.schedule]} (makespan ${fmtNum(race.makespan, 6)} vs ${fmtNum(main.makespan, 6)}).`
          : speedup < 0.9995
            ? `${SCHEDULES[main.schedule]} finishes first: ${fmtNum(1 / speedup, 4)}× faster than ${SCHEDULES[race.schedule]} (makespan ${fmtNum(main.makespan, 6)} vs ${fmtNum(race.makespan, 6)}).`
            : "Both finish at the same time.",
        ` Peak activations: ${fmtNum(s.peak, 4)} vs ${fmtNum(r.peak, 4)} microbatches in flight.`,
      ),
    );
  }
}

/** Outline the control of every field a 422 names (`loc` = ["query", field]). */
function markInvalid(err) {
  if (err.name === "RaceError") inputs.race.setAttribute("aria-invalid", "true");
  if (!Array.isArray(err.detail)) return;
  for (const d of err.detail) {
    const loc = Array.isArray(d.loc) ? d.loc : [];
    const el = inputs[loc[loc.length - 1]];
    if (el) el.setAttribute("aria-invalid", "true");
  }
}

function setBusy(on) {
  chartEl.classList.toggle("pl-busy", on);
  metricsEl.classList.toggle("pl-busy", on);
}

let generation = 0;
let requested = ""; // the query pair last asked for: an input and its change event ask once
async function refresh() {
  writeState(state, schema);
  syncInputs();
  const q = pipelineQuery(state, state.schedule);
  const key = `${q}|${state.race ? pipelineQuery(state, state.race) : ""}`;
  if (key === requested) return;
  requested = key;
  apiLink.href = `/api/v1/pipeline?${q}`;
  traceLink.href = `/api/v1/pipeline?${q}&format=chrome_trace`;
  traceLink.setAttribute("download", `pipeline-${state.schedule}-p${state.stages}-m${state.microbatches}.json`);
  const gen = ++generation;
  setBusy(true);
  const mainP = loadMain(`/api/v1/pipeline?${q}&format=columns`);
  const raceP = state.race ? loadRace(`/api/v1/pipeline?${pipelineQuery(state, state.race)}&format=columns`) : null;
  let main;
  let race = null;
  const problems = [];
  try {
    main = await mainP;
  } catch (err) {
    if (err.name === "AbortError") return;
    problems.push(err);
  }
  if (raceP) {
    try {
      race = await raceP;
    } catch (err) {
      if (err.name === "AbortError") return;
      problems.push(Object.assign(new Error(`race against ${SCHEDULES[state.race]}: ${err.message}`), { name: "RaceError", status: err.status, detail: err.detail }));
    }
  }
  if (gen !== generation) return;
  setBusy(false);
  if (problems.some((e) => !e.status)) requested = ""; // network trouble: let a retry through
  if (problems.length) {
    errors.el.textContent = problems.map((e) => e.message).join(" · ");
    errors.el.hidden = false;
    for (const e of problems) markInvalid(e);
  } else {
    errors.clear();
  }
  chartEl.classList.toggle("pl-stale", !main);
  metricsEl.classList.toggle("pl-stale", !main);
  if (!main) {
    // nothing simulated yet (a bad link): say so instead of "Simulating…" forever
    if (!view) {
      for (const el of [chartEl, metricsEl]) {
        clear(el);
        el.append(h("p", { class: "muted pl-nothing" }, "Nothing simulated: fix the input named in the message above."));
      }
    }
    return;
  }
  renderMetrics(main, race);
  const lanes = [{ data: main, name: SCHEDULES[main.schedule] || main.schedule }];
  if (race) lanes.push({ data: race, name: `${SCHEDULES[race.schedule] || race.schedule}` });
  if (!view) {
    clear(chartEl);
    view = mount(chartEl, {
      lanes,
      speed: state.speed,
      onSpeed: (s) => {
        state.speed = s;
        writeState(state, schema);
      },
    });
  } else {
    view.update({ lanes });
  }
}

mountShareBar($("#share"), {
  getSvg: () => (view ? view.exportSvg() : null),
  name: "pipeline",
  embedHeight: 760,
});

syncInputs();
refresh();
