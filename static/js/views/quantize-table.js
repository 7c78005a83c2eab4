// Every preset's metrics on the same data, sortable by any column (the sort is page state in
// the URL); the current scheme's row is marked, and a row click asks for that preset.
import { h, clear } from "../lib/dom.js";
import { fmtNum, fmtPct } from "../lib/format.js";
import { num } from "../lib/api.js";

export const COLUMNS = [
  { key: "bits_per_element", label: "bits / element", format: (v) => fmtNum(v, 4), better: "lower" },
  { key: "sqnr_db", label: "SQNR (dB)", format: (v) => fmtNum(v, 4), better: "higher" },
  { key: "mse", label: "MSE", format: (v) => fmtNum(v, 4), better: "lower" },
  { key: "clipped_fraction", label: "clipped", format: (v) => fmtPct(v, 2), better: "lower" },
  { key: "zero_fraction", label: "flushed to 0", format: (v) => fmtPct(v, 2), better: "lower" },
];

/** Rows in the order of `sort` ("key" ascending, "-key" descending, "" the API's order). */
export function sortRows(rows, sort) {
  if (!sort) return rows;
  const desc = sort.startsWith("-");
  const key = desc ? sort.slice(1) : sort;
  if (!COLUMNS.some((c) => c.key === key)) return rows;
  const val = (r) => num(r.metrics[key]);
  return [...rows].sort((a, b) => (desc ? val(b) - val(a) : val(a) - val(b)));
}

/** mount(table, {onSort(sort), onPick(scheme)}) -> {update(rows, current, sort)} */
export function mount(table, { onSort, onPick }) {
  return {
    update(rows, current, sort) {
      const desc = sort.startsWith("-");
      const key = desc ? sort.slice(1) : sort;
      const head = h("tr", {}, h("th", { scope: "col" }, "Preset"), COLUMNS.map((c) => {
        const state = c.key === key ? (desc ? "descending" : "ascending") : "none";
        const next = c.key === key && !desc ? `-${c.key}` : c.key;
        const arrow = state === "ascending" ? " ▲" : state === "descending" ? " ▼" : "";
        return h("th", { scope: "col", class: "num", "aria-sort": state },
          h("button", { type: "button", class: "q-sort", title: `Sort by ${c.label} (${c.better} is better)`, onclick: () => onSort(next) }, c.label + arrow));
      }));
      const body = sortRows(rows, sort).map((r) => {
        const tr = h("tr", { class: r.scheme === current ? "is-current" : "", "data-scheme": r.scheme, tabindex: "0", title: `Switch to ${r.title}` },
          h("th", { scope: "row" }, r.title),
          COLUMNS.map((c) => h("td", { class: "num", "data-key": c.key, "data-value": String(r.metrics[c.key]) }, c.format(r.metrics[c.key]))));
        tr.addEventListener("click", () => onPick(r.scheme));
        tr.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            onPick(r.scheme);
          }
        });
        return tr;
      });
      clear(table).append(h("thead", {}, head), h("tbody", {}, body));
    },
  };
}
