// /compare?formats=a,b,c: stacked number lines on a shared log₂ axis and a table of key numbers.
// /api/v1/compare takes the same `formats` (names or aliases) and answers with the formats in
// order, defaults filled in; every number in the table is a field of its FormatInfo.
import { errorBox, fetchJSON, latest } from "../lib/api.js";
import { $, h } from "../lib/dom.js";
import { fmtInt, fmtNum } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { readState, writeState } from "../lib/urlstate.js";
import * as compareView from "../views/compare.js";
import { keyNumber } from "../views/formats.js";

const SCHEMA = {
  formats: { type: "list", default: null }, // the API's default, learnt from its first answer
  range: { type: "str", default: "" },
};
const app = $("#app");
const errors = errorBox(app);
const state = readState(SCHEMA);
const loadComparison = latest();
let names = []; // every element format, from /api/v1/dtypes
let shown = []; // the FormatInfo of each compared format, as /api/v1/compare answered
let view = null;

// Categorical colours by selection order; --c4 (purple) is left out: it reads as "subnormal".
const PALETTE_ORDER = [0, 1, 2, 3, 5, 6, 7, 8, 9];
const colorIndex = (name) => PALETTE_ORDER[Math.max(0, shown.findIndex((f) => f.name === name)) % PALETTE_ORDER.length];

const ROWS = [
  ["layout", (f) => `${f.sign_bits}·${f.exponent_bits}·${f.mantissa_bits} (S·E·M)`],
  ["bits", (f) => String(f.bits)],
  ["bias", (f) => String(f.bias)],
  ["max", (f) => keyNumber(f.max)],
  ["min normal", (f) => keyNumber(f.min_normal)],
  ["min subnormal", (f) => (f.min_subnormal === null ? "none" : keyNumber(f.min_subnormal))],
  ["eps (gap above 1)", (f) => keyNumber(f.eps)],
  ["values per binade", (f) => fmtInt(f.values_per_binade)],
  ["finite values", (f) => fmtInt(f.finite_count)],
  ["dynamic range", (f) => `${fmtNum(f.dynamic_range, 4)} binades`],
  ["±∞", (f) => (f.has_inf ? "yes" : "none")],
  ["NaN codes", (f) => fmtInt(f.nan_count)],
  ["−0", (f) => (f.has_negative_zero ? "yes" : "no")],
  ["past max", (f) => f.past_max],
];

function renderTable() {
  const base = location.pathname.startsWith("/embed/") ? "/embed" : "";
  const head = (f) => h("th", { scope: "col", class: "num" }, h("a", { href: `${base}/formats/${f.name}`, class: `mono cmp-c${colorIndex(f.name) % 10}` }, f.name));
  $("#cmp-table").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), shown.map(head))),
    h("tbody", {}, ROWS.map(([label, get]) => h("tr", {}, h("th", { scope: "row" }, label), shown.map((f) => h("td", { class: "num" }, get(f)))))),
  );
}

function renderPicker() {
  const box = $("#cmp-picker");
  const active = document.activeElement && document.activeElement.id;
  box.replaceChildren(
    h("legend", { class: "skip" }, "Formats to compare"),
    ...names.map((n) => {
      const id = `cmp-f-${n}`;
      const on = state.formats.includes(n);
      const input = h("input", { type: "checkbox", id, value: n, checked: on });
      input.addEventListener("change", () => {
        const rest = state.formats.filter((x) => x !== n);
        select(input.checked ? [...rest, n] : rest);
      });
      return h("label", { class: `cmp-chip${on ? ` cmp-c${colorIndex(n)}` : ""}`, for: id }, input, h("span", { class: "mono" }, n));
    }),
  );
  const again = active ? document.getElementById(active) : null;
  if (again) again.focus();
}

/** Ask the API for these formats and draw its answer. An unknown name is the API's 404: say
 * so, and show the default comparison instead. */
async function load(formats) {
  const q = formats === null ? "" : `?formats=${encodeURIComponent(formats.join(","))}`;
  try {
    return await loadComparison(`/api/v1/compare${q}`);
  } catch (err) {
    if (err.name === "AbortError" || formats === null) throw err;
    errors.show(err);
    return loadComparison("/api/v1/compare");
  }
}

function show(answer) {
  shown = answer.formats;
  state.formats = answer.query.formats ? answer.query.formats.split(",") : [];
  if (SCHEMA.formats.default === null && !new URLSearchParams(location.search).has("formats")) {
    SCHEMA.formats.default = state.formats; // no formats in the URL: this is the default
  }
  if (view) view.update({ formats: shown });
  renderTable();
  renderPicker();
}

async function select(formats) {
  state.formats = formats;
  try {
    show(await load(formats));
    errors.clear();
    writeState(state, SCHEMA);
  } catch (err) {
    errors.show(err);
  }
}

function sharedRange() {
  const parts = state.range.split(",").map(Number);
  return parts.length === 2 && parts.every(Number.isFinite) && parts[1] > parts[0] ? parts : null;
}

function mountChart() {
  let timer = 0;
  view = compareView.mount($("#cmp-chart"), {
    formats: shown,
    range: sharedRange(),
    colorIndex,
    onRange(r) {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.range = r.map((k) => Number(k.toFixed(3))).join(",");
        writeState(state, SCHEMA);
      }, 250);
    },
  });
  window.__bitmesh = { compare: view };
  $("#cmp-zoom-in").addEventListener("click", () => view.zoomIn());
  $("#cmp-zoom-out").addEventListener("click", () => view.zoomOut());
  $("#cmp-fit").addEventListener("click", () => view.fit());
  $("#cmp-unit").addEventListener("click", () => view.setRange([-10.5, 10.5]));
}

async function main() {
  try {
    const [catalogue, answer] = await Promise.all([fetchJSON("/api/v1/dtypes"), load(state.formats)]);
    names = catalogue.dtypes.filter((d) => d.kind === "element").map((d) => d.name);
    show(answer);
  } catch (err) {
    errors.show(err);
    return;
  }
  mountChart();
  mountShareBar($("#share"), { getSvg: () => view.toSvg(), name: "bitmesh-compare", embedHeight: 760 });
  app.dataset.ready = "1";
}

main();
