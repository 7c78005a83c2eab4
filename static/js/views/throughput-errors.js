// Published runs against the conventions: one row per run of /api/v1/throughput/gallery, a
// dot per convention at its error against the published figure (value / published − 1), the
// convention the source used filled, the ±tolerance band shaded around zero.
//
// mount(el) -> {update(gallery), exportSvg(), destroy()}
import { svg, h } from "../lib/dom.js";
import { fmtPct } from "../lib/format.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { svgChart } from "./collectives-svgchart.js";

const ROW = 24;
const CLIP = 1.2; // errors beyond ±120% are drawn at the edge (the tooltip has the value)

/** Each run's readings as dots (pure: gallery → rows of {convention, error, stated}). */
export function rows(gallery) {
  return gallery.runs.map((run) => ({
    run,
    dots: [{ ...run.reproduced, stated: true }, ...run.others.map((o) => ({ ...o, stated: false }))],
  }));
}

export function mount(el) {
  return svgChart(el, { className: "tp-err-svg", label: "Error of each convention against published figures", legendClass: "tp-legend", draw });
}

function draw(root, legend, width, gallery) {
  const narrow = width < 560;
  const m = { top: 16, right: 16, bottom: 44, left: narrow ? 140 : 270 };
  const fits = Math.floor((m.left - 14) / 7.2); // characters of a 12px label that fit the margin
  const all = rows(gallery);
  const H = m.top + all.length * ROW + m.bottom;
  const W = width;
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  root.setAttribute("width", W);
  root.setAttribute("height", H);
  const x = (e) => m.left + ((Math.max(-CLIP, Math.min(CLIP, e)) + CLIP) / (2 * CLIP)) * (W - m.left - m.right);
  const bottom = H - m.bottom;
  const tol = gallery.tolerance;
  root.append(svg("rect", { x: x(-tol), y: m.top, width: x(tol) - x(-tol), height: bottom - m.top, class: "tp-band" }));
  const axis = svg("g", { class: "axis" });
  for (const t of narrow ? [-1, 0, 1] : [-1, -0.5, 0, 0.5, 1]) {
    axis.append(
      svg("line", { x1: x(t), x2: x(t), y1: m.top, y2: bottom, class: t === 0 ? "tp-zero" : "tp-grid" }),
      svg("text", { x: x(t), y: bottom + 14, "text-anchor": "middle" }, `${t > 0 ? "+" : ""}${fmtPct(t, 0)}`),
    );
  }
  axis.append(svg("text", { x: (m.left + W - m.right) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, narrow ? "Error: reading / published − 1" : "Error against the published figure (reading / published − 1)"));
  root.append(axis);
  all.forEach((row, i) => {
    const y = m.top + i * ROW + ROW / 2;
    const name = narrow ? row.run.name : row.run.title;
    const label = svg("text", { x: m.left - 8, y: y + 4, "text-anchor": "end", class: "tp-row-label" }, name.length > fits ? `${name.slice(0, fits - 1)}…` : name);
    label.append(svg("title", {}, row.run.title));
    root.append(label);
    for (const d of row.dots.slice().sort((a, b) => a.stated - b.stated)) {
      const dot = svg("circle", { cx: x(d.error), cy: y, r: d.stated ? 5.5 : 4, class: d.stated ? "tp-dot tp-stated" : "tp-dot", dataset: { run: row.run.name, convention: d.convention } });
      dot.addEventListener("pointermove", (ev) => {
        showTip(ev, [row.run.title, [d.stated ? "convention used" : "convention", d.title], ["reads", String(Number(d.value.toPrecision(4)))], ["published", row.run.published.text], ["error", fmtPct(d.error)]]);
        moveTip(ev);
      });
      dot.addEventListener("pointerleave", hideTip);
      root.append(dot);
    }
  });
  const item = (cls, text) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${cls}` }), text);
  legend.append(
    item("tp-stated-swatch", "the convention the source used"),
    item("tp-dot-swatch", "every other convention of the same kind (FLOPs count or peak)"),
    item("tp-band-swatch", `within ±${fmtPct(tol, 0)} of the published figure`),
  );
}
