// Bit cells of one code, grouped into sign / exponent / mantissa fields. Every bit is a button
// (space/enter toggles, arrow keys move between bits with a roving tabindex).
import { h } from "../lib/dom.js";

/** Field layout of a format, most significant first: [{name, key, from, to}] (bit indices). */
export function fieldsOf(info) {
  const out = [];
  const signBits = info.sign_bits ?? (info.signed === false ? 0 : 1);
  let hi = info.bits - 1;
  if (signBits) {
    out.push({ name: "sign", key: "sign", from: hi, to: hi });
    hi -= 1;
  }
  if (info.exponent_bits) {
    out.push({ name: "exponent", key: "exp", from: hi, to: hi - info.exponent_bits + 1 });
    hi -= info.exponent_bits;
  }
  if (info.mantissa_bits) {
    out.push({ name: "mantissa", key: "man", from: hi, to: 0 });
  }
  return out;
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

export function mount(el, state) {
  let s = { ...state };
  const root = h("div", { class: "bitfield", role: "group", "aria-label": "Bits of the code, sign first" });
  el.append(root);
  let buttons = [];
  let raws = [];
  let fields = [];
  let focusIndex = 0;

  function build() {
    root.replaceChildren();
    root.dataset.bits = String(s.info.bits);
    fields = fieldsOf(s.info);
    buttons = [];
    raws = [];
    for (const f of fields) {
      const width = f.from - f.to + 1;
      const cells = h("div", { class: "bf-cells" });
      for (let i = f.from; i >= f.to; i -= 1) {
        const weight = f.key === "man" ? `2^-${s.info.mantissa_bits - i}` : f.key === "exp" ? `${2 ** (i - f.to)}` : "sign";
        const b = h("button", {
          type: "button",
          class: `bit bit-${f.key}`,
          dataset: { bit: String(i) },
          tabindex: "-1",
          title: `bit ${i} (${f.name}${f.key === "sign" ? "" : `, weight ${weight}`})`,
        }, h("span", { class: "bit-digit" }), h("span", { class: "bit-weight", "aria-hidden": "true" }, weightLabel(f, i, s.info)));
        b.addEventListener("click", () => {
          focusIndex = buttons.indexOf(b);
          if (s.onChange) s.onChange(toggleBit(s.code, i));
        });
        b.addEventListener("focus", () => {
          focusIndex = buttons.indexOf(b);
          rove();
        });
        cells.append(b);
        buttons.push(b);
      }
      const raw = h("span", { class: "bf-raw" });
      raws.push(raw);
      root.append(
        h(
          "div",
          { class: `bf-field bf-${f.key}` },
          h("div", { class: "bf-label" }, h("span", { class: "bf-name" }, f.name), h("span", { class: "bf-width" }, ` ${width} bit${width > 1 ? "s" : ""}`)),
          cells,
          raw,
        ),
      );
    }
    if (!fields.some((f) => f.key === "sign")) {
      root.prepend(h("div", { class: "bf-field bf-nosign" }, h("div", { class: "bf-label" }, h("span", { class: "bf-name" }, "no sign bit")), h("div", { class: "bf-cells" }), h("span", { class: "bf-raw" }, "always +")));
    }
  }

  function rove() {
    buttons.forEach((b, k) => b.setAttribute("tabindex", k === focusIndex ? "0" : "-1"));
  }

  root.addEventListener("keydown", (e) => {
    let k = focusIndex;
    if (e.key === "ArrowLeft" || e.key === "ArrowUp") k = Math.max(0, k - 1);
    else if (e.key === "ArrowRight" || e.key === "ArrowDown") k = Math.min(buttons.length - 1, k + 1);
    else if (e.key === "Home") k = 0;
    else if (e.key === "End") k = buttons.length - 1;
    else return;
    e.preventDefault();
    focusIndex = k;
    rove();
    buttons[k].focus();
  });

  function paint() {
    for (const b of buttons) {
      const i = Number(b.dataset.bit);
      const on = bitOf(s.code, i);
      b.firstChild.textContent = String(on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.setAttribute("aria-label", `${b.title}: ${on}`);
    }
    const bias = s.info.bias;
    fields.forEach((f, k) => {
      const v = fieldValue(s.code, f);
      if (f.key === "sign") raws[k].textContent = `s = ${v}`;
      else if (f.key === "exp") raws[k].textContent = `e = ${v}${bias !== undefined ? ` (${v} − ${bias} = ${v - bias})` : ""}`;
      else raws[k].textContent = `m = ${v}`;
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
