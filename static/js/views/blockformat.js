// One block of a block format (MX, NVFP4), as GET /api/v1/formats/{name}/block states it: the
// shared scale's byte bit by bit with the steps that chose it, then every element as its code's
// bits (coloured by field, like the bit explorer), its value, and value × multiplier. Also the
// cards of the /formats index for the block formats. Nothing here computes a number: every
// figure is a field of the API's answer.
import { num } from "../lib/api.js";
import { cssVar } from "../lib/colors.js";
import { h, svg } from "../lib/dom.js";
import { fmtFull, fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { fieldsOf } from "./bitfield.js";

/** The field (with its CSS key) each bit of a `bits`-wide code belongs to, most significant
 * first. */
function fieldPerBit(fields) {
  const out = [];
  for (const f of fieldsOf({ fields })) for (let i = f.from; i >= f.to; i -= 1) out.push(f);
  return out;
}

/** A code's bits as coloured cells: filled for 1, pale for 0, a gap between fields. */
export function bitCells(bits, fields, { label = "" } = {}) {
  const per = fieldPerBit(fields);
  const wrap = h("span", { class: "fb-bits", role: "img", "aria-label": `${label}${bits}`.trim() });
  [...bits].forEach((c, i) => {
    const f = per[i];
    const edge = i > 0 && per[i - 1] !== f;
    wrap.append(h("span", { class: `fb-bit fb-${f.key}${c === "1" ? " on" : ""}${edge ? " edge" : ""}`, title: `${f.name} bit` }, c));
  });
  return wrap;
}

/** The field legend under the scale byte: name and width of each field. */
function fieldLegend(fields) {
  return h("span", { class: "fb-fields" }, fieldsOf({ fields }).map((f) => h("span", { class: `fb-field fb-${f.key}` }, `${f.name} ${f.from - f.to + 1}`)));
}

/** The scale as a value: 2^k = v for a power of two (E8M0), else its value. */
export function scaleText(block) {
  const v = fmtFull(num(block.scale));
  return block.scale_exponent === null ? v : `${fmtPow2(block.scale_exponent)} = ${v}`;
}

function scalePanel(data) {
  const { block: b, format: f } = data;
  return h("div", { class: "fb-scale" },
    h("div", { class: "fb-scale-row" },
      bitCells(b.scale_bits, f.scale_fields, { label: `${f.scale} code ` }),
      h("span", { class: "mono fb-scale-eq" }, `= ${scaleText(b)}`)),
    fieldLegend(f.scale_fields),
    h("ol", { class: "fb-steps", id: "fb-steps" }, data.scale_steps.map((s) => h("li", { class: "mono" }, s))));
}

function elementCard(data, i) {
  const { block: b, format: f } = data;
  const clipped = b.clipped_flags[i];
  const err = num(b.errors[i]);
  return h("li", { class: `fb-el${clipped ? " clipped" : ""}`, dataset: { index: String(i) } },
    h("div", { class: "fb-el-head" },
      h("span", { class: "fb-el-index" }, `#${i}`),
      bitCells(b.code_bits[i], f.element_fields, { label: `element ${i} code ` }),
      clipped ? h("span", { class: "fb-badge", title: "saturated to the element max" }, "clipped") : null),
    h("div", { class: "fb-el-row mono" },
      h("span", { class: "fb-el-value", title: "element value (before the scale)" }, fmtFull(num(b.elements[i]))),
      h("span", { class: "muted" }, " × scale → "),
      h("span", { class: "fb-el-deq", title: "stored value: element × multiplier" }, fmtNum(b.dequantized[i], 6))),
    h("div", { class: "fb-el-row fb-el-in mono muted" },
      `x = ${fmtNum(b.inputs[i], 6)} · error ${Number.isFinite(err) ? fmtNum(err, 3) : "—"}`));
}

function elementsPanel(data) {
  const b = data.block;
  const more = b.size > b.listed ? h("p", { class: "muted" }, `First ${fmtInt(b.listed)} of ${fmtInt(b.size)} elements.`) : null;
  return [h("ol", { class: "fb-elements", id: "fb-element-list" }, b.codes.map((_, i) => elementCard(data, i))), more];
}

/** state: {data} (the API's block answer). Draws the scale and the elements. */
export function mount(el, state) {
  const scaleEl = h("div", { id: "fb-scale-panel" });
  const elementsEl = h("div", { id: "fb-elements" });
  el.scale.append(scaleEl);
  el.elements.append(elementsEl);
  const render = (data) => {
    scaleEl.replaceChildren(scalePanel(data));
    elementsEl.replaceChildren(...elementsPanel(data).filter(Boolean));
  };
  if (state.data) render(state.data);
  return {
    update(next) {
      if (next.data) render(next.data);
    },
    destroy() {
      scaleEl.remove();
      elementsEl.remove();
    },
  };
}

/** One card of the /formats index: the block's layout (a scale byte and its elements), key
 * numbers, and a link to its page. */
export function blockCard(info, base = "") {
  const layout = h("div", { class: "fb-card-layout", "aria-label": `one ${info.scale} scale and ${info.block_size} ${info.element} elements` },
    h("span", { class: "fb-card-scale" }, `${info.scale_bits}-bit scale`),
    h("span", { class: "fb-card-plus" }, "+"),
    h("span", { class: "fb-card-elems" }, `${info.block_size} × ${info.element_bits} bits`));
  const rows = [
    ["element", info.element_title],
    ["scale", info.global_scale ? `${info.scale} + FP32 per tensor` : info.scale],
    ["block", `${info.block_size} elements`],
    ["storage", `${info.scale_bits} + ${info.block_size} × ${info.element_bits} bits`],
  ];
  return h("a", { class: "fmt-card fb-card", href: `${base}/formats/${encodeURIComponent(info.name)}`, dataset: { format: info.name } },
    h("div", { class: "fmt-card-head" },
      h("h3", { class: "mono" }, info.name),
      h("span", { class: "fmt-tag" }, `${info.bits_per_element} bits/element`)),
    layout,
    h("p", { class: "fmt-desc" }, info.description),
    h("dl", { class: "fmt-keys" }, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { class: "mono" }, v)))));
}

/** The block formats' section of the /formats index, from the API's block group. */
export function blockSection(group, blocks, base = "") {
  const byName = new Map(blocks.map((b) => [b.name, b]));
  return h("section", { class: "fmt-family", "aria-labelledby": `fam-${group.key}` },
    h("div", { class: "fmt-family-head" }, h("h2", { id: `fam-${group.key}` }, group.title), h("p", { class: "muted" }, group.blurb)),
    h("div", { class: "fmt-cards" }, group.formats.map((n) => byName.get(n)).filter(Boolean).map((b) => blockCard(b, base))));
}

/** The block as an SVG (for "Download SVG"): the scale byte, then rows of element codes. */
export function blockSvg(data) {
  const { block: b, format: f } = data;
  const cell = 13;
  const perRow = 8;
  const elemW = f.element_bits * cell + 60;
  const W = Math.max(520, 24 + perRow * elemW);
  const rows = Math.ceil(b.listed / perRow);
  const H = 96 + rows * 42;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, "font-family": "monospace", "font-size": 11 });
  const text = (x, y, s, attrs = {}) => root.append(svg("text", { x, y, fill: cssVar("--text"), ...attrs }, s));
  const cells = (x, y, bits, fields) => {
    fieldPerBit(fields).forEach((fd, i) => {
      const on = bits[i] === "1";
      root.append(svg("rect", { x: x + i * cell, y, width: cell - 2, height: cell + 2, rx: 2, fill: cssVar(on ? `--${fd.key}` : `--${fd.key}-soft`), stroke: cssVar(`--${fd.key}`) }));
    });
  };
  text(12, 20, `bitmesh · ${f.name}: block ${b.index}, ${f.bits_per_element} bits per element`, { "font-weight": 700, "font-size": 13 });
  cells(12, 32, b.scale_bits, f.scale_fields);
  text(24 + b.scale_bits.length * cell, 44, `scale ${scaleText(b)} · multiplier ${fmtNum(b.multiplier, 6)}`);
  b.code_bits.forEach((bits, i) => {
    const x = 12 + (i % perRow) * elemW;
    const y = 70 + Math.floor(i / perRow) * 42;
    cells(x, y, bits, f.element_fields);
    text(x, y + 28, `${fmtFull(num(b.elements[i]))} → ${fmtNum(b.dequantized[i], 4)}`);
  });
  return root;
}
