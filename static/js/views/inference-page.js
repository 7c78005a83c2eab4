// What /inference and /serving share as pages: the query string is the state, sent as it is to
// the API; controls show the answer's `query` and write one parameter back when they change.
import { $, h, clear } from "../lib/dom.js";
import { NOT_API_KEYS, STATE_KEYS } from "../lib/urlstate.js";

/**
 * The page's query string, and `set(key, value)` to change one parameter (written to the URL,
 * then `refresh()`, or `redraw(key)` for one of the view's state keys, which no API sees). A
 * change to an API parameter drops the state keys in `dropOnChange` (a playhead of the old run).
 */
export function queryState(refresh, redraw = () => {}, dropOnChange = []) {
  const params = new URLSearchParams(location.search);
  return {
    params,
    apiQuery() {
      const q = new URLSearchParams(params);
      for (const k of NOT_API_KEYS) q.delete(k);
      return q.toString();
    },
    set(key, value) {
      if (!STATE_KEYS.includes(key)) for (const k of dropOnChange) params.delete(k);
      if (value === null || value === "" || value === undefined) params.delete(key);
      else params.set(key, String(value));
      const s = params.toString().replaceAll("%2C", ",");
      const next = s ? `?${s}` : "";
      if (next !== location.search) history.replaceState(null, "", location.pathname + next);
      if (STATE_KEYS.includes(key)) redraw(key);
      else refresh();
    },
  };
}

/** Replace a <select>'s options, keeping its value. */
export function fillSelect(select, items) {
  const value = select.value;
  clear(select);
  for (const it of items) select.append(h("option", { value: it.value }, it.label));
  select.value = value;
}

/** Show `v` in a control (a select gains an option for a value it lacks); `scale` divides. */
export function showValue(el, v, scale = 1) {
  if (v === null || v === undefined) {
    el.value = "";
  } else if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === String(v))) {
    el.append(h("option", { value: String(v) }, String(v)));
    el.value = String(v);
  } else {
    el.value = scale === 1 ? String(v) : String(Number((v / scale).toPrecision(6)));
  }
}

/** Selects `#<prefix>-<key>` set their parameter; numbers too, multiplied by `scale[key]`. */
export function wireControls(prefix, selects, numbers, set, scale = {}) {
  for (const k of selects) $(`#${prefix}-${k}`).addEventListener("change", (ev) => set(k, ev.target.value));
  for (const k of numbers) {
    const el = $(`#${prefix}-${k}`);
    el.addEventListener("change", () => {
      const raw = el.value.trim();
      const v = Number(raw);
      if (raw !== "" && !Number.isFinite(v)) {
        el.setAttribute("aria-invalid", "true");
        return;
      }
      el.removeAttribute("aria-invalid");
      set(k, raw === "" ? null : k in scale ? Number((v * scale[k]).toPrecision(6)) : v);
    });
  }
}

/** A headline figure: label, value, the raw number in data-value (tests compare it). */
export function metric(label, value, raw, key, sub) {
  return h(
    "div",
    { class: "metric" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", dataset: { metric: key, value: String(raw) } }, value),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}

/** Storage dtypes for a picker, from /api/v1/dtypes (the shared scales are not storage). */
export function storageDtypes(dtypes) {
  return dtypes.dtypes.filter((t) => t.family !== "scale").map((t) => ({ value: t.name, label: `${t.name} (${t.bits} bits)` }));
}
