// /collectives: the query string is the state. The page asks /api/v1/collectives with exactly
// its query string (plus view=true&format=columns, which only add drawing data) and draws the
// answer; every control shows the answer's `query`, so no default, limit or rule lives here.
// View state (never sent): step (the playhead, in whole steps), measure (the chart's y) and rank
// (the pinned GPU), declared in app/pages.py; the site's theme and controls.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox, num } from "../lib/api.js";
import { fmtBytes, fmtBytesBinary, fmtNum, fmtTime, fmtInt } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { NOT_API_KEYS } from "../lib/urlstate.js";
import { mount as mountSteps } from "../views/collectives.js";
import { mount as mountChart } from "../views/collectives-chart.js";

const PAGE_ONLY = NOT_API_KEYS;
const OVERRIDES = ["bandwidth", "latency", "network_bandwidth", "network_latency"];
/** Inputs shown in display units: GB/s and µs, sent in bytes/s and seconds. */
const SCALE = { bandwidth: 1e9, network_bandwidth: 1e9, latency: 1e-6, network_latency: 1e-6 };
const GB = 1e9;

let params = new URLSearchParams(location.search);
let shown = null;
let fit = null;
const load = latest();
const errors = errorBox($("#co-errors"));
const ncclErrors = errorBox($("#co-nccl-errors"));
const metricsEl = $("#co-metrics");
const steps = mountSteps($("#co-diagram"), {
  onStep: (k) => setPageKey("step", k ? String(k) : null),
  onRank: (r) => setPageKey("rank", r >= 0 ? String(r) : null),
});
const chart = mountChart($("#co-chart"));
mountShareBar($("#share"), { getSvg: () => steps.exportSvg(), name: "bitmesh-collective", embedHeight: 1100 });

// ------------------------------------------------------------------ the query string

function apiQuery() {
  const q = new URLSearchParams(params);
  for (const k of PAGE_ONLY) q.delete(k);
  q.set("view", "true");
  q.set("format", "columns");
  return q.toString();
}

function writeUrl() {
  const s = params.toString().replaceAll("%2C", ",");
  const next = s ? `?${s}` : "";
  if (next !== location.search) history.replaceState(null, "", location.pathname + next);
}

function setPageKey(key, value) {
  if (value === null) params.delete(key);
  else params.set(key, value);
  writeUrl();
}

function setParam(key, value) {
  if (value === null || value === "") params.delete(key);
  else params.set(key, String(value));
  params.delete("step");
  writeUrl();
  refresh();
}

// ------------------------------------------------------------------ controls

function fillSelect(select, items, value) {
  const current = [...select.options].map((o) => o.value).join("|");
  if (current !== items.map((i) => i.value).join("|")) {
    clear(select);
    for (const it of items) select.append(h("option", { value: it.value }, it.label));
  }
  select.value = value;
}

function syncControls(d) {
  const q = d.query;
  const op = d.catalogue.find((o) => o.op === d.op);
  fillSelect($("#co-op"), d.catalogue.map((o) => ({ value: o.op, label: o.title })), d.op);
  const algos = [{ value: "auto", label: `auto (${d.algorithm_title})` }, ...op.algorithms.map((a) => ({ value: a.name, label: a.title }))];
  fillSelect($("#co-algorithm"), algos, q.algorithm);
  const ranks = $("#co-ranks");
  if (document.activeElement !== ranks) ranks.value = String(q.ranks);
  const size = $("#co-bytes");
  const sizes = d.sweep.sizes;
  size.min = "0";
  size.max = String(sizes.length - 1);
  let nearest = 0;
  sizes.forEach((s, i) => {
    if (Math.abs(Math.log(s / q.bytes)) < Math.abs(Math.log(sizes[nearest] / q.bytes))) nearest = i;
  });
  if (document.activeElement !== size) size.value = String(nearest);
  $("#co-bytes-out").textContent = `${fmtBytesBinary(q.bytes)} (${fmtInt(q.bytes)} B)`;
  const gpu = $("#co-gpu");
  if (![...gpu.options].some((o) => o.value === q.gpu)) gpu.append(h("option", { value: q.gpu }, q.gpu));
  gpu.value = q.gpu;
  const perNode = $("#co-gpus_per_node");
  if (document.activeElement !== perNode) perNode.value = String(q.gpus_per_node);
  $("#co-nvls").checked = Boolean(q.nvls);
  for (const k of OVERRIDES) {
    const input = $(`#co-${k}`);
    const link = d.links[k.startsWith("network") ? "network" : "intra_node"];
    const effective = k.endsWith("bandwidth") ? link.bandwidth : link.latency;
    input.placeholder = fmtNum(effective / SCALE[k], 4);
    if (document.activeElement !== input) input.value = q[k] === null ? "" : String(Number((q[k] / SCALE[k]).toPrecision(6)));
  }
  for (const el of $$(".co-bcast")) el.hidden = d.op !== "broadcast";
  $("#co-root").value = String(q.root);
  $("#co-chunks").value = q.chunks === null ? "" : String(q.chunks);
  const overridden = OVERRIDES.some((k) => q[k] !== null);
  $("#co-links-summary").textContent = overridden ? "(your figures)" : `(${d.gpu}: achievable figures)`;
}

function numberFrom(input, key) {
  const raw = input.value.trim();
  if (raw === "") return null;
  const v = Number(raw);
  if (!Number.isFinite(v)) return undefined;
  return key in SCALE ? v * SCALE[key] : v;
}

$("#co-controls").addEventListener("submit", (ev) => ev.preventDefault());
$("#co-op").addEventListener("change", (ev) => {
  params.delete("algorithm"); // the new op may not run the old algorithm: back to auto
  setParam("op", ev.target.value);
});
$("#co-algorithm").addEventListener("change", (ev) => setParam("algorithm", ev.target.value === "auto" ? null : ev.target.value));
$("#co-gpu").addEventListener("change", (ev) => setParam("gpu", ev.target.value));
$("#co-nvls").addEventListener("change", (ev) => setParam("nvls", ev.target.checked ? "true" : "false"));
$("#co-bytes").addEventListener("input", (ev) => {
  if (!shown) return;
  const s = shown.sweep.sizes[Number(ev.target.value)];
  $("#co-bytes-out").textContent = `${fmtBytesBinary(s)} (${fmtInt(s)} B)`;
});
$("#co-bytes").addEventListener("change", (ev) => shown && setParam("bytes", shown.sweep.sizes[Number(ev.target.value)]));
for (const key of ["ranks", "gpus_per_node", "root", "chunks", ...OVERRIDES]) {
  const input = $(`#co-${key}`);
  input.addEventListener("change", () => {
    const v = numberFrom(input, key);
    if (v === undefined) {
      input.setAttribute("aria-invalid", "true");
      return;
    }
    input.removeAttribute("aria-invalid");
    setParam(key, v === null ? null : Number(v.toPrecision(6)));
  });
}
$("#co-reset-links").addEventListener("click", () => {
  for (const k of OVERRIDES) params.delete(k);
  setParam("nvls", null);
});
for (const btn of $$("#co-measure button")) {
  btn.addEventListener("click", () => {
    setPageKey("measure", btn.dataset.value === "time" ? null : btn.dataset.value);
    drawChart();
  });
}

// ------------------------------------------------------------------ metrics

function metric(label, value, raw, key, sub, title) {
  return h(
    "div",
    { class: "metric", title },
    h("div", { class: "label" }, label),
    h("div", { class: "value", dataset: { metric: key, value: String(raw) } }, value),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}

function renderMetrics(d) {
  clear(metricsEl);
  const gbs = (v) => `${fmtNum(num(v) / GB, 4)} GB/s`;
  const used = Object.entries(d.links).filter(([, l]) => l.used);
  metricsEl.append(
    h(
      "div",
      { class: "metrics co-metrics" },
      metric("Time", fmtTime(d.time), d.time, "time", `${fmtTime(d.latency_time)} latency + ${fmtTime(d.bandwidth_time)} bytes`, "α per step plus the busiest GPU's bytes over B, summed over the steps"),
      metric("algbw", gbs(d.algorithm_bandwidth), d.algorithm_bandwidth, "algorithm_bandwidth", "bytes / time", "nccl-tests: algbw = S / t"),
      metric("busbw", gbs(d.bus_bandwidth), d.bus_bandwidth, "bus_bandwidth", `algbw × ${d.bus_factor_formula} = × ${fmtNum(d.bus_factor, 4)}`, "nccl-tests: comparable to the link's speed for any number of GPUs"),
      metric("Steps", fmtInt(d.num_steps), d.num_steps, "num_steps", `${d.ranks} GPUs${d.nodes > 1 ? ` on ${d.nodes} nodes` : ", one node"}`),
      metric("Regime", d.regime, d.regime, "regime", `half of peak bandwidth at ${fmtBytesBinary(num(d.half_bandwidth_bytes))}`, "Below the half-bandwidth size the α terms dominate"),
      metric("Sent per GPU", fmtBytes(d.wire_bytes_per_gpu), d.wire_bytes_per_gpu, "wire_bytes_per_gpu", `of a ${fmtBytes(d.bytes)} buffer`),
    ),
    h(
      "ul",
      { class: "co-linklist" },
      used.map(([kind, l]) =>
        h(
          "li",
          {},
          h("b", {}, kind === "intra_node" ? "Inside a node" : "Network"),
          `: B = ${gbs(l.bandwidth)}, α = ${fmtTime(l.latency)} per step`,
          h("div", { class: "muted co-source" }, l.source === "query" ? "your figures" : l.source),
        ),
      ),
    ),
    h("p", { class: "muted co-algo-source" }, `${d.algorithm_title}: ${d.algorithm_source}. ${d.promise[0].toUpperCase()}${d.promise.slice(1)}.`),
    h("ul", { class: "muted co-notes-list" }, d.notes.map((n) => h("li", {}, n))),
  );
}

function drawChart() {
  if (!shown) return;
  const measure = params.get("measure") === "busbw" || fit ? "busbw" : "time";
  for (const b of $$("#co-measure button")) b.setAttribute("aria-pressed", String(b.dataset.value === measure));
  chart.update({ data: shown, measure, fit });
}

// ------------------------------------------------------------------ fetch and draw

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/collectives?${apiQuery()}`);
    shown = d;
    for (const el of $$("#app .loading")) el.remove();
    syncControls(d);
    renderMetrics(d);
    const why = d.notes.find((n) => /view=true|time only/.test(n)) || "No steps to draw.";
    const shownAt = steps.update(d, wholeNumber("step"), why, wholeNumber("rank"));
    // a step or rank this answer does not have falls back quietly, and leaves the URL
    setPageKey("step", shownAt.step ? String(shownAt.step) : null);
    setPageKey("rank", shownAt.rank >= 0 ? String(shownAt.rank) : null);
    drawChart();
    document.title = `${d.op_title} on ${d.ranks} GPUs · bitmesh`;
  } catch (err) {
    errors.show(err);
  }
}

/** A URL key as a whole number, or -1 (absent, negative, fractional or not a number). */
function wholeNumber(key) {
  const raw = params.get(key);
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : -1;
}

async function loadGpus() {
  try {
    const g = await fetchJSON("/api/v1/presets/gpus");
    fillSelect($("#co-gpu"), g.gpus.map((x) => ({ value: x.name, label: x.title })), shown ? shown.query.gpu : "");
    if (shown) $("#co-gpu").value = shown.query.gpu;
  } catch (err) {
    errors.show(err);
  }
}

// ------------------------------------------------------------------ nccl-tests

function renderFit(r) {
  const out = $("#co-nccl-result");
  clear(out);
  const f = r.fit;
  const url = `${location.pathname}?${r.calibrated_query}`;
  const parts = [
    h(
      "div",
      { class: "metrics" },
      metric("Fitted busbw", `${fmtNum(f.bus_bandwidth / GB, 4)} GB/s`, f.bus_bandwidth, "fit_bus_bandwidth", "large-message asymptote B"),
      metric("Half at", fmtBytesBinary(f.half_bandwidth_bytes), f.half_bandwidth_bytes, "fit_half", "n½: busbw = B/2"),
      metric("Per-step latency", fmtTime(f.latency), f.latency, "fit_latency", `${r.ranks} ranks (${r.ranks_from})`),
      metric("Fit error", `${fmtNum(f.rms_relative_error * 100, 3)}%`, f.rms_relative_error, "fit_error", `RMS over ${f.points} rows`),
    ),
    h("p", {}, `${r.op.replace("_", "-")}, ${r.columns.replace(/_/g, "-")} columns. `, h("a", { href: url, id: "co-nccl-apply" }, "Use these figures in the model →")),
    r.warnings.length ? h("ul", { class: "warnings" }, r.warnings.map((w) => h("li", {}, w))) : null,
  ];
  out.append(...parts.filter(Boolean));
}

$("#co-nccl-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  ncclErrors.clear();
  const status = $("#co-nccl-status");
  status.textContent = "Fitting…";
  try {
    fit = await fetchJSON("/api/v1/collectives/nccl-tests", { body: { text: $("#co-nccl-text").value, gpu: shown ? shown.query.gpu : undefined } });
    status.textContent = `${fit.rows.length} rows read`;
    renderFit(fit);
    drawChart();
  } catch (err) {
    status.textContent = "";
    ncclErrors.show(err);
  }
});

refresh().then(loadGpus);
