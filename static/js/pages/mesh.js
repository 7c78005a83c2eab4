// /mesh and /embed/mesh: read the URL, fetch /api/v1/mesh, mount the mesh view, wire the axis
// editor, presets, colour choice and the GPU inspector, and keep the URL in step.
//
// The mesh's own parameters (axes, gpus_per_node) go to the API exactly as the URL has them;
// an absent one is the API's default, and the inputs show the `query` the API echoes. Presets,
// conventional axis names and the axis-count limit come from the API too.
import { errorBox, fetchJSON, latest } from "../lib/api.js";
import { cssVar, groupColor } from "../lib/colors.js";
import { $, clear, h } from "../lib/dom.js";
import { fmtInt } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { onThemeChange } from "../lib/theme.js";
import { apiQuery, readState, writeState } from "../lib/urlstate.js";
import { formatAxes, groupKeys, groupRanks } from "../views/mesh-layout.js";
import { axisColorVars, defaultColorAxis, mount, normaliseMesh } from "../views/mesh.js";

const API_KEYS = ["axes", "gpus_per_node"];
const SCHEMA = {
  axes: { type: "str", default: null },
  gpus_per_node: { type: "str", default: null },
  color: { type: "str", default: "" },
  by: { type: "str", default: "group", choices: ["group", "coord"] },
  rank: { type: "int", default: -1, min: -1 },
};

const state = readState(SCHEMA);
const app = $("#app");
const errors = errorBox(app);
const load = latest();
const axesInput = $("#mesh-axes");
const gpnInput = $("#mesh-gpn");
const presetSelect = $("#mesh-preset");
const catalogue = { meshes: [], axes: [], maxAxes: Infinity }; // from /api/v1/presets/meshes, /limits
let mesh = null; // last good API response, normalised (typed arrays, strides)
let view = null;
let hoverRank = -1;

function colorAxis() {
  if (state.color === "node" || mesh.axis_names.includes(state.color)) return state.color;
  return defaultColorAxis(mesh);
}

function meshUrl() {
  const q = apiQuery(state, API_KEYS);
  return `/api/v1/mesh?${q ? `${q}&` : ""}format=columns&include=ranks`;
}

let inflight = null; // {url, promise}: an Enter then a change event must not fetch twice

function refresh(animate = true) {
  const url = meshUrl();
  if (inflight && inflight.url === url) return inflight.promise;
  const promise = refreshNow(url, animate).finally(() => {
    if (inflight && inflight.promise === promise) inflight = null;
  });
  inflight = { url, promise };
  return promise;
}

async function refreshNow(url, animate) {
  writeState(state, SCHEMA);
  let data;
  try {
    data = await load(url);
  } catch (err) {
    if (err.name !== "AbortError") showError(err);
    return;
  }
  showMesh(data, animate);
}

/** The API's message in the page, and the field it names marked invalid. */
function showError(err) {
  errors.show(err);
  if (!view) $("#mesh-view").textContent = "Fix the axes above to draw the mesh.";
  const loc = err.detail && err.detail[0] && err.detail[0].loc;
  const field = loc ? loc[loc.length - 1] : "axes";
  axesInput.setAttribute("aria-invalid", String(field !== "gpus_per_node"));
  gpnInput.setAttribute("aria-invalid", String(field === "gpus_per_node"));
  if (document.activeElement !== axesInput) axesInput.value = state.axes ?? axesInput.value;
  app.dataset.state = "error";
}

function showMesh(data, animate) {
  errors.clear();
  axesInput.removeAttribute("aria-invalid");
  gpnInput.removeAttribute("aria-invalid");
  mesh = normaliseMesh(data);
  if (state.rank >= mesh.world_size) {
    state.rank = -1; // a rank this mesh does not have: no pin, and none in the URL
    writeState(state, SCHEMA);
  }
  if (!view) mountView(data);
  else view.update({ mesh: data, colorBy: colorAxis(), colorMode: state.by, selected: state.rank, animate });
  app.dataset.world = String(mesh.world_size);
  app.dataset.mesh = `${mesh.query.axes}|${mesh.query.gpus_per_node}`;
  app.dataset.state = "ready";
  syncInputs();
  renderEditor();
  renderColourButtons();
  renderLegend();
  renderInspector();
  renderSummary();
}

function mountView(data) {
  clear($("#mesh-view"));
  view = mount($("#mesh-view"), {
    mesh: data,
    colorBy: colorAxis(),
    colorMode: state.by,
    selected: state.rank,
    onHover: (r) => {
      hoverRank = r;
      renderInspector();
    },
    onSelect: (r) => {
      state.rank = r;
      writeState(state, SCHEMA);
      view.update({ selected: r });
      renderInspector();
    },
  });
}

function presetKey(p) {
  return `${p.axes}|${p.gpus_per_node}`;
}

function syncInputs() {
  if (!mesh) return;
  if (document.activeElement !== axesInput) axesInput.value = mesh.query.axes;
  gpnInput.value = String(mesh.query.gpus_per_node);
  const key = presetKey(mesh.query);
  const preset = catalogue.meshes.find((p) => presetKey(p) === key);
  presetSelect.value = preset ? key : "";
  const note = $("#mesh-preset-note");
  clear(note);
  note.hidden = !(preset && preset.kind === "published");
  if (note.hidden) return;
  note.append(`${preset.title}: ${preset.source}. ${preset.notes} `, h("a", { href: `/memory?${preset.memory_query}` }, "Memory per GPU for this layout →"));
}

// ------------------------------------------------------------------ axis editor

function editAxes(mutate) {
  const axes = mesh.axis_names.map((name, i) => ({ name, size: mesh.shape[i] }));
  mutate(axes);
  state.axes = formatAxes(axes);
  refresh(true);
}

function stepButton(glyph, label, title, disabled, mutate) {
  return h("button", { type: "button", "aria-label": label, title, disabled, onclick: () => editAxes(mutate) }, glyph);
}

/** One axis of the editor: its colour and name, − size +, and ← → × to reorder or remove. */
function axisControl(name, size, i, count, colour) {
  const sizeInput = h("input", {
    type: "number", min: "1", step: "1", value: String(size), "aria-label": `${name} size`, class: "mesh-size",
    onchange: (e) => {
      const v = Number.parseInt(e.target.value, 10);
      if (v >= 1) editAxes((ax) => (ax[i].size = v));
    },
  });
  const swatch = h("span", { class: "swatch" });
  swatch.style.background = colour;
  return h("div", { class: "mesh-axis", dataset: { axis: name } },
    h("span", { class: "mesh-axis-name" }, swatch, h("b", {}, name)),
    h("span", { class: "mesh-stepper" },
      stepButton("−", `halve ${name}`, `halve ${name}`, size <= 1, (ax) => (ax[i].size = ax[i].size % 2 ? ax[i].size - 1 : ax[i].size / 2)),
      sizeInput,
      stepButton("+", `double ${name}`, `double ${name}`, false, (ax) => (ax[i].size *= 2))),
    h("span", { class: "mesh-order" },
      stepButton("←", `move ${name} outward`, "move outward (earlier in the list)", i === 0, (ax) => ax.splice(i - 1, 2, ax[i], ax[i - 1])),
      stepButton("→", `move ${name} inward`, "move inward (later in the list)", i === count - 1, (ax) => ax.splice(i, 2, ax[i + 1], ax[i])),
      stepButton("×", `remove ${name}`, `remove ${name}`, count <= 1, (ax) => ax.splice(i, 1))),
  );
}

function renderEditor() {
  const box = $("#mesh-axis-editor");
  const vars = axisColorVars(mesh.axis_names);
  clear(box);
  mesh.axis_names.forEach((name, i) => box.append(axisControl(name, mesh.shape[i], i, mesh.axis_names.length, cssVar(vars[name]))));
  const unused = catalogue.axes.find((c) => !mesh.axis_names.includes(c.name));
  if (unused && mesh.axis_names.length < catalogue.maxAxes) {
    box.append(h("button", { type: "button", class: "mesh-add", title: `add a ${unused.title} axis`, onclick: () => editAxes((ax) => ax.unshift({ name: unused.name, size: 2 })) }, `+ add ${unused.name}`));
  }
}

// ------------------------------------------------------------------ colour choice and legend

function recolour() {
  writeState(state, SCHEMA);
  view.update({ colorBy: colorAxis(), colorMode: state.by });
  renderColourButtons();
  renderLegend();
}

function renderColourButtons() {
  const box = $("#mesh-colour");
  clear(box);
  const current = colorAxis();
  for (const c of [...mesh.axis_names, "node"]) {
    box.append(h("button", { type: "button", "aria-pressed": String(c === current), dataset: { color: c }, onclick: () => {
      state.color = c;
      recolour();
    } }, c));
  }
  const mode = $("#mesh-mode");
  clear(mode);
  for (const [m, label, title] of [
    ["group", "one group", "ranks that agree on every other coordinate (they communicate)"],
    ["coord", "one coordinate", "ranks with the same index on this axis (e.g. one pipeline stage)"],
  ]) {
    mode.append(h("button", { type: "button", "aria-pressed": String(state.by === m), disabled: current === "node", dataset: { mode: m }, title, onclick: () => {
      state.by = m;
      recolour();
    } }, label));
  }
}

function summariseRanks(members) {
  if (members.length <= 6) return members.join(", ");
  const step = members[1] - members[0];
  const even = members.every((m, k) => m === members[0] + k * step);
  const head = `${members.slice(0, 3).join(", ")}, … ${members[members.length - 1]}`;
  return even && step > 1 ? `${head} (every ${fmtInt(step)}th rank)` : even ? `${members[0]}–${members[members.length - 1]}` : head;
}

function legendItem(colour, label, cls = "swatch") {
  const sw = h("span", { class: cls });
  if (cls === "swatch") sw.style.background = colour;
  else sw.style.borderColor = colour;
  return h("span", { class: "legend-item" }, sw, label);
}

/** How many colours the legend names and how many GPUs each holds, from the API's stats. */
function colourCounts(c) {
  if (c === "node") return { groups: mesh.node_count, size: mesh.gpus_per_node, what: "one node", noun: "nodes" };
  const stats = mesh.axis_stats[mesh.axis_names.indexOf(c)];
  if (state.by === "coord") return { groups: stats.size, size: stats.group_count, what: `one ${c} coordinate`, noun: `${c} coordinates` };
  return { groups: stats.group_count, size: stats.size, what: `one ${c} group`, noun: `${c} groups` };
}

function colourLabel(c, key, r) {
  if (c === "node") {
    let last = r;
    while (last + 1 < mesh.world_size && mesh.node[last + 1] === key) last += 1;
    return `node ${key}: ranks ${r}–${last}`;
  }
  if (state.by === "coord") return `${c} = ${key}`;
  return `ranks ${summariseRanks(groupRanks(mesh, mesh.axis_names.indexOf(c), r))}`;
}

function renderLegend() {
  const box = $("#mesh-legend");
  clear(box);
  const c = colorAxis();
  const { groups, size, what, noun } = colourCounts(c);
  const why = c === "node" ? "." : state.by === "coord" ? `: every GPU with the same ${c} index.` : `: GPUs that differ only in their ${c} coordinate, so they talk in ${c} collectives.`;
  box.append(h("p", { class: "mesh-legend-text" }, h("b", {}, `Cells of one colour = ${what}`),
    ` (${fmtInt(groups)} ${noun} of ${fmtInt(size)} GPU${size === 1 ? "" : "s"}${groups > 30 ? "; colours repeat after 30" : ""})`, why));
  const keys = groupKeys(mesh, c, state.by);
  const seen = new Map(); // name up to 8 colours (all of them in small meshes); hover names the rest
  for (let r = 0; r < mesh.world_size && seen.size < 8; r += 1) if (!seen.has(keys[r])) seen.set(keys[r], r);
  const groupsRow = h("div", { class: "legend" });
  for (const [k, r] of seen) groupsRow.append(legendItem(groupColor(k % 30), colourLabel(c, k, r)));
  if (groups > seen.size) groupsRow.append(h("span", { class: "legend-item" }, `… ${fmtInt(groups - seen.size)} more`));
  const vars = axisColorVars(mesh.axis_names);
  const hl = h("div", { class: "legend mesh-legend-hover" }, h("span", { class: "legend-item" }, "On hover:"));
  mesh.axis_names.forEach((n, k) => mesh.shape[k] > 1 && hl.append(legendItem(cssVar(vars[n]), `its ${n} group`)));
  hl.append(legendItem(cssVar("--text"), "the GPU", "swatch ring"), legendItem(cssVar("--accent"), `its node (${mesh.gpus_per_node} GPUs)`, "swatch ring"));
  box.append(groupsRow, hl);
}

onThemeChange(() => requestAnimationFrame(() => {
  if (!mesh) return;
  renderLegend();
  renderEditor();
  renderInspector();
}));

// ------------------------------------------------------------------ inspector

function groupItem(i, r, colour) {
  const n = mesh.axis_names[i];
  const members = groupRanks(mesh, i, r);
  const nodes = new Set(members.map((m) => mesh.node[m])).size;
  const sw = h("span", { class: "swatch" });
  sw.style.background = colour;
  return h("li", {}, sw, h("b", {}, `${n} group`), ` of ${members.length}: ranks ${summariseRanks(members)}`,
    h("span", { class: "muted" }, nodes > 1 ? ` · spans ${fmtInt(nodes)} nodes` : " · inside one node"));
}

function renderInspector() {
  const box = $("#mesh-inspector");
  clear(box);
  if (!mesh) return;
  const r = hoverRank >= 0 ? hoverRank : state.rank;
  box.dataset.rank = String(r);
  if (r < 0 || r >= mesh.world_size) {
    box.append(h("h2", { class: "panel-title" }, "GPU"),
      h("p", { class: "muted" }, "Hover or focus a GPU (Tab to the drawing, then arrow keys) to see its rank, node and coordinates and to light up its groups. Click or press Enter to pin it."));
    return;
  }
  const vars = axisColorVars(mesh.axis_names);
  const coordList = h("dl", { class: "mesh-coords" });
  mesh.axis_names.forEach((n, i) => coordList.append(h("dt", {}, n), h("dd", { dataset: { axis: n } }, String(mesh.coords[i][r]))));
  const groupList = h("ul", { class: "mesh-groups" });
  mesh.axis_names.forEach((n, i) => mesh.shape[i] > 1 && groupList.append(groupItem(i, r, cssVar(vars[n]))));
  box.append(
    h("h2", { class: "panel-title" }, state.rank === r && hoverRank < 0 ? "Pinned GPU" : "GPU"),
    h("p", { class: "mesh-rank" }, "rank ", h("b", { id: "mesh-rank-value" }, fmtInt(r))),
    h("p", {}, "node ", h("b", { id: "mesh-node-value" }, fmtInt(mesh.node[r])), " · local rank ", h("b", { id: "mesh-local-value" }, String(mesh.localRank[r]))),
    h("p", { class: "mesh-coords-title muted" }, "coordinates"),
    coordList,
    groupList,
  );
}

// ------------------------------------------------------------------ summary

function metric(label, value, sub, id) {
  return h("div", { class: "metric" }, h("div", { class: "label" }, label), h("div", { class: "value", id }, value), sub ? h("div", { class: "sub" }, sub) : null);
}

function degreesText() {
  const parts = Object.entries(mesh.degrees).filter(([, d]) => d > 1).map(([k, d]) => `${k} ${fmtInt(d)}`);
  return parts.length ? parts.join(" · ") : "1 GPU";
}

function renderAxisTable() {
  const tbody = $("#mesh-axis-table tbody");
  clear(tbody);
  const vars = axisColorVars(mesh.axis_names);
  for (const s of mesh.axis_stats) {
    const sw = h("span", { class: "swatch" });
    sw.style.background = cssVar(vars[s.name]);
    const num = (x) => h("td", { class: "num" }, fmtInt(x));
    tbody.append(h("tr", {}, h("td", {}, h("span", { class: "legend-item" }, sw, h("b", {}, s.name))),
      num(s.size), num(s.group_count), num(s.stride), num(s.nodes_per_group), num(s.groups_spanning_nodes)));
  }
}

function renderList(sel, items) {
  const el = $(sel);
  clear(el);
  el.hidden = !items.length;
  for (const text of items) el.append(h("li", {}, text));
}

function renderSummary() {
  const m = $("#mesh-metrics");
  clear(m);
  m.append(
    metric("GPUs", fmtInt(mesh.world_size), mesh.axis_names.map((n, i) => `${n} ${mesh.shape[i]}`).join(" × "), "mesh-world"),
    metric("nodes", fmtInt(mesh.node_count), `${mesh.gpus_per_node} GPUs each`, "mesh-nodes"),
    metric("parallel degrees", degreesText(), "as /memory counts them (ep inside dp)", "mesh-degrees"),
  );
  m.lastChild.classList.add("mesh-degrees-metric");
  renderList("#mesh-warnings", mesh.warnings);
  renderList("#mesh-notes", mesh.notes);
  renderAxisTable();
}

// ------------------------------------------------------------------ controls and presets

function applyAxesText() {
  state.axes = axesInput.value.trim().replace(/\s+/g, "");
  return refresh(true);
}

$("#mesh-axes-form").addEventListener("submit", (e) => {
  e.preventDefault();
  applyAxesText().then(() => axesInput.blur());
});
axesInput.addEventListener("change", applyAxesText);
gpnInput.addEventListener("change", () => {
  state.gpus_per_node = gpnInput.value.trim();
  refresh(true);
});
presetSelect.addEventListener("change", () => {
  const p = catalogue.meshes.find((q) => presetKey(q) === presetSelect.value);
  if (!p) return;
  Object.assign(state, { axes: p.axes, gpus_per_node: String(p.gpus_per_node), rank: -1 });
  refresh(true);
});

function fillPresets() {
  clear(presetSelect);
  presetSelect.append(h("option", { value: "" }, "Custom"));
  const group = (label, kind) => {
    const items = catalogue.meshes.filter((p) => p.kind === kind);
    if (items.length) presetSelect.append(h("optgroup", { label }, items.map((p) => h("option", { value: presetKey(p), title: `${p.axes} · ${p.source}` }, p.title))));
  };
  group("Published layouts", "published");
  group("Teaching meshes", "teaching");
  syncInputs();
}

async function loadCatalogue() {
  try {
    const [presets, limits] = await Promise.all([fetchJSON("/api/v1/presets/meshes"), fetchJSON("/api/v1/limits")]);
    Object.assign(catalogue, { meshes: presets.meshes, axes: presets.axes, maxAxes: limits.limits.mesh_axes.value });
  } catch (err) {
    errors.show(err);
  }
  fillPresets();
  if (mesh) renderEditor();
}

mountShareBar($("#share"), { getSvg: () => (view ? view.toSvg() : null), name: "bitmesh-mesh", embedHeight: 640 });
loadCatalogue();
refresh(false);
