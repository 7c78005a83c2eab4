// One scaling group as the hardware stores it: the shared scale (its byte, bit by bit, and its
// value), then every element as a bar — the input as an outline, the dequantized value filled,
// saturated elements marked — between ±amax and the largest value the block can hold, with each
// element's code underneath. Everything drawn is a field of the API's block detail.
import { h, svg, clear } from "../lib/dom.js";
import { onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";
import { fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { num } from "../lib/api.js";
import { linear } from "../lib/scale.js";
import { axisLeft, frame, tip } from "./quantize-svg.js";

/** Geometry of the element bars: slot width, bar x, and whether code labels fit. */
export function blockLayout(count, width) {
  const slot = width / Math.max(1, count);
  return { slot, barW: Math.max(1, slot * 0.72), labels: slot >= 13, rotate: slot < 30 };
}

/** The scale, in words and bits: what the block shares. */
function scaleSummary(data) {
  const b = data.block;
  const s = data.scheme;
  const bits = h("span", { class: "q-bits", "aria-label": `scale code ${b.scale_bits}` },
    [...b.scale_bits].map((c) => h("span", { class: `q-bit q-bit-${c}` }, c)));
  const value = b.scale_exponent !== null && b.scale_exponent !== undefined
    ? `${fmtPow2(b.scale_exponent)} = ${fmtNum(b.scale, 6)}`
    : fmtNum(b.scale, 6);
  const items = [
    ["amax", fmtNum(b.amax, 6), "largest |x| in the block"],
    [s.scale_format ? `scale (${s.scale_format})` : "scale", s.scale_format ? value : "none", "what the block shares"],
  ];
  if (s.global_scale) items.push(["× tensor scale", fmtNum(s.global_scale_value, 6), "NVFP4's FP32 second level"]);
  items.push(["multiplier", fmtNum(b.multiplier, 6), "what every element is multiplied by"]);
  items.push(["clipped", `${fmtInt(b.clipped)} of ${fmtInt(b.size)}`, "saturated to ±max"]);
  return h("div", { class: "q-scale" },
    s.scale_format ? h("div", { class: "q-scale-bits" }, h("span", { class: "muted" }, `scale code ${b.scale_code}: `), bits) : null,
    h("dl", { class: "q-scale-list" }, items.map(([k, v, t]) => h("div", { title: t }, h("dt", {}, k), h("dd", { "data-field": k }, v)))));
}

/** The bars: y is the value; the outline the input, the fill q(x), red where clipped. */
function drawBars(el, data) {
  const b = data.block;
  const width = el.clientWidth || 600;
  const narrow = width < 560;
  const n = b.listed;
  const lay0 = blockLayout(n, width - 60);
  const m = { top: 14, right: 10, bottom: (lay0.labels ? (lay0.rotate ? 14 + 7 * data.scheme.element.bits : 34) : 10) + 20, left: narrow ? 54 : 62 };
  const f = frame(width, narrow ? 250 : 300, m, `Block ${b.index}: ${n} elements, inputs and dequantized values`);
  const lay = blockLayout(n, f.w);
  const limit = num(b.max_value);
  const inputs = b.inputs.map(num).filter(Number.isFinite);
  const top = Math.max(limit, num(b.amax), ...inputs.map(Math.abs)) * 1.1 || 1;
  const y = linear(-top, top, f.h, 0);
  axisLeft(f.plot, y, f.w, { ticks: y.ticks(6), format: (v) => fmtNum(v, 3), label: "value", inset: m.left - 14 });
  const guides = [
    [limit, "q-limit", `largest storable: element max ${fmtNum(data.scheme.element.max)} × multiplier ${fmtNum(b.multiplier, 6)}`],
    [num(b.amax), "q-amax", "amax of the block"],
  ];
  for (const [v, cls, label] of guides) {
    for (const s of [1, -1]) {
      const line = svg("line", { class: cls, x1: 0, x2: f.w, y1: y(s * v), y2: y(s * v) });
      tip(line, () => [label, ["value", fmtNum(s * v, 6)]]);
      f.plot.append(line);
    }
  }
  f.plot.append(svg("line", { class: "q-zero", x1: 0, x2: f.w, y1: y(0), y2: y(0) }));
  for (let i = 0; i < n; i += 1) f.plot.append(elementMark(data, i, lay, y, f.h));
  f.plot.append(svg("text", { class: "axis-label", x: f.w / 2, y: f.h + m.bottom - 6, "text-anchor": "middle" },
    lay.labels ? "elements of the block, in order (code in binary under each)" : "elements of the block, in order"));
  clear(el).append(f.root);
  return f.root;
}

/** One element: input outline, dequantized fill, clip marker, code label, tooltip. */
function elementMark(data, i, lay, y, plotH) {
  const b = data.block;
  const x = i * lay.slot + (lay.slot - lay.barW) / 2;
  const xin = num(b.inputs[i]);
  const q = num(b.dequantized[i]);
  const clipped = b.clipped_flags[i];
  const g = svg("g", { class: `q-el${clipped ? " is-clipped" : ""}`, "data-index": i, "data-code": b.codes[i] });
  const bar = (v, cls, inset) => {
    const v0 = Number.isFinite(v) ? v : 0;
    const [y0, y1] = [y(Math.max(0, v0)), y(Math.min(0, v0))];
    return svg("rect", { class: cls, x: x + inset, width: Math.max(0.5, lay.barW - 2 * inset), y: y0, height: Math.max(0.5, y1 - y0) });
  };
  g.append(bar(q, "q-el-deq", lay.barW > 6 ? 1.5 : 0), bar(xin, "q-el-in", 0));
  if (clipped) g.append(svg("text", { class: "q-clip-mark", x: x + lay.barW / 2, y: y(xin) + (xin >= 0 ? -4 : 12), "text-anchor": "middle" }, "✕"));
  if (lay.labels) {
    const cx = x + lay.barW / 2;
    const attrs = lay.rotate
      ? { transform: `translate(${cx},${plotH + 6}) rotate(90)`, "text-anchor": "start" }
      : { x: cx, y: plotH + 14, "text-anchor": "middle" };
    g.append(svg("text", { class: "q-code", ...attrs }, b.code_bits[i]));
  }
  const hit = svg("rect", { class: "q-hit", x: i * lay.slot, width: lay.slot, y: 0, height: plotH });
  g.append(hit);
  tip(hit, () => [
    `Element ${i}${clipped ? " (clipped)" : ""}`,
    ["input x", fmtNum(b.inputs[i], 6)],
    ["code", `${b.code_bits[i]} (${b.codes[i]})`],
    ["element value", fmtNum(b.elements[i], 6)],
    ["× multiplier", fmtNum(b.multiplier, 6)],
    ["q(x)", fmtNum(b.dequantized[i], 6)],
    ["error x − q(x)", fmtNum(b.errors[i], 4)],
  ]);
  return g;
}

/** mount(el) -> {update(data), svg(), destroy()} */
export function mount(el) {
  let data = null;
  let root = null;
  const head = h("p", { class: "q-block-head" });
  const scale = h("div");
  const bars = h("div", { class: "chart q-block-bars" });
  const legend = h("div", { class: "legend" },
    h("span", { class: "legend-item" }, h("span", { class: "swatch q-sw-in" }), "input x (outline)"),
    h("span", { class: "legend-item" }, h("span", { class: "swatch q-sw-deq" }), "stored value q(x)"),
    h("span", { class: "legend-item" }, h("span", { class: "swatch q-sw-clip" }), "clipped (✕)"),
    h("span", { class: "legend-item" }, h("span", { class: "swatch q-sw-limit" }), "± largest storable value"),
    h("span", { class: "legend-item" }, h("span", { class: "swatch q-sw-amax" }), "± amax"),
    h("span", { class: "legend-item muted" }, "labels: each element's code in binary"));
  el.append(head, scale, bars, legend);
  const draw = () => {
    if (!data) return;
    const b = data.block;
    const more = b.listed < b.size ? ` (the first ${fmtInt(b.listed)} shown)` : "";
    head.textContent = `Block ${fmtInt(b.index)} of ${fmtInt(data.block_count)} · group row ${b.row}, column ${b.col} · ${fmtInt(b.size)} elements${more}`;
    scale.replaceChildren(scaleSummary(data));
    root = drawBars(bars, data);
  };
  const off = onResize(bars, draw);
  const offTheme = onThemeChange(draw);
  return {
    update(next) {
      data = next;
      draw();
    },
    svg: () => root,
    destroy() {
      off();
      offTheme();
    },
  };
}
