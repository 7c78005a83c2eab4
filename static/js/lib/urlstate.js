// View state lives in the URL so that a link reproduces exactly what its sender saw.
//
// A schema maps each key to {type, default, min, max, choices}:
//   const schema = {stages: {type: "int", default: 4, min: 1, max: 128}, schedule: {type: "str",
//                   default: "1f1b", choices: ["gpipe", "1f1b"]}};
//   const state = readState(schema);     // parsed, clamped, defaulted
//   writeState(state, schema);           // replaceState with non-default keys only

/** Keys of any view's URL that the site's chrome reads (theme.js, embed.js); never API params. */
export const SITE_KEYS = ["theme", "controls"];

/**
 * The view's own state keys (playhead, zoom, selection, hovered mark), declared once per view
 * in app/pages.py and written on <body data-state-keys>: they stay in the URL (a link or an
 * embed shows that exact frame, and "open in bitmesh" keeps them) but never reach an API.
 */
export const STATE_KEYS = ((typeof document !== "undefined" && document.body && document.body.dataset.stateKeys) || "").split(",").filter(Boolean);

/** Every key of a view's URL that no API sees. */
export const NOT_API_KEYS = [...SITE_KEYS, ...STATE_KEYS];

function parse(spec, raw) {
  if (raw === null || raw === undefined) return spec.default;
  switch (spec.type) {
    case "int": {
      const v = Number.parseInt(raw, 10);
      if (!Number.isFinite(v)) return spec.default;
      return clamp(v, spec);
    }
    case "float": {
      const v = Number.parseFloat(raw);
      if (!Number.isFinite(v)) return spec.default;
      return clamp(v, spec);
    }
    case "bool":
      return raw === "1" || raw === "true" || raw === "";
    case "list":
      return raw === "" ? [] : raw.split(",").map((s) => s.trim()).filter(Boolean);
    default:
      if (spec.choices && !spec.choices.includes(raw)) return spec.default;
      return raw;
  }
}

function clamp(v, spec) {
  if (spec.min !== undefined && v < spec.min) return spec.min;
  if (spec.max !== undefined && v > spec.max) return spec.max;
  return v;
}

function serialise(spec, v) {
  if (spec.type === "bool") return v ? "1" : "0";
  if (spec.type === "list") return v.join(",");
  return String(v);
}

function same(spec, a, b) {
  if (spec.type === "list") return a.join(",") === (b || []).join(",");
  return a === b;
}

export function readState(schema, search = location.search) {
  const q = new URLSearchParams(search);
  const state = {};
  for (const [key, spec] of Object.entries(schema)) state[key] = parse(spec, q.get(key));
  return state;
}

/** Query string (with leading "?", or "") holding the keys that differ from their defaults. */
export function stateToQuery(state, schema) {
  const q = new URLSearchParams();
  for (const [key, spec] of Object.entries(schema)) {
    const v = state[key];
    if (v === undefined || v === null) continue;
    if (!spec.keepDefault && same(spec, v, spec.default)) continue;
    q.set(key, serialise(spec, v));
  }
  // keep keys the page does not own (e.g. theme for embeds)
  const current = new URLSearchParams(location.search);
  for (const [k, v] of current) if (!(k in schema)) q.set(k, v);
  const s = q.toString().replaceAll("%2C", ",").replaceAll("%3A", ":");
  return s ? `?${s}` : "";
}

export function writeState(state, schema) {
  const query = stateToQuery(state, schema);
  if (query !== location.search) history.replaceState(null, "", location.pathname + query);
}

/** Query string for an API call: every key, defaults included, so the API sees what we see. */
export function apiQuery(state, keys) {
  const q = new URLSearchParams();
  for (const k of keys) {
    const v = state[k];
    if (v === undefined || v === null || v === "") continue;
    q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  return q.toString().replaceAll("%2C", ",").replaceAll("%3A", ":");
}
