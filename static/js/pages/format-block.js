// A block format's page (/formats/mxfp4, /formats/nvfp4, ...): one block as the API states it.
// State lives in the URL: the tensor (`values`, or `distribution`, `seed`, `blocks`) and the
// `block` shown. GET /api/v1/formats/{name}/block quantizes the tensor with the format's preset
// and answers everything drawn here: the bits per element, the shared scale (bits, value, the
// steps that chose it) and every element's code and value. Defaults and the distributions come
// from the core through the template.
import { errorBox, latest, num } from "../lib/api.js";
import { $, h } from "../lib/dom.js";
import { fmtFull, fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { mountShareBar } from "../lib/share.js";
import { apiQuery, readState, writeState } from "../lib/urlstate.js";
import * as blockView from "../views/blockformat.js";

const app = $("#app");
const name = app.dataset.format;
const DEFAULTS = JSON.parse(app.dataset.defaults); // BlockQuery's defaults, from the core
const KEYS = ["values", "distribution", "seed", "blocks", "block"];
const SCHEMA = {
  values: { type: "str", default: "" },
  distribution: { type: "str", default: DEFAULTS.distribution, choices: [...$("#fb-distribution").options].map((o) => o.value) },
  seed: { type: "int", default: DEFAULTS.seed, min: 0 },
  blocks: { type: "int", default: DEFAULTS.blocks, min: 1 },
  block: { type: "int", default: DEFAULTS.block, min: 0 },
};
const state = readState(SCHEMA);
state.values = state.values.replaceAll(" ", "+"); // "+" in a query string reads back as a space
const api = `/api/v1/formats/${encodeURIComponent(name)}/block`;
const errors = errorBox(app);
const load = latest();
let data = null;
let view = null;

/** The headline: bits per element, the scale, the block and its elements. */
function renderHead(d) {
  const { format: f, block: b, tensor: t } = d;
  $("#fb-title").textContent = f.title;
  $("#fb-description").textContent = `${f.description}. Source: ${f.source}.`;
  $("#fb-bits").textContent = String(f.bits_per_element);
  $("#fb-storage").textContent = f.storage;
  $("#fb-scale-pow").textContent = b.scale_exponent === null ? "" : `${fmtPow2(b.scale_exponent)} = `;
  $("#fb-scale-value").textContent = fmtFull(num(b.scale));
  const code = `${f.scale} code ${b.scale_code} = ${b.scale_bits}`;
  $("#fb-scale-code").textContent = t.global_scale === null ? code : `${code}; × FP32 tensor scale ${fmtNum(t.global_scale, 6)} = multiplier ${fmtNum(b.multiplier, 6)}`;
  $("#fb-block").textContent = `#${fmtInt(b.index)} of ${fmtInt(t.block_count)}`;
  $("#fb-block-sub").textContent = `amax ${fmtNum(b.amax, 6)} · ${fmtInt(b.clipped)} clipped · stores up to ±${fmtNum(b.max_value, 6)}`;
  $("#fb-element").textContent = `${f.block_size} × ${f.element_bits} bits`;
  const link = f.element_format ? h("a", { href: `${location.pathname.startsWith("/embed/") ? "/embed" : ""}/formats/${f.element_format}` }, f.element_title) : f.element_title;
  $("#fb-element-sub").replaceChildren("each ", link, `, max ±${fmtNum(f.element_max, 6)}`);
  $("#fb-prev").disabled = b.index <= 0;
  $("#fb-next").disabled = b.index >= t.block_count - 1;
  labLink(d);
}

/** The same tensor and block in the quantization lab (a generated tensor only: given values
 * are POSTed there). */
function labLink(d) {
  const q = new URLSearchParams({ scheme: d.format.name });
  if (d.tensor.source === "generated") {
    for (const k of ["distribution", "seed"]) q.set(k, String(d.query[k]));
    q.set("n", String(d.tensor.n));
    q.set("block", String(d.block.index));
  }
  $("#fb-lab").href = `/quantize?${q}`;
}

function syncControls() {
  $("#fb-values").value = state.values;
  $("#fb-distribution").value = state.distribution;
  $("#fb-seed").value = String(state.seed);
  $("#fb-blocks").value = String(state.blocks);
  for (const id of ["#fb-distribution", "#fb-seed", "#fb-blocks"]) $(id).disabled = Boolean(state.values.trim());
}

async function refresh() {
  syncControls();
  writeState(state, SCHEMA);
  try {
    const d = await load(`${api}?${apiQuery({ ...state, values: state.values.trim() || null }, KEYS)}`);
    data = d;
    errors.clear();
    renderHead(d);
    view.update({ data: d });
    app.dataset.ready = "1";
  } catch (err) {
    errors.show(err);
    app.dataset.ready = "1";
  }
}

function wireControls() {
  const read = () => {
    state.values = $("#fb-values").value;
    state.distribution = $("#fb-distribution").value;
    state.seed = Math.max(0, Number.parseInt($("#fb-seed").value, 10) || 0);
    state.blocks = Math.max(1, Number.parseInt($("#fb-blocks").value, 10) || 1);
  };
  for (const id of ["#fb-distribution", "#fb-seed", "#fb-blocks"]) {
    $(id).addEventListener("change", () => {
      read();
      state.block = Math.min(state.block, state.blocks - 1);
      refresh();
    });
  }
  let typing = 0;
  $("#fb-values").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      read();
      state.block = 0;
      refresh();
    }, 400);
  });
  $("#fb-controls").addEventListener("submit", (e) => {
    e.preventDefault();
    read();
    refresh();
  });
  const step = (by) => {
    if (!data) return;
    state.block = Math.min(Math.max(data.block.index + by, 0), data.tensor.block_count - 1);
    refresh();
  };
  $("#fb-prev").addEventListener("click", () => step(-1));
  $("#fb-next").addEventListener("click", () => step(1));
}

function main() {
  view = blockView.mount({ scale: $("#fb-scale-host"), elements: $("#fb-elements-host") }, {});
  wireControls();
  mountShareBar($("#share"), { getSvg: () => (data ? blockView.blockSvg(data) : null), name: `${name}-block`, embedHeight: 900 });
  refresh();
}

main();
