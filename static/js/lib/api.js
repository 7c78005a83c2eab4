// fetchJSON with errors a person can read: the API's `detail` (field + reason) is shown in the
// page, never swallowed in the console.
import { h } from "./dom.js";
import { NOT_API_KEYS } from "./urlstate.js";

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

function describe(detail) {
  if (Array.isArray(detail)) {
    return detail
      .map((d) => {
        const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "query" && p !== "body" && p !== "path").join(".") : "";
        return loc ? `${loc}: ${d.msg}` : d.msg;
      })
      .join("; ");
  }
  if (typeof detail === "string") return detail;
  return JSON.stringify(detail);
}

/**
 * The URL without the site's own keys (theme, embed controls) and the view's state keys
 * (playhead, zoom, selection): a view that copies its page's query string to the API never
 * sends them, so a view cannot get a 422 for an embed's ?controls=0 or a reader's ?t=12.
 */
function withoutSiteKeys(url) {
  if (typeof url !== "string" || !url.includes("?")) return url;
  const [path, query] = url.split("?", 2);
  const q = new URLSearchParams(query);
  if (!NOT_API_KEYS.some((k) => q.has(k))) return url;
  for (const k of NOT_API_KEYS) q.delete(k);
  const s = q.toString().replaceAll("%2C", ",").replaceAll("%3A", ":");
  return s ? `${path}?${s}` : path;
}

/** GET (or POST with {body}) a JSON endpoint; throws ApiError with a readable message. */
export async function fetchJSON(url, { body, signal } = {}) {
  url = withoutSiteKeys(url);
  let resp;
  try {
    resp = await fetch(url, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, `Could not reach the server (${err.message}).`, null);
  }
  let data = null;
  try {
    data = await resp.json();
  } catch (_) {
    /* non-JSON error body */
  }
  if (!resp.ok) {
    const msg = data && data.detail ? describe(data.detail) : `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status, msg, data && data.detail);
  }
  return data;
}

/**
 * An error box inside `container`: `box.show(err)` displays an ApiError (or any Error),
 * `box.clear()` hides it. AbortErrors (superseded requests) are ignored.
 */
export function errorBox(container) {
  const el = h("div", { class: "api-error", role: "alert", hidden: true });
  container.prepend(el);
  return {
    el,
    show(err) {
      if (err && err.name === "AbortError") return;
      el.textContent = err instanceof ApiError ? err.message : `Something went wrong: ${err.message || err}`;
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.textContent = "";
    },
  };
}

/**
 * Latest-wins loader: `const load = latest(); load(url).then(...)` aborts the previous request
 * when a newer one starts, so fast slider drags never paint stale results.
 */
export function latest() {
  let ctrl = null;
  return (url, opts = {}) => {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    return fetchJSON(url, { ...opts, signal: ctrl.signal });
  };
}

/** JSON non-finite floats arrive as strings; turn them back into numbers. */
export function num(v) {
  if (typeof v === "number") return v;
  if (v === "nan") return NaN;
  if (v === "inf") return Infinity;
  if (v === "-inf") return -Infinity;
  return Number(v);
}
