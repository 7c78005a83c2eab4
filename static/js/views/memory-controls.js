// The assumption controls of /memory, drawn from GET /api/v1/memory/options: every label,
// choice and declared default comes from the API, the page only lays them out, states the
// default under each, and shows the value the last answer used (its `query` echo).
import { $, $$, h } from "../lib/dom.js";

/** Where each control goes: the schedule beside the degrees, numbers by topic. */
const SLOTS = { schedule: "#mem-schedule-slot", overhead: "#mem-numbers-hw", global_batch: "#mem-numbers-batch", capacity_factor: "#mem-numbers-assume" };
const SEGMENTED_MAX = 3; // more choices than this make a select

function choiceLabel(control, value) {
  const c = control.choices.find((x) => x.value === value);
  return c ? c.label : value;
}

/** "default: FlashAttention", or the note of a default the API derives (null). */
function defaultText(control) {
  if (control.default === null || control.default === undefined) return `default: ${control.default_note || "none"}`;
  return `default: ${choiceLabel(control, control.default)}`;
}

function segmented(control) {
  const group = h("div", { class: "segmented", role: "group", "aria-label": control.label, "data-param": control.name },
    ...control.choices.map((c) => h("button", { type: "button", "data-value": c.value, title: c.note }, c.label)));
  return group;
}

function select(control) {
  const sel = h("select", { name: control.name, id: `mem-${control.name}`, "data-optional": control.default === null ? "1" : null });
  if (control.default === null) sel.append(h("option", { value: "", "data-default": "1" }, control.default_note || "default"));
  for (const c of control.choices) sel.append(h("option", { value: c.value, title: c.note }, c.label));
  return sel;
}

function controlNode(control) {
  const small = control.choices.length <= SEGMENTED_MAX && control.default !== null;
  const input = small ? segmented(control) : select(control);
  const id = `mem-${control.name}-label`;
  const label = small ? h("span", { id }, control.label) : h("label", { for: `mem-${control.name}` }, control.label);
  if (small) input.setAttribute("aria-labelledby", id);
  return h("div", { class: `control mem-assume${small ? "" : " mem-wide"}`, "data-control": control.name },
    label, input, h("small", { class: "mem-default" }, defaultText(control)));
}

function numberNode(spec) {
  const optional = spec.default === null;
  const input = h("input", { type: "number", name: spec.name, id: `mem-${spec.name}`, min: "0", step: "any", inputmode: "decimal", placeholder: optional ? "none" : String(spec.default), "data-optional": optional ? "1" : null });
  return h("label", { class: "control mem-number", "data-control": spec.name },
    h("span", {}, spec.label), input,
    h("small", { class: "mem-default" }, spec.default === null ? spec.note : `default: ${spec.default} · ${spec.note}`));
}

/**
 * Build the controls of `options` into the form; `onChange(patch, remove)` is called with the
 * query parameters a control sets (an emptied optional control removes its parameter).
 */
export function buildControls(form, options, onChange) {
  for (const old of $$("[data-control]", form)) old.remove();
  const assume = $("#mem-assumptions", form);
  for (const control of options.controls) {
    const node = controlNode(control);
    const slot = SLOTS[control.name] ? $(SLOTS[control.name], form) : assume;
    slot.append(node);
  }
  for (const spec of options.numbers) $(SLOTS[spec.name], form).append(numberNode(spec));
  for (const node of $$("[data-control]", form)) {
    const name = node.dataset.control;
    const seg = $(".segmented", node);
    if (seg) {
      seg.addEventListener("click", (e) => {
        const b = e.target.closest("button[data-value]");
        if (b) onChange({ [name]: b.dataset.value });
      });
      continue;
    }
    const field = $("select, input", node);
    if (field.tagName === "SELECT") {
      field.addEventListener("change", () => (field.value === "" ? onChange({}, [name]) : onChange({ [name]: field.value })));
    } else {
      field.addEventListener("input", () => {
        const v = field.value.trim();
        if (v === "") onChange({}, [name], { delay: true });
        else if (Number.isFinite(Number(v)) && Number(v) >= 0) onChange({ [name]: v }, [], { delay: true });
      });
    }
  }
}

/**
 * Show what the last answer used. `value(name)` is the parameter as the page shows it (the
 * echo); `given(name)` says whether the query string sets it (an optional select shows its
 * default entry, labelled with what the answer used, when not).
 */
export function syncControls(form, value, given) {
  for (const node of $$("[data-control]", form)) {
    const name = node.dataset.control;
    const seg = $(".segmented", node);
    if (seg) {
      for (const b of $$("button[data-value]", seg)) b.setAttribute("aria-pressed", String(b.dataset.value === value(name)));
      continue;
    }
    const field = $("select, input", node);
    if (document.activeElement === field) continue;
    if (field.tagName === "SELECT") syncSelect(field, value(name), given(name));
    else field.value = given(name) || !field.dataset.optional ? value(name) : "";
  }
}

/** An optional select: its default entry names the value the answer used. */
export function syncSelect(sel, v, isGiven) {
  const dflt = $("option[data-default]", sel);
  if (dflt) {
    if (!dflt.dataset.label) dflt.dataset.label = dflt.textContent;
    dflt.textContent = v && !dflt.dataset.label.includes(v) ? `${dflt.dataset.label} (${v})` : dflt.dataset.label;
    if (!isGiven) {
      sel.value = "";
      return;
    }
  }
  if (v && ![...sel.options].some((o) => o.value === v)) sel.append(h("option", { value: v }, v));
  sel.value = v || "";
}
