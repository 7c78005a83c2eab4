// A page whose state is its query string, sent as it is to its API endpoint (minus the keys
// only the page reads: theme, a playhead). One object owns the URLSearchParams:
//   const state = pageQuery(NOT_API_KEYS);          // from lib/urlstate.js
//   state.api({routes: "true"})   // the endpoint's query string, with additions
//   state.set({ep: 8}, ["model"]) // change keys (null or "" removes), rewrite the URL
import { h, clear } from "./dom.js";

export function pageQuery(pageOnly) {
  const params = new URLSearchParams(location.search);
  const writeUrl = () => {
    const s = params.toString().replaceAll("%2C", ",");
    const next = s ? `?${s}` : "";
    if (next !== location.search) history.replaceState(null, "", location.pathname + next);
  };
  return {
    params,
    writeUrl,
    api(extra = {}) {
      const q = new URLSearchParams(params);
      for (const k of pageOnly) q.delete(k);
      for (const [k, v] of Object.entries(extra)) q.set(k, v);
      return q.toString();
    },
    set(patch, remove = []) {
      for (const k of remove) params.delete(k);
      for (const [k, v] of Object.entries(patch)) {
        if (v === null || v === "") params.delete(k);
        else params.set(k, String(v));
      }
      writeUrl();
    },
  };
}

/** Fill a <select> with {value, label} items (only when they changed) and select `value`. */
export function fillSelect(select, items, value) {
  if ([...select.options].map((o) => o.value).join("|") !== items.map((i) => i.value).join("|")) {
    clear(select);
    for (const it of items) select.append(h("option", { value: it.value }, it.label));
  }
  select.value = value;
}
