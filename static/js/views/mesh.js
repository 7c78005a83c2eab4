// Device mesh view: every GPU a cell inside its node, coloured by the groups of one axis.
// Hovering (or focusing) a GPU lights up each group it belongs to, one colour per axis.
// The base layer (nodes + coloured cells) is drawn once to an offscreen canvas; a hover frame
// composites that image and draws only the few hundred highlighted cells, so 16,384 GPUs stay
// smooth. Changing the axes tweens every cell from where its coordinates sat before.
import { createLoop, createRedraw, easeInOut } from "../lib/anim.js";
import { fetchJSON } from "../lib/api.js";
import { eventToElementCoordinates, onResize, setupCanvas } from "../lib/canvas.js";
import { cssVar, groupColor, onThemeChange } from "../lib/colors.js";
import { h, svg } from "../lib/dom.js";
import { fmtInt } from "../lib/format.js";
import { hideTip, moveTip, showTip } from "../lib/tooltip.js";
import {
  cellOrigins,
  coordsOf,
  groupKeys,
  groupRanks,
  meshLayout,
  nodeOrigin,
  previousRanks,
  rankAt,
} from "./mesh-layout.js";

const TWEEN_MS = 600;
const COLOURS = 30; // groupColor cycles through 30 distinguishable colours

const AXIS_VARS = { dp: "--c0", tp: "--c3", pp: "--c2", cp: "--c4", ep: "--c1", sp: "--c9", fsdp: "--c7" };
const SPARE_VARS = ["--c5", "--c6", "--c8", "--c9", "--c7", "--c1", "--c4"];

/** CSS variable holding the highlight colour of each axis (stable by name). */
export function axisColorVars(names) {
  const used = new Set(names.map((n) => AXIS_VARS[n.toLowerCase()]).filter(Boolean));
  const spare = SPARE_VARS.filter((v) => !used.has(v));
  let k = 0;
  return Object.fromEntries(names.map((n) => [n, AXIS_VARS[n.toLowerCase()] ?? spare[k++ % spare.length]]));
}

/** Turn an API mesh (records or columnar) into flat typed arrays indexed by rank. */
export function normaliseMesh(data) {
  const world = data.world_size;
  const names = data.axis_names;
  const coords = names.map(() => new Int32Array(world));
  const node = new Int32Array(world);
  const localRank = new Int32Array(world);
  const ranks = data.ranks;
  if (Array.isArray(ranks)) {
    ranks.forEach((r, i) => {
      node[i] = r.node;
      localRank[i] = r.local_rank;
      names.forEach((n, j) => (coords[j][i] = r.coords[n]));
    });
  } else if (ranks) {
    node.set(ranks.node);
    localRank.set(ranks.local_rank);
    names.forEach((n, j) => coords[j].set(ranks.coords[n]));
  } else {
    for (let r = 0; r < world; r += 1) {
      node[r] = Math.floor(r / data.gpus_per_node);
      localRank[r] = r % data.gpus_per_node;
      coordsOf(data.shape, r).forEach((c, j) => (coords[j][r] = c));
    }
  }
  return { ...data, coords, node, localRank };
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

/** Static drawing of a whole mesh into ctx (used by the preview and the SVG-less base). */
function paintBase(ctx, L, mesh, keys) {
  const xs = new Float32Array(L.world);
  const ys = new Float32Array(L.world);
  cellOrigins(L, xs, ys);
  drawNodes(ctx, L);
  drawCellsAt(ctx, bucketsByColour(keys), colourTable(), xs, ys, L.cell);
  drawRankLabels(ctx, L, xs, ys, mesh);
  return { xs, ys };
}

/**
 * The rank drawn next to rank r in direction (dx, dy): scan from r's centre in half-cell steps
 * across at most one node gap. Left/right fall back to reading order (r ± 1) at a row's end, so
 * every GPU stays reachable; up/down stay put at the top and bottom.
 */
export function neighbourRank(L, xs, ys, r, dx, dy) {
  const step = L.cell + L.gap;
  const cx = xs[r] + L.cell / 2;
  const cy = ys[r] + L.cell / 2;
  const reach = (dx ? L.pitchX : L.pitchY) + step;
  for (let d = step; d <= reach; d += Math.max(1, step / 2)) {
    const q = rankAt(L, cx + dx * d, cy + dy * d);
    if (q >= 0 && q !== r) return q;
  }
  if (dx) return Math.min(L.world - 1, Math.max(0, r + dx));
  return r;
}

/**
 * Mount the mesh view. state: {mesh (API response), colorBy (axis name or "node"), selected
 * (rank or -1), onHover(rank), onSelect(rank)}.
 */
export function mount(el, state) {
  const canvas = h("canvas", {
    class: "mesh-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": "Device mesh: GPU cells grouped into nodes. Arrow keys move to the GPU drawn beside, above or below, Page Up and Page Down jump a node, Enter pins one.",
  });
  const wrap = h("div", { class: "chart mesh-chart" }, canvas);
  el.append(wrap);
  const base = document.createElement("canvas");
  let s = { ...state };
  let mesh = null;
  let L = null;
  let keys = null;
  let buckets = null;
  let xs = new Float32Array(0);
  let ys = new Float32Array(0);
  let tween = null; // {fromX, fromY, fromCell, prev: Int32Array}
  let hover = -1;
  let width = Math.max(200, Math.floor(wrap.clientWidth) || 600);
  let draws = 0;

  function relayout() {
    if (!mesh) return;
    L = meshLayout(mesh.world_size, mesh.gpus_per_node, width);
    xs = new Float32Array(L.world);
    ys = new Float32Array(L.world);
    cellOrigins(L, xs, ys);
    canvas.dataset.cells = String(L.world);
    canvas.dataset.cell = String(L.cell);
  }

  function recolour() {
    keys = groupKeys(mesh, s.colorBy, s.colorMode);
    buckets = bucketsByColour(keys);
  }

  function paintBaseLayer() {
    const dpr = window.devicePixelRatio || 1;
    base.width = Math.max(1, Math.round(L.width * dpr));
    base.height = Math.max(1, Math.round(L.height * dpr));
    const bctx = base.getContext("2d");
    bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    bctx.clearRect(0, 0, L.width, L.height);
    drawNodes(bctx, L);
    drawCellsAt(bctx, buckets, colourTable(), xs, ys, L.cell);
    drawRankLabels(bctx, L, xs, ys, mesh);
  }

  function focusRank() {
    return hover >= 0 ? hover : s.selected ?? -1;
  }

  function drawHighlight(ctx, r) {
    if (r < 0 || r >= L.world) return;
    ctx.globalAlpha = 0.72;
    ctx.fillStyle = cssVar("--surface");
    ctx.fillRect(0, 0, L.width, L.height);
    ctx.globalAlpha = 1;
    const vars = axisColorVars(mesh.axis_names);
    const grow = L.cell >= 3 ? 1 : 0.5;
    mesh.shape.forEach((size, i) => {
      if (size < 2) return;
      const name = mesh.axis_names[i];
      const colour = cssVar(vars[name]);
      const members = groupRanks(mesh.shape, i, r);
      ctx.fillStyle = colour;
      ctx.beginPath();
      for (const m of members) ctx.rect(xs[m] - grow, ys[m] - grow, L.cell + 2 * grow, L.cell + 2 * grow);
      ctx.fill();
      if (L.cell >= 8) {
        ctx.strokeStyle = cssVar("--text");
        ctx.lineWidth = 1;
        ctx.globalAlpha = 0.35;
        ctx.stroke();
        ctx.globalAlpha = 1;
      }
    });
    // The GPU itself: a ring in the text colour.
    const ring = Math.max(2, Math.min(4, L.cell / 4));
    ctx.strokeStyle = cssVar("--text");
    ctx.lineWidth = ring;
    ctx.strokeRect(xs[r] - ring / 2 - 1, ys[r] - ring / 2 - 1, L.cell + ring + 2, L.cell + ring + 2);
    // Its node outline.
    const o = nodeOrigin(L, Math.floor(r / L.gpusPerNode));
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = cssVar("--accent");
    ctx.strokeRect(o.x + 0.5, o.y + 0.5, L.nodeW - 1, L.nodeH - 1);
    if (L.cell >= 18) {
      mesh.shape.forEach((size, i) => {
        if (size > 1) labelCells(ctx, L, xs, ys, mesh, groupRanks(mesh.shape, i, r));
      });
    }
  }

  let ctxCache = null; // {ctx, w, h, dpr}: resize the backing store only when the size changes
  const stats = { draws: 0, drawMs: 0 };

  function context() {
    const dpr = window.devicePixelRatio || 1;
    if (!ctxCache || ctxCache.w !== L.width || ctxCache.h !== L.height || ctxCache.dpr !== dpr) {
      ctxCache = { ctx: setupCanvas(canvas, L.width, L.height), w: L.width, h: L.height, dpr };
    }
    ctxCache.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctxCache.ctx;
  }

  function draw() {
    if (!L) return;
    const t0 = performance.now();
    const ctx = context();
    ctx.clearRect(0, 0, L.width, L.height);
    ctx.drawImage(base, 0, 0, L.width, L.height);
    drawHighlight(ctx, focusRank());
    draws += 1;
    stats.draws = draws;
    stats.drawMs += performance.now() - t0;
    canvas.dataset.draws = String(draws);
  }
  const redraw = createRedraw(draw);

  function drawTween(ms) {
    const k = easeInOut(ms / TWEEN_MS);
    const ctx = context();
    ctx.clearRect(0, 0, L.width, L.height);
    drawNodes(ctx, L, Math.min(1, 0.25 + k));
    const cx = new Float32Array(L.world);
    const cy = new Float32Array(L.world);
    const size = tween.fromCell + (L.cell - tween.fromCell) * k;
    const { prev, fromX, fromY } = tween;
    for (let r = 0; r < L.world; r += 1) {
      const p = prev[r];
      if (p >= 0 && p < fromX.length) {
        cx[r] = fromX[p] + (xs[r] - fromX[p]) * k;
        cy[r] = fromY[p] + (ys[r] - fromY[p]) * k;
      } else {
        // A coordinate that did not exist before grows in place.
        const grow = L.cell * (1 - k) * 0.5;
        cx[r] = xs[r] + grow;
        cy[r] = ys[r] + grow;
      }
    }
    drawCellsAt(ctx, buckets, colourTable(), cx, cy, Math.max(1, size));
    draws += 1;
    canvas.dataset.draws = String(draws);
    if (ms >= TWEEN_MS) {
      tween = null;
      canvas.dataset.animating = "0";
      draw();
      return false;
    }
    return true;
  }
  const loop = createLoop(canvas, drawTween);

  function setMesh(next, animate) {
    const prevMesh = mesh;
    const prevXs = xs;
    const prevYs = ys;
    const prevCell = L ? L.cell : 0;
    mesh = normaliseMesh(next);
    relayout();
    recolour();
    paintBaseLayer();
    loop.stop();
    tween = null;
    if (animate && prevMesh && prevMesh.world_size <= 65536) {
      const prev = previousRanks(prevMesh, mesh);
      const moved = prev.some((p, r) => p >= 0 && (prevXs[p] !== xs[r] || prevYs[p] !== ys[r]));
      if (moved) {
        tween = { prev, fromX: prevXs, fromY: prevYs, fromCell: prevCell };
        if (loop.start()) {
          canvas.dataset.animating = "1";
          return;
        }
        tween = null; // reduced motion: jump to the final layout
      }
    }
    canvas.dataset.animating = "0";
    redraw();
  }

  function tipLines(r) {
    const lines = [`GPU rank ${fmtInt(r)}`];
    lines.push(["node", `${fmtInt(mesh.node[r])} · local rank ${mesh.localRank[r]}`]);
    mesh.axis_names.forEach((n, i) => lines.push([n, `${mesh.coords[i][r]} of ${mesh.shape[i]}`]));
    return lines;
  }

  function showFor(event, r) {
    if (r < 0) {
      hideTip();
      return;
    }
    showTip(event, tipLines(r));
  }

  function setHover(r, event) {
    if (r !== hover) {
      hover = r;
      canvas.dataset.hoverRank = String(r);
      if (!tween) redraw();
      if (s.onHover) s.onHover(r);
      if (event) showFor(event, r);
    } else if (event && r >= 0) moveTip(event);
  }

  function cellEvent(r) {
    const rect = canvas.getBoundingClientRect();
    return { clientX: rect.left + xs[r] + L.cell, clientY: rect.top + ys[r] + L.cell };
  }

  canvas.addEventListener("pointermove", (e) => {
    if (!L) return;
    const p = eventToElementCoordinates(e, canvas);
    setHover(rankAt(L, p.x, p.y), e);
  });
  canvas.addEventListener("pointerleave", () => {
    setHover(-1);
    hideTip();
  });
  canvas.addEventListener("click", (e) => {
    if (!L) return;
    const p = eventToElementCoordinates(e, canvas);
    const r = rankAt(L, p.x, p.y);
    if (s.onSelect) s.onSelect(r === s.selected ? -1 : r);
  });
  canvas.addEventListener("keydown", (e) => {
    if (!L) return;
    const cur = focusRank() >= 0 ? focusRank() : 0;
    // Arrows follow the picture (the cell drawn above, below or beside, across node gaps);
    // PageUp/PageDown jump a node.
    const arrows = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
    const jumps = { PageDown: L.gpusPerNode, PageUp: -L.gpusPerNode };
    let next = null;
    if (e.key in arrows) next = neighbourRank(L, xs, ys, cur, ...arrows[e.key]);
    else if (e.key in jumps) next = Math.min(L.world - 1, Math.max(0, cur + jumps[e.key]));
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = L.world - 1;
    else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (s.onSelect) s.onSelect(cur === s.selected ? -1 : cur);
      return;
    } else if (e.key === "Escape") {
      setHover(-1);
      hideTip();
      if (s.onSelect) s.onSelect(-1);
      return;
    }
    if (next === null) return;
    e.preventDefault();
    setHover(next, cellEvent(next));
  });
  canvas.addEventListener("focus", () => {
    if (focusRank() < 0 && L) setHover(0, cellEvent(0));
  });
  canvas.addEventListener("blur", () => {
    hideTip();
    setHover(-1);
  });

  const stopResize = onResize(wrap, (w) => {
    width = Math.max(200, w);
    if (!mesh) return;
    relayout();
    paintBaseLayer();
    if (!tween) redraw();
  });
  const stopTheme = onThemeChange(() =>
    requestAnimationFrame(() => {
      if (!mesh) return;
      paintBaseLayer();
      redraw();
    }),
  );

  function update(next) {
    const prev = s;
    s = { ...s, ...next };
    if (next.mesh && next.mesh !== (prev.mesh || null)) {
      setMesh(next.mesh, next.animate !== false && !!mesh);
      return;
    }
    if (!mesh) return;
    if (s.colorBy !== prev.colorBy || s.colorMode !== prev.colorMode) {
      recolour();
      paintBaseLayer();
    }
    if (!tween) redraw();
  }

  if (s.mesh) setMesh(s.mesh, false);

  const api = {
    update,
    /** The GPU rank drawn at canvas point (x, y) in CSS px, or -1. */
    rankAt: (x, y) => (L ? rankAt(L, x, y) : -1),
    /** Centre of rank r's cell in canvas CSS px. */
    cellCentre: (r) => (L ? { x: xs[r] + L.cell / 2, y: ys[r] + L.cell / 2 } : null),
    toSvg: () => (mesh ? meshSvg(L, mesh, keys, meshCaption(mesh, s.colorBy, s.colorMode)) : null),
    /** Hover redraws done and the time they took (ms), for the fps bench. */
    stats,
    destroy() {
      loop.destroy();
      stopResize();
      stopTheme();
      hideTip();
      wrap.remove();
    },
  };
  canvas.bitmeshView = api; // for tests and the fps bench
  return api;
}

/** An SVG of the current picture (for Download SVG). */
/** One line saying what the exported drawing shows (an SVG has no page around it). */
export function meshCaption(mesh, colorBy, colorMode) {
  const axes = mesh.axis_names.map((n, i) => `${n}:${mesh.shape[i]}`).join(", ");
  const what = colorBy === "node" ? "one node" : colorMode === "coord" ? `one ${colorBy} coordinate` : `one ${colorBy} group`;
  return `Mesh(${axes}), outermost first · ${fmtInt(mesh.world_size)} GPUs on ${fmtInt(mesh.node_count)} nodes of ${mesh.gpus_per_node} · one colour = ${what}`;
}

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
  cellOrigins(L, xs, ys);
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
  const titled = L.world <= 4096; // per-cell tooltips only where a file stays small
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

/** Home-gallery preview: pp:2,dp:2,tp:4 on 8-GPU nodes, coloured by TP group. */
export async function preview(el) {
  const data = await fetchJSON("/api/v1/mesh?axes=pp:2,dp:2,tp:4&gpus_per_node=8&format=columnar&include=ranks");
  const mesh = normaliseMesh(data);
  const canvas = h("canvas", { class: "mesh-preview" });
  el.append(canvas);
  const w = Math.max(200, el.clientWidth || 300);
  const hh = Math.max(80, el.clientHeight || 120);
  const paint = () => {
    const L = meshLayout(mesh.world_size, mesh.gpus_per_node, w - 16, { maxCell: 26, maxHeight: hh - 16 });
    const ctx = setupCanvas(canvas, w, hh);
    ctx.clearRect(0, 0, w, hh);
    ctx.save();
    ctx.translate(Math.max(0, (w - L.width) / 2), Math.max(4, (hh - L.height) / 2));
    paintBase(ctx, L, mesh, groupKeys(mesh, "tp"));
    ctx.restore();
  };
  paint();
  onThemeChange(() => requestAnimationFrame(paint));
}

