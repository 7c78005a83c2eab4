// Shard-map view: a tensor drawn as blocks coloured by shard, on canvas (the API allows up to
// /api/v1/limits' sharding_devices). Picking a device outlines the block it holds; picking a
// block lights up every replica. Switching the spec (or shape, or mesh) flies every device's
// piece from where it sat to where it sits now, each frame derived from the elapsed time.
// Every number drawn (blocks, ranges, holders, the PartitionSpec) comes from /api/v1/sharding.
import { easeInOut } from "../lib/anim.js";
import { fetchJSON } from "../lib/api.js";
import { eventToElementCoordinates, setupCanvas } from "../lib/canvas.js";
import { countDraw, settle, startTween, tweenGoesOn, viewContext, wireCanvasView } from "./canvas-view.js";
import { cssVar, groupColor, mix, onThemeChange } from "../lib/colors.js";
import { h, svg } from "../lib/dom.js";
import { fmtInt } from "../lib/format.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { blockAt, blockRect, rangeText, tensorLayout } from "./sharding-layout.js";

const TWEEN_MS = 650;

export function blockColour(f) {
  return groupColor(f % 30);
}

/** The block each device holds (its index in `blocks`), as the API says. */
export function deviceBlocks(data) {
  return Int32Array.from(data.devices, (d) => d.block_id);
}

/** Tooltip lines for block f. */
export function blockLines(data, f) {
  const b = data.blocks[f];
  const ranks = b.ranks;
  return [
    `Block (${b.block.join(", ")})`,
    ["elements", rangeText(b.index)],
    ["held by", ranks.length <= 8 ? `rank${ranks.length > 1 ? "s" : ""} ${ranks.join(", ")}` : `${ranks.length} ranks: ${ranks.slice(0, 6).join(", ")}, …`],
    ["copies", String(ranks.length)],
  ];
}

// ------------------------------------------------------------------ drawing, in named steps

function fonts() {
  const mono = cssVar("--mono") || "monospace";
  const font = cssVar("--font") || "sans-serif";
  return { mono, font, tick: `10px ${mono}`, text: cssVar("--text"), muted: cssVar("--muted") };
}

/** A 1-D tensor: its length and block count above, element ticks below. */
function drawStripLabels(ctx, T, data, f) {
  const p0 = T.panels[0];
  const n = data.grid[0];
  ctx.font = `11px ${f.font}`;
  ctx.fillText(`dim 0 · ${fmtInt(data.shape[0])} elements in ${fmtInt(n)} block${n > 1 ? "s" : ""} →${T.rowsPer > 1 ? " (wrapped)" : ""}`, p0.x, p0.y - 6);
  if (T.bw < 30) return;
  ctx.font = f.tick;
  for (let c = 0; c < Math.min(T.colsPer, n); c += 1) ctx.fillText(fmtInt(data.blocks[c].index[0][0]), p0.x + c * T.bw + 2, p0.y + T.rowsPer * T.bh + 12);
}

/** One 2-D panel's title (its slice of the leading dimensions) and its column ticks. */
function drawPanelLabels(ctx, T, data, p, k, f) {
  const nd = data.shape.length;
  const colDim = nd - 1;
  ctx.fillStyle = f.muted;
  if (nd > 2) {
    ctx.font = `600 11px ${f.font}`;
    ctx.fillStyle = f.text;
    ctx.fillText(p.lead.map((c, d) => `dim ${d} ∈ [${c * data.shard_shape[d]}, ${(c + 1) * data.shard_shape[d]})`).join(", "), p.x, p.y - 6, p.w);
    ctx.fillStyle = f.muted;
  } else if (k === 0) {
    ctx.font = `11px ${f.font}`;
    ctx.fillText(`dim ${colDim} · ${fmtInt(data.shape[colDim])} →`, p.x, p.y - 6);
  }
  ctx.font = f.tick;
  // A stacked (3-D/4-D) panel has its slice range on top, so its column dimension is named at
  // the right end of the tick row; ticks that would run into that name are skipped.
  let tickEnd = p.x + p.w;
  if (nd > 2 && p.w >= 70) {
    const name = p.w >= 150 ? `dim ${colDim} · ${fmtInt(data.shape[colDim])} →` : `dim ${colDim} →`;
    ctx.textAlign = "right";
    ctx.fillText(name, p.x + p.w, p.y + p.h + 12);
    ctx.textAlign = "left";
    tickEnd -= ctx.measureText(name).width + 8;
  }
  if (T.bw < 30) return;
  for (let j = 0; j < T.colsPer; j += 1) {
    const tick = fmtInt(j * data.shard_shape[colDim]);
    const x = p.x + j * T.bw + 2;
    if (x + ctx.measureText(tick).width <= tickEnd) ctx.fillText(tick, x, p.y + p.h + 12);
  }
}

/** Row ticks of the left-most panels and the row dimension's name, turned sideways. */
function drawRowLabels(ctx, T, data, f) {
  const rowDim = data.shape.length - 2;
  const ss = data.shard_shape[rowDim];
  ctx.font = f.tick;
  ctx.textAlign = "right";
  if (T.bh >= 18) {
    for (const p of T.panels) {
      if (p.x !== T.axisW) continue;
      for (let i = 0; i < T.rowsPer; i += 1) ctx.fillText(fmtInt(i * ss), p.x - 4, p.y + i * T.bh + 10);
    }
  }
  ctx.save();
  ctx.font = `11px ${f.font}`;
  ctx.translate(12, T.panels[0].y);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(`dim ${rowDim} · ${fmtInt(data.shape[rowDim])}`, 0, 0);
  ctx.restore();
  ctx.textAlign = "left";
}

function drawLabels(ctx, T, data) {
  const f = fonts();
  ctx.fillStyle = f.muted;
  ctx.textBaseline = "alphabetic";
  ctx.textAlign = "left";
  if (data.shape.length === 1) {
    drawStripLabels(ctx, T, data, f);
    return;
  }
  T.panels.forEach((p, k) => drawPanelLabels(ctx, T, data, p, k, f));
  drawRowLabels(ctx, T, data, f);
}

/** Every block filled with its colour (dimmed unless highlighted), then its border. */
function drawBlocks(ctx, T, data, hi) {
  const nb = data.blocks.length;
  for (let f = 0; f < nb; f += 1) {
    const r = blockRect(T, data.grid, f);
    ctx.fillStyle = blockColour(f);
    ctx.globalAlpha = hi && !hi.has(f) ? 0.22 : 1;
    ctx.fillRect(r.x, r.y, r.w, r.h);
  }
  ctx.globalAlpha = 1;
  if (T.bw < 4 || T.bh < 4) return; // blocks are hairlines: no borders
  ctx.strokeStyle = cssVar("--surface");
  ctx.lineWidth = T.bw >= 16 && T.bh >= 16 ? 2 : 1;
  ctx.beginPath();
  for (let f = 0; f < nb; f += 1) {
    const r = blockRect(T, data.grid, f);
    ctx.rect(r.x, r.y, r.w, r.h);
  }
  ctx.stroke();
}

/** The holders of block f (or its copy count) and, when roomy, its element ranges. */
function blockLabel(ctx, T, data, f, r, mono) {
  const ranks = data.blocks[f].ranks;
  const big = `600 ${T.bh >= 30 && T.bw >= 44 ? 12 : 10}px ${mono}`;
  ctx.font = big;
  let label = `r${ranks.join(",")}`;
  if (ctx.measureText(label).width > r.w - 6) label = `×${ranks.length}`;
  if (ctx.measureText(label).width > r.w - 4) return null;
  let second = ranks.length > 1 && !label.startsWith("×") ? `×${ranks.length} copies` : "";
  ctx.font = `10px ${mono}`;
  if (!second && T.bh >= 44) {
    const range = `[${data.blocks[f].index.map(([a, b]) => `${a}:${b}`).join(", ")}]`;
    if (ctx.measureText(range).width <= r.w - 8) second = range;
  }
  return { big, label, second: second && T.bh >= 40 ? second : "" };
}

function drawBlockLabels(ctx, T, data, hi) {
  if (T.bw < 26 || T.bh < 16) return;
  const mono = cssVar("--mono") || "monospace";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillStyle = cssVar("--bg");
  for (let f = 0; f < data.blocks.length; f += 1) {
    const r = blockRect(T, data.grid, f);
    const text = blockLabel(ctx, T, data, f, r, mono);
    if (!text) continue;
    ctx.globalAlpha = hi && !hi.has(f) ? 0.4 : 1;
    ctx.font = text.big;
    ctx.fillText(text.label, r.x + r.w / 2, r.y + r.h / 2 - (text.second ? 7 : 0));
    if (text.second) {
      ctx.font = `10px ${mono}`;
      ctx.fillText(text.second, r.x + r.w / 2, r.y + r.h / 2 + 9);
    }
  }
  ctx.globalAlpha = 1;
}

function strokeBlock(ctx, T, grid, f, width) {
  const r = blockRect(T, grid, f);
  ctx.strokeStyle = cssVar("--text");
  ctx.lineWidth = width;
  ctx.strokeRect(r.x + width / 2, r.y + width / 2, Math.max(1, r.w - width), Math.max(1, r.h - width));
}

/** The whole picture: labels, blocks, their labels, then outlines [[block, width], ...]. */
function drawTensor(ctx, T, data, { highlight = null, outlines = [] } = {}) {
  drawLabels(ctx, T, data);
  drawBlocks(ctx, T, data, highlight);
  drawBlockLabels(ctx, T, data, highlight);
  for (const [f, width] of outlines) if (f >= 0 && f < data.blocks.length) strokeBlock(ctx, T, data.grid, f, width);
}

// ------------------------------------------------------------------ the view's named steps
// `v` holds the view's state: canvas, data, layout, base layer, hover, tween.

function relayout(v) {
  v.T = tensorLayout(v.data.shape, v.data.grid, v.width);
  v.canvas.dataset.blocks = String(v.data.blocks.length);
}

/** Blocks drawn bright: the picked device's, or the picked block. */
function highlightSet(v) {
  if (v.s.device >= 0 && v.s.device < v.blocksOfDevice.length) return new Set([v.blocksOfDevice[v.s.device]]);
  if (v.s.block >= 0) return new Set([v.s.block]);
  return null;
}

// Everything but the hover outline is painted once into `base` and composited per frame, so
// hovering thousands of blocks costs one drawImage and one strokeRect, not a full repaint.
function paintBase(v) {
  const { T, base, s } = v;
  const dpr = window.devicePixelRatio || 1;
  base.width = Math.max(1, Math.round(T.width * dpr));
  base.height = Math.max(1, Math.round(T.height * dpr));
  const bctx = base.getContext("2d");
  bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  bctx.clearRect(0, 0, T.width, T.height);
  const outlines = [];
  if (s.block >= 0) outlines.push([s.block, 3]);
  if (s.device >= 0 && s.device < v.blocksOfDevice.length) outlines.push([v.blocksOfDevice[s.device], 3]);
  drawTensor(bctx, T, v.data, { highlight: highlightSet(v), outlines });
  v.baseFor = { T, data: v.data, device: s.device, block: s.block, theme: v.theme };
}

function baseIsCurrent(v) {
  const b = v.baseFor;
  return b && b.T === v.T && b.data === v.data && b.device === v.s.device && b.block === v.s.block && b.theme === v.theme;
}

function drawFrame(v) {
  const { T } = v;
  if (!T) return;
  if (!baseIsCurrent(v)) paintBase(v);
  const ctx = viewContext(v, T.width, T.height);
  ctx.clearRect(0, 0, T.width, T.height);
  ctx.drawImage(v.base, 0, 0, T.width, T.height);
  if (v.hover >= 0 && v.hover < v.data.blocks.length) strokeBlock(ctx, T, v.data.grid, v.hover, 1.5);
  countDraw(v);
}

/** A frame of the tween: every device's piece between its old and new block. */
function drawTween(v, ms) {
  const { T, tween, data } = v;
  const k = easeInOut(ms / TWEEN_MS);
  const H = Math.max(T.height, tween.height);
  const ctx = viewContext(v, T.width, H);
  ctx.clearRect(0, 0, T.width, H);
  ctx.globalAlpha = 0.85;
  for (let r = 0; r < data.devices.length; r += 1) {
    const to = blockRect(T, data.grid, v.blocksOfDevice[r]);
    const a = r < tween.from.length ? tween.from[r] : to;
    const c1 = blockColour(v.blocksOfDevice[r]);
    ctx.fillStyle = r < tween.fromColour.length ? mix(tween.fromColour[r], c1, k) : c1;
    const w = a.w + (to.w - a.w) * k;
    const hh = a.h + (to.h - a.h) * k;
    ctx.fillRect(a.x + (to.x - a.x) * k + 1, a.y + (to.y - a.y) * k + 1, Math.max(1, w - 2), Math.max(1, hh - 2));
  }
  ctx.globalAlpha = 1;
  return tweenGoesOn(v, ms, TWEEN_MS, drawFrame);
}

function setData(v, next, animate) {
  const before = v.data && v.T
    ? { rects: Array.from(v.blocksOfDevice, (f) => blockRect(v.T, v.data.grid, f)), colours: Array.from(v.blocksOfDevice, blockColour), height: v.T.height }
    : null;
  v.data = next;
  v.blocksOfDevice = deviceBlocks(next);
  relayout(v);
  v.loop.stop();
  v.tween = null;
  if (animate && before) {
    v.tween = { from: before.rects, fromColour: before.colours, height: before.height };
    if (startTween(v)) return; // else reduced motion: jump to the final state
  }
  settle(v);
}

function setHover(v, f, event) {
  if (f !== v.hover) {
    v.hover = f;
    if (!v.tween) v.redraw();
    if (v.s.onHoverBlock) v.s.onHoverBlock(f);
  }
  if (!event) return;
  if (f < 0) hideTip();
  else showTip(event, blockLines(v.data, f));
}

function pick(v, f) {
  if (v.s.onPickBlock) v.s.onPickBlock(f === v.s.block ? -1 : f);
}

function bindPointer(v) {
  const { canvas } = v;
  const blockUnder = (e) => {
    const p = eventToElementCoordinates(e, canvas);
    return blockAt(v.T, v.data.grid, p.x, p.y);
  };
  canvas.addEventListener("pointermove", (e) => v.T && setHover(v, blockUnder(e), e));
  canvas.addEventListener("pointerleave", () => {
    setHover(v, -1);
    hideTip();
  });
  canvas.addEventListener("click", (e) => v.T && pick(v, blockUnder(e)));
}

function bindKeyboard(v) {
  const { canvas } = v;
  canvas.addEventListener("keydown", (e) => {
    if (!v.T) return;
    const { data, T } = v;
    const cur = v.keyFocus >= 0 ? v.keyFocus : v.s.block >= 0 ? v.s.block : 0;
    const row = data.grid.length > 1 ? data.grid[data.grid.length - 1] : T.colsPer;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: row, ArrowUp: -row };
    if (e.key in moves) {
      e.preventDefault();
      v.keyFocus = Math.min(data.blocks.length - 1, Math.max(0, cur + moves[e.key]));
      const r = blockRect(T, data.grid, v.keyFocus);
      const box = canvas.getBoundingClientRect();
      setHover(v, v.keyFocus, { clientX: box.left + r.x + r.w, clientY: box.top + r.y + r.h });
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      pick(v, cur);
    } else if (e.key === "Escape") {
      v.keyFocus = -1;
      setHover(v, -1);
      hideTip();
      if (v.s.onPickBlock) v.s.onPickBlock(-1);
    }
  });
  canvas.addEventListener("blur", () => {
    v.keyFocus = -1;
    setHover(v, -1);
    hideTip();
  });
}

function update(v, next) {
  const prev = v.s;
  v.s = { ...v.s, ...next };
  if (next.data && next.data !== prev.data) {
    setData(v, next.data, next.animate !== false);
    return;
  }
  if (v.data && !v.tween) v.redraw();
}

/**
 * Mount the view. state: {data (API /sharding response), device (rank or -1), block (index in
 * `blocks` or -1), onPickBlock(f), onHoverBlock(f)}.
 */
export function mount(el, state) {
  const canvas = h("canvas", {
    class: "sharding-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": "Tensor blocks coloured by shard. Arrow keys move between blocks, Enter picks one.",
  });
  const wrap = h("div", { class: "chart sharding-chart" }, canvas);
  el.append(wrap);
  const v = {
    canvas, wrap, base: document.createElement("canvas"), s: { ...state }, data: null, T: null,
    blocksOfDevice: new Int32Array(0), hover: -1, keyFocus: -1, tween: null, draws: 0,
    width: Math.max(240, Math.floor(wrap.clientWidth) || 600), baseFor: null, theme: 0, ctxCache: null,
  };
  const unwire = wireCanvasView(v, {
    frame: drawFrame, tween: drawTween, pointer: bindPointer, keyboard: bindKeyboard, minWidth: 240,
    ready: (view) => view.data !== null,
    resized(view) {
      relayout(view);
      if (!view.tween) view.redraw();
    },
    themed(view) {
      view.theme += 1;
      if (!view.tween) view.redraw();
    },
  });
  if (v.s.data) setData(v, v.s.data, false);
  const api = {
    update: (next) => update(v, next),
    /** Centre of block f in canvas CSS px (for tests). */
    blockCentre(f) {
      if (!v.T) return null;
      const r = blockRect(v.T, v.data.grid, f);
      return { x: r.x + r.w / 2, y: r.y + r.h / 2 };
    },
    /** Block f's rectangle {x, y, w, h} in canvas CSS px (for tests). */
    blockBox: (f) => (v.T ? blockRect(v.T, v.data.grid, f) : null),
    /** Blocks drawn bright (the picked device's or block's), for tests. */
    highlighted: () => [...(highlightSet(v) || [])],
    toSvg: () => (v.data ? tensorSvg(v.T, v.data) : null),
    destroy() {
      unwire();
      hideTip();
      wrap.remove();
    },
  };
  canvas.bitmeshView = api;
  return api;
}

// ------------------------------------------------------------------ export and preview

function svgDimensionLabels(body, T, data, muted) {
  const nd = data.shape.length;
  if (nd === 1) {
    body.append(svg("text", { x: T.panels[0].x, y: T.panels[0].y - 6, "font-size": 11, fill: muted }, `dim 0 · ${data.shape[0]} elements →`));
    return;
  }
  const p0 = T.panels[0];
  body.append(svg("text", { transform: `translate(12,${p0.y}) rotate(-90)`, "text-anchor": "end", "font-size": 11, fill: muted }, `dim ${nd - 2} · ${data.shape[nd - 2]}`));
  for (const p of T.panels) {
    const lab = nd > 2
      ? p.lead.map((c, d) => `dim ${d} ∈ [${c * data.shard_shape[d]}, ${(c + 1) * data.shard_shape[d]})`).join(", ")
      : `dim ${nd - 1} · ${data.shape[nd - 1]} →`;
    body.append(svg("text", { x: p.x, y: p.y - 6, "font-size": 11, fill: nd > 2 ? cssVar("--text") : muted }, lab));
    if (nd > 2) body.append(svg("text", { x: p.x + p.w, y: p.y + p.h + 12, "text-anchor": "end", "font-size": 10, fill: muted }, `dim ${nd - 1} · ${data.shape[nd - 1]} →`));
  }
}

/** SVG of the tensor (Download SVG), with a caption line: an SVG has no page around it. */
export function tensorSvg(T, data) {
  const top = 20;
  const root = svg("svg", { viewBox: `0 0 ${T.width} ${T.height + top}`, width: T.width, height: T.height + top, "font-family": cssVar("--font") || "sans-serif" });
  const mesh = data.axis_names.map((n, i) => `'${n}': ${data.mesh_shape[i]}`).join(", ");
  root.append(svg("text", { x: 4, y: 13, "font-size": 12, fill: cssVar("--text") }, `${data.partition_spec} on Mesh(${mesh}) · shape [${data.shape.join(", ")}] · shard [${data.shard_shape.join(", ")}]`));
  const body = svg("g", { transform: `translate(0,${top})` });
  root.append(body);
  svgDimensionLabels(body, T, data, cssVar("--muted"));
  data.blocks.forEach((b, f) => {
    const r = blockRect(T, data.grid, f);
    body.append(svg("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: blockColour(f), stroke: cssVar("--surface"), "stroke-width": 1 },
      svg("title", {}, blockLines(data, f).map((l) => (Array.isArray(l) ? `${l[0]}: ${l[1]}` : l)).join("\n"))));
    if (T.bw >= 26 && T.bh >= 16) {
      body.append(svg("text", { x: r.x + r.w / 2, y: r.y + r.h / 2 + 4, "text-anchor": "middle", "font-size": 10, "font-family": cssVar("--mono") || "monospace", fill: cssVar("--bg") }, b.ranks.length === 1 ? `r${b.ranks[0]}` : `×${b.ranks.length}`));
    }
  });
  return root;
}

/** Home-gallery preview: the API's first shard-map example. */
export async function preview(el) {
  const { examples } = await fetchJSON("/api/v1/presets/sharding");
  const ex = examples[0];
  const data = await fetchJSON(`/api/v1/sharding?axes=${ex.axes}&shape=${ex.shape}&spec=${encodeURIComponent(ex.spec)}`);
  const canvas = h("canvas", { class: "sharding-preview" });
  el.append(canvas);
  const w = Math.max(200, el.clientWidth || 300);
  const hh = Math.max(80, el.clientHeight || 120);
  const paint = () => {
    const ctx = setupCanvas(canvas, w, hh);
    ctx.clearRect(0, 0, w, hh);
    const T = tensorLayout(data.shape, data.grid, Math.min(w - 20, 2 * (hh - 24) + 26), { maxHeight: hh - 4 });
    ctx.save();
    ctx.translate(Math.max(0, (w - T.width) / 2), 0);
    drawTensor(ctx, T, data);
    ctx.restore();
  };
  paint();
  onThemeChange(() => requestAnimationFrame(paint));
}
