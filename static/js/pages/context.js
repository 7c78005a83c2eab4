// /context: the query string is the state. The page asks /api/v1/context with exactly its
// query string (the placement in focus) and with the other placement the API offers (listed in
// its OpenAPI document), and draws both side by side from the answers. The view's state keys
// (app/pages.py), never sent: step (the playhead, in ring steps) and tile (the pinned tile,
// "placement:q,k").
import { $, $$, h, clear } from "../lib/dom.js";
import { pageQuery } from "../lib/pagequery.js";
import { NOT_API_KEYS, STATE_KEYS } from "../lib/urlstate.js";
import { metric } from "../lib/metric.js";
import { fetchJSON, latest, errorBox } from "../lib/api.js";
import { createLoop } from "../lib/anim.js";
import { fmtBytes, fmtInt, fmtPct, fmtTime } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { mount as mountPanel, fmtPairs } from "../views/context-panel.js";
import { numberOr, unpinOnEscape } from "../lib/pin.js";

const NUMBERS = ["seq_len", "heads", "kv_heads", "head_dim", "micro_batch", "gpus_per_node"];
const STEP_MS = 1200;

const state = pageQuery(NOT_API_KEYS);
const params = state.params;
const load = latest();
const errors = errorBox($("#cx-errors"));
const panels = new Map(); // placement -> {section, view, status, data}
let declared = null; // the endpoint's parameters (OpenAPI), for choices and bounds
let primary = null;
let t = numberOr(params.get("step")) ?? 0; // checked against the answer's cp once it is drawn
mountShareBar($("#share"), { getSvg: () => primary && panels.get(primary.placement)?.view.exportSvg(), name: "bitmesh-context", embedHeight: 1500 });

function setParams(patch, remove = []) {
  state.set(patch, [...remove, ...STATE_KEYS]); // a new computation: step 0, no tile pinned
  t = 0;
  refresh();
}

// ------------------------------------------------------------------ the pinned tile

/** The pinned tile's "q,k" in placement `name`'s panel, or null. */
function tileIn(name) {
  const [placement, qk] = (params.get("tile") || "").split(":");
  return placement === name ? qk : null;
}

function setTile(key) {
  state.set({ tile: key });
  for (const [name, p] of panels) p.view.setPin(tileIn(name));
}
const toggleTile = (name, qk) => setTile(params.get("tile") === `${name}:${qk}` ? null : `${name}:${qk}`);
unpinOnEscape(() => params.has("tile") && setTile(null));

// ------------------------------------------------------------------ the playhead

const steps = () => (primary ? primary.cp : 1);
const loop = createLoop($("#cx-transport"), (ms) => {
  t = Math.min(steps(), playFrom + ms / STEP_MS);
  showTime(false);
  if (t < steps()) return true;
  setPlaying(false);
  showTime(true);
  return false;
});
let playFrom = 0;

function setPlaying(on) {
  $("#cx-play").textContent = on ? "❚❚ Pause" : t >= steps() ? "↺ Replay" : "▶ Play";
  $("#cx-play").setAttribute("aria-label", on ? "Pause" : "Play");
}

function showTime(commit) {
  const n = steps();
  const j = Math.min(n - 1, Math.floor(t));
  for (const p of panels.values()) if (p.data) p.view.setTime(Math.min(t, p.data.cp - 1e-9));
  $("#cx-step").max = String(n);
  $("#cx-step").value = String(t);
  $("#cx-readout").textContent = t >= n ? `All ${n} steps done` : `Step ${j} of ${n}: GPU r holds the K/V of GPU r − ${j}`;
  if (commit) {
    if (Math.round(t)) params.set("step", String(Math.round(t)));
    else params.delete("step");
    state.writeUrl();
  }
}

function wireTransport() {
  $("#cx-play").addEventListener("click", () => {
    if (loop.running) {
      loop.stop();
      setPlaying(false);
      return showTime(true);
    }
    if (t >= steps()) t = 0;
    playFrom = t;
    if (loop.start()) setPlaying(true);
    else {
      t = steps();
      showTime(true);
    }
  });
  $("#cx-next").addEventListener("click", () => {
    loop.stop();
    t = Math.min(steps(), Math.floor(t) + 1);
    setPlaying(false);
    showTime(true);
  });
  $("#cx-back").addEventListener("click", () => {
    loop.stop();
    t = Math.max(0, Math.ceil(t) - 1);
    setPlaying(false);
    showTime(true);
  });
  $("#cx-step").addEventListener("input", (ev) => {
    loop.stop();
    t = Number(ev.target.value);
    setPlaying(false);
    showTime(false);
  });
  $("#cx-step").addEventListener("change", () => showTime(true));
}

// ------------------------------------------------------------------ controls

function syncControls(d) {
  const q = d.query;
  for (const k of NUMBERS) {
    const input = $(`#cx-${k}`);
    if (document.activeElement !== input) input.value = q[k] === null ? "" : String(q[k]);
  }
  const cp = $("#cx-cp");
  if (declared) {
    cp.min = String(declared.cp.minimum);
    cp.max = String(declared.cp.maximum);
  }
  if (document.activeElement !== cp) cp.value = String(q.cp);
  $("#cx-cp-out").textContent = String(q.cp);
  $("#cx-causal").checked = Boolean(q.causal);
  $("#cx-dtype").value = q.dtype;
  $("#cx-model").value = q.model || "";
  const gpu = $("#cx-gpu");
  if (![...gpu.options].some((o) => o.value === q.gpu)) gpu.append(h("option", { value: q.gpu }, q.gpu));
  gpu.value = q.gpu;
  for (const b of $$("#cx-placement button")) b.setAttribute("aria-pressed", String(b.dataset.value === q.placement));
}

function wireControls() {
  $("#cx-controls").addEventListener("submit", (ev) => ev.preventDefault());
  for (const k of [...NUMBERS, "dtype"]) {
    const input = $(`#cx-${k}`);
    input.addEventListener("change", () => setParams({ [k]: input.value.trim() }));
  }
  $("#cx-cp").addEventListener("input", (ev) => ($("#cx-cp-out").textContent = ev.target.value));
  $("#cx-cp").addEventListener("change", (ev) => setParams({ cp: ev.target.value }));
  $("#cx-causal").addEventListener("change", (ev) => setParams({ causal: ev.target.checked ? "true" : "false" }));
  $("#cx-gpu").addEventListener("change", (ev) => setParams({ gpu: ev.target.value }));
  $("#cx-model").addEventListener("change", (ev) => {
    const shape = ["heads", "kv_heads", "head_dim"];
    if (ev.target.value) return setParams({ model: ev.target.value }, shape);
    setParams(primary ? Object.fromEntries(shape.map((k) => [k, primary.query[k]])) : {}, ["model"]);
  });
}

// ------------------------------------------------------------------ panels and volumes

function panelFor(name) {
  if (!panels.has(name)) {
    const status = h("p", { class: "cx-status" });
    const body = h("div", { class: "cx-panel-body" });
    const section = h("section", { class: "panel cx-panel", dataset: { placement: name } }, h("h2", { class: "panel-title" }, name), status, body);
    $("#cx-panels").append(section);
    panels.set(name, { section, status, body, view: mountPanel(body, { onPick: (qk) => toggleTile(name, qk), onUnpin: () => setTile(null) }), data: null });
  }
  return panels.get(name);
}

function showPanel(name, d, err) {
  const p = panelFor(name);
  p.section.classList.toggle("cx-focus", Boolean(primary && name === primary.placement));
  p.data = err ? null : d;
  p.body.hidden = Boolean(err);
  clear(p.status);
  if (err) return p.status.append(h("span", { class: "api-error" }, err.message));
  p.status.append(
    h("span", { dataset: { metric: "idle_fraction", placement: name, value: String(d.idle_fraction) } }, `Idle ${fmtPct(d.idle_fraction)}`),
    ` · ${d.num_blocks} blocks of ${fmtInt(d.block_tokens)} tokens · `,
    h("span", { dataset: { metric: "tiles", placement: name, value: String(d.tiles.length) } }, `${fmtInt(d.tiles.length)} tiles`),
    ` · makespan ${fmtPairs(d.makespan_pairs)} pairs`,
  );
  p.view.update(d, Math.min(t, d.cp - 1e-9), tileIn(name));
}

function renderVolumes(d) {
  const v = d.volumes;
  const el = $("#cx-volumes");
  clear(el);
  el.append(
    h("p", {}, `${d.model_title || "Custom attention"}: ${d.attention.heads} heads, ${d.attention.kv_heads} KV heads of ${d.attention.head_dim}, ${d.attention.dtype}; ${fmtInt(d.seq_len)} tokens over ${d.cp} GPUs${d.nodes > 1 ? ` on ${d.nodes} nodes` : ""}.`),
    h("div", { class: "metrics" },
      metric("Ring, forward", fmtBytes(v.ring.forward_bytes), v.ring.forward_bytes, "ring_forward_bytes", `${d.cp - 1} blocks of ${fmtBytes(v.block_bytes)}`),
      metric("Ring time", fmtTime(v.ring.time_forward), v.ring.time_forward, "ring_time_forward", `${v.ring.algorithm} pass, per layer`),
      metric("Ulysses, forward", fmtBytes(v.ulysses.forward_bytes), v.ulysses.forward_bytes, "ulysses_forward_bytes", v.ulysses.feasible ? "Q, K, V in; output back" : v.ulysses.reason),
      metric("Ulysses time", fmtTime(v.ulysses.time_forward), v.ulysses.time_forward, "ulysses_time_forward", "two all-to-alls, per layer"),
      metric("K/V in flight", fmtBytes(v.kv_in_flight_bytes), v.kv_in_flight_bytes, "kv_in_flight_bytes", "the block in use + the one arriving"),
      metric("Backward", `${fmtBytes(v.ring.backward_bytes)} / ${fmtBytes(v.ulysses.backward_bytes)}`, v.ring.backward_bytes, "ring_backward_bytes", "ring / Ulysses"),
    ),
    h("ul", { class: "muted cx-formulas" }, h("li", {}, `Ring: ${v.ring.formula}. ${v.ring.source}.`), h("li", {}, `Ulysses: ${v.ulysses.formula}. ${v.ulysses.source}.`), ...d.notes.map((n) => h("li", {}, n))),
  );
}

async function refresh() {
  errors.clear();
  try {
    const d = await load(`/api/v1/context?${state.api()}`);
    primary = d;
    for (const el of $$("#app .loading")) el.remove();
    syncControls(d);
    renderVolumes(d);
    if (!(t >= 0 && t <= d.cp)) t = 0; // a step this ring lacks falls back to the start
    const names = declared ? declared.placement.enum : [d.placement];
    await Promise.all(names.map(async (name) => {
      if (name === d.placement) return showPanel(name, d);
      try {
        showPanel(name, await fetchJSON(`/api/v1/context?${state.api({ placement: name })}`));
      } catch (err) {
        showPanel(name, null, err);
      }
    }));
    for (const name of names) $("#cx-panels").append(panelFor(name).section); // keep the API's order
    setPlaying(false);
    showTime(false);
    document.title = `Context parallelism: ${d.cp} GPUs, ${d.placement} · bitmesh`;
  } catch (err) {
    errors.show(err);
  }
}

async function loadChoices() {
  const [doc, models, gpus] = await Promise.all([fetchJSON("/api/v1/openapi.json"), fetchJSON("/api/v1/presets/models"), fetchJSON("/api/v1/presets/gpus")]);
  declared = Object.fromEntries(doc.paths["/api/v1/context"].get.parameters.map((p) => [p.name, p.schema]));
  const group = $("#cx-placement");
  for (const name of declared.placement.enum) {
    const b = h("button", { type: "button", dataset: { value: name }, "aria-pressed": "false" }, name);
    b.addEventListener("click", () => setParams({ placement: name }));
    group.append(b);
  }
  for (const m of models.models) $("#cx-model").append(h("option", { value: m.name }, m.title));
  for (const g of gpus.gpus) $("#cx-gpu").append(h("option", { value: g.name }, g.title));
}

wireTransport();
wireControls();
loadChoices()
  .catch((err) => errors.show(err))
  .then(refresh);
