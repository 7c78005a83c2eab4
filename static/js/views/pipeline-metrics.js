// The /pipeline metrics panel: the headline figures of one schedule (and a race table when two
// are raced), each exactly as GET /api/v1/pipeline states it.
import { h, clear } from "../lib/dom.js";
import { fmtInt, fmtNum, fmtPct } from "../lib/format.js";
import { timeFormat } from "./pipeline-data.js";

function metric(label, value, sub, { title, key, raw } = {}) {
  return h(
    "div",
    { class: "metric", title },
    h("div", { class: "label" }, label),
    h("div", { class: "value", dataset: { metric: key, value: raw === undefined ? undefined : String(raw) } }, value),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}

/** The closed form as {value, sub, title}: the paper's bubble, or why it does not apply. */
export function closedFormText(cf, t = (v) => fmtNum(v, 6)) {
  if (!cf) return { value: "—", sub: "no closed form in the papers for this schedule", title: "" };
  if (!cf.applies) {
    // still say what the paper's formula claims, so the gap to the simulation is visible
    return { value: "n/a", sub: `the formula gives ${fmtPct(cf.bubble_fraction)}, but: ${cf.note}`, title: `${cf.formula}\n${cf.source}` };
  }
  return { value: fmtPct(cf.bubble_fraction), sub: `makespan ${t(cf.makespan)}; formula below`, title: `${cf.formula}\nSource: ${cf.source}${cf.note ? `\n${cf.note}` : ""}` };
}

function peakText(d) {
  const rank0 = d.per_rank[0].peak_activations;
  const others = d.peak_rank !== 0 ? `; rank 0: ${fmtNum(rank0, 4)}` : "";
  const chunk = d.chunks > 1 ? `; one chunk's forward holds 1/${d.chunks} of a microbatch` : "";
  return `microbatches in flight (rank ${d.peak_rank})${others}${chunk}`;
}

/** The six headline cards of schedule `d`. */
function cards(d) {
  const { fmt, unit } = timeFormat(d);
  const cf = closedFormText(d.closed_form, (v) => fmt(v, 6));
  const q = d.query;
  return h(
    "div",
    { class: "metrics", "data-schedule": d.schedule },
    metric("makespan", fmt(d.makespan, 6), d.closed_form && d.closed_form.applies ? `closed form ${fmt(d.closed_form.makespan, 6)}` : unit, { key: "makespan", raw: d.makespan }),
    metric("bubble, simulated", fmtPct(d.bubble_fraction), "1 − Σ busy / (ranks × makespan)", { key: "bubble", raw: d.bubble_fraction }),
    metric("bubble, closed form", cf.value, cf.sub, { title: cf.title, key: "closed-form", raw: d.closed_form ? d.closed_form.bubble_fraction : "" }),
    metric("peak activations", fmtNum(d.peak_activations, 4), peakText(d), {
      title: "Stored activations, in units of one microbatch through the rank's whole share of the model: a forward adds them, the last backward op of that microbatch (B, or W when split) frees them.",
      key: "peak",
      raw: d.peak_activations,
    }),
    metric("ops", fmtInt(d.op_count), `${d.ranks} ranks × ${d.chunks} chunk${d.chunks > 1 ? "s" : ""} × ${q.microbatches} microbatches`, { key: "ops", raw: d.op_count }),
    metric("busy · idle per rank", `${fmt(d.busy_mean, 5)} · ${fmt(d.idle_mean, 5)}`, `mean over ranks, ${unit}`, { key: "busy-idle" }),
  );
}

/** Two schedules side by side, and which finishes first. */
function raceTable(main, race) {
  const t = (d, v) => timeFormat(d).fmt(v, 6);
  const rows = [
    ["makespan", t(main, main.makespan), t(race, race.makespan)],
    ["bubble, simulated", fmtPct(main.bubble_fraction), fmtPct(race.bubble_fraction)],
    ["bubble, closed form", closedFormText(main.closed_form).value, closedFormText(race.closed_form).value],
    ["peak activations (rank 0)", ...[main, race].map((d) => `${fmtNum(d.peak_activations, 4)} (${fmtNum(d.per_rank[0].peak_activations, 4)})`)],
    ["ops", fmtInt(main.op_count), fmtInt(race.op_count)],
  ];
  const [first, second] = Number(main.makespan) <= Number(race.makespan) ? [main, race] : [race, main];
  const ratio = Number(second.makespan) / Number(first.makespan);
  const verdict =
    ratio > 1.0005
      ? `${first.label} finishes first: ${fmtNum(ratio, 4)}× faster than ${second.label} (makespan ${t(first, first.makespan)} vs ${t(second, second.makespan)}).`
      : "Both finish at the same time.";
  return [
    h(
      "div",
      { class: "table-scroll pl-race-table" },
      h(
        "table",
        { class: "data" },
        h("thead", {}, h("tr", {}, h("th", {}, "race"), h("th", { class: "num" }, main.label), h("th", { class: "num" }, race.label))),
        h("tbody", {}, rows.map(([a, b, c]) => h("tr", {}, h("td", {}, a), h("td", { class: "num" }, b), h("td", { class: "num" }, c)))),
      ),
    ),
    h("p", { class: "pl-race-verdict" }, verdict, ` Peak activations: ${fmtNum(main.peak_activations, 4)} vs ${fmtNum(race.peak_activations, 4)} microbatches in flight.`),
  ];
}

/** Fill `el` with the metrics of `main` (and the race against `race`, if any). */
export function renderMetrics(el, main, race) {
  clear(el);
  el.append(cards(main));
  const cf = main.closed_form;
  if (cf) el.append(h("p", { class: "pl-formula muted" }, h("b", {}, "Closed form: "), cf.formula, " — ", cf.source, cf.note ? ` (${cf.note})` : ""));
  el.append(h("p", { class: "pl-formula muted" }, h("b", {}, "Schedule: "), main.title, " — ", main.source));
  if (main.cost_model) el.append(h("p", { class: "pl-formula muted pl-cost-model" }, h("b", {}, "Costs in seconds: "), main.cost_model.note, " — ", main.cost_model.source));
  if (race) el.append(...raceTable(main, race));
}
