// /sharding and /embed/sharding: a tensor's shard map (/api/v1/sharding) with device and block
// picking, and a "model weights" tab (/api/v1/sharding/model) listing every weight of one
// transformer layer with its spec and bytes per device. All state lives in the URL.
import { errorBox, fetchJSON, latest } from "../lib/api.js";
import { cssVar } from "../lib/colors.js";
import { $, clear, h } from "../lib/dom.js";
import { fmtBytes, fmtInt } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { onThemeChange } from "../lib/theme.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { readState, writeState } from "../lib/urlstate.js";
import { formatSpec, parseSpecText, partitionSpec, rangeText, tupleText } from "../views/sharding-layout.js";
import { blockColour, deviceBlocks, mount } from "../views/sharding.js";

const SCHEMA = {
  mode: { type: "str", default: "tensor", choices: ["tensor", "model"] },
  axes: { type: "str", default: "dp:2,tp:4" },
  shape: { type: "str", default: "16,32" },
  spec: { type: "str", default: "dp,tp" },
  device: { type: "int", default: -1, min: -1 },
  block: { type: "int", default: -1, min: -1 },
  model: { type: "str", default: "llama3-8b" },
  tp: { type: "int", default: 4, min: 1, max: 1024 },
  dp: { type: "int", default: 2, min: 1, max: 65536 },
  ep: { type: "int", default: 1, min: 1, max: 1024 },
  pp: { type: "int", default: 1, min: 1, max: 128 },
  zero: { type: "int", default: 0, min: 0, max: 3 },
  dtype: { type: "str", default: "bfloat16" },
};

const EXAMPLES = [
  { title: "2-D: rows over dp, columns over tp — P('dp', 'tp')", axes: "dp:2,tp:4", shape: "16,32", spec: "dp,tp" },
  { title: "2-D: rows over dp, replicated over tp — P('dp', None)", axes: "dp:2,tp:4", shape: "16,32", spec: "dp,_" },
  { title: "2-D: rows over dp then tp — P(('dp', 'tp'), None)", axes: "dp:2,tp:4", shape: "16,32", spec: "dp+tp,_" },
  { title: "2-D: columns over tp then dp — P(None, ('tp', 'dp'))", axes: "dp:2,tp:4", shape: "16,32", spec: "_,tp+dp" },
  { title: "2-D: fully replicated — P(None, None)", axes: "dp:2,tp:4", shape: "16,32", spec: "_,_" },
  { title: "1-D: a bias over tp — P('tp')", axes: "dp:2,tp:4", shape: "32", spec: "tp" },
  { title: "1-D: over dp and tp — P(('dp', 'tp'))", axes: "dp:2,tp:4", shape: "64", spec: "dp+tp" },
  { title: "3-D: experts over ep, hidden over tp — P('ep', None, 'tp')", axes: "ep:4,tp:2", shape: "8,16,32", spec: "ep,_,tp" },
  { title: "3-D: [batch, seq, hidden] over dp, cp, tp", axes: "dp:2,cp:2,tp:2", shape: "4,8,16", spec: "dp,cp,tp" },
  { title: "3-D: [batch, seq, hidden], batch over dp only", axes: "dp:2,cp:2,tp:2", shape: "4,8,16", spec: "dp,_,_" },
  { title: "Large: 4,096 devices, [4096, 4096] over dp, tp", axes: "dp:64,tp:64", shape: "4096,4096", spec: "dp,tp" },
];

const PART_VARS = { attention: "--c0", mlp: "--c2", moe: "--c1", embedding: "--c4", head: "--c6", norm: "--c7" };

const state = readState(SCHEMA);
state.spec = state.spec.replace(/\s+/g, "+"); // a "+" in a query string reads back as a space
const app = $("#app");
const errors = errorBox(app);
const loadTensor = latest();
const loadModel = latest();
let data = null;
let view = null;
let modelLayout = null;

function save() {
  writeState(state, SCHEMA);
}

function q(s) {
  return encodeURIComponent(s).replaceAll("%2C", ",").replaceAll("%3A", ":");
}

// ------------------------------------------------------------------ tensor mode

function axisNames() {
  return state.axes.split(",").map((p) => p.split(":")[0].trim()).filter(Boolean);
}

function shapeDims() {
  return state.shape.split(",").map((s) => s.trim()).filter(Boolean);
}

/** Pad or trim the spec to the tensor's rank (new dimensions start unsharded). */
function fitSpec() {
  const dims = shapeDims().length;
  const spec = parseSpecText(state.spec);
  while (spec.length < dims) spec.push([]);
  spec.length = Math.max(1, dims);
  state.spec = formatSpec(spec);
}

async function refreshTensor(animate = true) {
  save();
  syncTensorInputs();
  renderDimPickers();
  let next;
  try {
    next = await loadTensor(`/api/v1/sharding?axes=${q(state.axes)}&shape=${q(state.shape)}&spec=${q(state.spec)}`);
  } catch (err) {
    if (err.name === "AbortError") return;
    errors.show(err);
    if (!view) $("#sh-view").textContent = "Fix the mesh, shape or spec above to draw the shard map.";
    const field = err.detail && err.detail[0] && err.detail[0].loc ? err.detail[0].loc[err.detail[0].loc.length - 1] : "";
    for (const id of ["axes", "shape", "spec"]) $(`#sh-${id}`).toggleAttribute("aria-invalid", id === field);
    app.dataset.state = "error";
    return;
  }
  errors.clear();
  for (const id of ["axes", "shape", "spec"]) $(`#sh-${id}`).removeAttribute("aria-invalid");
  data = next;
  if (state.device >= data.world_size) state.device = -1;
  if (state.block >= data.blocks.length) state.block = -1;
  save();
  if (!view) {
    clear($("#sh-view"));
    view = mount($("#sh-view"), {
      data,
      device: state.device,
      block: state.block,
      onPickBlock: (f) => {
        state.block = f;
        state.device = -1;
        save();
        view.update({ block: f, device: -1 });
        renderPicks();
      },
    });
  } else {
    view.update({ data, device: state.device, block: state.block, animate });
  }
  app.dataset.state = "ready";
  renderDimPickers();
  renderReadout();
  renderChips();
  renderPicks();
}

function syncTensorInputs() {
  for (const id of ["axes", "shape", "spec"]) {
    const el = $(`#sh-${id}`);
    if (document.activeElement !== el) el.value = state[id];
  }
  const key = `${state.axes}|${state.shape}|${state.spec}`;
  $("#sh-preset").value = EXAMPLES.some((e) => `${e.axes}|${e.shape}|${e.spec}` === key) ? key : "";
}

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
  const dims = shapeDims();
  const spec = parseSpecText(state.spec);
  const names = axisNames();
  dims.forEach((size, d) => {
    const current = spec[d] && spec[d].length ? spec[d].join("+") : "_";
    const choices = specChoices(names);
    if (!choices.some(([v]) => v === current)) choices.push([current, current]);
    const sel = h("select", {
      id: `sh-dim-${d}`,
      onchange: (e) => {
        const next = parseSpecText(state.spec);
        while (next.length < dims.length) next.push([]);
        next[d] = e.target.value === "_" ? [] : e.target.value.split("+");
        state.spec = formatSpec(next);
        state.block = -1;
        refreshTensor(true);
      },
    }, choices.map(([v, label]) => h("option", { value: v, selected: v === current }, label)));
    box.append(h("div", { class: "control sharding-dim" }, h("label", { for: `sh-dim-${d}` }, `dim ${d} · size ${fmtInt(Number(size) || 0)}`), sel));
  });
}

function metric(label, value, sub, id) {
  return h("div", { class: "metric" }, h("div", { class: "label" }, label), h("div", { class: "value", id }, value), sub ? h("div", { class: "sub" }, sub) : null);
}

function renderReadout() {
  const box = $("#sh-readout");
  clear(box);
  const total = data.shape.reduce((a, b) => a * b, 1);
  const per = data.shard_shape.reduce((a, b) => a * b, 1);
  const pct = total ? (100 * per) / total : 0;
  box.append(
    h("p", { class: "sharding-pspec" },
      h("code", { id: "sh-pspec" }, partitionSpec(data.spec)),
      h("span", { class: "muted" }, ` on Mesh(${data.axis_names.map((n, i) => `'${n}': ${data.mesh_shape[i]}`).join(", ")}) · ${fmtInt(data.world_size)} devices`)),
    h("div", { class: "metrics" },
      metric("shard shape", tupleText(data.shard_shape), `of ${tupleText(data.shape)}`, "sh-shard-shape"),
      metric("blocks", data.grid.map(fmtInt).join(" × "), `${fmtInt(data.blocks.length)} distinct shards`),
      metric("each device holds", `${fmtInt(per)} of ${fmtInt(total)}`, `elements (${pct >= 1 ? pct.toFixed(pct >= 10 ? 0 : 1) : pct.toPrecision(2)}%)`, "sh-holds"),
      metric("copies of every element", fmtInt(data.replication), data.replicated_axes.length ? `replicated over ${data.replicated_axes.join(", ")}` : "no replication", "sh-copies"),
    ),
    h("p", { class: "sharding-sentence", id: "sh-sentence" },
      `Each device holds ${fmtInt(per)} of ${fmtInt(total)} elements (${fmtInt(data.replication)} ${data.replication === 1 ? "copy" : "copies"} of every element).`),
  );
  const legend = $("#sh-legend");
  clear(legend);
  // Up to 8 blocks (a dp 2 × tp 4 tensor) get their own entry; larger grids get a sample.
  const shown = data.blocks.length <= 8 ? data.blocks.length : 6;
  for (let f = 0; f < shown; f += 1) {
    const sw = h("span", { class: "swatch" });
    sw.style.background = blockColour(f);
    const b = data.blocks[f];
    legend.append(h("span", { class: "legend-item" }, sw, `block (${b.block.join(", ")}) → rank${b.ranks.length > 1 ? "s" : ""} ${b.ranks.length <= 4 ? b.ranks.join(", ") : `${b.ranks.slice(0, 3).join(", ")}, … (${b.ranks.length})`}`));
  }
  if (data.blocks.length > shown) {
    const repeat = data.blocks.length > 30 ? "; colours repeat every 30 blocks, hover a block for its ranks" : "";
    legend.append(h("span", { class: "legend-item", id: "sh-legend-more" }, `… ${fmtInt(data.blocks.length - shown)} more blocks${repeat}`));
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
    frag.append(
      h("button", { type: "button", class: "chip", dataset: { rank: String(r) }, "aria-pressed": "false", "aria-label": `rank ${r} (${coords})` },
        sw, h("span", { class: "chip-rank" }, String(r)), data.world_size <= 64 ? h("span", { class: "chip-coords" }, coords) : null),
    );
  });
  box.append(frag);
}

function deviceLines(r) {
  const d = data.devices[r];
  return [
    `Rank ${r}`,
    ...data.axis_names.map((n) => [n, d.coords[n]]),
    ["holds", rangeText(d.index)],
    ["block", `(${d.block.join(", ")})`],
    ["replica", `${d.replica} of ${data.replication}`],
  ];
}

function renderPicks() {
  const chips = $("#sh-chips");
  const lit = new Set();
  if (state.block >= 0 && data.blocks[state.block]) for (const r of data.blocks[state.block].ranks) lit.add(r);
  for (const chip of chips.children) {
    const r = Number(chip.dataset.rank);
    chip.setAttribute("aria-pressed", String(r === state.device));
    chip.classList.toggle("lit", lit.has(r));
  }
  const bi = $("#sh-block-info");
  const di = $("#sh-device-info");
  clear(bi);
  clear(di);
  if (state.block >= 0 && data.blocks[state.block]) {
    const b = data.blocks[state.block];
    bi.append(h("b", {}, `Block (${b.block.join(", ")})`), ` = elements ${rangeText(b.index)}, held by ${b.ranks.length === 1 ? "rank" : `${b.ranks.length} ranks:`} ${b.ranks.length <= 32 ? b.ranks.join(", ") : `${b.ranks.slice(0, 32).join(", ")}, …`} (lit below).`);
  } else {
    bi.append(h("span", { class: "muted" }, "Click a block (or Tab to the drawing and use the arrow keys, Enter to pick) to light up every device that holds a copy."));
  }
  if (state.device >= 0 && data.devices[state.device]) {
    const d = data.devices[state.device];
    di.append(h("b", {}, `Rank ${state.device}`), ` (${data.axis_names.map((n) => `${n} ${d.coords[n]}`).join(", ")}) holds block (${d.block.join(", ")}): elements ${rangeText(d.index)}, replica ${d.replica} of ${data.replication}.`);
  }
  app.dataset.device = String(state.device);
  app.dataset.block = String(state.block);
}

$("#sh-chips").addEventListener("click", (e) => {
  const chip = e.target.closest(".chip");
  if (!chip) return;
  const r = Number(chip.dataset.rank);
  state.device = state.device === r ? -1 : r;
  state.block = -1;
  save();
  view.update({ device: state.device, block: -1 });
  renderPicks();
});
for (const type of ["mouseover", "focusin"]) {
  $("#sh-chips").addEventListener(type, (e) => {
    const chip = e.target.closest(".chip");
    if (!chip || !data) return;
    const r = Number(chip.dataset.rank);
    const box = chip.getBoundingClientRect();
    showTip(type === "focusin" ? { clientX: box.right, clientY: box.bottom } : e, deviceLines(r));
  });
}
$("#sh-chips").addEventListener("mouseleave", hideTip);
$("#sh-chips").addEventListener("focusout", hideTip);

for (const id of ["axes", "shape", "spec"]) {
  $(`#sh-${id}`).addEventListener("change", (e) => {
    state[id] = e.target.value.trim().replace(/\s+/g, id === "spec" ? "+" : "");
    if (id === "shape") fitSpec();
    state.block = -1;
    refreshTensor(true);
  });
}
$("#sh-preset").addEventListener("change", (e) => {
  const ex = EXAMPLES.find((x) => `${x.axes}|${x.shape}|${x.spec}` === e.target.value);
  if (!ex) return;
  Object.assign(state, { axes: ex.axes, shape: ex.shape, spec: ex.spec, device: -1, block: -1 });
  refreshTensor(true);
});
$("#sh-preset").append(...EXAMPLES.map((x) => h("option", { value: `${x.axes}|${x.shape}|${x.spec}` }, x.title)));

// ------------------------------------------------------------------ model mode

const MODEL_KEYS = ["model", "tp", "dp", "ep", "pp", "zero", "dtype"];

async function refreshModel() {
  save();
  for (const k of MODEL_KEYS) {
    const el = $(`#md-${k}`);
    if (el && document.activeElement !== el) el.value = String(state[k]);
  }
  try {
    modelLayout = await loadModel(`/api/v1/sharding/model?${MODEL_KEYS.map((k) => `${k}=${encodeURIComponent(state[k])}`).join("&")}`);
  } catch (err) {
    if (err.name === "AbortError") return;
    errors.show(err);
    return;
  }
  errors.clear();
  renderModel();
}

function specToP(text) {
  return partitionSpec(parseSpecText(text));
}

function renderModel() {
  const L = modelLayout;
  const m = $("#md-metrics");
  clear(m);
  const names = { dense_layer: "one dense layer", moe_layer: "one MoE layer", embedding: "embedding", head: "LM head" };
  const stage = metric("stage mesh", L.axes.replaceAll(",", ", "), `${L.dtype}, ${L.bits_per_element} bits per weight`);
  stage.classList.add("md-stage");
  m.append(stage);
  for (const [k, v] of Object.entries(L.bytes_per_rank)) m.append(metric(`${names[k] || k} / device`, fmtBytes(v), "weights only"));
  const legend = $("#md-legend");
  clear(legend);
  const parts = [...new Set(L.weights.map((w) => w.part))];
  for (const p of parts) {
    const sw = h("span", { class: "swatch" });
    sw.style.background = cssVar(PART_VARS[p] || "--c5");
    legend.append(h("span", { class: "legend-item" }, sw, p));
  }
  legend.append(h("span", { class: "legend-item muted" }, "Bar = bytes per device relative to the largest weight. Click a weight to draw its shard map."));
  const max = Math.max(1, ...L.weights.map((w) => w.bytes_per_rank));
  const tbody = $("#md-table tbody");
  clear(tbody);
  for (const w of L.weights) {
    const bar = h("span", { class: "md-bar-fill" });
    bar.style.width = `${(100 * w.bytes_per_rank) / max}%`;
    bar.style.background = cssVar(PART_VARS[w.part] || "--c5");
    const tip = [`${w.name} (${w.part})`, ["shape", tupleText(w.shape)], ["spec", specToP(w.spec)], ["shard", tupleText(w.shard_shape)],
      ["whole weight", fmtBytes(w.bytes)], ["per device", fmtBytes(w.bytes_per_rank)], ["layers holding it", fmtInt(w.layers)]];
    const drawable = w.shape.length <= 4;
    tbody.append(
      h("tr", {},
        h("td", {}, drawable
          ? h("button", { type: "button", class: "md-draw", title: "Draw this weight's shard map", onclick: () => {
            Object.assign(state, { mode: "tensor", axes: L.axes, shape: w.shape.join(","), spec: w.spec, device: -1, block: -1 });
            setMode("tensor");
          } }, w.name)
          : w.name),
        h("td", { class: "mono" }, tupleText(w.shape)),
        h("td", { class: "mono" }, specToP(w.spec)),
        h("td", {}, w.style),
        h("td", { class: "mono" }, tupleText(w.shard_shape)),
        h("td", { class: "num" }, fmtBytes(w.bytes_per_rank)),
        h("td", { class: "md-bar-col" }, h("span", { class: "md-bar", onmouseenter: (e) => showTip(e, tip), onmouseleave: hideTip }, bar)),
      ),
    );
  }
  const notes = $("#md-notes");
  clear(notes);
  for (const n of L.notes) notes.append(h("li", {}, n));
}

for (const k of MODEL_KEYS) {
  const el = $(`#md-${k}`);
  el.addEventListener("change", () => {
    const v = el.type === "number" || k === "zero" ? Number.parseInt(el.value, 10) : el.value;
    if (typeof v === "number" && !(v >= 0)) {
      el.setAttribute("aria-invalid", "true");
      return;
    }
    el.removeAttribute("aria-invalid");
    state[k] = v;
    refreshModel();
  });
}

async function loadModels() {
  const sel = $("#md-model");
  try {
    const cat = await fetchJSON("/api/v1/presets/models");
    clear(sel);
    for (const m of cat.models) sel.append(h("option", { value: m.name }, m.title));
    sel.value = state.model;
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
setMode(state.mode);
