// Bit cells of one code, grouped into sign / exponent / mantissa fields. Every bit is a button
// (space/enter toggles, arrow keys move between bits with a roving tabindex).
import { h } from "../lib/dom.js";

// integer: MXINT8's two's-complement elements (block formats), drawn in the mantissa colour
const KEYS = {
  sign: { key: "sign", letter: "S" },
  exponent: { key: "exp", letter: "E" },
  mantissa: { key: "man", letter: "M" },
  integer: { key: "man", letter: "I" },
};

/** The API's bit fields, most significant first, with their CSS key and letter:
 * [{name, key, letter, from, to}] (bit indices, `from` the highest). */
export function fieldsOf(info) {
  return info.fields.map((f) => ({ name: f.name, ...KEYS[f.name], from: f.high, to: f.low }));
}

/** Raw integer held by a field of `code`. */
export function fieldValue(code, field) {
  const width = field.from - field.to + 1;
  return Math.floor(code / 2 ** field.to) % 2 ** width;
}

/** The bit at index i of a (up to 32-bit) code. */
export function bitOf(code, i) {
  return Math.floor(code / 2 ** i) % 2;
}

/** The code with bit i flipped (safe for 32-bit codes). */
export function toggleBit(code, i) {
  return bitOf(code, i) ? code - 2 ** i : code + 2 ** i;
}

const SUPER = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** What bit i adds: ± for the sign, 2^j to the exponent field, 2^-j to the significand. */
export function weightLabel(field, i, info) {
  if (field.key === "sign") return "±";
  const p = field.key === "exp" ? i - field.to : i - info.mantissa_bits;
  const sup = String(p).split("").map((c) => SUPER[c] ?? c).join("");
  return field.key === "exp" ? String(2 ** p) : `2${sup}`;
}

/** One bit as a button: its digit, and the weight it adds underneath. */
function bitButton(f, i, info) {
  const weight = f.key === "man" ? `2^-${info.mantissa_bits - i}` : f.key === "exp" ? `${2 ** (i - f.to)}` : "sign";
  return h("button", {
    type: "button",
    class: `bit bit-${f.key}`,
    dataset: { bit: String(i) },
    tabindex: "-1",
    title: `bit ${i} (${f.name}${f.key === "sign" ? "" : `, weight ${weight}`})`,
  }, h("span", { class: "bit-digit" }), h("span", { class: "bit-weight", "aria-hidden": "true" }, weightLabel(f, i, info)));
}

/** One field: its name and width, its bit buttons, and the raw value it holds. */
function fieldGroup(f, buttons) {
  const width = f.from - f.to + 1;
  const raw = h("span", { class: "bf-raw" });
  const group = h(
    "div",
    { class: `bf-field bf-${f.key}` },
    h("div", { class: "bf-label" }, h("span", { class: "bf-name" }, f.name), h("span", { class: "bf-width" }, ` ${width} bit${width > 1 ? "s" : ""}`)),
    h("div", { class: "bf-cells" }, buttons),
    raw,
  );
  return { group, raw };
}

/** The raw field value under a field, e.g. "e = 15 (15 − 7 = 8)". */
function rawText(f, code, bias) {
  const v = fieldValue(code, f);
  if (f.key === "sign") return `s = ${v}`;
  if (f.key === "exp") return `e = ${v}${bias !== undefined ? ` (${v} − ${bias} = ${v - bias})` : ""}`;
  return `m = ${v}`;
}

/** state: {info, code, onChange(code)}. Bits are buttons with a roving tabindex. */
export function mount(el, state) {
  let s = { ...state };
  const root = h("div", { class: "bitfield", role: "group", "aria-label": "Bits of the code, sign first" });
  el.append(root);
  let buttons = [];
  let raws = [];
  let fields = [];
  let focusIndex = 0;

  const rove = () => buttons.forEach((b, k) => b.setAttribute("tabindex", k === focusIndex ? "0" : "-1"));

  function build() {
    root.replaceChildren();
    root.dataset.bits = String(s.info.bits);
    fields = fieldsOf(s.info);
    buttons = [];
    raws = [];
    for (const f of fields) {
      const cells = [];
      for (let i = f.from; i >= f.to; i -= 1) {
        const b = bitButton(f, i, s.info);
        b.addEventListener("click", () => {
          focusIndex = buttons.indexOf(b);
          if (s.onChange) s.onChange(toggleBit(s.code, i));
        });
        b.addEventListener("focus", () => {
          focusIndex = buttons.indexOf(b);
          rove();
        });
        cells.push(b);
      }
      buttons.push(...cells);
      const { group, raw } = fieldGroup(f, cells);
      raws.push(raw);
      root.append(group);
    }
    if (!fields.some((f) => f.key === "sign")) {
      root.prepend(h("div", { class: "bf-field bf-nosign" }, h("div", { class: "bf-label" }, h("span", { class: "bf-name" }, "no sign bit")), h("div", { class: "bf-cells" }), h("span", { class: "bf-raw" }, "always +")));
    }
  }

  root.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1, Home: -Infinity, End: Infinity };
    if (!(e.key in moves)) return;
    e.preventDefault();
    focusIndex = Math.min(Math.max(focusIndex + moves[e.key], 0), buttons.length - 1);
    rove();
    buttons[focusIndex].focus();
  });

  function paint() {
    for (const b of buttons) {
      const on = bitOf(s.code, Number(b.dataset.bit));
      b.firstChild.textContent = String(on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.setAttribute("aria-label", `${b.title}: ${on}`);
    }
    fields.forEach((f, k) => {
      raws[k].textContent = rawText(f, s.code, s.info.bias);
    });
    rove();
  }

  build();
  paint();
  return {
    update(next) {
      const rebuild = next.info && next.info !== s.info;
      s = { ...s, ...next };
      if (rebuild) build();
      paint();
    },
    destroy() {
      root.remove();
    },
  };
}

/**
 * A standalone SVG of the bit layout of `code` with a title and text lines underneath (the
 * formula), for "Download SVG". Colours are read from the theme at export time.
 */
export function bitsSvg(info, code, title, lines, colors) {
  const NS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const cell = info.bits > 16 ? 22 : 30;
  const gap = 3;
  const fields = fieldsOf(info);
  const W = Math.max(520, 24 + info.bits * (cell + gap) + fields.length * 10);
  const H = 120 + lines.length * 20;
  const root = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, "font-family": "monospace", "font-size": 13 });
  root.append(el("text", { x: 12, y: 22, "font-size": 15, "font-weight": 700, fill: colors.text }, title));
  let x = 12;
  for (const f of fields) {
    const fx = x;
    for (let i = f.from; i >= f.to; i -= 1) {
      const on = bitOf(code, i);
      root.append(el("rect", { x, y: 40, width: cell, height: cell, rx: 4, fill: on ? colors[f.key] : colors[`${f.key}Soft`], stroke: colors[f.key] }));
      root.append(el("text", { x: x + cell / 2, y: 40 + cell / 2 + 5, "text-anchor": "middle", fill: on ? colors.surface : colors.text, "font-weight": 700 }, String(on)));
      x += cell + gap;
    }
    const short = { sign: "s", exp: "e", man: "m" }[f.key];
    root.append(el("text", { x: fx, y: 40 + cell + 16, "font-size": 11, fill: colors[f.key] }, `${short} = ${fieldValue(code, f)}`));
    x += 10;
  }
  lines.forEach((line, k) => root.append(el("text", { x: 12, y: 40 + cell + 44 + k * 20, fill: colors.text }, line)));
  return root;
}
