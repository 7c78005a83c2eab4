// /quantize: the query string is the state. The page sends exactly its query string (less its
// own keys) to /api/v1/quantize and draws the answer; every control shows the answer's `query`
// (defaults and preset options filled in), and every name comes from /api/v1/quantize/schemes,
// so no default, limit, name or formula lives here.
import { $, $$, h, clear } from "../lib/dom.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { fmtInt, fmtNum, fmtPct } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { NOT_API_KEYS } from "../lib/urlstate.js";
import { mountBlock, mountHistograms, mountTable } from "../views/quantize.js";
import { UrlState } from "../views/quantize-state.js";

/** What a preset fixes; "Reset to the preset" drops them from the query. */
const OPTIONS = ["format", "block_size", "block_rows", "scale_format", "scale_rule", "global_scale"];

// the view's state (the table's `sort`, the morph's playhead `t`) is the page's, not the API's
const url = new UrlState(NOT_API_KEYS);
const panel = url.panel();
const form = $("#q-controls");
const errors = errorBox($("#q-errors"));
const load = latest();
const hist = mountHistograms($("#q-hist"), $("#q-err"), { slider: $("#q-t"), play: $("#q-play"), t: sharedT(), onScrub: writeT });
const block = mountBlock($("#q-block-view"));
const table = mountTable($("#q-table"), {
  onSort: (sort) => {
    url.params.set("sort", sort);
    url.write();
    draw();
  },
  onPick: (scheme) => update({ scheme }, { remove: [...OPTIONS, "block"], now: true }),
});
let catalogue = null;

/** The morph's playhead from the URL: a fraction in [0, 1], or null (anything else is dropped). */
function sharedT() {
  const raw = url.params.get("t");
  const t = raw === null || raw.trim() === "" ? NaN : Number(raw);
  if (t >= 0 && t <= 1) return t;
  if (raw !== null) {
    url.params.delete("t");
    url.write();
  }
  return null;
}

let tTimer = 0;
/** A scrub writes the playhead (at most every 150 ms); a replay, which ends on the default
 * frame, removes it. */
function writeT(t) {
  clearTimeout(tTimer);
  if (t === null) {
    url.params.delete("t");
    url.write();
    return;
  }
  tTimer = setTimeout(() => {
    url.params.set("t", String(Number(t.toFixed(3))));
    url.write();
  }, 150);
}

mountShareBar($("#share"), { getSvg: () => hist.svg(), name: "bitmesh-quantize", embedHeight: 1500 });

const value = (key) => panel.value(key);

let timer = 0;
function update(patch, { remove = [], now = false } = {}) {
  panel.set(patch, remove);
  syncControls();
  clearTimeout(timer);
  timer = setTimeout(refresh, now ? 0 : 250);
}

// ------------------------------------------------------------------ controls

/** A data parameter or the scheme changed: the block index of the old answer means nothing. */
const DATA_KEYS = ["distribution", "n", "seed", "df", "outlier_fraction", "outlier_scale", "cols"];

function wireControls() {
  for (const sel of $$("select[name]", form)) {
    sel.addEventListener("change", () => chooseSelect(sel.name, sel.value));
  }
  for (const inp of $$("input[type=number][name]", form)) {
    if (inp.name === "block") continue;
    inp.addEventListener("input", () => {
      if (inp.value.trim() === "" || inp.checkValidity()) update({ [inp.name]: inp.value.trim() }, { remove: ["block"] });
    });
  }
  $("#q-hist_range").addEventListener("change", (e) => update({ hist_range: e.target.value }, { now: true }));
  $("#q-global_scale").addEventListener("change", (e) => update({ global_scale: e.target.checked }, { remove: ["block"], now: true }));
  $("#q-reset").addEventListener("click", () => update({}, { remove: [...OPTIONS, "block"], now: true }));
  const stepTo = (i) => update({ block: i }, { now: true });
  $("#q-prev").addEventListener("click", () => stepTo(Math.max(0, Number(value("block")) - 1)));
  $("#q-next").addEventListener("click", () => stepTo(Math.min(panel.shown ? panel.shown.block_count - 1 : 0, Number(value("block")) + 1)));
  $("#q-block").addEventListener("change", (e) => {
    if (/^\d+$/.test(e.target.value)) stepTo(e.target.value);
  });
  form.addEventListener("submit", (e) => e.preventDefault());
}

function chooseSelect(name, v) {
  if (name === "scheme") {
    const generic = catalogue && catalogue.kinds.some((k) => k.name === v);
    // a generic scheme keeps the element format on screen; a preset brings its own
    update(generic ? { scheme: v, format: value("format") } : { scheme: v }, { remove: [...OPTIONS, "block"], now: true });
  } else {
    update({ [name]: v }, { remove: DATA_KEYS.includes(name) || OPTIONS.includes(name) ? ["block"] : [], now: true });
  }
}

function fillSelect(sel, groups) {
  clear(sel);
  for (const [label, items] of groups) {
    const parent = label ? h("optgroup", { label }) : sel;
    for (const it of items) parent.append(h("option", { value: it.name, title: it.description || it.title || "" }, it.label || it.name));
    if (label) sel.append(parent);
  }
}

function fillCatalogue(cat) {
  catalogue = cat;
  fillSelect($("#q-scheme"), [
    ["Presets", cat.presets.map((p) => ({ name: p.name, label: `${p.title} · ${fmtNum(p.bits_per_element)} bits`, description: p.source }))],
    ["Generic", cat.kinds],
  ]);
  fillSelect($("#q-format"), [["", cat.element_formats.map((e) => ({ name: e.name, label: `${e.title} (${e.bits} bits, max ${fmtNum(e.max)})` }))]]);
  fillSelect($("#q-scale_format"), [["", cat.scale_formats.map((s) => ({ ...s, label: `${s.name} (${s.bits} bits)` }))]]);
  fillSelect($("#q-scale_rule"), [["", cat.scale_rules]]);
  fillSelect($("#q-hist_range"), [["", cat.hist_ranges]]);
  fillSelect($("#q-distribution"), [["", cat.distributions.filter((d) => d.tensor)]]);
  syncControls();
}

function selectValue(sel, v) {
  if (v && ![...sel.options].some((o) => o.value === v)) sel.append(h("option", { value: v }, v));
  sel.value = v;
}

function syncControls() {
  for (const sel of [...$$("select[name]", form), $("#q-hist_range")]) selectValue(sel, value(sel.name));
  for (const inp of $$("input[type=number][name]")) {
    if (document.activeElement !== inp) inp.value = value(inp.name);
  }
  $("#q-global_scale").checked = value("global_scale") === "true";
  for (const label of $$("[data-option]", form)) {
    // the answer says which options the scheme uses: the unused ones are null
    const unused = panel.current() && panel.value(label.dataset.option) === "";
    label.classList.toggle("is-unused", Boolean(unused));
    $("input, select", label).disabled = Boolean(unused);
  }
  const dist = catalogue && catalogue.distributions.find((d) => d.name === value("distribution"));
  for (const label of $$("[data-uses]", form)) label.hidden = !(dist && dist.params.includes(label.dataset.uses));
  $("#q-distribution-note").textContent = dist ? dist.description : "";
}

// ------------------------------------------------------------------ the answer

function metricCard(key, label, text, raw, sub) {
  return h("div", { class: "metric" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", "data-metric": key, "data-value": String(raw) }, text),
    sub ? h("div", { class: "sub" }, sub) : null);
}

function drawMetrics(d) {
  const m = d.metrics;
  const cards = [
    metricCard("sqnr_db", "SQNR", `${fmtNum(m.sqnr_db, 4)} dB`, m.sqnr_db, "10·log₁₀(Σx² / Σ(x − q(x))²)"),
    metricCard("mse", "MSE", fmtNum(m.mse, 4), m.mse, "mean (x − q(x))²"),
    metricCard("max_abs_error", "Max |error|", fmtNum(m.max_abs_error, 4), m.max_abs_error, "worst single value"),
    metricCard("clipped_fraction", "Clipped", fmtPct(m.clipped_fraction, 2), m.clipped_fraction, "saturation changed the value"),
    metricCard("zero_fraction", "Flushed to 0", fmtPct(m.zero_fraction, 2), m.zero_fraction, "non-zero inputs stored as 0"),
    metricCard("bits_per_element", "Bits / element", fmtNum(m.bits_per_element, 5), m.bits_per_element,
      `${fmtNum(m.bits_per_element_total, 6)} with every scale of this tensor`),
  ];
  if (m.non_finite) cards.push(metricCard("non_finite", "Non-finite", fmtInt(m.non_finite), m.non_finite, "NaN / ±Inf inputs, left out"));
  clear($("#q-metrics")).append(...cards);
}

function schemeNote(d) {
  const s = d.scheme;
  const parts = [s.source];
  if (s.modified.length) parts.unshift(`Changed from the preset: ${s.modified.join(", ")}.`);
  return parts.filter(Boolean).join(" ");
}

function draw() {
  if (!panel.shown) return;
  const d = panel.shown;
  drawMetrics(d);
  $("#q-scheme-title").textContent = `· ${d.scheme.title} on ${fmtInt(d.data.n)} values`;
  $("#q-scheme-note").textContent = schemeNote(d);
  $("#q-grid-label").textContent = d.scheme.kind === "none"
    ? "representable values of the element format"
    : `representable values of block ${d.block.index} (element grid × ${fmtNum(d.block.multiplier, 6)})`;
  $("#q-block-count").textContent = `of ${fmtInt(d.block_count)}`;
  $("#q-prev").disabled = d.block.index <= 0;
  $("#q-next").disabled = d.block.index >= d.block_count - 1;
  block.update(d);
  table.update(d.presets, d.scheme.modified.length ? "" : d.scheme.name, url.params.get("sort") || "");
  syncControls();
}

async function refresh() {
  const q = panel.apiQuery();
  $("#q-api-link").href = `/api/v1/quantize${q ? `?${q}` : ""}`;
  try {
    const data = await load(`/api/v1/quantize${q ? `?${q}` : ""}`);
    errors.clear();
    const before = panel.shown;
    const scheme = before ? before.scheme.name + before.query.format : "";
    panel.answered(data, q);
    document.getElementById("app").dataset.query = q;
    hist.update(data);
    if (before && scheme !== data.scheme.name + data.query.format) hist.replay();
    draw();
  } catch (err) {
    errors.show(err);
    syncControls();
  }
}

wireControls();
syncControls();
fetchJSON("/api/v1/quantize/schemes").then(fillCatalogue, (err) => errors.show(err));
refresh();
