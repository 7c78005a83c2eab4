// /sharding and /embed/sharding: a tensor's shard map (/api/v1/sharding) with device and block
// picking, and a "model weights" tab (/api/v1/sharding/model) listing every weight of one
// transformer layer with its spec and bytes per device. All state lives in the URL.
//
// Each endpoint's parameters go to it exactly as the URL has them; an absent one is the API's
// default, and the inputs show the `query` the response echoes. Examples come from
// /api/v1/presets/sharding, models from /api/v1/presets/models.
import { errorBox, fetchJSON, latest } from "../lib/api.js";
import { palette } from "../lib/colors.js";
import { $, clear, h } from "../lib/dom.js";
import { fmtBytes, fmtInt } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { onThemeChange } from "../lib/theme.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { apiQuery, readState, writeState } from "../lib/urlstate.js";
import { formatSpec, rangeText, tupleText } from "../views/sharding-layout.js";
import { blockColour, deviceBlocks, mount } from "../views/sharding.js";

const TENSOR_KEYS = ["axes", "shape", "spec"];
const MODEL_KEYS = ["model", "tp", "dp", "ep", "pp", "zero", "dtype"];
const SCHEMA = {
  mode: { type: "str", default: "tensor", choices: ["tensor", "model"] },
  ...Object.fromEntries([...TENSOR_KEYS, ...MODEL_KEYS].map((k) => [k, { type: "str", default: null }])),
  device: { type: "int", default: -1, min: -1 },
  block: { type: "int", default: -1, min: -1 },
};

const state = readState(SCHEMA);
if (state.spec) state.spec = state.spec.replace(/\s+/g, "+"); // a "+" in a query string reads back as a space
const app = $("#app");
const errors = errorBox(app);
const loadTensor = latest();
const loadModel = latest();
let data = null; // last good /api/v1/sharding response
let view = null;
let modelLayout = null;
let examples = [];

function save() {
  writeState(state, SCHEMA);
}

function endpoint(path, keys) {
  const q = apiQuery(state, keys);
  return q ? `${path}?${q}` : path;
}

// ------------------------------------------------------------------ tensor mode

async function refreshTensor(animate = true, { keepSpec = true } = {}) {
  save();
  let next;
  try {
    next = await loadTensor(endpoint("/api/v1/sharding", TENSOR_KEYS));
  } catch (err) {
    if (err.name === "AbortError") return;
    if (!keepSpec && fieldOf(err) === "spec" && state.spec !== null) {
      state.spec = null; // the new shape does not fit the old spec: start from unsharded
      return refreshTensor(animate);
    }
    showTensorError(err);
    return;
  }
  showTensor(next, animate);
}

function fieldOf(err) {
  const loc = err.detail && err.detail[0] && err.detail[0].loc;
  return loc ? loc[loc.length - 1] : "";
}

function showTensorError(err) {
  errors.show(err);
  if (!view) $("#sh-view").textContent = "Fix the mesh, shape or spec above to draw the shard map.";
  for (const id of TENSOR_KEYS) {
    const el = $(`#sh-${id}`);
    el.setAttribute("aria-invalid", String(id === fieldOf(err)));
    if (document.activeElement !== el && state[id] !== null) el.value = state[id];
  }
  app.dataset.state = "error";
}

function showTensor(next, animate) {
  errors.clear();
  for (const id of TENSOR_KEYS) $(`#sh-${id}`).removeAttribute("aria-invalid");
  data = next;
  if (state.device >= data.world_size) state.device = -1;
  if (state.block >= data.block_count) state.block = -1;
  save();
  if (!view) mountView();
  else view.update({ data, device: state.device, block: state.block, animate });
  app.dataset.state = "ready";
  syncTensorInputs();
  renderDimPickers();
  renderReadout();
  renderChips();
  renderPicks();
}

function mountView() {
  clear($("#sh-view"));
  view = mount($("#sh-view"), {
    data,
    device: state.device,
    block: state.block,
    onPickBlock: (f) => {
      Object.assign(state, { block: f, device: -1 });
      save();
      view.update({ block: f, device: -1 });
      renderPicks();
    },
  });
}

function exampleKey(e) {
  return `${e.axes}|${e.shape}|${e.spec}`;
}

function syncTensorInputs() {
  for (const id of TENSOR_KEYS) {
    const el = $(`#sh-${id}`);
    if (document.activeElement !== el) el.value = data.query[id];
  }
  const key = exampleKey(data.query);
  $("#sh-preset").value = examples.some((e) => exampleKey(e) === key) ? key : "";
}

/** Spec entries a dimension can take on this mesh: unsharded, one axis, two axes, all three. */
function specChoices(names) {
  const out = [["_", "_ (None: not sharded)"]];
  for (const n of names) out.push([n, n]);
  for (const a of names) for (const b of names) if (a !== b) out.push([`${a}+${b}`, `${a}+${b} (('${a}', '${b}'))`]);
  if (names.length === 3) out.push([names.join("+"), `${names.join("+")} (all three)`]);
  return out;
}

function renderDimPickers() {
  const box = $("#sh-dims");
  clear(box);
  // Picks made before the API answers the previous one add up: they edit one draft spec.
  const draft = data.spec.map((entry) => [...entry]);
  data.shape.forEach((size, d) => {
    const current = formatSpec([data.spec[d]]);
    const choices = specChoices(data.axis_names);
    if (!choices.some(([v]) => v === current)) choices.push([current, current]);
    const sel = h("select", { id: `sh-dim-${d}`, onchange: (e) => {
      draft[d] = e.target.value === "_" ? [] : e.target.value.split("+");
      Object.assign(state, { spec: formatSpec(draft), block: -1 });
      refreshTensor(true);
    } }, choices.map(([v, label]) => h("option", { value: v, selected: v === current }, label)));
    box.append(h("div", { class: "control sharding-dim" }, h("label", { for: `sh-dim-${d}` }, `dim ${d} · size ${fmtInt(size)}`), sel));
  });
}

function metric(label, value, sub, id) {
  return h("div", { class: "metric" }, h("div", { class: "label" }, label), h("div", { class: "value", id }, value), sub ? h("div", { class: "sub" }, sub) : null);
}

function renderReadout() {
  const box = $("#sh-readout");
  clear(box);
  const { elements: total, elements_per_device: per, replication } = data;
  const pct = (100 * per) / total;
  const mesh = data.axis_names.map((n, i) => `'${n}': ${data.mesh_shape[i]}`).join(", ");
  box.append(
    h("p", { class: "sharding-pspec" }, h("code", { id: "sh-pspec" }, data.partition_spec),
      h("span", { class: "muted" }, ` on Mesh(${mesh}) · ${fmtInt(data.world_size)} devices`)),
    h("div", { class: "metrics" },
      metric("shard shape", tupleText(data.shard_shape), `of ${tupleText(data.shape)}`, "sh-shard-shape"),
      metric("blocks", data.grid.map(fmtInt).join(" × "), `${fmtInt(data.block_count)} distinct shards`),
      metric("each device holds", `${fmtInt(per)} of ${fmtInt(total)}`, `elements (${pct >= 1 ? pct.toFixed(pct >= 10 ? 0 : 1) : pct.toPrecision(2)}%)`, "sh-holds"),
      metric("copies of every element", fmtInt(replication), data.replicated_axes.length ? `replicated over ${data.replicated_axes.join(", ")}` : "no replication", "sh-copies"),
    ),
    h("p", { class: "sharding-sentence", id: "sh-sentence" },
      `Each device holds ${fmtInt(per)} of ${fmtInt(total)} elements (${fmtInt(replication)} ${replication === 1 ? "copy" : "copies"} of every element).`),
  );
  renderLegend();
}

function renderLegend() {
  const legend = $("#sh-legend");
  clear(legend);
  // Up to 8 blocks (a dp 2 × tp 4 tensor) get their own entry; larger grids get a sample.
  const shown = data.block_count <= 8 ? data.block_count : 6;
  for (let f = 0; f < shown; f += 1) {
    const sw = h("span", { class: "swatch" });
    sw.style.background = blockColour(f);
    const { block, ranks } = data.blocks[f];
    const holders = ranks.length <= 4 ? ranks.join(", ") : `${ranks.slice(0, 3).join(", ")}, … (${ranks.length})`;
    legend.append(h("span", { class: "legend-item" }, sw, `block (${block.join(", ")}) → rank${ranks.length > 1 ? "s" : ""} ${holders}`));
  }
  if (data.block_count > shown) {
    const repeat = data.block_count > 30 ? "; colours repeat every 30 blocks, hover a block for its ranks" : "";
    legend.append(h("span", { class: "legend-item", id: "sh-legend-more" }, `… ${fmtInt(data.block_count - shown)} more blocks${repeat}`));
  }
  legend.append(h("span", { class: "legend-item" }, h("span", { class: "muted" }, "One colour = one shard; ×n = copies; rN = the ranks holding it.")));
}

function renderChips() {
  const box = $("#sh-chips");
  clear(box);
  const blocks = deviceBlocks(data);
  $("#sh-device-count").textContent = `(${fmtInt(data.world_size)})`;
  box.classList.toggle("many", data.world_size > 64);
  const frag = document.createDocumentFragment();
  data.devices.forEach((d, r) => {
    const sw = h("span", { class: "swatch" });
    sw.style.background = blockColour(blocks[r]);
    const coords = data.axis_names.map((n) => `${n}${d.coords[n]}`).join(" ");
    frag.append(h("button", { type: "button", class: "chip", dataset: { rank: String(r) }, "aria-pressed": "false", "aria-label": `rank ${r} (${coords})` },
      sw, h("span", { class: "chip-rank" }, String(r)), data.world_size <= 64 ? h("span", { class: "chip-coords" }, coords) : null));
  });
  box.append(frag);
}

function deviceLines(r) {
  const d = data.devices[r];
  return [`Rank ${r}`, ...data.axis_names.map((n) => [n, d.coords[n]]), ["holds", rangeText(d.index)],
    ["block", `(${d.block.join(", ")})`], ["replica", `${d.replica} of ${data.replication}`]];
}

function renderPicks() {
  const lit = new Set(state.block >= 0 && data.blocks[state.block] ? data.blocks[state.block].ranks : []);
  for (const chip of $("#sh-chips").children) {
    const r = Number(chip.dataset.rank);
    chip.setAttribute("aria-pressed", String(r === state.device));
    chip.classList.toggle("lit", lit.has(r));
  }
  const bi = clear($("#sh-block-info"));
  const di = clear($("#sh-device-info"));
  const b = data.blocks[state.block];
  if (state.block >= 0 && b) {
    const holders = b.ranks.length <= 32 ? b.ranks.join(", ") : `${b.ranks.slice(0, 32).join(", ")}, …`;
    bi.append(h("b", {}, `Block (${b.block.join(", ")})`), ` = elements ${rangeText(b.index)}, held by ${b.ranks.length === 1 ? "rank" : `${b.ranks.length} ranks:`} ${holders} (lit below).`);
  } else {
    bi.append(h("span", { class: "muted" }, "Click a block (or Tab to the drawing and use the arrow keys, Enter to pick) to light up every device that holds a copy."));
  }
  const d = data.devices[state.device];
  if (state.device >= 0 && d) {
    di.append(h("b", {}, `Rank ${state.device}`), ` (${data.axis_names.map((n) => `${n} ${d.coords[n]}`).join(", ")}) holds block (${d.block.join(", ")}): elements ${rangeText(d.index)}, replica ${d.replica} of ${data.replication}.`);
  }
  app.dataset.device = String(state.device);
  app.dataset.block = String(state.block);
}

function bindTensorControls() {
  const chips = $("#sh-chips");
  chips.addEventListener("click", (e) => {
    const chip = e.target.closest(".chip");
    if (!chip) return;
    const r = Number(chip.dataset.rank);
    Object.assign(state, { device: state.device === r ? -1 : r, block: -1 });
    save();
    view.update({ device: state.device, block: -1 });
    renderPicks();
  });
  for (const type of ["mouseover", "focusin"]) {
    chips.addEventListener(type, (e) => {
      const chip = e.target.closest(".chip");
      if (!chip || !data) return;
      const box = chip.getBoundingClientRect();
      showTip(type === "focusin" ? { clientX: box.right, clientY: box.bottom } : e, deviceLines(Number(chip.dataset.rank)));
    });
  }
  chips.addEventListener("mouseleave", hideTip);
  chips.addEventListener("focusout", hideTip);
  for (const id of TENSOR_KEYS) {
    $(`#sh-${id}`).addEventListener("change", (e) => {
      state[id] = e.target.value.trim().replace(/\s+/g, id === "spec" ? "+" : "");
      state.block = -1;
      refreshTensor(true, { keepSpec: id !== "shape" });
    });
  }
  $("#sh-preset").addEventListener("change", (e) => {
    const ex = examples.find((x) => exampleKey(x) === e.target.value);
    if (!ex) return;
    Object.assign(state, { axes: ex.axes, shape: ex.shape, spec: ex.spec, device: -1, block: -1 });
    refreshTensor(true);
  });
}

async function loadExamples() {
  try {
    const [presets, limits] = await Promise.all([fetchJSON("/api/v1/presets/sharding"), fetchJSON("/api/v1/limits")]);
    examples = presets.examples;
    $("#sh-max-dims").textContent = String(limits.limits.tensor_rank.value);
  } catch (err) {
    errors.show(err);
  }
  $("#sh-preset").append(...examples.map((x) => h("option", { value: exampleKey(x) }, x.title)));
  if (data) syncTensorInputs();
}

// ------------------------------------------------------------------ model mode

async function refreshModel() {
  save();
  try {
    modelLayout = await loadModel(endpoint("/api/v1/sharding/model", MODEL_KEYS));
  } catch (err) {
    if (err.name === "AbortError") return;
    errors.show(err);
    for (const k of MODEL_KEYS) $(`#md-${k}`).setAttribute("aria-invalid", String(k === fieldOf(err)));
    return;
  }
  errors.clear();
  for (const k of MODEL_KEYS) {
    const el = $(`#md-${k}`);
    el.removeAttribute("aria-invalid");
    if (document.activeElement !== el) el.value = String(modelLayout.query[k]);
  }
  renderModel();
}

function partColour(L, part) {
  return palette(L.parts.indexOf(part));
}

function renderModelMetrics(L) {
  const m = clear($("#md-metrics"));
  const stage = metric("stage mesh", L.axes.replaceAll(",", ", "), `${L.dtype}, ${L.bits_per_element} bits per weight`, "md-axes");
  stage.classList.add("md-stage");
  m.append(stage);
  for (const [k, v] of Object.entries(L.bytes_per_rank)) m.append(metric(`${L.titles[k] || k} / device`, fmtBytes(v), "weights only"));
  const legend = clear($("#md-legend"));
  for (const p of L.parts.filter((part) => L.weights.some((w) => w.part === part))) {
    const sw = h("span", { class: "swatch" });
    sw.style.background = partColour(L, p);
    legend.append(h("span", { class: "legend-item" }, sw, p));
  }
  legend.append(h("span", { class: "legend-item muted" }, "Bar = bytes per device relative to the largest weight. Click a weight to draw its shard map."));
}

function drawWeight(L, w) {
  Object.assign(state, { mode: "tensor", axes: L.axes, shape: w.shape.join(","), spec: w.spec, device: -1, block: -1 });
  setMode("tensor");
}

function weightRow(L, w, max) {
  const bar = h("span", { class: "md-bar-fill" });
  bar.style.width = `${(100 * w.bytes_per_rank) / max}%`;
  bar.style.background = partColour(L, w.part);
  const tip = [`${w.name} (${w.part})`, ["shape", tupleText(w.shape)], ["spec", w.partition_spec], ["shard", tupleText(w.shard_shape)],
    ["whole weight", fmtBytes(w.bytes)], ["per device", fmtBytes(w.bytes_per_rank)], ["layers holding it", fmtInt(w.layers)]];
  const name = h("button", { type: "button", class: "md-draw", title: "Draw this weight's shard map", onclick: () => drawWeight(L, w) }, w.name);
  return h("tr", {},
    h("td", {}, name),
    h("td", { class: "mono" }, tupleText(w.shape)),
    h("td", { class: "mono" }, w.partition_spec),
    h("td", {}, w.style),
    h("td", { class: "mono" }, tupleText(w.shard_shape)),
    h("td", { class: "num" }, fmtBytes(w.bytes_per_rank)),
    h("td", { class: "md-bar-col" }, h("span", { class: "md-bar", onmouseenter: (e) => showTip(e, tip), onmouseleave: hideTip }, bar)),
  );
}

function renderModel() {
  const L = modelLayout;
  renderModelMetrics(L);
  const max = Math.max(1, ...L.weights.map((w) => w.bytes_per_rank));
  const tbody = clear($("#md-table tbody"));
  for (const w of L.weights) tbody.append(weightRow(L, w, max));
  const notes = clear($("#md-notes"));
  for (const n of L.notes) notes.append(h("li", {}, n));
}

function bindModelControls() {
  for (const k of MODEL_KEYS) {
    const el = $(`#md-${k}`);
    el.addEventListener("change", () => {
      state[k] = el.value.trim();
      refreshModel();
    });
  }
}

async function loadModels() {
  const sel = $("#md-model");
  try {
    const cat = await fetchJSON("/api/v1/presets/models");
    clear(sel);
    for (const m of cat.models) sel.append(h("option", { value: m.name }, m.title));
    if (modelLayout) sel.value = modelLayout.query.model;
  } catch (err) {
    errors.show(err);
  }
}

// ------------------------------------------------------------------ tabs

function setMode(mode) {
  state.mode = mode;
  save();
  $("#tensor-mode").hidden = mode !== "tensor";
  $("#model-mode").hidden = mode !== "model";
  $("#tab-tensor").setAttribute("aria-pressed", String(mode === "tensor"));
  $("#tab-model").setAttribute("aria-pressed", String(mode === "model"));
  if (svgButton) svgButton.style.display = mode === "tensor" ? "" : "none";
  errors.clear();
  if (mode === "tensor") refreshTensor(!!view);
  else {
    if (!$("#md-model").options.length) loadModels();
    refreshModel();
  }
}

$("#tab-tensor").addEventListener("click", () => setMode("tensor"));
$("#tab-model").addEventListener("click", () => setMode("model"));

onThemeChange(() => requestAnimationFrame(() => {
  if (data) {
    renderReadout();
    renderChips();
    renderPicks();
  }
  if (modelLayout) renderModel();
}));

const shareBar = mountShareBar($("#share"), { getSvg: () => (view ? view.toSvg() : null), name: "bitmesh-sharding", embedHeight: 620 });
// The SVG is the shard map; the model-weights table has none, so the button would do nothing.
const svgButton = [...shareBar.querySelectorAll("button")].find((b) => b.textContent === "Download SVG");
bindTensorControls();
bindModelControls();
loadExamples();
setMode(state.mode);
