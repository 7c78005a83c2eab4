// Every code of a format as a grid of buttons coloured by class: 16×16 for 8-bit, 8×8 for
// 6-bit, 4×4 for 4-bit; wider formats show the 256 codes that share the current high bits.
import { h } from "../lib/dom.js";
import { fmtNum, fmtPow2 } from "../lib/format.js";
import { hideTip, showTip } from "../lib/tooltip.js";

/** Grid shape for a format width: {rows, cols, page} (page = codes per grid). */
export function gridShape(bits) {
  if (bits <= 4) return { rows: 4, cols: 4, page: 16 };
  if (bits <= 6) return { rows: 8, cols: 8, page: 64 };
  return { rows: 16, cols: 16, page: 256 };
}

/** Short label that fits a cell: 448, 1.125, 0.0156, 2⁻⁹ style numbers stay under ~7 chars
 * (exact when the value has at most 6 characters, else rounded; the tooltip has it in full). */
export function cellLabel(v, cls, digits = 3) {
  if (cls === "nan") return "NaN";
  if (cls === "inf") return v > 0 ? "∞" : "−∞";
  if (v === 0) return Object.is(v, -0) ? "−0" : "0";
  const a = Math.abs(v);
  const sign = v < 0 ? "−" : "";
  const e = Math.floor(Math.log2(a));
  const pow2 = a === 2 ** e;
  // never round an integer that fits (1024 must not read "1020")
  if (Number.isInteger(a) && a < 1e5) return `${sign}${a}`;
  if (pow2 && (a >= 1e5 || a < 1e-3)) return `${sign}${fmtPow2(e)}`;
  // the exact value when it is short: e4m3's 1.125 must not read "1.13", which no code holds
  const exact = String(a);
  if (exact.length <= 6 && !exact.includes("e")) return `${sign}${exact}`;
  return fmtNum(v, a >= 1e5 || a < 1e-3 ? 2 : digits);
}

const hex = (code, bits) => `0x${code.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), "0")}`;

/** One code as a button coloured by its class; a code not loaded yet shows "…". */
function cellButton(code, entry, bits, onPick) {
  if (!entry) {
    return h("button", { type: "button", tabindex: "-1", class: "cg-cell cls-pending", dataset: { code: String(code) }, disabled: true, "aria-label": `${hex(code, bits)}: loading` }, h("span", { class: "cg-val" }, "…"));
  }
  const { value, cls } = entry;
  const b = h("button", {
    type: "button",
    tabindex: "-1",
    class: `cg-cell cls-${cls}`,
    dataset: { code: String(code) },
    "aria-label": `${hex(code, bits)}: ${fmtNum(value, 8)} (${cls})`,
  }, h("span", { class: "cg-val" }, cellLabel(value, cls, bits > 8 ? 4 : 3)));
  const tip = (e) => showTip(e, [fmtNum(value, 10), ["code", `${hex(code, bits)} = ${code}`], ["bits", code.toString(2).padStart(bits, "0")], ["class", cls]]);
  b.addEventListener("mouseenter", tip);
  b.addEventListener("mouseleave", hideTip);
  b.addEventListener("focus", () => {
    const r = b.getBoundingClientRect();
    tip({ clientX: r.right, clientY: r.bottom });
  });
  b.addEventListener("blur", hideTip);
  b.addEventListener("click", () => onPick && onPick(code));
  return b;
}

/** The pager of formats wider than 8 bits: ‹ high bits (hex) › and the codes shown. */
function pagerControls() {
  const input = h("input", { type: "text", inputmode: "text", spellcheck: "false", autocomplete: "off", class: "cg-high", id: `cg-high-${Math.random().toString(36).slice(2, 7)}` });
  const range = h("output", { class: "mono" });
  const prev = h("button", { type: "button", class: "cg-prev", "aria-label": "previous page of codes" }, "‹");
  const next = h("button", { type: "button", class: "cg-next", "aria-label": "next page of codes" }, "›");
  const el = h("div", { class: "cg-pager control" },
    h("label", { for: input.id }, "high bits (hex): the grid shows the 256 codes that share them"),
    h("div", { class: "cg-pager-row" }, prev, input, next, range));
  return { el, input, range, prev, next };
}

/**
 * One tab stop for the whole grid (roving tabindex): Tab lands on the current code, arrows
 * move between cells (Home/End: first/last on the page), Enter or Space selects.
 * Returns {show(cells, code)}: the cells of the page now drawn and the current code.
 */
function rovingFocus(grid, colsOf) {
  let cells = [];
  const roam = (target, focus = true) => {
    if (!target) return;
    for (const b of cells) b.setAttribute("tabindex", b === target ? "0" : "-1");
    if (focus) target.focus();
  };
  grid.addEventListener("keydown", (e) => {
    const i = cells.indexOf(document.activeElement);
    if (i < 0) return;
    const cols = colsOf();
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, Home: -i, End: cells.length - 1 - i };
    if (!(e.key in moves)) return;
    e.preventDefault();
    roam(cells[Math.min(Math.max(i + moves[e.key], 0), cells.length - 1)]);
  });
  return {
    show(pageCells, code) {
      cells = pageCells;
      let stop = null;
      for (const b of cells) {
        const on = Number(b.dataset.code) === code;
        b.classList.toggle("current", on);
        if (on) {
          b.setAttribute("aria-current", "true");
          stop = b;
        } else b.removeAttribute("aria-current");
      }
      roam(stop ?? cells[0], false);
    },
  };
}

/** The column headers (+0 .. +F) of a grid `cols` wide, after an empty corner. */
function headers(cols) {
  const lowDigits = Math.ceil(Math.log2(cols) / 4) || 1;
  const out = [h("div", { class: "cg-corner", "aria-hidden": "true" }, "")];
  for (let c = 0; c < cols; c += 1) out.push(h("div", { class: "cg-colhead", "aria-hidden": "true" }, `+${c.toString(16).toUpperCase().padStart(lowDigits, "0")}`));
  return out;
}

/**
 * state: {info, code, lookup(code) -> {value, cls} | null, onPick(code), onMissing(start,
 * count)}. For formats wider than 8 bits the grid shows the page of 256 codes holding `code`;
 * a selector picks the high bits. Codes `lookup` does not know yet are asked for with
 * `onMissing`, and drawn when `update` brings a new lookup.
 */
export function mount(el, state) {
  let s = { ...state };
  const shape = () => gridShape(s.info.bits);
  const pager = pagerControls();
  const grid = h("div", { class: "codegrid", role: "group", "aria-label": "Every code, coloured by class" });
  el.append(pager.el, h("div", { class: "codegrid-wrap" }, grid));
  const focus = rovingFocus(grid, () => shape().cols);
  let page = 0;
  let cells = [];

  const setPage = (p) => {
    page = Math.min(Math.max(0, p), Math.max(1, 2 ** s.info.bits / shape().page) - 1);
    build();
  };
  // the high bits are typed and shown in hex, like the codes
  pager.input.addEventListener("change", () => setPage(Number.parseInt(pager.input.value.replace(/^0x/i, ""), 16) || 0));
  pager.prev.addEventListener("click", () => setPage(page - 1));
  pager.next.addEventListener("click", () => setPage(page + 1));

  function build() {
    const { rows, cols, page: per } = shape();
    const bits = s.info.bits;
    pager.el.hidden = bits <= 8;
    pager.input.value = `0x${page.toString(16).toUpperCase()}`;
    pager.range.textContent = bits > 8 ? `codes ${hex(page * per, bits)}–${hex(page * per + per - 1, bits)}` : "";
    grid.replaceChildren(...headers(cols));
    grid.style.gridTemplateColumns = `auto repeat(${cols}, minmax(0, 1fr))`;
    grid.dataset.cols = String(cols);
    cells = [];
    let missing = false;
    for (let r = 0; r < rows; r += 1) {
      const rowStart = page * per + r * cols;
      grid.append(h("div", { class: "cg-rowhead", "aria-hidden": "true" }, hex(rowStart, bits)));
      for (let c = 0; c < cols; c += 1) {
        const entry = s.lookup(rowStart + c);
        missing ||= !entry;
        cells.push(cellButton(rowStart + c, entry, bits, s.onPick));
      }
      grid.append(...cells.slice(-cols));
    }
    if (missing && s.onMissing) s.onMissing(page * per, per);
    focus.show(cells, s.code);
  }

  page = Math.floor(s.code / shape().page);
  build();
  return {
    update(next) {
      const infoChanged = next.info && next.info !== s.info;
      const lookupChanged = next.lookup && next.lookup !== s.lookup;
      s = { ...s, ...next };
      const want = Math.floor(s.code / shape().page);
      if (infoChanged || ("code" in next && want !== page)) {
        page = want;
        build();
      } else if (lookupChanged) build();
      else focus.show(cells, s.code);
    },
    destroy() {
      pager.el.remove();
      grid.parentElement.remove();
    },
  };
}
