// /mesh and /embed/mesh: read the URL, fetch /api/v1/mesh, mount the mesh view, wire the axis
// editor, presets, colour choice and the GPU inspector, and keep the URL in step.
import { errorBox, fetchJSON, latest } from "../lib/api.js";
import { $, clear, h } from "../lib/dom.js";
import { fmtInt } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { cssVar, groupColor } from "../lib/colors.js";
import { onThemeChange } from "../lib/theme.js";
import { readState, writeState } from "../lib/urlstate.js";
import { formatAxes, groupKeys, groupRanks, parseAxesText } from "../views/mesh-layout.js";
import { axisColorVars, mount } from "../views/mesh.js";

const SCHEMA = {
  axes: { type: "str", default: "pp:2,dp:2,tp:4" },
  gpus_per_node: { type: "int", default: 8, min: 1, max: 576 },
  color: { type: "str", default: "" },
  by: { type: "str", default: "group", choices: ["group", "coord"] },
  rank: { type: "int", default: -1, min: -1 },
};

// Small meshes that teach one thing each; the real layouts come from /api/v1/presets/parallel.
const TEACHING = [
  { title: "Teaching: pp 2 × dp 2 × tp 4 (16 GPUs)", axes: "pp:2,dp:2,tp:4", gpus_per_node: 8 },
  { title: "Teaching: dp 4 × tp 4, TP inside each node", axes: "dp:4,tp:4", gpus_per_node: 4 },
  { title: "Teaching: tp outermost, TP groups strided across nodes", axes: "tp:4,dp:4", gpus_per_node: 4 },
  { title: "Teaching: tp 8 on 4-GPU nodes (TP spans nodes)", axes: "dp:2,tp:8", gpus_per_node: 4 },
];

const state = readState(SCHEMA);
const app = $("#app");
const errors = errorBox(app);
const load = latest();
const axesInput = $("#mesh-axes");
const gpnInput = $("#mesh-gpn");
const presetSelect = $("#mesh-preset");
let presets = TEACHING.slice();
let mesh = null; // last good API response
let view = null;
let hoverRank = -1;

function colorAxis() {
  if (!mesh) return state.color || "";
  if (state.color === "node" || mesh.axis_names.includes(state.color)) return state.color;
  for (let i = mesh.axis_names.length - 1; i >= 0; i -= 1) if (mesh.shape[i] > 1) return mesh.axis_names[i];
  return mesh.axis_names[mesh.axis_names.length - 1];
}

function meshUrl() {
  const axes = encodeURIComponent(state.axes).replaceAll("%2C", ",").replaceAll("%3A", ":");
  return `/api/v1/mesh?axes=${axes}&gpus_per_node=${state.gpus_per_node}&format=columnar&include=ranks`;
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
  syncInputs();
  let data;
  try {
    data = await load(url);
  } catch (err) {
    if (err.name === "AbortError") return;
    errors.show(err);
    if (!view) $("#mesh-view").textContent = "Fix the axes above to draw the mesh.";
    axesInput.setAttribute("aria-invalid", "true");
    app.dataset.state = "error";
    return;
  }
  errors.clear();
  axesInput.removeAttribute("aria-invalid");
  mesh = data;
  if (state.rank >= mesh.world_size) state.rank = -1;
  const colorBy = colorAxis();
  if (!view) {
    clear($("#mesh-view"));
    view = mount($("#mesh-view"), {
      mesh,
      colorBy,
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
  } else {
    view.update({ mesh, colorBy, colorMode: state.by, selected: state.rank, animate });
  }
  app.dataset.world = String(mesh.world_size);
  app.dataset.mesh = `${mesh.axis_names.map((n, i) => `${n}:${mesh.shape[i]}`).join(",")}|${mesh.gpus_per_node}`;
  app.dataset.state = "ready";
  renderEditor();
  renderColourButtons();
  renderLegend();
  renderInspector();
  renderSummary();
}

function syncInputs() {
  if (document.activeElement !== axesInput) axesInput.value = state.axes;
  gpnInput.value = String(state.gpus_per_node);
  const key = `${state.axes}|${state.gpus_per_node}`;
  const preset = presets.find((p) => `${p.axes}|${p.gpus_per_node}` === key);
  presetSelect.value = preset ? key : "";
  const note = $("#mesh-preset-note");
  note.hidden = !(preset && preset.source);
  note.textContent = preset && preset.source ? `${preset.title}: ${preset.source}. ${preset.notes || ""}` : "";
}

// ------------------------------------------------------------------ axis editor

function editAxes(mutate) {
  const axes = parseAxesText(state.axes);
  if (!axes) return;
  mutate(axes);
  state.axes = formatAxes(axes);
  refresh(true);
}

function renderEditor() {
  const box = $("#mesh-axis-editor");
  const axes = parseAxesText(state.axes) || [];
  const vars = axisColorVars(axes.map((a) => a.name));
  clear(box);
  axes.forEach((a, i) => {
    const sizeInput = h("input", {
      type: "number",
      min: "1",
      step: "1",
      value: String(a.size),
      "aria-label": `${a.name} size`,
      class: "mesh-size",
      onchange: (e) => {
        const v = Number.parseInt(e.target.value, 10);
        if (v >= 1) editAxes((ax) => (ax[i].size = v));
      },
    });
    const swatch = h("span", { class: "swatch" });
    swatch.style.background = cssVar(vars[a.name]);
    box.append(
      h("div", { class: "mesh-axis", dataset: { axis: a.name } },
        h("span", { class: "mesh-axis-name" }, swatch, h("b", {}, a.name)),
        h("span", { class: "mesh-stepper" },
          h("button", { type: "button", "aria-label": `halve ${a.name}`, title: `halve ${a.name}`, disabled: a.size <= 1,
            onclick: () => editAxes((ax) => (ax[i].size = ax[i].size % 2 ? ax[i].size - 1 : ax[i].size / 2)) }, "−"),
          sizeInput,
          h("button", { type: "button", "aria-label": `double ${a.name}`, title: `double ${a.name}`,
            onclick: () => editAxes((ax) => (ax[i].size *= 2)) }, "+")),
        h("span", { class: "mesh-order" },
          h("button", { type: "button", "aria-label": `move ${a.name} outward`, title: "move outward (earlier in the list)", disabled: i === 0,
            onclick: () => editAxes((ax) => ax.splice(i - 1, 2, ax[i], ax[i - 1])) }, "←"),
          h("button", { type: "button", "aria-label": `move ${a.name} inward`, title: "move inward (later in the list)", disabled: i === axes.length - 1,
            onclick: () => editAxes((ax) => ax.splice(i, 2, ax[i + 1], ax[i])) }, "→"),
          h("button", { type: "button", "aria-label": `remove ${a.name}`, title: `remove ${a.name}`, disabled: axes.length <= 1,
            onclick: () => editAxes((ax) => ax.splice(i, 1)) }, "×")),
      ),
    );
  });
  const unused = ["dp", "tp", "pp", "cp", "ep", "sp"].find((n) => !axes.some((a) => a.name === n));
  if (unused && axes.length < 8) {
    box.append(h("button", { type: "button", class: "mesh-add", onclick: () => editAxes((ax) => ax.unshift({ name: unused, size: 2 })) }, `+ add ${unused}`));
  }
}

// ------------------------------------------------------------------ colour choice and legend

function renderColourButtons() {
  const box = $("#mesh-colour");
  clear(box);
  const current = colorAxis();
  const recolour = () => {
    writeState(state, SCHEMA);
    view.update({ colorBy: colorAxis(), colorMode: state.by });
    renderColourButtons();
    renderLegend();
  };
  for (const c of [...mesh.axis_names, "node"]) {
    box.append(
      h("button", { type: "button", "aria-pressed": String(c === current), dataset: { color: c },
        onclick: () => {
          state.color = c;
          recolour();
        } }, c),
    );
  }
  const mode = $("#mesh-mode");
  clear(mode);
  for (const [m, label] of [["group", "one group"], ["coord", "one coordinate"]]) {
    mode.append(
      h("button", { type: "button", "aria-pressed": String(state.by === m), disabled: current === "node", dataset: { mode: m },
        title: m === "group" ? "ranks that agree on every other coordinate (they communicate)" : "ranks with the same index on this axis (e.g. one pipeline stage)",
        onclick: () => {
          state.by = m;
          recolour();
        } }, label),
    );
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

function renderLegend() {
  const box = $("#mesh-legend");
  clear(box);
  const c = colorAxis();
  const i = mesh.axis_names.indexOf(c);
  const byCoord = c !== "node" && state.by === "coord";
  const groups = c === "node" ? mesh.node_count : byCoord ? mesh.shape[i] : mesh.world_size / mesh.shape[i];
  const size = c === "node" ? mesh.gpus_per_node : byCoord ? mesh.world_size / mesh.shape[i] : mesh.shape[i];
  const repeat = groups > 30 ? "; colours repeat after 30" : "";
  const what = c === "node" ? "one node" : byCoord ? `one ${c} coordinate` : `one ${c} group`;
  const noun = c === "node" ? "nodes" : byCoord ? `${c} coordinates` : `${c} groups`;
  box.append(
    h("p", { class: "mesh-legend-text" },
      h("b", {}, `Cells of one colour = ${what}`),
      ` (${fmtInt(groups)} ${noun} of ${fmtInt(size)} GPU${size === 1 ? "" : "s"}${repeat})`,
      byCoord ? `: every GPU with the same ${c} index.` : c === "node" ? "." : `: GPUs that differ only in their ${c} coordinate, so they talk in ${c} collectives.`),
  );
  const keys = groupKeys({ ...mesh }, c, state.by);
  const seen = new Map();
  // Name up to 8 colours (all of them in small meshes); hover names the rest.
  for (let r = 0; r < mesh.world_size && seen.size < 8; r += 1) if (!seen.has(keys[r])) seen.set(keys[r], r);
  const groupsRow = h("div", { class: "legend" });
  for (const [k, r] of seen) {
    let text;
    if (c === "node") text = `node ${Math.floor(r / mesh.gpus_per_node)}: ranks ${r}–${Math.min(mesh.world_size - 1, r + mesh.gpus_per_node - 1)}`;
    else if (byCoord) text = `${c} = ${k}`;
    else text = `ranks ${summariseRanks(groupRanks(mesh.shape, i, r))}`;
    groupsRow.append(legendItem(groupColor(k % 30), text));
  }
  if (groups > seen.size) groupsRow.append(h("span", { class: "legend-item" }, `… ${fmtInt(groups - seen.size)} more`));
  const vars = axisColorVars(mesh.axis_names);
  const hl = h("div", { class: "legend mesh-legend-hover" }, h("span", { class: "legend-item" }, "On hover:"));
  mesh.axis_names.forEach((n, k) => {
    if (mesh.shape[k] > 1) hl.append(legendItem(cssVar(vars[n]), `its ${n} group`));
  });
  hl.append(legendItem(cssVar("--text"), "the GPU", "swatch ring"), legendItem(cssVar("--accent"), `its node (${mesh.gpus_per_node} GPUs)`, "swatch ring"));
  box.append(groupsRow, hl);
}

onThemeChange(() => requestAnimationFrame(() => {
  if (mesh) {
    renderLegend();
    renderEditor();
    renderInspector();
  }
}));

// ------------------------------------------------------------------ inspector

function renderInspector() {
  const box = $("#mesh-inspector");
  clear(box);
  if (!mesh) return;
  const r = hoverRank >= 0 ? hoverRank : state.rank;
  box.dataset.rank = String(r);
  if (r < 0 || r >= mesh.world_size) {
    box.append(
      h("h2", { class: "panel-title" }, "GPU"),
      h("p", { class: "muted" }, "Hover or focus a GPU (Tab to the drawing, then arrow keys) to see its rank, node and coordinates and to light up its groups. Click or press Enter to pin it."),
    );
    return;
  }
  const cols = mesh.ranks.coords;
  const node = mesh.ranks.node[r];
  const vars = axisColorVars(mesh.axis_names);
  const coordList = h("dl", { class: "mesh-coords" });
  mesh.axis_names.forEach((n) => {
    coordList.append(h("dt", {}, n), h("dd", { dataset: { axis: n } }, String(cols[n][r])));
  });
  const groupList = h("ul", { class: "mesh-groups" });
  mesh.axis_names.forEach((n, i) => {
    if (mesh.shape[i] < 2) return;
    const members = groupRanks(mesh.shape, i, r);
    const nodes = new Set(members.map((m) => Math.floor(m / mesh.gpus_per_node))).size;
    const sw = h("span", { class: "swatch" });
    sw.style.background = cssVar(vars[n]);
    groupList.append(
      h("li", {}, sw, h("b", {}, `${n} group`), ` of ${members.length}: ranks ${summariseRanks(members)}`,
        h("span", { class: "muted" }, nodes > 1 ? ` · spans ${fmtInt(nodes)} nodes` : " · inside one node")),
    );
  });
  box.append(
    h("h2", { class: "panel-title" }, state.rank === r && hoverRank < 0 ? "Pinned GPU" : "GPU"),
    h("p", { class: "mesh-rank" }, "rank ", h("b", { id: "mesh-rank-value" }, fmtInt(r))),
    h("p", {}, "node ", h("b", { id: "mesh-node-value" }, fmtInt(node)), " · local rank ", h("b", { id: "mesh-local-value" }, String(mesh.ranks.local_rank[r]))),
    h("p", { class: "mesh-coords-title muted" }, "coordinates"),
    coordList,
    groupList,
  );
}

// ------------------------------------------------------------------ summary

function renderSummary() {
  const m = $("#mesh-metrics");
  clear(m);
  const metric = (label, value, sub) => h("div", { class: "metric" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), sub ? h("div", { class: "sub" }, sub) : null);
  m.append(
    metric("GPUs", fmtInt(mesh.world_size), mesh.axis_names.map((n, i) => `${n} ${mesh.shape[i]}`).join(" × ")),
    metric("nodes", fmtInt(mesh.node_count), `${mesh.gpus_per_node} GPUs each`),
    metric("axes", String(mesh.axis_names.length), "outermost first"),
  );
  const w = $("#mesh-warnings");
  clear(w);
  w.hidden = !mesh.warnings.length;
  for (const text of mesh.warnings) w.append(h("li", {}, text));
  const tbody = $("#mesh-axis-table tbody");
  clear(tbody);
  const vars = axisColorVars(mesh.axis_names);
  for (const s of mesh.axis_stats) {
    const sw = h("span", { class: "swatch" });
    sw.style.background = cssVar(vars[s.name]);
    tbody.append(
      h("tr", {},
        h("td", {}, h("span", { class: "legend-item" }, sw, h("b", {}, s.name))),
        h("td", { class: "num" }, fmtInt(s.size)),
        h("td", { class: "num" }, fmtInt(s.group_count)),
        h("td", { class: "num" }, fmtInt(s.stride)),
        h("td", { class: "num" }, fmtInt(s.nodes_per_group)),
        h("td", { class: "num" }, fmtInt(s.groups_spanning_nodes)),
      ),
    );
  }
}

// ------------------------------------------------------------------ controls

$("#mesh-axes-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = axesInput.value.trim().replace(/\s+/g, "");
  state.axes = text;
  refresh(true).then(() => axesInput.blur());
});
axesInput.addEventListener("change", () => {
  state.axes = axesInput.value.trim().replace(/\s+/g, "");
  refresh(true);
});
gpnInput.addEventListener("change", () => {
  const v = Number.parseInt(gpnInput.value, 10);
  if (!(v >= 1 && v <= 576)) {
    gpnInput.setAttribute("aria-invalid", "true");
    return;
  }
  gpnInput.removeAttribute("aria-invalid");
  state.gpus_per_node = v;
  refresh(true);
});
presetSelect.addEventListener("change", () => {
  const p = presets.find((q) => `${q.axes}|${q.gpus_per_node}` === presetSelect.value);
  if (!p) return;
  state.axes = p.axes;
  state.gpus_per_node = p.gpus_per_node;
  state.rank = -1;
  refresh(true);
});

function fillPresets() {
  clear(presetSelect);
  presetSelect.append(h("option", { value: "" }, "Custom"));
  const real = presets.filter((p) => !p.title.startsWith("Teaching"));
  const teach = presets.filter((p) => p.title.startsWith("Teaching"));
  const group = (label, items) =>
    h("optgroup", { label }, items.map((p) => h("option", { value: `${p.axes}|${p.gpus_per_node}`, title: `${p.axes} · ${p.source || ""}` }, p.title)));
  if (real.length) presetSelect.append(group("Published layouts", real));
  presetSelect.append(group("Teaching meshes", teach));
  syncInputs();
}

async function loadPresets() {
  try {
    const data = await fetchJSON("/api/v1/presets/parallel");
    presets = [...data.presets.map((p) => ({ title: p.title, axes: p.axes, gpus_per_node: p.gpus_per_node, source: p.source, notes: p.notes })), ...TEACHING];
  } catch (err) {
    errors.show(err);
  }
  fillPresets();
}

mountShareBar($("#share"), { getSvg: () => (view ? view.toSvg() : null), name: "bitmesh-mesh", embedHeight: 640 });
fillPresets();
loadPresets();
refresh(false);
