// The format explorer: bits ⇄ value ⇄ rounding, with the number line and the code grid.
// State lives in the URL: `?code=N` (a code chosen by bits, steppers, grid or number line) or
// `?value=X&rounding=R&overflow=O&seed=S` (a real number rounded by the API), plus the number
// line's `scale` and `view`.
import { errorBox, fetchJSON, latest, num } from "../lib/api.js";
import { cssVar } from "../lib/colors.js";
import { $, h } from "../lib/dom.js";
import { fmtFull, fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { readState, writeState } from "../lib/urlstate.js";
import * as bitfield from "../views/bitfield.js";
import * as codegrid from "../views/codegrid.js";
import { formulaSteps, formulaText, renderFormula } from "../views/formula.js";
import * as numberline from "../views/numberline.js";

const app = $("#app");
const name = app.dataset.format;
const ROUNDINGS = ["nearest_even", "toward_zero", "up", "down", "stochastic"];
const SCHEMA = {
  code: { type: "int", default: null, min: 0, max: 2 ** 32 - 1 },
  value: { type: "str", default: "" },
  rounding: { type: "str", default: "nearest_even", choices: ROUNDINGS },
  overflow: { type: "str", default: "native", choices: ["native", "saturate"] },
  seed: { type: "int", default: 0, min: 0, max: 2 ** 31 - 1 },
  scale: { type: "str", default: "log", choices: ["log", "linear"] },
  view: { type: "str", default: "" },
};
const state = readState(SCHEMA);
// urlstate writes "+" unescaped, which a query string reads back as a space ("1e+5" → "1e 5");
// a number never holds a space, so put the plus back
state.value = state.value.replaceAll(" ", "+");
const api = `/api/v1/formats/${encodeURIComponent(name)}`;
const errors = errorBox(app);
const roundErrors = errorBox($("#fx-round-result").parentElement);
const loadDecode = latest();
const loadEncode = latest();

let info = null;
let table = null; // {values: number[], classes: string[]} by code (formats of at most 16 bits)
let data = null; // sorted finite values for the number line
let sortedIndexOfCode = null; // Int32Array: code -> index into data (or -1)
let code = 0;
let encoded = null; // last /encode result while in value mode
let decoded = null;
let line = null;
let bits = null;
let grid = null;

const hex = (c) => `0x${c.toString(16).toUpperCase().padStart(Math.ceil(info.bits / 4), "0")}`;

// ---------- local decoding (instant feedback; the API gives the exact decimal) ----------

const f32 = new DataView(new ArrayBuffer(4));
function float32Of(c) {
  f32.setUint32(0, c);
  return f32.getFloat32(0);
}
function float32Class(c) {
  const e = Math.floor(c / 2 ** 23) % 256;
  const m = c % 2 ** 23;
  if (e === 0) return m === 0 ? "zero" : "subnormal";
  if (e === 255) return m === 0 ? "inf" : "nan";
  return "normal";
}

function lookup(c) {
  if (table) return { value: num(table.values[c]), cls: table.classes[c] };
  return { value: float32Of(c), cls: float32Class(c) };
}

/** float32 has 2^32 codes: the number line shows the 4,097 codes around the current one. */
function float32Window(center) {
  const lo = Math.max(0, center - 2048);
  const hi = Math.min(2 ** 32 - 1, center + 2048);
  const payload = { codes: [], values: [], classes: [] };
  for (let c = lo; c <= hi; c += 1) {
    payload.codes.push(c);
    payload.values.push(float32Of(c));
    payload.classes.push(float32Class(c));
  }
  return payload;
}

function indexData() {
  sortedIndexOfCode = null;
  if (!table) return;
  sortedIndexOfCode = new Int32Array(2 ** info.bits).fill(-1);
  data.codes.forEach((c, i) => {
    sortedIndexOfCode[c] = i;
  });
}

/** The code of the next larger (dir = +1) or smaller (dir = −1) representable value. */
function step(c, dir) {
  const { value, cls } = lookup(c);
  if (cls === "nan") return null;
  if (cls === "inf") {
    if ((value > 0 && dir < 0) || (value < 0 && dir > 0)) return value > 0 ? info.max_finite_code : info.max_finite_code + signMask();
    return null;
  }
  if (!table) {
    // float32: IEEE 754 nextUp / nextDown on the bit pattern
    const neg = c >= 2 ** 31;
    const mag = neg ? c - 2 ** 31 : c;
    if (mag === 0) return dir > 0 ? (neg ? 0 : 1) : neg ? 2 ** 31 + 1 : 2 ** 31;
    const away = (dir > 0) !== neg;
    const next = away ? mag + 1 : mag - 1;
    return neg ? 2 ** 31 + next : next;
  }
  const i = sortedIndexOfCode[c];
  const j = i + dir;
  if (j < 0 || j >= data.codes.length) {
    if (info.has_inf && info.inf_codes.length) return dir > 0 ? info.inf_codes[0] : info.inf_codes[1] ?? null;
    return null;
  }
  return data.codes[j];
}

/** "0x7E", "126" or "0b01111110" → 126; null when not a code of this format. */
function parseCode(text) {
  const t = text.trim().toLowerCase().replaceAll("_", "");
  let c = NaN;
  if (/^0x[0-9a-f]+$/.test(t)) c = Number.parseInt(t.slice(2), 16);
  else if (/^0b[01]+$/.test(t)) c = Number.parseInt(t.slice(2), 2);
  else if (/^\d+$/.test(t)) c = Number.parseInt(t, 10);
  return Number.isInteger(c) && c >= 0 && c <= info.max_code ? c : null;
}

function signMask() {
  return info.sign_bits === 0 || info.signed === false ? 0 : 2 ** (info.bits - 1);
}

function codeOfOne() {
  if (!table) return 0x3f800000;
  const i = table.values.findIndex((v) => num(v) === 1);
  return i >= 0 ? i : 0;
}

// ---------- rendering ----------

function renderReadout() {
  const { value, cls } = lookup(code);
  $("#fx-value").textContent = decoded && decoded.code === code ? displayValue(decoded) : fmtNum(value, 10);
  const badge = $("#fx-class");
  badge.textContent = cls;
  badge.className = `fx-class cls-${cls}`;
  $("#fx-hex").textContent = hex(code);
  $("#fx-dec").textContent = String(code);
  $("#fx-binary").textContent = code.toString(2).padStart(info.bits, "0");
  bits.update({ code });
  grid.update({ code });
  const prev = step(code, -1);
  const next = step(code, +1);
  $("#fx-gap").textContent = gapText(value, next);
  $("#fx-prev").disabled = prev === null;
  $("#fx-next").disabled = next === null;
  for (const b of document.querySelectorAll("#fx-shortcuts button")) b.setAttribute("aria-pressed", String(Number(b.dataset.code) === code));
}

/** Spacing to the next larger representable value, as 2^k when it is a power of two. */
function gapText(value, next) {
  if (next === null || !Number.isFinite(value)) return "—";
  let nv = lookup(next).value;
  if (nv === value) {
    // −0 → +0 is a different code, not a different value: measure to the value after
    const after = step(next, +1);
    if (after === null) return "—";
    nv = lookup(after).value;
  }
  if (!Number.isFinite(nv)) return "next is +∞";
  const gap = nv - value;
  const k = Math.log2(gap);
  // exact when short (2⁻⁹ = 0.001953125, not "0.00195313"), else "≈" and 6 digits
  const exact = String(gap);
  const text = exact.length <= 12 && !exact.includes("e") ? `= ${exact}` : `≈ ${fmtNum(gap, 6)}`;
  return Number.isInteger(k) ? `${fmtPow2(k)} ${text}` : text.replace(/^= /, "");
}

function displayValue(d) {
  const v = num(d.value);
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+∞" : "−∞";
  // exact when short, otherwise 10 significant digits (the exact decimal is below)
  return d.exact && d.exact.length <= 18 ? d.exact.replace("-", "−") : fmtNum(v, 10);
}

function renderDecoded(d) {
  decoded = d;
  $("#fx-value").textContent = displayValue(d);
  renderFormula($("#fx-formula"), formulaSteps(info, d));
  const exact = $("#fx-exact");
  const cls = d.class ?? d.cls;
  if (cls === "nan" || cls === "inf") exact.textContent = cls === "nan" ? "NaN (not a number)" : num(d.value) > 0 ? "+∞" : "−∞";
  else {
    const digits = d.exact.replace(/^-/, "").replace(".", "").replace(/^0+/, "").length || 1;
    exact.replaceChildren(h("span", { class: "fx-exact-digits" }, d.exact), h("span", { class: "fx-exact-count" }, ` (${digits} significant digit${digits === 1 ? "" : "s"}, exact)`));
  }
}

/** The shortest decimal of v rounded to `digits` significant digits: 1e-10 stays "1e−10",
 * 2^-8 reads "0.00390625" (not "0.003906" nor "1.0000000000000000e−10"). */
function short(v, digits = 17) {
  const x = num(v);
  if (!Number.isFinite(x) || x === 0) return fmtFull(x);
  return fmtFull(Number(x.toPrecision(digits))).replace("e+", "e");
}

/**
 * Ties are where formats and tools disagree (quant.exposed rounds them half up), so say what
 * happened when the input is exactly halfway between its two neighbours. With mantissa bits,
 * ties go to the neighbour whose last mantissa bit is 0 (IEEE 754 roundTiesToEven, OCP OFP8
 * section 5); past max the upper neighbour is the value one more exponent would give (e4m3fn:
 * 464 is halfway between 448 and 480, and 448 = 0.1111.110 is even). E8M0 has no mantissa
 * bit, so there is no even mantissa to pick: like ml_dtypes' cast, the API sends ties up.
 */
function tieNote(e) {
  if (e.rounding !== "nearest_even" || !e.below) return null;
  const x = num(e.input);
  const v = num(e.value);
  const lo = num(e.below.value);
  let hi = e.above ? num(e.above.value) : NaN;
  let virtual = false;
  const prev = step(info.max_finite_code, -1);
  if (!e.above && v === info.max && prev !== null) {
    hi = 2 * info.max - lookup(prev).value; // max + one step at max
    virtual = true;
  }
  if (!Number.isFinite(v) || !(lo < hi) || x !== (lo + hi) / 2) return null;
  const pair = `${short(x)} is exactly halfway between ${short(lo)} and ${short(hi)}${virtual ? ` (the next value if the exponent went one higher; ${name} stops at ${short(info.max)})` : ""}.`;
  if (info.mantissa_bits === 0) {
    return h("p", { class: "fx-note", id: "fx-tie-note" }, `${pair} ${name} has no mantissa bit, so there is no even mantissa to round to: ties go up to the larger power of two, as ml_dtypes' cast does.`);
  }
  const man = e.code.toString(2).padStart(info.bits, "0").slice(-info.mantissa_bits);
  return h("p", { class: "fx-note", id: "fx-tie-note" }, `${pair} Ties go to the neighbour whose last mantissa bit is 0 (ties to even): ${short(v)}, mantissa ${man}.`);
}

function renderEncoded(e) {
  const box = $("#fx-round-result");
  if (!e) {
    box.replaceChildren(h("p", { class: "muted" }, "Type a number to see which code it becomes, the error, and its two neighbours."));
    return;
  }
  const neighbour = (label, n) => {
    if (!n) return h("div", { class: "fx-nb fx-nb-none" }, h("span", { class: "fx-nb-label" }, label), h("span", { class: "mono" }, "none"));
    return h("button", { type: "button", class: "fx-nb", dataset: { code: String(n.code) }, title: `select ${hex(n.code)}`, onclick: () => setCode(n.code) },
      h("span", { class: "fx-nb-label" }, label),
      h("span", { class: "mono fx-nb-value" }, short(n.value, 10)),
      h("span", { class: "mono fx-nb-code" }, hex(n.code)));
  };
  // exact when short (2^-8 reads 0.00390625), else 6 digits so the metric box does not wrap
  const err = (v) => {
    if (v === null || v === undefined) return "—";
    const t = short(v, 10);
    return t.length <= 12 ? t : fmtNum(num(v), 6);
  };
  const rel = e.rel_error === null || e.rel_error === undefined ? "—" : `${fmtNum(num(e.rel_error) * 100, 3)}%`;
  const mlNote = e.ml_dtypes_code !== undefined && e.ml_dtypes_code !== null && e.ml_dtypes_code !== e.code && e.rounding === "nearest_even" && e.overflow === "native"
    ? h("p", { class: "fx-note warn" }, `ml_dtypes' own cast gives ${hex(e.ml_dtypes_code)} here: it converts float64 through float32 and so rounds twice. bitmesh rounds once.`)
    : null;
  box.replaceChildren(...[
    h("div", { class: "fx-round-main" },
      h("div", { class: "fx-round-in" }, h("span", { class: "fx-k" }, "input"), h("span", { class: "mono", id: "fx-enc-input" }, short(e.input))),
      h("span", { class: "fx-arrow", "aria-hidden": "true" }, "→"),
      h("div", { class: "fx-round-out" }, h("span", { class: "fx-k" }, "rounds to"), h("span", { class: "mono fx-enc-value", id: "fx-enc-value" }, fmtNum(e.value, 10)), h("span", { class: "mono fx-enc-code", id: "fx-enc-code" }, `${hex(e.code)} = ${e.code}`))),
    h("div", { class: "metrics fx-errors" },
      h("div", { class: "metric" }, h("div", { class: "label" }, "abs error"), h("div", { class: "value" }, err(e.abs_error))),
      h("div", { class: "metric" }, h("div", { class: "label" }, "rel error"), h("div", { class: "value" }, rel))),
    h("div", { class: "fx-neighbours" }, neighbour("below", e.below), neighbour("above", e.above)),
    e.note ? h("p", { class: "fx-note" }, e.note) : null,
    tieNote(e),
    stochasticNote(e),
    mlNote,
  ].filter(Boolean));
}

/** Stochastic rounding goes up with P = (x − below) / (above − below) (issue 2, section 2). */
function stochasticNote(e) {
  if (e.rounding !== "stochastic" || !e.below || !e.above) return null;
  const x = num(e.input);
  const lo = num(e.below.value);
  const hi = num(e.above.value);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return null;
  const pUp = (x - lo) / (hi - lo);
  const went = num(e.value) === hi ? "up" : "down";
  return h("p", { class: "fx-note" }, `Stochastic: P(round up to ${fmtNum(hi, 6)}) = (${fmtNum(x, 6)} − ${fmtNum(lo, 6)}) / (${fmtNum(hi, 6)} − ${fmtNum(lo, 6)}) = ${fmtNum(pUp, 4)}; seed ${e.seed ?? state.seed} drew ${went}. Change the seed to draw again.`);
}

function marker() {
  const { value } = lookup(code);
  if (encoded && encoded.code === code) {
    return {
      input: num(encoded.input),
      value,
      below: encoded.below ? num(encoded.below.value) : NaN,
      above: encoded.above ? num(encoded.above.value) : NaN,
    };
  }
  return { input: NaN, value, below: NaN, above: NaN };
}

function refreshLine() {
  if (!table) {
    const win = float32Window(code);
    data = numberline.prepare(win, num);
    line.update({ data, marker: marker(), label: `${name} (4,097 codes around ${hex(code)})` });
    return;
  }
  line.update({ marker: marker() });
}

// ---------- state changes ----------

async function showCode(c, { fromEncode = false } = {}) {
  code = c;
  if (!fromEncode) {
    encoded = null;
    state.value = "";
    state.code = c;
    $("#fx-input").value = "";
    $("#fx-input").removeAttribute("aria-invalid");
    roundErrors.clear();
    renderEncoded(null);
  }
  renderReadout();
  refreshLine();
  writeUrl();
  try {
    const d = await loadDecode(`${api}/decode?code=${c}`);
    if (d.code === code) renderDecoded(d);
    errors.clear();
  } catch (err) {
    errors.show(err);
  }
}

function setCode(c) {
  showCode(c);
}

async function roundValue() {
  const text = $("#fx-input").value.trim();
  state.rounding = $("#fx-rounding").value;
  state.overflow = $("#fx-overflow").value;
  state.seed = Number.parseInt($("#fx-seed").value, 10) || 0;
  $("#fx-seed-control").hidden = state.rounding !== "stochastic";
  if (!text) {
    state.value = "";
    encoded = null;
    renderEncoded(null);
    writeUrl();
    return;
  }
  const q = new URLSearchParams({ value: text, rounding: state.rounding, overflow: state.overflow });
  if (state.rounding === "stochastic") q.set("seed", String(state.seed));
  try {
    const e = await loadEncode(`${api}/encode?${q}`);
    roundErrors.clear();
    $("#fx-input").removeAttribute("aria-invalid");
    encoded = e;
    state.value = text;
    state.code = null;
    renderEncoded(e);
    await showCode(e.code, { fromEncode: true });
  } catch (err) {
    if (err.name === "AbortError") return;
    $("#fx-input").setAttribute("aria-invalid", "true");
    roundErrors.show(err);
    // keep what was typed in the URL so the link shows the same complaint
    state.value = text;
    writeUrl();
  }
}

let urlTimer = 0;
function writeUrl() {
  clearTimeout(urlTimer);
  // snapshot now: a request in flight may change `state` before the timer fires
  const st = { ...state };
  const shownCode = code;
  urlTimer = setTimeout(() => {
    if (st.value) st.code = null;
    else st.code = shownCode;
    if (!st.value) {
      st.rounding = SCHEMA.rounding.default;
      st.overflow = SCHEMA.overflow.default;
    }
    if (st.rounding !== "stochastic") st.seed = 0;
    writeState(st, SCHEMA);
  }, 120);
}

// ---------- setup ----------

function shortcutButtons() {
  const sm = signMask();
  const items = [];
  if (info.has_zero !== false) items.push(["+0", 0]);
  if (info.has_negative_zero) items.push(["−0", sm]);
  if (info.min_subnormal_code !== null && info.min_subnormal_code !== undefined) items.push(["min subnormal", info.min_subnormal_code]);
  items.push(["min normal", info.min_normal_code]);
  items.push(["1", codeOfOne()]);
  items.push(["max", info.max_finite_code]);
  if (sm) items.push(["−max", info.max_finite_code + sm]);
  if (info.has_inf) items.push(["+∞", info.inf_codes[0]]);
  if (info.has_nan) {
    const nan = info.nan_codes && info.nan_codes.length ? info.nan_codes[0] : info.nan_code_ranges[0][0];
    items.push(["NaN", nan]);
  }
  $("#fx-shortcuts").replaceChildren(
    ...items.map(([label, c]) => h("button", { type: "button", class: "fx-jump", dataset: { code: String(c) }, title: `jump to ${label}`, onclick: () => setCode(c) }, label)),
  );
}

function exportSvg() {
  const colors = {
    text: cssVar("--text"), surface: cssVar("--surface"),
    sign: cssVar("--sign"), exp: cssVar("--exp"), man: cssVar("--man"),
    signSoft: cssVar("--sign-soft"), expSoft: cssVar("--exp-soft"), manSoft: cssVar("--man-soft"),
  };
  const lines = decoded && decoded.code === code ? formulaText(formulaSteps(info, decoded)) : [fmtNum(lookup(code).value, 10)];
  const root = bitfield.bitsSvg(info, code, `${name}  ${hex(code)}`, lines, colors);
  // the number line as drawn now, below the bits and the formula
  const lineSvg = line.toSvg();
  const [, , w1, h1] = root.getAttribute("viewBox").split(" ").map(Number);
  const [, , w2, h2] = lineSvg.getAttribute("viewBox").split(" ").map(Number);
  const g = document.createElementNS("http://www.w3.org/2000/svg", "g");
  g.setAttribute("transform", `translate(0 ${h1})`);
  g.append(...lineSvg.childNodes);
  root.append(g);
  const W = Math.max(w1, w2);
  root.setAttribute("viewBox", `0 0 ${W} ${h1 + h2}`);
  root.setAttribute("width", String(W));
  root.setAttribute("height", String(h1 + h2));
  return root;
}

async function main() {
  let list;
  try {
    [info, list] = await Promise.all([fetchJSON(api), fetchJSON("/api/v1/formats")]);
  } catch (err) {
    errors.show(err);
    return;
  }
  $("#fx-description").textContent = `${info.description ?? ""}. ${info.bits} bits: ${info.sign_bits ?? 1} sign, ${info.exponent_bits} exponent (bias ${info.bias}), ${info.mantissa_bits} mantissa; ${fmtInt(info.finite_count)} finite values.`;
  const select = $("#fx-format");
  select.replaceChildren(...list.formats.map((f) => h("option", { value: f.name, selected: f.name === name }, f.name)));
  select.addEventListener("change", () => {
    const prefix = location.pathname.startsWith("/embed/") ? "/embed" : "";
    const q = new URLSearchParams();
    if (state.value) {
      q.set("value", state.value);
      if (state.rounding !== "nearest_even") q.set("rounding", state.rounding);
      if (state.overflow !== "native") q.set("overflow", state.overflow);
    }
    const theme = new URLSearchParams(location.search).get("theme");
    if (theme) q.set("theme", theme);
    const qs = q.toString();
    location.assign(`${prefix}/formats/${encodeURIComponent(select.value)}${qs ? `?${qs}` : ""}`);
  });

  if (info.bits <= 16) {
    try {
      table = await fetchJSON(`${api}/values`);
    } catch (err) {
      errors.show(err);
      return;
    }
    data = numberline.prepare(table, num);
  } else {
    data = numberline.prepare(float32Window(state.code ?? codeOfOne()), num);
  }
  indexData();
  // a legend lists only the classes this format has (E8M0 has no zero, subnormals or ±∞)
  const present = table ? new Set(table.classes) : new Set(["zero", "subnormal", "normal", "inf", "nan"]);
  for (const cls of ["zero", "subnormal", "normal", "inf", "nan"]) {
    for (const sw of document.querySelectorAll(`#app .legend .sw-${cls}`)) sw.parentElement.hidden = !present.has(cls);
  }

  code = state.code !== null && state.code <= info.max_code ? state.code : codeOfOne();
  bits = bitfield.mount($("#fx-bitfield"), { info, code, onChange: setCode });
  grid = codegrid.mount($("#fx-codegrid"), { info, code, lookup, onPick: setCode });
  let view = null;
  if (state.view) {
    const parts = state.view.replaceAll(" ", "+").split(",").map(Number);
    if (parts.length === 2 && parts.every(Number.isFinite) && parts[1] > parts[0]) view = parts;
  }
  let viewTimer = 0;
  line = numberline.mount($("#fx-numberline"), {
    data,
    scale: state.scale,
    view,
    bits: info.bits,
    label: name,
    positiveOnly: info.has_zero === false,
    onPick: setCode,
    onView(v) {
      clearTimeout(viewTimer);
      viewTimer = setTimeout(() => {
        // no "+" in exponents: the query string would read it back as a space
        state.view = v.map((t) => String(Number(t.toPrecision(7))).replace("e+", "e")).join(",");
        writeUrl();
      }, 250);
    },
  });
  window.__bitmesh = { numberline: line };
  shortcutButtons();

  // controls
  $("#fx-prev").addEventListener("click", () => {
    const c = step(code, -1);
    if (c !== null) setCode(c);
  });
  $("#fx-next").addEventListener("click", () => {
    const c = step(code, +1);
    if (c !== null) setCode(c);
  });
  $("#fx-goto").addEventListener("submit", (e) => {
    e.preventDefault();
    const box = $("#fx-code-input");
    const c = parseCode(box.value);
    if (c === null) {
      box.setAttribute("aria-invalid", "true");
      errors.show(new Error(`code: "${box.value}" is not a code of ${name}; type 0 to ${info.max_code} in decimal, hex (0x…) or binary (0b…)`));
      return;
    }
    box.removeAttribute("aria-invalid");
    box.value = "";
    errors.clear();
    setCode(c);
  });
  const setScale = (scale) => {
    clearTimeout(viewTimer);
    state.scale = scale;
    state.view = "";
    $("#fx-scale-log").setAttribute("aria-pressed", String(scale === "log"));
    $("#fx-scale-linear").setAttribute("aria-pressed", String(scale === "linear"));
    line.update({ scale, view: null });
    writeUrl();
  };
  $("#fx-scale-log").addEventListener("click", () => setScale("log"));
  $("#fx-scale-linear").addEventListener("click", () => setScale("linear"));
  $("#fx-scale-log").setAttribute("aria-pressed", String(state.scale === "log"));
  $("#fx-scale-linear").setAttribute("aria-pressed", String(state.scale === "linear"));
  $("#fx-zoom-in").addEventListener("click", () => line.zoomIn());
  $("#fx-zoom-out").addEventListener("click", () => line.zoomOut());
  $("#fx-zoom-reset").addEventListener("click", () => line.reset());
  $("#fx-zoom-focus").addEventListener("click", () => {
    const m = marker();
    line.focus(m.value, Number.isFinite(m.below) ? m.below : undefined, Number.isFinite(m.above) ? m.above : undefined);
  });

  const input = $("#fx-input");
  input.value = state.value;
  $("#fx-rounding").value = state.rounding;
  $("#fx-overflow").value = state.overflow;
  $("#fx-seed").value = String(state.seed);
  $("#fx-seed-control").hidden = state.rounding !== "stochastic";
  let typeTimer = 0;
  input.addEventListener("input", () => {
    clearTimeout(typeTimer);
    typeTimer = setTimeout(roundValue, 300);
  });
  $("#fx-round-form").addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(typeTimer);
    roundValue();
  });
  for (const id of ["#fx-rounding", "#fx-overflow", "#fx-seed"]) $(id).addEventListener("change", () => {
    $("#fx-seed-control").hidden = $("#fx-rounding").value !== "stochastic";
    if (input.value.trim()) roundValue();
    else writeUrl();
  });

  mountShareBar($("#share"), { getSvg: exportSvg, name: `${name}-${code}`, embedHeight: 900 });

  if (state.value) await roundValue();
  else await showCode(code);
  app.dataset.ready = "1";
}

main();
