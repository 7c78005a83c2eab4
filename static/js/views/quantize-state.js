// The query string is the state of the lab pages. One URL may feed several API endpoints, each
// through a panel that owns the keys with its prefix ("dot_n" is the dot panel's "n"); a panel
// asks its endpoint exactly its keys and shows each control as the last answer's `query` said
// (defaults filled in), so no default lives in the page.
import { $$ } from "../lib/dom.js";

export class UrlState {
  /** `pageOnly`: keys of the page itself (theme, sort), never sent to an API. */
  constructor(pageOnly) {
    this.params = new URLSearchParams(location.search);
    this.pageOnly = pageOnly;
    this.prefixes = [];
  }

  panel(prefix = "") {
    this.prefixes.push(prefix);
    return new Panel(this, prefix);
  }

  write() {
    const s = this.params.toString().replaceAll("%2C", ",");
    const next = s ? `?${s}` : "";
    if (next !== location.search) history.replaceState(null, "", location.pathname + next);
  }
}

export class Panel {
  constructor(url, prefix) {
    this.url = url;
    this.prefix = prefix;
    this.shown = null; // the last answer
    this.shownFor = ""; // the API query it answers
  }

  owns(key) {
    if (this.url.pageOnly.includes(key)) return false;
    if (this.prefix) return key.startsWith(this.prefix);
    return !this.url.prefixes.some((p) => p && key.startsWith(p));
  }

  /** The panel's keys, prefix removed: exactly what its endpoint is asked. */
  apiQuery() {
    const q = new URLSearchParams();
    for (const [k, v] of this.url.params) if (this.owns(k)) q.append(k.slice(this.prefix.length), v);
    return q.toString().replaceAll("%2C", ",");
  }

  /** True when the last answer is for the current query. */
  current() {
    return this.shown !== null && this.shownFor === this.apiQuery();
  }

  /** A parameter as shown: the answer's when current, else the URL's, else the last answer's. */
  value(name) {
    const key = this.prefix + name;
    if (!this.current() && this.url.params.has(key)) return this.url.params.get(key);
    const v = this.shown ? this.shown.query[name] : undefined;
    return v === undefined || v === null ? "" : String(v);
  }

  /** Set (or, for "" / null, remove) API parameters, and remove others; writes the URL. */
  set(patch, remove = []) {
    for (const name of remove) this.url.params.delete(this.prefix + name);
    for (const [name, v] of Object.entries(patch)) {
      if (v === "" || v === null || v === undefined) this.url.params.delete(this.prefix + name);
      else this.url.params.set(this.prefix + name, String(v));
    }
    this.url.write();
  }

  answered(data, query) {
    this.shown = data;
    this.shownFor = query;
  }
}

/** Fill every select[data-choices] of `form` from lists of names (or {name, ...} objects). */
export function fillChoices(form, lists) {
  for (const sel of $$("select[data-choices]", form)) {
    const items = lists[sel.dataset.choices] || [];
    sel.replaceChildren();
    if (sel.dataset.same) sel.append(new Option(`same as ${sel.dataset.same}`, ""));
    for (const it of items) {
      const name = typeof it === "string" ? it : it.name;
      const opt = new Option(name, name);
      if (it.description) opt.title = it.description;
      sel.append(opt);
    }
  }
}

/** Show the panel's values in its form's named controls (not the one being typed in). */
export function syncForm(form, panel) {
  for (const el of $$("select[name], input[name]", form)) {
    if (document.activeElement === el) continue;
    const v = panel.value(el.name);
    if (el.tagName === "SELECT" && v && ![...el.options].some((o) => o.value === v)) el.append(new Option(v, v));
    el.value = v;
    el.removeAttribute("aria-invalid");
  }
}

/** Changes in the form's named controls become `onChange(patch, now)` calls. */
export function wireForm(form, onChange) {
  for (const el of $$("select[name]", form)) el.addEventListener("change", () => onChange({ [el.name]: el.value }, true));
  for (const el of $$("input[name]", form)) {
    el.addEventListener("input", () => {
      const v = el.value.trim();
      if (v !== "" && !el.checkValidity()) {
        el.setAttribute("aria-invalid", "true");
        return;
      }
      el.removeAttribute("aria-invalid");
      onChange({ [el.name]: v }, false);
    });
  }
  form.addEventListener("submit", (e) => e.preventDefault());
}
