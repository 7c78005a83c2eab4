// Device mesh view: every GPU a cell inside its node, coloured by the groups of one axis.
// Hovering (or focusing) a GPU lights up each group it belongs to, one colour per axis.
// The base layer (nodes + coloured cells) is drawn once to an offscreen canvas; a hover frame
// composites that image and draws only the few hundred highlighted cells, so 16,384 GPUs stay
// smooth. Changing the axes tweens every cell from where its coordinates sat before.
import { easeInOut } from "../lib/anim.js";
import { fetchJSON } from "../lib/api.js";
import { eventToElementCoordinates, setupCanvas } from "../lib/canvas.js";
import { countDraw, settle, startTween, tweenGoesOn, viewContext, wireCanvasView } from "./canvas-view.js";
import { cssVar, groupColor, onThemeChange } from "../lib/colors.js";
import { h, svg } from "../lib/dom.js";
import { fmtInt } from "../lib/format.js";
import { hideTip, moveTip, showTip } from "../lib/tooltip.js";
import {
  cellOrigins,
  groupKeys,
  groupRanks,
  meshLayout,
  nodeOrigin,
  previousRanks,
  rankAt,
  slotRanks,
} from "./mesh-layout.js";

const TWEEN_MS = 600;
const COLOURS = 30; // groupColor cycles through 30 distinguishable colours
const SVG_TITLED_CELLS = 5000; // per-cell tooltips only where the exported file stays small

const AXIS_VARS = { dp: "--c0", tp: "--c3", pp: "--c2", cp: "--c4", ep: "--c1", sp: "--c9", fsdp: "--c7" };
const SPARE_VARS = ["--c5", "--c6", "--c8", "--c9", "--c7", "--c1", "--c4"];

/** CSS variable holding the highlight colour of each axis (stable by name). */
export function axisColorVars(names) {
  const used = new Set(names.map((n) => AXIS_VARS[n.toLowerCase()]).filter(Boolean));
  const spare = SPARE_VARS.filter((v) => !used.has(v));
  let k = 0;
  return Object.fromEntries(names.map((n) => [n, AXIS_VARS[n.toLowerCase()] ?? spare[k++ % spare.length]]));
}

/**
 * Turn a /api/v1/mesh response (format=columns, include=ranks) into typed arrays indexed by
 * rank, plus each axis's rank stride from `axis_stats`.
 */
export function normaliseMesh(data) {
  const ranks = data.ranks;
  return {
    ...data,
    coords: data.axis_names.map((n) => Int32Array.from(ranks.coords[n])),
    node: Int32Array.from(ranks.node),
    localRank: Int32Array.from(ranks.local_rank),
    strides: data.axis_stats.map((s) => s.stride),
  };
}

function bucketsByColour(keys) {
  const counts = new Int32Array(COLOURS);
  for (let r = 0; r < keys.length; r += 1) counts[keys[r] % COLOURS] += 1;
  const buckets = Array.from({ length: COLOURS }, (_, c) => new Int32Array(counts[c]));
  const fill = new Int32Array(COLOURS);
  for (let r = 0; r < keys.length; r += 1) {
    const c = keys[r] % COLOURS;
    buckets[c][fill[c]++] = r;
  }
  return buckets;
}

function roundRect(ctx, x, y, w, hh, rad) {
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(x, y, w, hh, rad);
  else ctx.rect(x, y, w, hh);
}

function drawNodes(ctx, L, alpha = 1) {
  ctx.globalAlpha = alpha;
  ctx.fillStyle = cssVar("--surface-2");
  ctx.strokeStyle = cssVar("--border");
  ctx.lineWidth = 1;
  const rad = Math.min(4, L.pad + 1);
  if (L.nodes > 600) {
    // One path for thousands of node outlines.
    ctx.beginPath();
    for (let n = 0; n < L.nodes; n += 1) {
      const o = nodeOrigin(L, n);
      ctx.rect(o.x, o.y, L.nodeW, L.nodeH);
    }
    ctx.fill();
    if (L.nodeGap >= 3) ctx.stroke();
  } else {
    for (let n = 0; n < L.nodes; n += 1) {
      const o = nodeOrigin(L, n);
      roundRect(ctx, o.x + 0.5, o.y + 0.5, L.nodeW - 1, L.nodeH - 1, rad);
      ctx.fill();
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = cssVar("--muted");
  ctx.textBaseline = "alphabetic";
  if (L.showNodeLabels) {
    ctx.font = `11px ${cssVar("--font") || "sans-serif"}`;
    ctx.textAlign = "left";
    for (let n = 0; n < L.nodes; n += 1) {
      const o = nodeOrigin(L, n);
      ctx.fillText(L.nodeW >= 60 ? `node ${n}` : `n${n}`, o.x + 1, o.y - 4);
    }
  } else {
    // Row labels in the left gutter: the first node of each row.
    const every = Math.max(1, Math.ceil(12 / L.pitchY));
    ctx.font = `10px ${cssVar("--mono") || "monospace"}`;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let row = 0; row < L.rows; row += every) {
      const n = row * L.perRow;
      ctx.fillText(row === 0 ? "node 0" : String(n), L.gutter - 4, L.y0 + row * L.pitchY + L.nodeH / 2);
    }
  }
}

function drawCellsAt(ctx, buckets, colours, xs, ys, size) {
  for (let c = 0; c < buckets.length; c += 1) {
    const b = buckets[c];
    if (!b.length) continue;
    ctx.fillStyle = colours[c];
    ctx.beginPath();
    for (let i = 0; i < b.length; i += 1) {
      const r = b[i];
      ctx.rect(xs[r], ys[r], size, size);
    }
    ctx.fill();
  }
}

function labelCells(ctx, L, xs, ys, mesh, ranks) {
  if (L.cell < 18) return;
  const mono = cssVar("--mono") || "monospace";
  const withCoords = L.cell >= 40 && mesh && mesh.axis_names.length <= 4;
  const big = `600 ${L.cell >= 30 ? 12 : 10}px ${mono}`;
  const small = `9px ${mono}`;
  ctx.fillStyle = cssVar("--bg");
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const r of ranks) {
    const cx = xs[r] + L.cell / 2;
    const cy = ys[r] + L.cell / 2;
    ctx.font = big;
    ctx.fillText(String(r), cx, withCoords ? cy - 6 : cy + 0.5);
    if (withCoords) {
      ctx.font = small;
      ctx.fillText(mesh.coords.map((c) => c[r]).join("·"), cx, cy + 9);
    }
  }
}

function drawRankLabels(ctx, L, xs, ys, mesh) {
  if (L.cell < 18) return;
  labelCells(ctx, L, xs, ys, mesh, Array.from({ length: L.world }, (_, r) => r));
}

function colourTable() {
  return Array.from({ length: COLOURS }, (_, i) => groupColor(i));
}

/** Static drawing of a whole mesh into ctx (the home-gallery preview). */
function paintBase(ctx, L, mesh, keys) {
  const xs = new Float32Array(L.world);
  const ys = new Float32Array(L.world);
  cellOrigins(L, mesh.node, mesh.localRank, xs, ys);
  drawNodes(ctx, L);
  drawCellsAt(ctx, bucketsByColour(keys), colourTable(), xs, ys, L.cell);
  drawRankLabels(ctx, L, xs, ys, mesh);
  return { xs, ys };
}

/**
 * The rank drawn next to rank r in direction (dx, dy): scan from r's centre in half-cell steps
 * across at most one node gap. Left/right fall back to the neighbouring rank at a row's end, so
 * every GPU stays reachable; up/down stay put at the top and bottom.
 */
export function neighbourRank(L, slots, xs, ys, r, dx, dy) {
  const step = L.cell + L.gap;
  const cx = xs[r] + L.cell / 2;
  const cy = ys[r] + L.cell / 2;
  const reach = (dx ? L.pitchX : L.pitchY) + step;
  for (let d = step; d <= reach; d += Math.max(1, step / 2)) {
    const q = rankAt(L, slots, cx + dx * d, cy + dy * d);
    if (q >= 0 && q !== r) return q;
  }
  if (dx) return Math.min(L.world - 1, Math.max(0, r + dx));
  return r;
}

// ------------------------------------------------------------------ the view's named steps
// `v` holds the view's state: the canvas, the current mesh and layout, the cached base layer,
// the hover and the tween. Each step below reads or updates it; `mount` only wires them up.

/** Lay the current mesh out at the current width: cell corners and the slot → rank table. */
function relayout(v) {
  const { mesh } = v;
  v.L = meshLayout(mesh, v.width);
  v.xs = new Float32Array(v.L.world);
  v.ys = new Float32Array(v.L.world);
  cellOrigins(v.L, mesh.node, mesh.localRank, v.xs, v.ys);
  v.slots = slotRanks(v.L, mesh.node, mesh.localRank);
  v.canvas.dataset.cells = String(v.L.world);
  v.canvas.dataset.cell = String(v.L.cell);
}

/** Colour keys and per-colour buckets for the current "colour by" choice. */
function recolour(v) {
  v.keys = groupKeys(v.mesh, v.s.colorBy, v.s.colorMode);
  v.buckets = bucketsByColour(v.keys);
}

/** Nodes, coloured cells and labels, painted once into an offscreen canvas. */
function paintBaseLayer(v) {
  const { L, base } = v;
  const dpr = window.devicePixelRatio || 1;
  base.width = Math.max(1, Math.round(L.width * dpr));
  base.height = Math.max(1, Math.round(L.height * dpr));
  const bctx = base.getContext("2d");
  bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  bctx.clearRect(0, 0, L.width, L.height);
  drawNodes(bctx, L);
  drawCellsAt(bctx, v.buckets, colourTable(), v.xs, v.ys, L.cell);
  drawRankLabels(bctx, L, v.xs, v.ys, v.mesh);
}

function focusRank(v) {
  return v.hover >= 0 ? v.hover : v.s.selected ?? -1;
}

/** Dim everything, then light every group of rank r (one colour per axis), r and its node. */
function drawHighlight(v, ctx, r) {
  const { L, mesh, xs, ys } = v;
  if (r < 0 || r >= L.world) return;
  ctx.globalAlpha = 0.72;
  ctx.fillStyle = cssVar("--surface");
  ctx.fillRect(0, 0, L.width, L.height);
  ctx.globalAlpha = 1;
  const vars = axisColorVars(mesh.axis_names);
  const grow = L.cell >= 3 ? 1 : 0.5;
  mesh.shape.forEach((size, i) => {
    if (size < 2) return;
    ctx.fillStyle = cssVar(vars[mesh.axis_names[i]]);
    ctx.beginPath();
    for (const m of groupRanks(mesh, i, r)) ctx.rect(xs[m] - grow, ys[m] - grow, L.cell + 2 * grow, L.cell + 2 * grow);
    ctx.fill();
    if (L.cell >= 8) {
      ctx.strokeStyle = cssVar("--text");
      ctx.lineWidth = 1;
      ctx.globalAlpha = 0.35;
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
  });
  const ring = Math.max(2, Math.min(4, L.cell / 4)); // the GPU itself: a ring in the text colour
  ctx.strokeStyle = cssVar("--text");
  ctx.lineWidth = ring;
  ctx.strokeRect(xs[r] - ring / 2 - 1, ys[r] - ring / 2 - 1, L.cell + ring + 2, L.cell + ring + 2);
  const o = nodeOrigin(L, mesh.node[r]); // its node's outline
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = cssVar("--accent");
  ctx.strokeRect(o.x + 0.5, o.y + 0.5, L.nodeW - 1, L.nodeH - 1);
  if (L.cell >= 18) {
    mesh.shape.forEach((size, i) => {
      if (size > 1) labelCells(ctx, L, xs, ys, mesh, groupRanks(mesh, i, r));
    });
  }
}

/** One still frame: the base layer, then the focused GPU's groups. */
function drawFrame(v) {
  if (!v.L) return;
  const t0 = performance.now();
  const ctx = viewContext(v, v.L.width, v.L.height);
  ctx.clearRect(0, 0, v.L.width, v.L.height);
  ctx.drawImage(v.base, 0, 0, v.L.width, v.L.height);
  drawHighlight(v, ctx, focusRank(v));
  countDraw(v);
  v.stats.draws = v.draws;
  v.stats.drawMs += performance.now() - t0;
}

/** A frame of the tween `ms` into it: every cell between its old and new place. */
function drawTween(v, ms) {
  const { L, tween } = v;
  const k = easeInOut(ms / TWEEN_MS);
  const ctx = viewContext(v, L.width, L.height);
  ctx.clearRect(0, 0, L.width, L.height);
  drawNodes(ctx, L, Math.min(1, 0.25 + k));
  const cx = new Float32Array(L.world);
  const cy = new Float32Array(L.world);
  const { prev, fromX, fromY } = tween;
  for (let r = 0; r < L.world; r += 1) {
    const p = prev[r];
    if (p >= 0 && p < fromX.length) {
      cx[r] = fromX[p] + (v.xs[r] - fromX[p]) * k;
      cy[r] = fromY[p] + (v.ys[r] - fromY[p]) * k;
    } else {
      const grow = L.cell * (1 - k) * 0.5; // a coordinate that did not exist before grows in place
      cx[r] = v.xs[r] + grow;
      cy[r] = v.ys[r] + grow;
    }
  }
  drawCellsAt(ctx, v.buckets, colourTable(), cx, cy, Math.max(1, tween.fromCell + (L.cell - tween.fromCell) * k));
  return tweenGoesOn(v, ms, TWEEN_MS, drawFrame);
}

/** Show a new API mesh; cells fly from where their coordinates sat when `animate`. */
function setMesh(v, next, animate) {
  const before = v.mesh ? { mesh: v.mesh, xs: v.xs, ys: v.ys, cell: v.L.cell } : null;
  v.mesh = normaliseMesh(next);
  relayout(v);
  recolour(v);
  paintBaseLayer(v);
  v.loop.stop();
  v.tween = null;
  if (animate && before) {
    const prev = previousRanks(before.mesh, v.mesh);
    const moved = prev.some((p, r) => p >= 0 && (before.xs[p] !== v.xs[r] || before.ys[p] !== v.ys[r]));
    if (moved) {
      v.tween = { prev, fromX: before.xs, fromY: before.ys, fromCell: before.cell };
      if (startTween(v)) return; // else reduced motion: jump to the final layout
    }
  }
  settle(v);
}

function tipLines(v, r) {
  const { mesh } = v;
  return [
    `GPU rank ${fmtInt(r)}`,
    ["node", `${fmtInt(mesh.node[r])} · local rank ${mesh.localRank[r]}`],
    ...mesh.axis_names.map((n, i) => [n, `${mesh.coords[i][r]} of ${mesh.shape[i]}`]),
  ];
}

function setHover(v, r, event) {
  if (r !== v.hover) {
    v.hover = r;
    v.canvas.dataset.hoverRank = String(r);
    if (!v.tween) v.redraw();
    if (v.s.onHover) v.s.onHover(r);
    if (event) {
      if (r < 0) hideTip();
      else showTip(event, tipLines(v, r));
    }
  } else if (event && r >= 0) moveTip(event);
}

/** A pointer-like event at rank r's cell (for keyboard focus and its tooltip). */
function cellEvent(v, r) {
  const rect = v.canvas.getBoundingClientRect();
  return { clientX: rect.left + v.xs[r] + v.L.cell, clientY: rect.top + v.ys[r] + v.L.cell };
}

function select(v, r) {
  if (v.s.onSelect) v.s.onSelect(r);
}

function bindPointer(v) {
  const { canvas } = v;
  const rankUnder = (e) => {
    const p = eventToElementCoordinates(e, canvas);
    return rankAt(v.L, v.slots, p.x, p.y);
  };
  canvas.addEventListener("pointermove", (e) => v.L && setHover(v, rankUnder(e), e));
  canvas.addEventListener("pointerleave", () => {
    setHover(v, -1);
    hideTip();
  });
  canvas.addEventListener("click", (e) => {
    if (!v.L) return;
    const r = rankUnder(e);
    select(v, r === v.s.selected ? -1 : r);
  });
}

/** The rank a navigation key moves to from `cur`, or null for other keys. */
function keyTarget(v, key, cur) {
  const { L, mesh } = v;
  // Arrows follow the picture (the cell drawn above, below or beside, across node gaps);
  // PageUp/PageDown jump to the same slot of the previous / next node.
  const arrows = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
  if (key in arrows) return neighbourRank(L, v.slots, v.xs, v.ys, cur, ...arrows[key]);
  if (key === "PageDown" || key === "PageUp") {
    const n = Math.min(L.nodes - 1, Math.max(0, mesh.node[cur] + (key === "PageDown" ? 1 : -1)));
    const q = v.slots[n * L.gpusPerNode + mesh.localRank[cur]];
    return q >= 0 ? q : cur;
  }
  if (key === "Home") return 0;
  if (key === "End") return L.world - 1;
  return null;
}

function bindKeyboard(v) {
  const { canvas } = v;
  canvas.addEventListener("keydown", (e) => {
    if (!v.L) return;
    const cur = focusRank(v) >= 0 ? focusRank(v) : 0;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      select(v, cur === v.s.selected ? -1 : cur);
      return;
    }
    if (e.key === "Escape") {
      setHover(v, -1);
      hideTip();
      select(v, -1);
      return;
    }
    const next = keyTarget(v, e.key, cur);
    if (next === null) return;
    e.preventDefault();
    setHover(v, next, cellEvent(v, next));
  });
  canvas.addEventListener("focus", () => {
    if (focusRank(v) < 0 && v.L) setHover(v, 0, cellEvent(v, 0));
  });
  canvas.addEventListener("blur", () => {
    hideTip();
    setHover(v, -1);
  });
}

function update(v, next) {
  const prev = v.s;
  v.s = { ...v.s, ...next };
  if (next.mesh && next.mesh !== (prev.mesh || null)) {
    setMesh(v, next.mesh, next.animate !== false && !!v.mesh);
    return;
  }
  if (!v.mesh) return;
  if (v.s.colorBy !== prev.colorBy || v.s.colorMode !== prev.colorMode) {
    recolour(v);
    paintBaseLayer(v);
  }
  if (!v.tween) v.redraw();
}

function createCanvas(el) {
  const canvas = h("canvas", {
    class: "mesh-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": "Device mesh: GPU cells grouped into nodes. Arrow keys move to the GPU drawn beside, above or below, Page Up and Page Down jump a node, Enter pins one.",
  });
  const wrap = h("div", { class: "chart mesh-chart" }, canvas);
  el.append(wrap);
  return { canvas, wrap };
}

/**
 * Mount the mesh view. state: {mesh (a /api/v1/mesh response, format=columns), colorBy (axis
 * name or "node"), colorMode ("group" or "coord"), selected (rank or -1), onHover(rank),
 * onSelect(rank)}. Returns {update, rankAt, cellCentre, toSvg, stats, destroy}.
 */
export function mount(el, state) {
  const { canvas, wrap } = createCanvas(el);
  const v = {
    canvas, wrap, base: document.createElement("canvas"), s: { ...state }, mesh: null, L: null,
    keys: null, buckets: null, xs: new Float32Array(0), ys: new Float32Array(0), slots: null,
    tween: null, hover: -1, width: Math.max(200, Math.floor(wrap.clientWidth) || 600), draws: 0,
    ctxCache: null, stats: { draws: 0, drawMs: 0 },
  };
  const unwire = wireCanvasView(v, {
    frame: drawFrame, tween: drawTween, pointer: bindPointer, keyboard: bindKeyboard, minWidth: 200,
    ready: (view) => view.mesh !== null,
    resized(view) {
      relayout(view);
      paintBaseLayer(view);
      if (!view.tween) view.redraw();
    },
    themed(view) {
      paintBaseLayer(view);
      view.redraw();
    },
  });
  if (v.s.mesh) setMesh(v, v.s.mesh, false);
  const api = {
    update: (next) => update(v, next),
    /** The GPU rank drawn at canvas point (x, y) in CSS px, or -1. */
    rankAt: (x, y) => (v.L ? rankAt(v.L, v.slots, x, y) : -1),
    /** Centre of rank r's cell in canvas CSS px. */
    cellCentre: (r) => (v.L ? { x: v.xs[r] + v.L.cell / 2, y: v.ys[r] + v.L.cell / 2 } : null),
    toSvg: () => (v.mesh ? meshSvg(v.L, v.mesh, v.keys, meshCaption(v.mesh, v.s.colorBy, v.s.colorMode)) : null),
    /** Hover redraws done and the time they took (ms), for the fps bench. */
    stats: v.stats,
    destroy() {
      unwire();
      hideTip();
      wrap.remove();
    },
  };
  canvas.bitmeshView = api; // for tests and the fps bench
  return api;
}

/** One line saying what the exported drawing shows (an SVG has no page around it). */
export function meshCaption(mesh, colorBy, colorMode) {
  const axes = mesh.axis_names.map((n, i) => `${n}:${mesh.shape[i]}`).join(", ");
  const what = colorBy === "node" ? "one node" : colorMode === "coord" ? `one ${colorBy} coordinate` : `one ${colorBy} group`;
  return `Mesh(${axes}), outermost first · ${fmtInt(mesh.world_size)} GPUs on ${fmtInt(mesh.node_count)} nodes of ${mesh.gpus_per_node} · one colour = ${what}`;
}

/** An SVG of the current picture (for Download SVG). */
export function meshSvg(L, mesh, keys, caption = "") {
  const top = caption ? 22 : 0;
  const font = cssVar("--font") || "sans-serif";
  const mono = cssVar("--mono") || "monospace";
  const root = svg("svg", { viewBox: `0 0 ${L.width} ${L.height + top}`, width: L.width, height: L.height + top, "font-family": font });
  if (caption) root.append(svg("text", { x: 4, y: 14, "font-size": 12, fill: cssVar("--text") }, caption));
  const body = svg("g", { transform: `translate(0,${top})` });
  root.append(body);
  const xs = new Float32Array(L.world);
  const ys = new Float32Array(L.world);
  cellOrigins(L, mesh.node, mesh.localRank, xs, ys);
  const nodes = svg("g", { fill: cssVar("--surface-2"), stroke: cssVar("--border") });
  const nodeLabels = svg("g", { fill: cssVar("--muted"), "font-size": 11 });
  for (let n = 0; n < L.nodes; n += 1) {
    const o = nodeOrigin(L, n);
    nodes.append(svg("rect", { x: o.x, y: o.y, width: L.nodeW, height: L.nodeH, rx: 3 }, svg("title", {}, `node ${n}`)));
    if (L.showNodeLabels) nodeLabels.append(svg("text", { x: o.x + 1, y: o.y - 4 }, L.nodeW >= 60 ? `node ${n}` : `n${n}`));
  }
  body.append(nodes, nodeLabels);
  const colours = colourTable();
  const cells = svg("g", {});
  const titled = L.world <= SVG_TITLED_CELLS;
  for (let r = 0; r < L.world; r += 1) {
    const rect = svg("rect", { x: xs[r], y: ys[r], width: L.cell, height: L.cell, fill: colours[keys[r] % COLOURS] });
    if (titled) {
      const coords = mesh.axis_names.map((n, i) => `${n} ${mesh.coords[i][r]}`).join(", ");
      rect.append(svg("title", {}, `rank ${r} (node ${mesh.node[r]}, local ${mesh.localRank[r]}): ${coords}`));
    }
    cells.append(rect);
  }
  body.append(cells);
  // Rank numbers (and coordinates when roomy), as on screen.
  if (L.cell >= 18) {
    const withCoords = L.cell >= 40 && mesh.axis_names.length <= 4;
    const labels = svg("g", { fill: cssVar("--bg"), "font-family": mono, "text-anchor": "middle" });
    for (let r = 0; r < L.world; r += 1) {
      const cx = xs[r] + L.cell / 2;
      const cy = ys[r] + L.cell / 2;
      labels.append(svg("text", { x: cx, y: withCoords ? cy - 2 : cy + 4, "font-size": L.cell >= 30 ? 12 : 10, "font-weight": 600 }, String(r)));
      if (withCoords) labels.append(svg("text", { x: cx, y: cy + 12, "font-size": 9 }, mesh.coords.map((c) => c[r]).join("·")));
    }
    body.append(labels);
  }
  return root;
}

/** The axis a drawing colours by when none is chosen: the innermost one larger than 1. */
export function defaultColorAxis(mesh) {
  for (let i = mesh.axis_names.length - 1; i >= 0; i -= 1) if (mesh.shape[i] > 1) return mesh.axis_names[i];
  return mesh.axis_names[mesh.axis_names.length - 1];
}

/** Home-gallery preview: the API's default mesh, coloured by its innermost axis's groups. */
export async function preview(el) {
  const mesh = normaliseMesh(await fetchJSON("/api/v1/mesh?format=columns&include=ranks"));
  const canvas = h("canvas", { class: "mesh-preview" });
  el.append(canvas);
  const w = Math.max(200, el.clientWidth || 300);
  const hh = Math.max(80, el.clientHeight || 120);
  const paint = () => {
    const L = meshLayout(mesh, w - 16, { maxCell: 26, maxHeight: hh - 16 });
    const ctx = setupCanvas(canvas, w, hh);
    ctx.clearRect(0, 0, w, hh);
    ctx.save();
    ctx.translate(Math.max(0, (w - L.width) / 2), Math.max(4, (hh - L.height) / 2));
    paintBase(ctx, L, mesh, groupKeys(mesh, defaultColorAxis(mesh)));
    ctx.restore();
  };
  paint();
  onThemeChange(() => requestAnimationFrame(paint));
}

