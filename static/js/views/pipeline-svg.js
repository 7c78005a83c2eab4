// SVG export of the pipeline Gantt chart (the final state of every lane), for "Download SVG".
// The canvas view draws the same marks; this one is built only when the user asks for it.
import { svg } from "../lib/dom.js";
import { cssVar, mix } from "../lib/colors.js";
import { niceTicks } from "../lib/scale.js";
import { fmtNum, fmtPct } from "../lib/format.js";
import { KINDS, overlapPartner } from "./pipeline-data.js";
import { CHUNK_SHADE } from "./pipeline-lane.js";

const KIND_VARS = ["--op-f", "--op-b", "--op-i", "--op-w"];

/** Above this many ops the export embeds each lane's rendered bitmap instead of one rect per op. */
export const VECTOR_LIMIT = 6000;

/**
 * lanes: [{P, name, data, lane}], tEnd: shared time scale end. Returns an <svg> element: one
 * rect per op, or for big schedules (which would make a huge, slow file) the lanes' bitmaps.
 */
export function scheduleSvg(lanes, tEnd) {
  const total = lanes.reduce((a, l) => a + l.P.n, 0);
  if (total > VECTOR_LIMIT && lanes.every((l) => l.lane && l.lane.L)) return rasterSvg(lanes);
  return vectorSvg(lanes, tEnd);
}

function rasterSvg(lanes) {
  const text = cssVar("--text");
  const font = cssVar("--font") || "sans-serif";
  const width = lanes[0].lane.L.width;
  const children = [];
  let y = 0;
  for (const l of lanes) {
    if (l.lane.stale) l.lane.render();
    children.push(
      svg("text", { x: 0, y: y + 15, "font-size": 14, "font-weight": 700, fill: text, "font-family": font },
        `${l.name} — bubble ${fmtPct(l.data.bubble_fraction)}, makespan ${fmtNum(l.data.makespan, 6)} (${l.P.n.toLocaleString("en-US")} ops)`),
    );
    y += 22;
    const hgt = l.lane.L.height;
    children.push(svg("image", { x: 0, y, width, height: hgt, href: l.lane.buf.toDataURL("image/png") }));
    y += hgt + 12;
  }
  return svg("svg", { viewBox: `0 0 ${width} ${y}`, width, height: y }, ...children);
}

function vectorSvg(lanes, tEnd) {
  const width = 1000;
  const left = 64;
  const right = width - 16;
  const k = (right - left) / (tEnd || 1);
  const font = cssVar("--font") || "sans-serif";
  const colors = KIND_VARS.map(cssVar);
  const fb = cssVar("--op-fb");
  const muted = cssVar("--muted");
  const text = cssVar("--text");
  const bubble = cssVar("--bubble");
  const alt = colors.map((c) => mix(c, text, CHUNK_SHADE));
  const children = [];
  children.push(
    svg(
      "defs",
      {},
      svg(
        "pattern",
        { id: "pl-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        svg("rect", { width: 2, height: 6, fill: bubble }),
      ),
    ),
  );
  let y = 8;
  for (const lane of lanes) {
    const P = lane.P;
    const rowH = P.ranks <= 8 ? 24 : P.ranks <= 32 ? 12 : 6;
    const barH = rowH - (rowH >= 6 ? 1 : 0);
    children.push(
      svg("text", { x: left, y: y + 14, "font-size": 14, "font-weight": 700, fill: text, "font-family": font },
        `${lane.name} — bubble ${fmtPct(lane.data.bubble_fraction)}, makespan ${fmtNum(lane.data.makespan, 6)}`),
    );
    y += 24;
    const g = svg("g", {});
    for (let r = 0; r < P.ranks; r++) {
      const ry = y + r * rowH;
      g.append(svg("rect", { x: left, y: ry, width: P.makespan * k, height: barH, fill: "url(#pl-hatch)" }));
      if (rowH >= 10 || r % 8 === 0) {
        g.append(svg("text", { x: left - 6, y: ry + barH / 2 + 4, "font-size": 10, "text-anchor": "end", fill: muted, "font-family": font }, `rank ${r}`));
      }
    }
    for (let i = 0; i < P.n; i++) {
      if (P.overlapped[i] && P.kind[i] !== 0) continue;
      const x = left + P.start[i] * k;
      const w = Math.max(0.5, (P.end[i] - P.start[i]) * k);
      const ry = y + P.rank[i] * rowH;
      const fill = P.overlapped[i] ? fb : P.chunk[i] & 1 ? alt[P.kind[i]] : colors[P.kind[i]];
      const rect = svg("rect", { x: x.toFixed(2), y: ry, width: w.toFixed(2), height: barH, fill, stroke: cssVar("--surface"), "stroke-width": w > 4 ? 0.5 : 0 });
      const partner = P.overlapped[i] ? overlapPartner(P, i) : -1;
      const what = partner >= 0
        ? `F&B: F mb ${P.mb[i]} + ${KINDS[P.kind[partner]]} mb ${P.mb[partner]}`
        : `${KINDS[P.kind[i]]} mb ${P.mb[i]}`;
      rect.append(svg("title", {}, `${what} rank ${P.rank[i]} stage ${P.stage[i]} [${P.start[i]}, ${P.end[i]}]`));
      g.append(rect);
      if (partner >= 0 && barH >= 8) {
        // as on the canvas: the forward's band on top, the backward's at the bottom
        const band = Math.max(1, barH * 0.22);
        g.append(svg("rect", { x: x.toFixed(2), y: ry, width: w.toFixed(2), height: band, fill: colors[0] }));
        g.append(svg("rect", { x: x.toFixed(2), y: ry + barH - band, width: w.toFixed(2), height: band, fill: colors[P.kind[partner]] }));
      }
      if (rowH >= 12 && w >= 14) {
        const label = partner >= 0 && w >= 26 ? `${P.mb[i]}|${P.mb[partner]}` : String(P.mb[i]);
        g.append(svg("text", { x: (x + w / 2).toFixed(2), y: ry + barH / 2 + 4, "font-size": 10, "text-anchor": "middle", fill: "#ffffff", "font-family": font }, label));
      }
    }
    children.push(g);
    y += P.ranks * rowH + 4;
    const axis = svg("g", {});
    axis.append(svg("line", { x1: left, x2: right, y1: y, y2: y, stroke: muted }));
    for (const v of niceTicks(0, tEnd, 10)) {
      const x = left + v * k;
      axis.append(svg("line", { x1: x, x2: x, y1: y, y2: y + 5, stroke: muted }));
      axis.append(svg("text", { x, y: y + 17, "font-size": 10, "text-anchor": "middle", fill: muted, "font-family": font }, fmtNum(v, 4)));
    }
    axis.append(svg("text", { x: right, y: y + 30, "font-size": 10, "text-anchor": "end", fill: muted, "font-family": font }, "time (cost units)"));
    children.push(axis);
    y += 44;
  }
  // legend
  let lx = left;
  const items = KINDS.map((kk, q) => [kk, colors[q]]);
  items.push(["F&B overlapped", fb], ["idle", "url(#pl-hatch)"]);
  for (const [label, fill] of items) {
    children.push(svg("rect", { x: lx, y, width: 12, height: 12, fill }));
    children.push(svg("text", { x: lx + 16, y: y + 10, "font-size": 11, fill: text, "font-family": font }, label));
    lx += 30 + label.length * 7;
  }
  y += 22;
  return svg("svg", { viewBox: `0 0 ${width} ${y}`, width, height: y }, ...children);
}
