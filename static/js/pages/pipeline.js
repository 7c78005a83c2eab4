// /pipeline: the controls come from GET /api/v1/pipeline/schedules (names, rules, defaults,
// bounds, cost presets); the URL's API parameters go to GET /api/v1/pipeline as they are, so
// the page shows what the API answers for the same query string; the answer's `query` (every
// default filled in) fills the controls. The view's state keys (STATE_KEYS, declared on the
// View in app/pages.py: the raced schedule, speed, playhead, time window, pinned op) stay in
// the URL and never reach the API. With a
// `model` (its choices from /api/v1/presets/models and /gpus) the API derives the costs in
// seconds; which parameters it then derives or reads comes from the catalogue's `cost_model`.
import { h, clear, $, $$ } from "../lib/dom.js";
import { errorBox, fetchJSON, latest } from "../lib/api.js";
import { mountShareBar } from "../lib/share.js";
import { NOT_API_KEYS, SITE_KEYS, STATE_KEYS } from "../lib/urlstate.js";
import { SPEEDS, mount } from "../views/pipeline.js";
import { renderMetrics } from "../views/pipeline-metrics.js";

const NOT_API = new Set(NOT_API_KEYS); // the site's (theme, embed controls) and the view's state

const form = $("#pl-form");
const inputs = Object.fromEntries($$("[data-param]", form).map((el) => [el.dataset.param, el]));
// the model controls, built from the catalogue's parameters (labels: how people write them)
const MODEL_CONTROLS = { model: "model", gpu: "GPU", efficiency: "efficiency", tp: "tp", seq_len: "sequence", micro_batch: "micro batch" };
const chartEl = $("#pl-chart");
const metricsEl = $("#pl-metrics");
const errors = errorBox($("#pl-errors"));
const loadMain = latest();
const loadRace = latest();

const page = {
  catalogue: null,
  params: {}, // API parameters as given (URL, controls), strings
  race: "",
  speed: 1,
  frame: {}, // the view's frame as URL values ({t, from, to, op}; null: its default)
  echo: null, // the last answer's `query`
  view: null,
  requested: "", // the query pair last asked for: an input and its change event ask once
  generation: 0,
};

const schedule = (name) => page.catalogue.schedules.find((s) => s.name === name) || null;
const parameter = (name) => page.catalogue.parameters.find((p) => p.name === name);

/** The value a parameter takes when it is left out (chunks: the schedule's own default). */
function defaultOf(name) {
  if (!parameter(name)) return null; // not a parameter: the API will say so
  if (name === "chunks") {
    const s = schedule(page.params.schedule ?? parameter("schedule").default);
    return s ? String(s.chunks.default) : "";
  }
  const d = parameter(name).default;
  return d === null ? "" : String(d);
}

// ---- URL <-> state ----

/** Every key but the view's and the site's goes to the API as given (a typo gets its 422). */
function readUrl() {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of q) if (!NOT_API.has(k) && k !== "format") page.params[k] = v;
  page.race = q.get("race") || "";
  page.speed = SPEEDS.includes(Number(q.get("speed"))) ? Number(q.get("speed")) : 1;
  for (const k of STATE_KEYS) if (k !== "race" && k !== "speed") page.frame[k] = q.get(k);
}

/** The value of state key `k` for the URL, or null at its default. */
function stateValue(k) {
  if (k === "race") return page.race || null;
  if (k === "speed") return page.speed === 1 ? null : String(page.speed);
  return page.frame[k] ?? null;
}

function writeUrl() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(page.params)) if (v !== "" && v !== defaultOf(k)) q.set(k, v);
  for (const k of STATE_KEYS) if (stateValue(k) !== null) q.set(k, stateValue(k));
  for (const [k, v] of new URLSearchParams(location.search)) if (SITE_KEYS.includes(k)) q.set(k, v);
  const s = q.toString().replaceAll("%2C", ",");
  const url = location.pathname + (s ? `?${s}` : "");
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

/** The API query of the main lane (the parameters as given) or of the raced schedule. */
function apiQuery(race = null) {
  const q = new URLSearchParams();
  const reads = race ? schedule(race)?.parameters : null;
  for (const [k, v] of Object.entries(page.params)) {
    if (v === "" || (reads && !reads.includes(k))) continue;
    q.set(k, v);
  }
  if (race) q.set("schedule", race);
  return q.toString().replaceAll("%2C", ",");
}

// ---- controls ----

/** A select or number input for catalogue parameter `p`, added to `inputs`. */
function modelControl(p, label, choices) {
  const id = `pl-${p.name.replaceAll("_", "-")}`;
  const el = choices
    ? h("select", { id, name: p.name, dataset: { param: p.name } }, choices.map(([value, text]) => h("option", { value }, text)))
    : h("input", { id, name: p.name, type: "number", step: "any", inputmode: "decimal", dataset: { param: p.name } });
  inputs[p.name] = el;
  return h("div", { class: "control pl-model-control", dataset: { for: p.name } }, h("label", { for: id, title: p.description }, label), el);
}

/** The model controls: "cost units" or a model preset, then what a model reads. */
function buildModelControls(cat, models, gpus) {
  const nodes = [];
  for (const [name, label] of Object.entries(MODEL_CONTROLS)) {
    const p = parameter(name);
    if (!p) continue;
    let choices = null;
    if (name === "model") choices = [["", `none (${cat.units.split(":")[0]})`], ...models.map((m) => [m.name, m.title])];
    else if (name === "gpu") choices = gpus.map((g) => [g.name, g.title]);
    nodes.push(modelControl(p, label, choices));
  }
  inputs.forward.closest(".control").before(...nodes);
}

/** Drop what the API would refuse: derived costs with a model, model-only keys without. */
function dropInapplicable() {
  const rules = page.catalogue.cost_model;
  for (const k of page.params.model ? rules.derives : rules.reads) delete page.params[k];
}

function buildControls(cat) {
  const options = cat.schedules.map((s) => h("option", { value: s.name, title: s.title }, s.label));
  inputs.schedule.append(...options);
  inputs.race.append(h("option", { value: "" }, "— off —"), ...options.map((o) => o.cloneNode(true)));
  for (const p of cat.parameters) {
    const el = inputs[p.name];
    if (!el || el.type !== "number") continue;
    if (p.minimum !== null) el.min = String(p.minimum);
    if (p.maximum !== null) el.max = String(p.maximum);
  }
  const presets = $("#pl-presets");
  for (const preset of cat.cost_presets) {
    const btn = h("button", { type: "button", title: preset.source, dataset: { preset: preset.name } }, preset.title);
    btn.addEventListener("click", () => applyPreset(preset.values));
    presets.append(btn);
  }
  form.addEventListener("input", onControl);
  form.addEventListener("change", onControl);
  form.addEventListener("submit", (ev) => ev.preventDefault());
}

function applyPreset(values) {
  for (const [k, v] of Object.entries(values)) {
    if (v === null) delete page.params[k];
    else page.params[k] = String(v);
  }
  dropInapplicable();
  refresh();
}

/** Every control shows the value used: as given, else as the API echoed it, else its default. */
function syncInputs() {
  const echo = page.echo || {};
  for (const [key, el] of Object.entries(inputs)) {
    if (key === "race") el.value = page.race;
    else if (document.activeElement !== el) el.value = page.params[key] ?? (echo[key] === undefined || echo[key] === null ? defaultOf(key) : String(echo[key]));
    el.removeAttribute("aria-invalid");
  }
  const s = schedule(page.params.schedule ?? echo.schedule ?? parameter("schedule").default);
  const chunks = inputs.chunks;
  chunks.disabled = !s || s.chunks.min === s.chunks.max;
  if (s) {
    chunks.min = String(s.chunks.min);
    chunks.max = String(s.chunks.max);
    if (chunks.disabled) chunks.value = String(s.chunks.default);
  }
  $("#pl-chunks-note").textContent = s ? s.rules : "";
  const withModel = Boolean(page.params.model ?? echo.model);
  const note = $(".pl-cost-note");
  note.dataset.given ??= note.textContent;
  note.textContent = withModel
    ? `With a model the API derives F, I, W and p2p in ${page.catalogue.cost_model.units} (shown greyed; clear the model to give your own): ${page.catalogue.cost_model.source}.`
    : note.dataset.given;
  for (const k of page.catalogue.cost_model.derives) if (inputs[k]) inputs[k].disabled = withModel;
  for (const k of page.catalogue.cost_model.reads) {
    const box = form.querySelector(`[data-for="${k}"]`);
    if (box) box.hidden = !withModel;
  }
  const readsSpan = [s, schedule(page.race)].some((x) => x && x.parameters.includes("forward_backward"));
  $("#pl-fb-control").hidden = !readsSpan;
}

let debounce = 0;
function onControl(ev) {
  const key = ev.target.dataset.param;
  // a focused control that is hidden (a model control once the model is cleared) blurs and
  // fires a change: it no longer applies
  if (!key || ev.target.disabled || ev.target.closest("[hidden]")) return;
  const raw = ev.target.value.trim();
  if (key === "race") page.race = raw;
  else if (ev.target.type === "number" && raw !== "" && !Number.isFinite(Number(raw))) {
    ev.target.setAttribute("aria-invalid", "true");
    return;
  } else if (raw === "") delete page.params[key];
  else page.params[key] = raw;
  if (key === "model") dropInapplicable();
  if (key === "schedule") {
    // what the new schedule does not read (a chunk count, an F&B span) no longer applies
    const reads = schedule(raw)?.parameters || [];
    for (const k of Object.keys(page.params)) if (!reads.includes(k)) delete page.params[k];
  }
  ev.target.removeAttribute("aria-invalid");
  clearTimeout(debounce);
  debounce = setTimeout(refresh, ev.type === "change" || ev.target.tagName === "SELECT" ? 0 : 350);
}

// ---- requests ----

/** Outline the control of every field a 422 names (`loc` = ["query", field]). */
function markInvalid(err) {
  if (err.name === "RaceError") inputs.race.setAttribute("aria-invalid", "true");
  for (const d of Array.isArray(err.detail) ? err.detail : []) {
    const el = inputs[Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : ""];
    if (el) el.setAttribute("aria-invalid", "true");
  }
}

function setLinks(q) {
  const apiLink = $("#pl-api-link");
  const traceLink = $("#pl-trace-link");
  apiLink.href = `/api/v1/pipeline${q ? `?${q}` : ""}`;
  traceLink.href = `/api/v1/pipeline?${q ? `${q}&` : ""}format=chrome_trace`;
  const e = page.echo;
  traceLink.setAttribute("download", e ? `pipeline-${e.schedule}-p${e.stages}-m${e.microbatches}.json` : "pipeline-trace.json");
}

/** Both answers (the race's error named as such); null where a request failed. */
async function load(q, raceQ) {
  const columns = (query) => `/api/v1/pipeline?${query ? `${query}&` : ""}format=columns`;
  const [main, race] = await Promise.allSettled([loadMain(columns(q)), raceQ ? loadRace(columns(raceQ)) : null]);
  const problems = [];
  if (main.status === "rejected") problems.push(main.reason);
  if (race.status === "rejected") {
    const label = schedule(page.race)?.label || page.race;
    const err = race.reason;
    problems.push(Object.assign(new Error(`race against ${label}: ${err.message}`), { name: err.name === "AbortError" ? err.name : "RaceError", status: err.status, detail: err.detail }));
  }
  return { main: main.value || null, race: race.value || null, problems };
}

function showProblems(problems) {
  if (problems.some((e) => !e.status)) page.requested = ""; // network trouble: let a retry through
  if (!problems.length) return errors.clear();
  errors.el.textContent = problems.map((e) => e.message).join(" · ");
  errors.el.hidden = false;
  problems.forEach(markInvalid);
}

async function refresh() {
  writeUrl();
  syncInputs();
  const q = apiQuery();
  const raceQ = page.race ? apiQuery(page.race) : "";
  if (`${q}|${raceQ}` === page.requested) return;
  page.requested = `${q}|${raceQ}`;
  setLinks(q);
  const gen = ++page.generation;
  for (const el of [chartEl, metricsEl]) el.classList.add("pl-busy");
  const { main, race, problems } = await load(q, raceQ);
  if (problems.some((e) => e.name === "AbortError") || gen !== page.generation) return;
  for (const el of [chartEl, metricsEl]) el.classList.remove("pl-busy");
  for (const el of [chartEl, metricsEl]) el.classList.toggle("pl-stale", !main);
  if (main) draw(main, race);
  else if (!page.view) nothingSimulated();
  showProblems(problems); // after drawing, which resets the controls' marks
}

/** A bad link and nothing drawn yet: say so instead of "Simulating…" forever. */
function nothingSimulated() {
  for (const el of [chartEl, metricsEl]) {
    clear(el);
    el.append(h("p", { class: "muted pl-nothing" }, "Nothing simulated: fix the input named in the message above."));
  }
}

function draw(main, race) {
  page.echo = main.query;
  // the controls now say what was computed, in the API's own spelling of every name
  for (const k of Object.keys(page.params)) if (main.query[k] !== undefined && main.query[k] !== null) page.params[k] = String(main.query[k]);
  page.requested = `${apiQuery()}|${page.race ? apiQuery(page.race) : ""}`;
  writeUrl();
  syncInputs();
  setLinks(apiQuery());
  renderMetrics(metricsEl, main, race);
  const lanes = [main, race].filter(Boolean).map((data) => ({ data, name: data.label }));
  if (page.view) return page.view.update({ lanes });
  clear(chartEl);
  page.view = mount(chartEl, {
    lanes,
    speed: page.speed,
    onSpeed: (s) => {
      page.speed = s;
      writeUrl();
    },
    frame: page.frame,
    onFrame: (frame) => {
      page.frame = frame;
      writeUrl();
    },
  });
}

mountShareBar($("#share"), { getSvg: () => (page.view ? page.view.exportSvg() : null), name: "pipeline", embedHeight: 760 });

Promise.all([fetchJSON("/api/v1/pipeline/schedules"), fetchJSON("/api/v1/presets/models"), fetchJSON("/api/v1/presets/gpus")])
  .then(([cat, models, gpus]) => {
    page.catalogue = cat;
    buildControls(cat);
    buildModelControls(cat, models.models, gpus.gpus);
    readUrl();
    refresh();
  })
  .catch((err) => errors.show(err));
