// The layer-anatomy panel of /memory: the tensors one layer keeps for its backward pass, as
// the API lists them (`anatomy.layers[].tensors`), with their bytes, formula and source, and
// what the count leaves out.
import { h } from "../lib/dom.js";
import { fmtBytes, fmtInt, fmtPct } from "../lib/format.js";

const KIND = { dense: "Dense layer", moe: "MoE layer" };

function layerTable(layer) {
  const rows = layer.tensors.map((t) =>
    h("tr", {},
      h("th", { scope: "row" }, h("span", { class: "mem-kept-name" }, t.name), h("span", { class: "mem-part" }, t.part),
        h("span", { class: "mem-kept-source" }, t.source)),
      h("td", { class: "num", title: `${fmtInt(t.bytes)} bytes` }, fmtBytes(t.bytes, 2)),
      h("td", { class: "num mem-share" }, fmtPct(t.bytes / layer.bytes, 0)),
      h("td", { class: "mem-formula" }, h("code", {}, t.formula.split("; ")[0]))));
  return h("div", { class: "table-scroll" },
    h("table", { class: "data mem-anatomy-table", "data-kind": layer.kind },
      h("thead", {}, h("tr", {}, h("th", {}, "Kept tensor, and why"), h("th", { class: "num" }, "Bytes"), h("th", { class: "num" }, "Share"), h("th", {}, "Formula"))),
      h("tbody", {}, ...rows)));
}

function recomputed(layer) {
  if (!layer.recomputed.length) return null;
  const items = layer.recomputed.map((t) => `${t.name} (${fmtBytes(t.bytes)})`).join(" · ");
  return h("p", { class: "mem-recomputed muted" }, h("b", {}, "Recomputed, not kept: "), items);
}

/** Redraw the panel from an answer (hidden without an anatomy, e.g. in inference). */
export function renderAnatomy(panel, body, data) {
  const a = data.anatomy;
  panel.hidden = !a;
  if (!a) return;
  const kernel = a.attention === "flash" ? "FlashAttention" : "eager attention";
  const what = a.anatomy === "model" ? "the model's own layer" : "Korthikanti's GPT layer";
  const parts = [h("p", { class: "mem-pipe-head" }, `Counted: ${what}, ${kernel}, recompute ${a.recompute}. Bytes per layer per microbatch on one GPU.`)];
  for (const layer of a.layers) {
    parts.push(h("details", { class: "mem-layer", open: true },
      h("summary", {}, h("b", {}, KIND[layer.kind] || layer.kind), ` · ${fmtBytes(layer.bytes, 2)} per microbatch · ${layer.tensors.length} tensors`),
      layerTable(layer), recomputed(layer)));
  }
  parts.push(h("p", { class: "mem-note muted" }, a.left_out));
  body.replaceChildren(...parts);
}
