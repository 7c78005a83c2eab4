// A pinned mark is the reader's selection, kept in the URL under one of the view's state keys:
// hover stays transient, a click, tap or Enter pins the mark (its tooltip's lines are shown
// under the figure, where they survive the pointer moving to "copy link"), and Escape or a
// second click unpins it. Every view that pins a mark uses these; the box is styled once in
// bitmesh.css (.pin-detail, .pin-close).
import { h } from "./dom.js";

/** Nodes of tooltip lines (strings or [label, value] pairs), the first string bold. */
function lineNodes(lines) {
  return lines.map((line, i) => {
    if (Array.isArray(line)) return h("span", { class: "pin-line" }, `${line[0]}: `, h("b", {}, String(line[1])));
    return i === 0 ? h("b", { class: "pin-title" }, line) : h("span", { class: "pin-line" }, line);
  });
}

/**
 * A detail box appended to `el`: show(key, lines) pins (data-pinned = key), clear() unpins.
 * `onUnpin` runs when the reader presses its "unpin" button.
 */
export function pinDetail(el, onUnpin) {
  // a control: a static or compact embed shows the pinned figures without it
  const close = h("button", { type: "button", class: "pin-close", "aria-label": "Unpin", dataset: { embed: "controls" } }, "× unpin");
  const text = h("span", { class: "pin-text" });
  const box = h("div", { class: "pin-detail", role: "status", hidden: true }, text, " ", close);
  close.addEventListener("click", () => onUnpin());
  el.append(box);
  return {
    box,
    show(key, lines) {
      box.dataset.pinned = String(key);
      const nodes = lineNodes(lines);
      text.replaceChildren(...nodes.flatMap((n, i) => (i ? [" · ", n] : [n])));
      box.hidden = false;
    },
    clear() {
      delete box.dataset.pinned;
      text.replaceChildren();
      box.hidden = true;
    },
  };
}

/** Escape anywhere (outside a form field) unpins. */
export function unpinOnEscape(unpin) {
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape" || ev.target.closest?.("input, select, textarea")) return;
    unpin();
  });
}

/** A click or Enter / space on `node` calls `toggle()` (a mark the keyboard can pin). */
export function pinnable(node, toggle) {
  node.setAttribute("tabindex", "0");
  node.addEventListener("click", toggle);
  node.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    toggle();
  });
  return node;
}

/** An integer state value in [0, n), or null for anything else (a bad value falls back). */
export function indexIn(raw, n) {
  if (raw === null || raw === undefined || !/^\d+$/.test(String(raw))) return null;
  const v = Number(raw);
  return v < n ? v : null;
}

/** A finite number state value, or null. */
export function numberOr(raw) {
  if (raw === null || raw === undefined || String(raw).trim() === "") return null;
  const v = Number(raw);
  return Number.isFinite(v) ? v : null;
}
