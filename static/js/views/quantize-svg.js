// SVG chart plumbing shared by the quantization and arithmetic labs: a frame with margins,
// linear and log₁₀ scales, axes with a label and unit, and tooltips on marks (pointer and
// keyboard). Pure geometry lives in the scale functions so a test can call them.
import { svg } from "../lib/dom.js";
import { linear, niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";

/** An <svg> of width × height with a plot group inset by margins m = {top, right, bottom, left}. */
export function frame(width, height, m, label) {
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    class: "q-svg",
  });
  const plot = svg("g", { transform: `translate(${m.left},${m.top})` });
  root.append(plot);
  return { root, plot, w: width - m.left - m.right, h: height - m.top - m.bottom };
}

/** log₁₀ map from [d0, d1] to [r0, r1] (positive domain), with .invert and .ticks. */
export function logScale(d0, d1, r0, r1) {
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  const k = (r1 - r0) / (l1 - l0 || 1);
  const f = (x) => r0 + (Math.log10(x) - l0) * k;
  f.invert = (y) => 10 ** (l0 + (y - r0) / k);
  f.domain = [d0, d1];
  f.ticks = () => {
    // decades; with 3 or fewer of them, 2× and 5× in between too
    const steps = Math.abs(l1 - l0) <= 3 ? [1, 2, 5] : [1];
    const out = [];
    for (let e = Math.floor(Math.min(l0, l1)) - 1; e <= Math.ceil(Math.max(l0, l1)); e += 1) {
      for (const s of steps) {
        const v = s * 10 ** e;
        if (Math.log10(v) >= Math.min(l0, l1) - 1e-9 && Math.log10(v) <= Math.max(l0, l1) + 1e-9) out.push(v);
      }
    }
    return out;
  };
  return f;
}

/** Powers of two in [lo, hi] for a log₂-spaced axis (at most ~8 of them). */
export function pow2Ticks(lo, hi) {
  const e0 = Math.ceil(Math.log2(lo) - 1e-9);
  const e1 = Math.floor(Math.log2(hi) + 1e-9);
  const step = Math.max(1, Math.ceil((e1 - e0 + 1) / 8));
  const out = [];
  for (let e = e0; e <= e1; e += step) out.push(2 ** e);
  return out;
}

/** Counts 0..top on a height h (0 at the bottom), the top rounded up to the next tick. */
export function countScale(top, h, count) {
  const ticks = niceTicks(0, top, count);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : top;
  const last = ticks[ticks.length - 1];
  return linear(0, last >= top ? last : last + step, h, 0);
}

/** x axis at plot height h: ticks, tick labels, and `label` centred below. */
export function axisBottom(g, x, h, { ticks, format, label }) {
  const axis = svg("g", { class: "axis", transform: `translate(0,${h})` });
  const [r0, r1] = [x(x.domain[0]), x(x.domain[1])];
  axis.append(svg("line", { x1: Math.min(r0, r1), x2: Math.max(r0, r1), y1: 0, y2: 0 }));
  for (const t of ticks) {
    const px = x(t);
    axis.append(
      svg("line", { x1: px, x2: px, y1: 0, y2: 5 }),
      svg("text", { x: px, y: 17, "text-anchor": "middle" }, format(t)),
    );
  }
  axis.append(svg("text", { class: "axis-label", x: (r0 + r1) / 2, y: 34, "text-anchor": "middle" }, label));
  g.append(axis);
}

/** y axis at x = 0 with gridlines across width w and `label` rotated along it, `inset` px
 * left of the plot (the margin less a little). */
export function axisLeft(g, y, w, { ticks, format, label, inset }) {
  const axis = svg("g", { class: "axis" });
  for (const t of ticks) {
    const py = y(t);
    axis.append(
      svg("line", { class: "gridline", x1: 0, x2: w, y1: py, y2: py }),
      svg("text", { x: -6, y: py + 4, "text-anchor": "end" }, format(t)),
    );
  }
  const [y0, y1] = [y(y.domain[0]), y(y.domain[1])];
  axis.append(svg("text", {
    class: "axis-label",
    transform: `translate(${-inset},${(y0 + y1) / 2}) rotate(-90)`,
    "text-anchor": "middle",
  }, label));
  g.append(axis);
}

/** Show `lines()` (see lib/tooltip.js) on hover and on keyboard focus of `el`. */
export function tip(el, lines, { focusable = false } = {}) {
  el.addEventListener("pointerenter", (e) => showTip(e, lines()));
  el.addEventListener("pointermove", moveTip);
  el.addEventListener("pointerleave", hideTip);
  if (focusable) {
    el.setAttribute("tabindex", "0");
    el.addEventListener("focus", () => {
      const r = el.getBoundingClientRect();
      showTip({ clientX: r.right, clientY: r.top }, lines());
    });
    el.addEventListener("blur", hideTip);
  }
  return el;
}
