// One tooltip element shared by every view. Content is built from text, never HTML.
import { h } from "./dom.js";

let tip = null;

function el() {
  if (!tip) {
    tip = h("div", { class: "tooltip", role: "tooltip", hidden: true });
    document.body.append(tip);
  }
  return tip;
}

/**
 * Show a tooltip near the pointer. `lines` is an array of strings or [label, value] pairs;
 * the first string line is bold (the mark's title).
 */
export function showTip(event, lines) {
  const t = el();
  t.replaceChildren();
  lines.forEach((line, i) => {
    const row = h("div");
    if (Array.isArray(line)) {
      row.append(h("span", { class: "tip-label" }, `${line[0]}: `), h("b", {}, String(line[1])));
    } else if (i === 0) {
      row.append(h("b", {}, line));
    } else {
      row.textContent = line;
    }
    t.append(row);
  });
  t.hidden = false;
  place(event.clientX, event.clientY);
}

export function moveTip(event) {
  if (tip && !tip.hidden) place(event.clientX, event.clientY);
}

export function hideTip() {
  if (tip) tip.hidden = true;
}

function place(x, y) {
  const t = el();
  const pad = 12;
  const w = t.offsetWidth;
  const hgt = t.offsetHeight;
  let left = x + pad;
  let top = y + pad;
  if (left + w > window.innerWidth - 4) left = Math.max(4, x - w - pad);
  if (top + hgt > window.innerHeight - 4) top = Math.max(4, y - hgt - pad);
  t.style.left = `${left}px`;
  t.style.top = `${top}px`;
}
