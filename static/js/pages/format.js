// The format explorer: bits ⇄ value ⇄ rounding, with the number line and the code grid.
// State lives in the URL: `?code=N` (a code chosen by bits, steppers, grid or number line) or
// `?value=X&rounding=R&overflow=O&seed=S` (a real number rounded by the API), plus the number
// line's `scale` and `view`. Every number shown comes from the API: /decode takes the current
// code apart (value, class, formula, neighbours, gap), /encode rounds the typed value and
// explains it, /values lists the codes (all of them, or windows of a 32-bit format). The
// encoder's modes and defaults come from the core through the template.
import { errorBox, fetchJSON, latest, num } from "../lib/api.js";
import { cssVar } from "../lib/colors.js";
import { $, $$, h } from "../lib/dom.js";
import { fmtFull, fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { readState, writeState } from "../lib/urlstate.js";
import * as bitfield from "../views/bitfield.js";
import * as codegrid from "../views/codegrid.js";
import { renderFormula } from "../views/formula.js";
import * as numberline from "../views/numberline.js";

const app = $("#app");
const name = app.dataset.format;
const DEFAULTS = JSON.parse(app.dataset.defaults); // EncodeQuery's defaults, from the core
const optionsOf = (id) => [...$(id).options].map((o) => o.value);
// the rounding modes whose draw takes the seed (the core marks them: data-seeded)
const SEEDED = new Set([...$("#fx-rounding").options].filter((o) => "seeded" in o.dataset).map((o) => o.value));
const SCHEMA = {
  code: { type: "int", default: null },
  value: { type: "str", default: "" },
  rounding: { type: "str", default: DEFAULTS.rounding, choices: optionsOf("#fx-rounding") },
  overflow: { type: "str", default: DEFAULTS.overflow, choices: optionsOf("#fx-overflow") },
  seed: { type: "int", default: DEFAULTS.seed },
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
// A 32-bit format has too many codes to list: the page loads aligned windows of them.
const WINDOW = 2048;

let info = null;
let code = 0;
let encoded = null; // last /encode result while in value mode
let decoded = null; // last /decode result (of `code` once it arrives)
let line = null;
let bits = null;
let grid = null;

const hex = (c) => `0x${c.toString(16).toUpperCase().padStart(Math.ceil(info.bits / 4), "0")}`;
const landmark = (label) => info.landmarks.find((m) => m.label === label)?.code ?? 0;

// ---------- the codes the page knows (from /values) ----------

const store = {
  table: null, // every code (formats with a full table)
  known: new Map(), // code -> {value, cls} from windows (wider formats)
  window: null, // the window the number line shows: [start, count]
  lookup: () => null,
  refresh() {
    const { table, known } = this;
    this.lookup = table ? (c) => ({ value: num(table.values[c]), cls: table.classes[c] }) : (c) => known.get(c) ?? null;
  },
  async loadAll() {
    this.table = await fetchJSON(`${api}/values`);
    this.refresh();
    return this.table;
  },
  async loadWindow(start, count) {
    const w = await fetchJSON(`${api}/values?start=${start}&count=${count}`);
    w.codes.forEach((c, i) => this.known.set(c, { value: num(w.values[i]), cls: w.classes[i] }));
    this.refresh();
    return w;
  },
};

/** The window of a wide format's codes around `c`, aligned so that small steps reuse it. */
function windowAround(c) {
  const base = Math.floor(c / WINDOW) * WINDOW;
  const start = Math.max(0, base - WINDOW);
  return [start, Math.min(3 * WINDOW, info.max_code + 1 - start)];
}

/** The number line's data: every code, or the window around `c` of a wide format. */
async function lineData(c) {
  if (info.full_table) return numberline.prepare(store.table ?? (await store.loadAll()), num);
  const [start, count] = windowAround(c);
  store.window = [start, count];
  return numberline.prepare(await store.loadWindow(start, count), num);
}

// ---------- rendering ----------

function displayValue(d) {
  const v = num(d.value);
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+∞" : "−∞";
  // exact when short, otherwise 10 significant digits (the exact decimal is below)
  return d.exact && d.exact.length <= 18 ? d.exact.replace("-", "−") : fmtNum(v, 10);
}

/** The spacing to the next larger value (the API's `gap`), as 2^k when a power of two. */
function gapText(d) {
  if (d.gap === null) return d.next_up && num(d.next_up.value) === Infinity ? "next is +∞" : "—";
  const gap = num(d.gap);
  const k = Math.log2(gap);
  // exact when short (2⁻⁹ = 0.001953125, not "0.00195313"), else "≈" and 6 digits
  const exact = String(gap);
  const text = exact.length <= 12 && !exact.includes("e") ? `= ${exact}` : `≈ ${fmtNum(gap, 6)}`;
  return Number.isInteger(k) ? `${fmtPow2(k)} ${text}` : text.replace(/^= /, "");
}

function setClass(cls) {
  const badge = $("#fx-class");
  badge.textContent = cls ?? "";
  badge.className = `fx-class${cls ? ` cls-${cls}` : ""}`;
}

/** What is known the moment a code is chosen: its bits, and its value if the page has it. */
function renderCode() {
  const known = store.lookup(code);
  $("#fx-value").textContent = known ? fmtNum(known.value, 10) : "…";
  setClass(known?.cls);
  $("#fx-hex").textContent = hex(code);
  $("#fx-dec").textContent = String(code);
  $("#fx-binary").textContent = code.toString(2).padStart(info.bits, "0");
  $("#fx-gap").textContent = "…";
  // the steppers follow the API's neighbours: off until /decode answers for this code
  $("#fx-prev").disabled = true;
  $("#fx-next").disabled = true;
  bits.update({ code });
  grid.update({ code });
  for (const b of $$("#fx-shortcuts button")) b.setAttribute("aria-pressed", String(Number(b.dataset.code) === code));
}

/** Everything /decode says about the current code. */
function renderDecoded(d) {
  decoded = d;
  $("#fx-value").textContent = displayValue(d);
  setClass(d.class);
  $("#fx-gap").textContent = gapText(d);
  $("#fx-prev").disabled = !d.next_down;
  $("#fx-next").disabled = !d.next_up;
  renderFormula($("#fx-formula"), d.steps);
  const exact = $("#fx-exact");
  if (d.class === "nan" || d.class === "inf") exact.textContent = d.class === "nan" ? "NaN (not a number)" : num(d.value) > 0 ? "+∞" : "−∞";
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

function neighbourBox(label, n) {
  if (!n) return h("div", { class: "fx-nb fx-nb-none" }, h("span", { class: "fx-nb-label" }, label), h("span", { class: "mono" }, "none"));
  return h("button", { type: "button", class: "fx-nb", dataset: { code: String(n.code) }, title: `select ${hex(n.code)}`, onclick: () => showCode(n.code) },
    h("span", { class: "fx-nb-label" }, label),
    h("span", { class: "mono fx-nb-value" }, short(n.value, 10)),
    h("span", { class: "mono fx-nb-code" }, hex(n.code)));
}

/** An error for the metric box: exact when short (2^-8 reads 0.00390625), else 6 digits. */
function errorText(v) {
  if (v === null || v === undefined) return "—";
  const t = short(v, 10);
  return t.length <= 12 ? t : fmtNum(num(v), 6);
}

/** The input as the API rounded it: its float64 when it is one, else the number as written
 * (the API's echo: 464.0000000000000004 is not the float64 464), with the float64 beside it
 * and the exact decimal (`exact_input`) on hover. */
function inputText(e) {
  if (e.input_is_float64) return h("span", { class: "mono", id: "fx-enc-input" }, short(e.input));
  return h("span", { class: "fx-enc-exact" },
    h("span", { class: "mono", id: "fx-enc-input", title: `rounded exactly as written: ${e.exact_input}` }, e.query.value.trim().replaceAll("-", "−")),
    h("span", { class: "fx-enc-f64 mono muted" }, `float64 ${short(e.input)}`));
}

/** What /encode said: the code, the errors, both neighbours and the API's explanations. */
function renderEncoded(e) {
  const box = $("#fx-round-result");
  if (!e) {
    box.replaceChildren(h("p", { class: "muted", dataset: { embed: "prompt" } }, "Type a number to see which code it becomes, the error, and its two neighbours."));
    return;
  }
  const rel = e.rel_error === null || e.rel_error === undefined ? "—" : `${fmtNum(num(e.rel_error) * 100, 3)}%`;
  const note = (text, id) => (text ? h("p", { class: "fx-note", id }, text) : null);
  box.replaceChildren(...[
    h("div", { class: "fx-round-main" },
      h("div", { class: "fx-round-in" }, h("span", { class: "fx-k" }, "input"), inputText(e)),
      h("span", { class: "fx-arrow", "aria-hidden": "true" }, "→"),
      h("div", { class: "fx-round-out" }, h("span", { class: "fx-k" }, "rounds to"), h("span", { class: "mono fx-enc-value", id: "fx-enc-value" }, fmtNum(e.value, 10)), h("span", { class: "mono fx-enc-code", id: "fx-enc-code" }, `${hex(e.code)} = ${e.code}`))),
    h("div", { class: "metrics fx-errors" },
      h("div", { class: "metric" }, h("div", { class: "label" }, "abs error"), h("div", { class: "value" }, errorText(e.abs_error))),
      h("div", { class: "metric" }, h("div", { class: "label" }, "rel error"), h("div", { class: "value" }, rel))),
    h("div", { class: "fx-neighbours" }, neighbourBox("below", e.below), neighbourBox("above", e.above)),
    note(e.note),
    note(e.tie, "fx-tie-note"),
    note(e.stochastic, "fx-stochastic-note"),
  ].filter(Boolean));
}

function marker() {
  const value = store.lookup(code)?.value ?? NaN;
  if (encoded && encoded.code === code) {
    const side = (n) => (n ? num(n.value) : NaN);
    return { input: num(encoded.input), value, below: side(encoded.below), above: side(encoded.above) };
  }
  return { input: NaN, value, below: NaN, above: NaN };
}

/** Move the number line's marker; a wide format's line follows the code to its window. */
async function refreshLine() {
  if (!info.full_table) {
    const [start, count] = windowAround(code);
    if (!store.window || store.window[0] !== start || store.window[1] !== count) {
      const data = await lineData(code);
      line.update({ data, label: `${name} (${fmtInt(count)} codes around ${hex(code)})` });
      grid.update({ lookup: store.lookup });
    }
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
  renderCode();
  writeUrl();
  try {
    await refreshLine();
    const d = await loadDecode(`${api}/decode?code=${c}`);
    if (d.code === code) renderDecoded(d);
    errors.clear();
  } catch (err) {
    errors.show(err);
  }
}

/** The encode query the controls hold: value, rounding, overflow (and seed when it counts). */
function encodeQuery(text) {
  const q = new URLSearchParams({ value: text, rounding: state.rounding, overflow: state.overflow });
  if (SEEDED.has(state.rounding)) q.set("seed", String(state.seed));
  return q;
}

async function roundValue() {
  const text = $("#fx-input").value.trim();
  state.rounding = $("#fx-rounding").value;
  state.overflow = $("#fx-overflow").value;
  state.seed = Number.parseInt($("#fx-seed").value, 10) || DEFAULTS.seed;
  $("#fx-seed-control").hidden = !SEEDED.has(state.rounding);
  if (!text) {
    state.value = "";
    encoded = null;
    renderEncoded(null);
    writeUrl();
    return;
  }
  try {
    const e = await loadEncode(`${api}/encode?${encodeQuery(text)}`);
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

/** A typed code ("0x7E", "126", "0b0111_1110") is the API's to read: /decode parses it. */
async function goToCode(box) {
  try {
    const d = await fetchJSON(`${api}/decode?code=${encodeURIComponent(box.value)}`);
    box.removeAttribute("aria-invalid");
    box.value = "";
    errors.clear();
    showCode(d.code);
  } catch (err) {
    box.setAttribute("aria-invalid", "true");
    errors.show(err);
  }
}

let urlTimer = 0;
function writeUrl() {
  clearTimeout(urlTimer);
  // snapshot now: a request in flight may change `state` before the timer fires
  const st = { ...state };
  const shownCode = code;
  urlTimer = setTimeout(() => {
    st.code = st.value ? null : shownCode;
    if (!st.value) {
      st.rounding = SCHEMA.rounding.default;
      st.overflow = SCHEMA.overflow.default;
    }
    if (!SEEDED.has(st.rounding)) st.seed = SCHEMA.seed.default;
    writeState(st, SCHEMA);
  }, 120);
}

// ---------- setup, step by step ----------

function describe(catalogue) {
  $("#fx-description").textContent = `${info.description}. ${info.bits} bits: ${info.sign_bits} sign, ${info.exponent_bits} exponent (bias ${info.bias}), ${info.mantissa_bits} mantissa; ${fmtInt(info.finite_count)} finite values.`;
  const select = $("#fx-format");
  const names = catalogue.dtypes.filter((d) => d.kind === "element").map((d) => d.name);
  select.replaceChildren(...names.map((n) => h("option", { value: n, selected: n === name }, n)));
  select.addEventListener("change", () => {
    const prefix = location.pathname.startsWith("/embed/") ? "/embed" : "";
    const q = new URLSearchParams();
    if (state.value) {
      q.set("value", state.value);
      if (state.rounding !== SCHEMA.rounding.default) q.set("rounding", state.rounding);
      if (state.overflow !== SCHEMA.overflow.default) q.set("overflow", state.overflow);
    }
    // the theme and the number line's axis carry over; its window belongs to this format
    const here = new URLSearchParams(location.search);
    for (const k of ["theme", "scale"]) if (here.get(k)) q.set(k, here.get(k));
    const qs = q.toString();
    location.assign(`${prefix}/formats/${encodeURIComponent(select.value)}${qs ? `?${qs}` : ""}`);
  });
}

/** A legend lists only the classes this format has (E8M0 has no zero, subnormals or ±∞). */
function legend() {
  const has = { zero: info.has_zero, subnormal: info.min_subnormal !== null, normal: true, inf: info.has_inf, nan: info.has_nan };
  for (const [cls, present] of Object.entries(has)) {
    for (const sw of $$(`#app .legend .sw-${cls}`)) sw.parentElement.hidden = !present;
  }
}

function shortcutButtons() {
  $("#fx-shortcuts").replaceChildren(
    ...info.landmarks.map((m) => h("button", { type: "button", class: "fx-jump", dataset: { code: String(m.code) }, title: `jump to ${m.label}`, onclick: () => showCode(m.code) }, m.label)),
  );
}

function sharedView() {
  const parts = state.view.replaceAll(" ", "+").split(",").map(Number);
  return parts.length === 2 && parts.every(Number.isFinite) && parts[1] > parts[0] ? parts : null;
}

function mountViews(data) {
  bits = bitfield.mount($("#fx-bitfield"), { info, code, onChange: showCode });
  grid = codegrid.mount($("#fx-codegrid"), {
    info,
    code,
    lookup: store.lookup,
    onPick: showCode,
    onMissing: (start, count) => store.loadWindow(start, count).then(() => grid.update({ lookup: store.lookup }), (err) => errors.show(err)),
  });
  let viewTimer = 0;
  line = numberline.mount($("#fx-numberline"), {
    data,
    scale: state.scale,
    view: state.view ? sharedView() : null,
    bits: info.bits,
    label: info.full_table ? name : `${name} (${fmtInt(store.window[1])} codes around ${hex(code)})`,
    positiveOnly: !info.has_zero,
    onPick: showCode,
    onView(v) {
      clearTimeout(viewTimer);
      viewTimer = setTimeout(() => {
        // no "+" in exponents: the query string would read it back as a space
        state.view = v.map((t) => String(Number(t.toPrecision(7))).replace("e+", "e")).join(",");
        writeUrl();
      }, 250);
    },
  });
  line.cancelViewWrite = () => clearTimeout(viewTimer);
  window.__bitmesh = { numberline: line };
  shortcutButtons();
}

function wireCodeControls() {
  $("#fx-prev").addEventListener("click", () => decoded?.next_down && showCode(decoded.next_down.code));
  $("#fx-next").addEventListener("click", () => decoded?.next_up && showCode(decoded.next_up.code));
  $("#fx-goto").addEventListener("submit", (e) => {
    e.preventDefault();
    goToCode($("#fx-code-input"));
  });
}

function wireLineControls() {
  const setScale = (scale) => {
    line.cancelViewWrite();
    state.scale = scale;
    state.view = "";
    pressScale();
    line.update({ scale, view: null });
    writeUrl();
  };
  const pressScale = () => {
    $("#fx-scale-log").setAttribute("aria-pressed", String(state.scale === "log"));
    $("#fx-scale-linear").setAttribute("aria-pressed", String(state.scale === "linear"));
  };
  $("#fx-scale-log").addEventListener("click", () => setScale("log"));
  $("#fx-scale-linear").addEventListener("click", () => setScale("linear"));
  pressScale();
  $("#fx-zoom-in").addEventListener("click", () => line.zoomIn());
  $("#fx-zoom-out").addEventListener("click", () => line.zoomOut());
  $("#fx-zoom-reset").addEventListener("click", () => line.reset());
  $("#fx-zoom-focus").addEventListener("click", () => {
    const m = marker();
    line.focus(m.value, Number.isFinite(m.below) ? m.below : undefined, Number.isFinite(m.above) ? m.above : undefined);
  });
}

function wireRoundControls() {
  const input = $("#fx-input");
  input.value = state.value;
  $("#fx-rounding").value = state.rounding;
  $("#fx-overflow").value = state.overflow;
  $("#fx-seed").value = String(state.seed);
  $("#fx-seed-control").hidden = !SEEDED.has(state.rounding);
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
  for (const id of ["#fx-rounding", "#fx-overflow", "#fx-seed"]) {
    $(id).addEventListener("change", () => {
      $("#fx-seed-control").hidden = !SEEDED.has($("#fx-rounding").value);
      if (input.value.trim()) roundValue();
      else writeUrl();
    });
  }
}

function exportSvg() {
  const colors = {
    text: cssVar("--text"), surface: cssVar("--surface"),
    sign: cssVar("--sign"), exp: cssVar("--exp"), man: cssVar("--man"),
    signSoft: cssVar("--sign-soft"), expSoft: cssVar("--exp-soft"), manSoft: cssVar("--man-soft"),
  };
  const lines = decoded && decoded.code === code ? decoded.formula : [$("#fx-value").textContent];
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
  let catalogue;
  try {
    [info, catalogue] = await Promise.all([fetchJSON(api), fetchJSON("/api/v1/dtypes")]);
    describe(catalogue);
    code = state.code !== null && state.code >= info.min_code && state.code <= info.max_code ? state.code : landmark("1");
    const data = await lineData(code);
    legend();
    mountViews(data);
  } catch (err) {
    errors.show(err);
    return;
  }
  wireCodeControls();
  wireLineControls();
  wireRoundControls();
  mountShareBar($("#share"), { getSvg: exportSvg, name: `${name}-${code}`, embedHeight: 900 });
  if (state.value) await roundValue();
  else await showCode(code);
  app.dataset.ready = "1";
}

main();
