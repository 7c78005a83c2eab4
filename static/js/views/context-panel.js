// One placement of ring attention as /api/v1/context returned it, in one SVG: the s × s
// attention matrix tiled into blocks (rows: query blocks, columns: key blocks), each computed
// tile coloured by the GPU that computes it and labelled with its step, the causal mask grey;
// the ring of GPUs with the K/V block each holds, rotating one place per step; and a timeline
// of every GPU's work per step, the idle part hatched. The playhead t (in steps, fractional
// while playing) fades the tiles not computed yet. A pinned tile ("q,k": query block, key
// block) is outlined and its figures shown under the panel; a click or Enter on a tile calls
// onPick("q,k").
//
// mount(el, {onPick, onUnpin}) -> {update(data, t, pin), setTime(t), setPin(pin), exportSvg(), destroy()}
import { svg, h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { createLoop, createRedraw } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { cssVar, groupColor, onThemeChange } from "../lib/colors.js";
import { fmtInt, fmtNum, fmtPct } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { ensureStylesheet } from "./collectives-svgchart.js";
import { pinDetail, pinnable } from "../lib/pin.js";

/** Pair counts as 1.5M, 340k (axis ticks need few characters). */
export function fmtPairs(v) {
  if (v >= 1e6) return `${fmtNum(v / 1e6, 3)}M`;
  if (v >= 1e3) return `${fmtNum(v / 1e3, 3)}k`;
  return fmtNum(v, 3);
}

/** Geometry of the three parts for a panel `width` px wide (pure). */
export function panelLayout(d, width) {
  const side = Math.max(120, Math.min(width - 44, 380));
  const matrix = { x: 40, y: 34, size: side };
  const ringR = Math.min(110, (width - 60) / 2);
  const ring = { cx: width / 2, cy: matrix.y + side + 62 + ringR, r: ringR };
  const rowH = Math.max(3, Math.min(16, 220 / d.cp));
  const timeline = { x: 52, y: ring.cy + ringR + 54, w: width - 64, rowH, h: rowH * d.cp };
  return { width, matrix, ring, timeline, height: timeline.y + timeline.h + 44 };
}

function tip(node, lines) {
  node.addEventListener("pointermove", (ev) => {
    showTip(ev, typeof lines === "function" ? lines() : lines);
    moveTip(ev);
  });
  node.addEventListener("pointerleave", hideTip);
  return node;
}

/** Beyond this many tiles, Tab skips them (a click still pins one). */
const MAX_TAB_TILES = 150;

/** A tile's tooltip lines (the panel shows the same lines for the pinned tile). */
export function tileLines(t) {
  return [`Queries ${t.q_block} × keys ${t.k_block}`, ["computed by", `GPU ${t.rank}`], ["at step", String(t.step)], ["query–key pairs", fmtInt(t.pairs)], t.diagonal ? "diagonal: the mask keeps its lower triangle" : "full tile"];
}

function drawMatrix(d, m, onPick = null) {
  const g = svg("g", { class: "cx-matrix" });
  const n = d.num_blocks;
  const c = m.size / n;
  g.append(tip(svg("rect", { x: m.x, y: m.y, width: m.size, height: m.size, class: "cx-masked" }), ["Masked: a query never sees a later key", ["causal", String(d.causal)]]));
  const tiles = svg("g", { class: "cx-tiles" });
  d.tiles.forEach((t) => {
    const x = m.x + t.k_block * c;
    const y = m.y + t.q_block * c;
    const shape = t.diagonal
      ? svg("polygon", { points: `${x},${y} ${x},${y + c} ${x + c},${y + c}` })
      : svg("rect", { x, y, width: c, height: c });
    shape.setAttribute("fill", groupColor(t.rank));
    const key = `${t.q_block},${t.k_block}`;
    const mark = svg("g", { class: "cx-tile", dataset: { step: String(t.step), tile: key, rank: String(t.rank) } }, shape);
    if (c >= 18) mark.append(svg("text", { x: x + (t.diagonal ? c * 0.3 : c / 2), y: y + (t.diagonal ? c * 0.75 : c / 2) + 4, "text-anchor": "middle", class: "cx-step-label" }, String(t.step)));
    if (onPick) {
      pinnable(mark, () => onPick(key)).setAttribute("aria-label", `Queries ${t.q_block} × keys ${t.k_block}`);
      if (d.tiles.length > MAX_TAB_TILES) mark.setAttribute("tabindex", "-1"); // clickable, not a tab stop
    }
    tiles.append(tip(mark, tileLines(t)));
  });
  g.append(tiles);
  const ax = svg("g", { class: "axis" });
  const every = Math.ceil(n / Math.max(1, Math.floor(m.size / 18)));
  for (let i = 0; i < n; i += every) {
    ax.append(svg("text", { x: m.x + (i + 0.5) * c, y: m.y - 5, "text-anchor": "middle" }, String(i)), svg("text", { x: m.x - 5, y: m.y + (i + 0.5) * c + 4, "text-anchor": "end" }, String(i)));
  }
  ax.append(svg("text", { x: m.x + m.size / 2, y: 12, "text-anchor": "middle", class: "axis-label" }, `Key / value block (${fmtInt(d.block_tokens)} tokens each)`));
  ax.append(svg("text", { x: 11, y: m.y + m.size / 2, transform: `rotate(-90 11 ${m.y + m.size / 2})`, "text-anchor": "middle", class: "axis-label" }, "Query block"));
  g.append(ax);
  return g;
}

function drawRing(d, r) {
  const g = svg("g", { class: "cx-ring" });
  g.append(svg("circle", { cx: r.cx, cy: r.cy, r: r.r, class: "cx-ring-track" }));
  g.append(svg("text", { x: r.cx, y: r.cy - r.r - 30, "text-anchor": "middle", class: "axis-label" }, "The ring: each step, every GPU passes its K/V block on"));
  const pos = (i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / d.cp;
    return [r.cx + r.r * Math.cos(a), r.cy + r.r * Math.sin(a)];
  };
  const small = d.cp > 16;
  for (let i = 0; i < d.cp; i++) {
    const [x, y] = pos(i);
    const node = svg("g", { class: "cx-gpu" }, svg("circle", { cx: x, cy: y, r: small ? 4 : 13, fill: groupColor(i) }));
    if (!small) node.append(svg("text", { x, y: y + 4, "text-anchor": "middle", class: "cx-gpu-label" }, String(i)));
    g.append(tip(node, [`GPU ${i}`, ["owns blocks", d.q_blocks[i].join(", ")]]));
  }
  const blocks = svg("g", { class: "cx-kv" });
  g.append(blocks);
  return { g, blocks, pos, small };
}

/** Place the K/V blocks at playhead t: between steps j and j + 1 they travel one arc. */
function placeKv(d, ringParts, t) {
  const { blocks, pos, small } = ringParts;
  blocks.replaceChildren();
  if (small) return;
  const j = Math.min(d.cp - 1, Math.floor(t));
  const u = Math.min(1, t - j) * (j < d.cp - 1 ? 1 : 0);
  for (const hold of d.ring.filter((x) => x.step === j)) {
    const [x0, y0] = pos(hold.rank);
    const [x1, y1] = pos((hold.rank + 1) % d.cp);
    const [x, y] = [x0 + (x1 - x0) * u, y0 + (y1 - y0) * u];
    // the block sits a little inside its GPU, on the way to the centre; with many GPUs it is
    // a chip without text (the tooltip names it)
    const labelled = d.cp <= 8;
    const cx = x + (ringParts.center[0] - x) * (labelled ? 0.38 : 0.22);
    const cy = y + (ringParts.center[1] - y) * (labelled ? 0.38 : 0.22);
    const w = labelled ? 52 : 12;
    const chip = svg("g", { class: "cx-kv-block" }, svg("rect", { x: cx - w / 2, y: cy - (labelled ? 9 : 6), width: w, height: labelled ? 18 : 12, rx: 3, fill: groupColor(hold.kv_rank) }));
    if (labelled) chip.append(svg("text", { x: cx, y: cy + 4, "text-anchor": "middle", class: "cx-kv-label" }, `K/V ${hold.kv_blocks.join(",")}`));
    blocks.append(tip(chip, [`GPU ${hold.rank} at step ${hold.step}`, ["holds K/V of", `GPU ${hold.kv_rank}`], ["blocks", hold.kv_blocks.join(", ")]]));
  }
}

function drawTimeline(d, tl) {
  const g = svg("g", { class: "cx-timeline" });
  const total = d.step_pairs.reduce((a, b) => a + b, 0) || 1;
  const x = (v) => tl.x + (v / total) * tl.w;
  let start = 0;
  d.step_pairs.forEach((stepMax, j) => {
    d.per_rank.forEach((pr, r) => {
      const busy = pr.pairs_per_step[j];
      const y = tl.y + r * tl.rowH;
      g.append(tip(svg("rect", { x: x(start), y, width: Math.max(0, x(start + busy) - x(start)), height: tl.rowH - 1, fill: groupColor(r) }), [`GPU ${r}, step ${j}`, ["busy", `${fmtInt(busy)} pairs`], ["idle", `${fmtInt(stepMax - busy)} pairs`]]));
      if (stepMax > busy) g.append(tip(svg("rect", { x: x(start + busy), y, width: x(start + stepMax) - x(start + busy), height: tl.rowH - 1, class: "cx-idle" }), [`GPU ${r}, step ${j}: waiting`, ["idle", `${fmtInt(stepMax - busy)} pairs`]]));
    });
    g.append(svg("line", { x1: x(start), x2: x(start), y1: tl.y - 3, y2: tl.y + tl.h + 2, class: "cx-step-rule" }));
    start += stepMax;
  });
  const ax = svg("g", { class: "axis" });
  for (const v of niceTicks(0, total, 4)) ax.append(svg("text", { x: x(v), y: tl.y + tl.h + 14, "text-anchor": "middle" }, fmtPairs(v)));
  ax.append(svg("text", { x: tl.x + tl.w / 2, y: tl.y + tl.h + 32, "text-anchor": "middle", class: "axis-label" }, tl.w > 360 ? "Time in query–key pairs (a step waits for its busiest GPU)" : "Time, in query–key pairs"));
  const every = Math.ceil(d.cp / Math.max(1, Math.floor(tl.h / 12)));
  for (let r = 0; r < d.cp; r += every) ax.append(svg("text", { x: tl.x - 5, y: tl.y + (r + 0.5) * tl.rowH + 4, "text-anchor": "end" }, `GPU ${r}`));
  ax.append(svg("text", { x: tl.x, y: tl.y - 8, class: "axis-label" }, `Idle: ${fmtPct(d.idle_fraction)} of GPU time`));
  g.append(ax);
  const head = svg("line", { class: "cx-playhead", y1: tl.y - 3, y2: tl.y + tl.h + 2 });
  g.append(head);
  return { g, head, stepX: (t) => {
    const j = Math.min(d.cp, Math.floor(t));
    const before = d.step_pairs.slice(0, j).reduce((a, b) => a + b, 0);
    return x(before + (j < d.cp ? (t - j) * d.step_pairs[j] : 0));
  } };
}

function build(p) {
  p.root.replaceChildren();
  if (!p.data || !p.width) return;
  const d = p.data;
  const L = panelLayout(d, p.width);
  p.root.setAttribute("viewBox", `0 0 ${L.width} ${L.height}`);
  p.root.setAttribute("width", L.width);
  p.root.setAttribute("height", L.height);
  p.ring = drawRing(d, L.ring);
  p.ring.center = [L.ring.cx, L.ring.cy];
  p.timeline = drawTimeline(d, L.timeline);
  p.root.append(drawMatrix(d, L.matrix, p.onPick), p.ring.g, p.timeline.g);
  setTime(p, p.t);
  setPin(p, p.pin);
}

/** Outline the pinned tile ("q,k") and show its figures; a tile this answer lacks is no pin. */
function setPin(p, pin) {
  p.pin = pin;
  const tile = p.data && p.data.tiles.find((t) => `${t.q_block},${t.k_block}` === pin);
  for (const mark of p.root.querySelectorAll(".cx-tile")) mark.toggleAttribute("data-pinned", Boolean(tile) && mark.dataset.tile === pin);
  if (tile) p.detail.show(pin, tileLines(tile));
  else p.detail.clear();
}

function setTime(p, t) {
  p.t = t;
  if (!p.data || !p.ring) return;
  fadeTiles(p.root, t);
  placeKv(p.data, p.ring, t);
  const x = p.timeline.stepX(t);
  p.timeline.head.setAttribute("x1", x);
  p.timeline.head.setAttribute("x2", x);
}

export function mount(el, { onPick = null, onUnpin = () => {} } = {}) {
  const root = svg("svg", { class: "cx-svg", role: "img", "aria-label": "Ring attention tiles, the K/V ring and the work timeline" });
  const legend = h("div", { class: "legend cx-legend" });
  el.append(root, legend);
  const p = { root, data: null, width: 0, t: 0, ring: null, timeline: null, pin: null, onPick, detail: pinDetail(el, onUnpin) };
  const redraw = createRedraw(() => build(p));
  const unResize = onResize(el, (w) => {
    p.width = w;
    redraw();
  });
  const unTheme = onThemeChange(redraw);
  return {
    update(data, t, pin = null) {
      p.data = data;
      p.t = t;
      p.pin = pin;
      legend.replaceChildren(...legendItems(data));
      redraw();
    },
    setTime: (t) => setTime(p, t),
    setPin: (pin) => setPin(p, pin),
    exportSvg: () => root,
    destroy() {
      unResize();
      unTheme();
      root.remove();
      legend.remove();
    },
  };
}

function legendItems(d) {
  const items = [];
  const shown = Math.min(d.cp, 8);
  for (let r = 0; r < shown; r++) items.push(h("span", { class: "legend-item" }, h("span", { class: "swatch", style: { background: groupColor(r) } }), `GPU ${r}`));
  if (d.cp > shown) items.push(h("span", { class: "legend-item" }, `… ${d.cp - shown} more`));
  if (d.causal) items.push(h("span", { class: "legend-item" }, h("span", { class: "swatch cx-masked-swatch" }), "masked (causal)"));
  items.push(h("span", { class: "legend-item" }, h("span", { class: "swatch cx-idle-swatch" }), "idle (waiting for the step)"));
  items.push(h("span", { class: "legend-item" }, h("span", { class: "swatch cx-now-swatch", style: { borderColor: cssVar("--text") } }), "this step's tiles"));
  return items;
}

function fadeTiles(root, t) {
  const j = Math.floor(t);
  for (const tile of root.querySelectorAll(".cx-tile")) {
    const s = Number(tile.dataset.step);
    tile.setAttribute("class", s < j ? "cx-tile cx-done" : s === j ? "cx-tile cx-now" : "cx-tile cx-later");
  }
}

/** The home gallery's live preview: zig-zag tiles on 4 GPUs filling in step by step. */
export async function preview(el) {
  ensureStylesheet("/static/css/views/context.css");
  const d = await fetchJSON("/api/v1/context?seq_len=1024&cp=4");
  const root = svg("svg", { class: "cx-svg", viewBox: "0 0 120 120", role: "img", "aria-label": "Ring attention tiles" });
  root.append(drawMatrix(d, { x: 6, y: 6, size: 108 }));
  for (const label of root.querySelectorAll("text")) label.remove();
  Object.assign(root.style, { width: "100%", height: "100%" });
  el.append(root);
  const loop = createLoop(el, (ms) => fadeTiles(root, (ms / 900) % (d.cp + 1)));
  if (!loop.start()) fadeTiles(root, d.cp);
}
