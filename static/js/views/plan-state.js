// Page plumbing the /throughput and /plan pages share: the query string is the state (the
// API's parameters plus the view's state keys, declared in app/pages.py, that never reach the
// API), controls write it, and a headline metric carries its raw value for tests.
import { h } from "../lib/dom.js";
import { NOT_API_KEYS } from "../lib/urlstate.js";

/**
 * The page's URL state: `params` (URLSearchParams), `apiQuery()` (without the site's and the
 * view's state keys), `set(key, value)` (write the URL, then `onChange(key)`), `load(query)`
 * (replace the API keys, keep the others) and `empty()` (no API key given).
 */
export function queryState(onChange) {
  const pageOnly = NOT_API_KEYS;
  const s = { params: new URLSearchParams(location.search) };
  s.apiQuery = () => {
    const q = new URLSearchParams(s.params);
    for (const k of pageOnly) q.delete(k);
    return q.toString().replaceAll("%2C", ",");
  };
  s.write = () => {
    const text = s.params.toString().replaceAll("%2C", ",");
    const next = text ? `?${text}` : "";
    if (next !== location.search) history.replaceState(null, "", location.pathname + next);
  };
  s.set = (key, value) => {
    if (value === null || value === "" || value === undefined) s.params.delete(key);
    else s.params.set(key, String(value));
    s.write();
    onChange(key);
  };
  s.load = (query) => {
    const next = new URLSearchParams(query);
    for (const k of pageOnly) if (s.params.has(k)) next.set(k, s.params.get(k));
    s.params = next;
    s.write();
  };
  s.empty = () => ![...s.params.keys()].some((k) => !pageOnly.includes(k));
  return s;
}

/** Replace a select's options (keeping a "" option written in the template). */
export function fillSelect(select, items) {
  const value = select.value;
  for (const o of [...select.options]) if (o.value !== "") o.remove();
  for (const it of items) select.append(h("option", { value: it.value }, it.label));
  select.value = value;
}

/** Whether two query strings name the same parameters and values, in any order. */
export function sameQuery(a, b) {
  const norm = (q) => [...new URLSearchParams(q)].map(([k, v]) => `${k}=${v}`).sort().join("&");
  return norm(a) === norm(b);
}

/** A numeric input that writes `key()` on change (an unreadable number is marked invalid). */
export function numberInput(el, key, state) {
  el.addEventListener("change", () => {
    const raw = el.value.trim();
    if (raw !== "" && !Number.isFinite(Number(raw))) return el.setAttribute("aria-invalid", "true");
    el.removeAttribute("aria-invalid");
    state.set(key(), raw === "" ? null : Number(raw));
  });
}

/** A headline figure: its text, and its raw value in data-value. */
export function metric(label, value, raw, key, sub) {
  return h(
    "div",
    { class: "metric" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", dataset: { metric: key, value: String(raw) } }, value),
    sub ? h("div", { class: "sub" }, sub) : null,
  );
}
