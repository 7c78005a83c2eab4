// /compare?formats=a,b,c: stacked number lines on a shared log₂ axis and a table of key numbers.
import { errorBox, fetchJSON } from "../lib/api.js";
import { $, h } from "../lib/dom.js";
import { fmtInt, fmtNum } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { readState, writeState } from "../lib/urlstate.js";
import * as compareView from "../views/compare.js";
import { keyNumber, overflowText } from "../views/formats.js";
import { dynamicRange } from "../views/valuestrip.js";

const DEFAULT = ["float8_e4m3fn", "float8_e5m2", "float6_e2m3fn", "float4_e2m1fn", "bfloat16"];
const SCHEMA = {
  formats: { type: "list", default: DEFAULT },
  range: { type: "str", default: "" },
};
const app = $("#app");
const errors = errorBox(app);
const state = readState(SCHEMA);
let all = [];
let view = null;

// Categorical colours by selection order; --c4 (purple) is left out: it reads as "subnormal".
const PALETTE_ORDER = [0, 1, 2, 3, 5, 6, 7, 8, 9];
const colorIndex = (name) => PALETTE_ORDER[Math.max(0, state.formats.indexOf(name)) % PALETTE_ORDER.length];
const selected = () => state.formats.map((n) => all.find((f) => f.name === n)).filter(Boolean);

function renderTable() {
  const fs = selected();
  const rows = [
    ["layout", (f) => `${f.sign_bits ?? 1}·${f.exponent_bits}·${f.mantissa_bits} (S·E·M)`],
    ["bits", (f) => String(f.bits)],
    ["bias", (f) => String(f.bias)],
    ["max", (f) => keyNumber(f.max)],
    ["min normal", (f) => keyNumber(f.min_normal)],
    ["min subnormal", (f) => (f.min_subnormal === null ? "none" : keyNumber(f.min_subnormal))],
    ["eps (gap above 1)", (f) => keyNumber(f.eps)],
    ["values per binade", (f) => fmtInt(2 ** f.mantissa_bits)],
    ["finite values", (f) => fmtInt(f.finite_count)],
    ["dynamic range", (f) => `${fmtNum(dynamicRange(f), 4)} binades`],
    ["±∞", (f) => (f.has_inf ? "yes" : "none")],
    ["NaN codes", (f) => fmtInt(f.nan_count ?? 0)],
    ["−0", (f) => (f.has_negative_zero ? "yes" : "no")],
    ["past max", (f) => overflowText(f)],
  ];
  const table = $("#cmp-table");
  const base = location.pathname.startsWith("/embed/") ? "/embed" : "";
  table.replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), fs.map((f) => h("th", { scope: "col", class: "num" }, h("a", { href: `${base}/formats/${f.name}`, class: `mono cmp-c${colorIndex(f.name) % 10}` }, f.name))))),
    h("tbody", {}, rows.map(([label, get]) => h("tr", {}, h("th", { scope: "row" }, label), fs.map((f) => h("td", { class: "num" }, get(f)))))),
  );
}

function renderPicker() {
  const box = $("#cmp-picker");
  box.replaceChildren(
    h("legend", { class: "skip" }, "Formats to compare"),
    ...all.map((f) => {
      const id = `cmp-f-${f.name}`;
      const input = h("input", { type: "checkbox", id, value: f.name, checked: state.formats.includes(f.name) });
      input.addEventListener("change", () => {
        if (input.checked) state.formats = [...state.formats.filter((n) => n !== f.name), f.name];
        else state.formats = state.formats.filter((n) => n !== f.name);
        refresh();
      });
      const on = state.formats.includes(f.name);
      return h("label", { class: `cmp-chip${on ? ` cmp-c${colorIndex(f.name)}` : ""}`, for: id }, input, h("span", { class: "mono" }, f.name));
    }),
  );
}

function refresh() {
  state.formats = state.formats.filter((n) => all.some((f) => f.name === n));
  view.update({ formats: selected() });
  renderTable();
  const active = document.activeElement && document.activeElement.id;
  renderPicker();
  const again = active ? document.getElementById(active) : null;
  if (again) again.focus();
  writeState(state, SCHEMA);
}

async function main() {
  try {
    all = (await fetchJSON("/api/v1/formats")).formats;
  } catch (err) {
    errors.show(err);
    return;
  }
  const unknown = state.formats.filter((n) => !all.some((f) => f.name === n));
  if (unknown.length) errors.show(new Error(`unknown format${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} left out; valid names are ${all.map((f) => f.name).join(", ")}`));
  state.formats = state.formats.filter((n) => all.some((f) => f.name === n));
  let range = null;
  const parts = state.range.split(",").map(Number);
  if (parts.length === 2 && parts.every(Number.isFinite) && parts[1] > parts[0]) range = parts;
  let timer = 0;
  view = compareView.mount($("#cmp-chart"), {
    formats: selected(),
    range,
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
  renderPicker();
  renderTable();
  $("#cmp-zoom-in").addEventListener("click", () => view.zoomIn());
  $("#cmp-zoom-out").addEventListener("click", () => view.zoomOut());
  $("#cmp-fit").addEventListener("click", () => view.fit());
  $("#cmp-unit").addEventListener("click", () => view.setRange([-10.5, 10.5]));
  mountShareBar($("#share"), { getSvg: () => view.toSvg(), name: "bitmesh-compare", embedHeight: 760 });
  app.dataset.ready = "1";
}

main();
