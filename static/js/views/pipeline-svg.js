// SVG export of the pipeline Gantt chart (the final state of every lane), for "Download SVG".
// The canvas view draws the same marks; this one is built only when the user asks for it.
import { svg } from "../lib/dom.js";
import { cssVar, mix } from "../lib/colors.js";
import { niceTicks } from "../lib/scale.js";
import { fmtNum, fmtPct } from "../lib/format.js";
import { overlapPartner, timeFormat } from "./pipeline-data.js";
import { CHUNK_SHADE, kindVar } from "./pipeline-lane.js";

/** Above this many ops the export embeds each lane's rendered bitmap instead of one rect per op. */
export const VECTOR_LIMIT = 6000;
const WIDTH = 1000;
const LEFT = 64;
const RIGHT = WIDTH - 16;

/**
 * lanes: [{P, name, data, lane}], tEnd: shared time scale end. Returns an <svg> element: one
 * rect per op, or for big schedules (which would make a huge, slow file) the lanes' bitmaps.
 */
export function scheduleSvg(lanes, tEnd) {
  const total = lanes.reduce((a, l) => a + l.P.n, 0);
  if (total > VECTOR_LIMIT && lanes.every((l) => l.lane && l.lane.L)) return rasterSvg(lanes);
  return vectorSvg(lanes, tEnd);
}

function title(l, font, fill, x, y) {
  const text = `${l.name} — bubble ${fmtPct(l.data.bubble_fraction)}, makespan ${timeFormat(l.data).fmt(l.data.makespan, 6)}`;
  return svg("text", { x, y, "font-size": 14, "font-weight": 700, fill, "font-family": font }, text);
}

function rasterSvg(lanes) {
  const text = cssVar("--text");
  const font = cssVar("--font") || "sans-serif";
  const width = lanes[0].lane.L.width;
  const children = [];
  let y = 0;
  for (const l of lanes) {
    if (l.lane.stale) l.lane.render();
    const head = title(l, font, text, 0, y + 15);
    head.append(` (${l.P.n.toLocaleString("en-US")} ops)`);
    children.push(head);
    y += 22;
    const hgt = l.lane.L.height;
    children.push(svg("image", { x: 0, y, width, height: hgt, href: l.lane.buf.toDataURL("image/png") }));
    y += hgt + 12;
  }
  return svg("svg", { viewBox: `0 0 ${width} ${y}`, width, height: y }, ...children);
}

/** The theme's colours for the export, one entry per op kind of `kindNames`. */
function svgColors(kindNames) {
  const text = cssVar("--text");
  const kinds = kindNames.map((k) => cssVar(kindVar(k)));
  return {
    font: cssVar("--font") || "sans-serif",
    kinds,
    alt: kinds.map((c) => mix(c, text, CHUNK_SHADE)),
    fb: cssVar("--op-fb"),
    muted: cssVar("--muted"),
    surface: cssVar("--surface"),
    text,
    bubble: cssVar("--bubble"),
  };
}

function vectorSvg(lanes, tEnd) {
  const C = svgColors(lanes[0].P.kindNames);
  const k = (RIGHT - LEFT) / (tEnd || 1);
  const hatch = svg("pattern", { id: "pl-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, svg("rect", { width: 2, height: 6, fill: C.bubble }));
  const children = [svg("defs", {}, hatch)];
  let y = 8;
  for (const lane of lanes) {
    children.push(title(lane, C.font, C.text, LEFT, y + 14));
    y += 24;
    const rows = laneRowsSvg(lane.P, C, k, y);
    children.push(rows.g);
    y += rows.height + 4;
    children.push(axisSvg(C, tEnd, k, y, timeFormat(lanes[0].data).unit));
    y += 44;
  }
  children.push(legendSvg(lanes[0].P, C, y));
  y += 22;
  return svg("svg", { viewBox: `0 0 ${WIDTH} ${y}`, width: WIDTH, height: y }, ...children);
}

/** One lane's rank rows: the hatched idle background, then one titled rect per op. */
function laneRowsSvg(P, C, k, top) {
  const rowH = P.ranks <= 8 ? 24 : P.ranks <= 32 ? 12 : 6;
  const barH = rowH - 1;
  const g = svg("g", {});
  for (let r = 0; r < P.ranks; r++) {
    const ry = top + r * rowH;
    g.append(svg("rect", { x: LEFT, y: ry, width: P.makespan * k, height: barH, fill: "url(#pl-hatch)" }));
    if (rowH >= 10 || r % 8 === 0) {
      g.append(svg("text", { x: LEFT - 6, y: ry + barH / 2 + 4, "font-size": 10, "text-anchor": "end", fill: C.muted, "font-family": C.font }, `rank ${r}`));
    }
  }
  for (let i = 0; i < P.n; i++) {
    if (!P.overlapped[i] || P.kind[i] === P.forwardKind) opSvg(g, P, i, C, { k, rowH, barH, top });
  }
  return { g, height: P.ranks * rowH };
}

/** Op i (an overlapped span once, from its forward) with its tooltip, bands and label. */
function opSvg(g, P, i, C, { k, rowH, barH, top }) {
  const x = LEFT + P.start[i] * k;
  const w = Math.max(0.5, (P.end[i] - P.start[i]) * k);
  const ry = top + P.rank[i] * rowH;
  const partner = P.overlapped[i] ? overlapPartner(P, i) : -1;
  const fill = P.overlapped[i] ? C.fb : (P.chunk[i] & 1 ? C.alt : C.kinds)[P.kind[i]];
  const rect = svg("rect", { x: x.toFixed(2), y: ry, width: w.toFixed(2), height: barH, fill, stroke: C.surface, "stroke-width": w > 4 ? 0.5 : 0 });
  const name = (o) => `${P.kindNames[P.kind[o]]} mb ${P.mb[o]}`;
  const what = partner >= 0 ? `F&B: ${name(i)} + ${name(partner)}` : name(i);
  rect.append(svg("title", {}, `${what} rank ${P.rank[i]} stage ${P.stage[i]} [${P.start[i]}, ${P.end[i]}]`));
  g.append(rect);
  if (partner >= 0 && barH >= 8) {
    // as on the canvas: the forward's band on top, the backward's at the bottom
    const band = Math.max(1, barH * 0.22);
    g.append(svg("rect", { x: x.toFixed(2), y: ry, width: w.toFixed(2), height: band, fill: C.kinds[P.kind[i]] }));
    g.append(svg("rect", { x: x.toFixed(2), y: ry + barH - band, width: w.toFixed(2), height: band, fill: C.kinds[P.kind[partner]] }));
  }
  if (rowH >= 12 && w >= 14) {
    const label = partner >= 0 && w >= 26 ? `${P.mb[i]}|${P.mb[partner]}` : String(P.mb[i]);
    g.append(svg("text", { x: (x + w / 2).toFixed(2), y: ry + barH / 2 + 4, "font-size": 10, "text-anchor": "middle", fill: "#ffffff", "font-family": C.font }, label));
  }
}

function axisSvg(C, tEnd, k, y, unit) {
  const axis = svg("g", {});
  const text = (x, yy, anchor, s) => svg("text", { x, y: yy, "font-size": 10, "text-anchor": anchor, fill: C.muted, "font-family": C.font }, s);
  axis.append(svg("line", { x1: LEFT, x2: RIGHT, y1: y, y2: y, stroke: C.muted }));
  for (const v of niceTicks(0, tEnd, 10)) {
    const x = LEFT + v * k;
    axis.append(svg("line", { x1: x, x2: x, y1: y, y2: y + 5, stroke: C.muted }), text(x, y + 17, "middle", fmtNum(v, 4)));
  }
  axis.append(text(RIGHT, y + 30, "end", `time (${unit})`));
  return axis;
}

function legendSvg(P, C, y) {
  const g = svg("g", {});
  const items = P.kinds.map((kk, q) => [`${kk.kind} ${kk.title}`, C.kinds[q]]);
  items.push(["F&B overlapped", C.fb], ["idle", "url(#pl-hatch)"]);
  let lx = LEFT;
  for (const [label, fill] of items) {
    g.append(svg("rect", { x: lx, y, width: 12, height: 12, fill }));
    g.append(svg("text", { x: lx + 16, y: y + 10, "font-size": 11, fill: C.text, "font-family": C.font }, label));
    lx += 30 + label.length * 6;
  }
  return g;
}
