// The KV block pool of one simulated run as a grid of blocks on a canvas, each coloured by the
// request that holds it, replayed from the API's ledger of allocations and frees. Block i sits
// at row ⌊i / columns⌋, column i mod columns, so the grid keeps its shape as it fills.
//
// mountPool(el, {label, onPick}) -> {setRun(run, numBlocks), show(t), setPin(request),
// exportSvg(), destroy()}: the pinned request's blocks are outlined (data-pinned-blocks counts
// them); a click on a held block calls onPick(request).
import { h, svg } from "../lib/dom.js";
import { groupColor, cssVar } from "../lib/colors.js";
import { eventToElementCoordinates } from "../lib/canvas.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { fmtTime, fmtInt } from "../lib/format.js";
import { wireCanvasView, viewContext, countDraw } from "./canvas-view.js";

/** The step in progress at time t (the last step when t is past the run). */
export function stepAt(segments, t) {
  const { step, steps, start, end } = segments;
  let lo = 0;
  let hi = step.length - 1;
  if (hi < 0) return -1;
  if (t < start[0]) return -1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (start[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  const span = end[lo] - start[lo];
  const into = span > 0 ? Math.floor(((t - start[lo]) / span) * steps[lo]) : 0;
  return step[lo] + Math.min(steps[lo] - 1, Math.max(0, into));
}

/**
 * Owner of every block after every event of steps ≤ `step`, replayed from `state` (cursor and
 * owners) forward, or from scratch when going back. Returns blocks in use.
 */
export function replay(state, events, step) {
  if (step < state.step) {
    state.owner.fill(-1);
    state.cursor = 0;
    state.used = 0;
  }
  const { step: at, block, count, request, op } = events;
  let i = state.cursor;
  while (i < at.length && at[i] <= step) {
    const fill = op[i] === 0 ? request[i] : -1;
    for (let b = block[i]; b < block[i] + count[i]; b += 1) state.owner[b] = fill;
    state.used += op[i] === 0 ? count[i] : -count[i];
    i += 1;
  }
  state.cursor = i;
  state.step = step;
  return state.used;
}

/** Columns and cell size that fit `n` blocks into a width (cells at least 2 px). */
export function gridShape(n, width, maxHeight) {
  let cell = Math.max(2, Math.floor(Math.sqrt((width * maxHeight) / Math.max(1, n))));
  cell = Math.min(cell, 18);
  const cols = Math.max(1, Math.floor(width / cell));
  return { cell, cols, rows: Math.ceil(n / cols) };
}

function paint(v) {
  const { run, n, state } = v;
  if (!run) return;
  const { cell, cols, rows } = gridShape(n, v.width, v.maxHeight);
  const hh = rows * cell;
  const ctx = viewContext(v, v.width, hh);
  ctx.fillStyle = cssVar("--surface-2");
  ctx.fillRect(0, 0, v.width, hh);
  const gap = cell >= 5 ? 1 : 0;
  const free = cssVar("--border");
  let pinned = 0;
  for (let b = 0; b < n; b += 1) if (v.pin !== null && state.owner[b] === v.pin) pinned += 1;
  for (let b = 0; b < n; b += 1) {
    const r = state.owner[b];
    ctx.fillStyle = r < 0 ? free : groupColor(r);
    ctx.globalAlpha = pinned && r >= 0 && r !== v.pin ? 0.3 : 1; // the pinned request stands out
    ctx.fillRect((b % cols) * cell, Math.floor(b / cols) * cell, cell - gap, cell - gap);
  }
  ctx.globalAlpha = 1;
  if (pinned) outlineBlocks(ctx, v, cell, cols);
  v.geometry = { cell, cols };
  countDraw(v);
  v.canvas.dataset.used = String(state.used);
  v.canvas.dataset.step = String(state.step);
  v.canvas.dataset.pinnedBlocks = String(pinned);
}

/** A frame around every block the pinned request holds. */
function outlineBlocks(ctx, v, cell, cols) {
  ctx.strokeStyle = cssVar("--text");
  ctx.lineWidth = Math.max(1, Math.min(2, cell / 4));
  for (let b = 0; b < v.n; b += 1) {
    if (v.state.owner[b] === v.pin) ctx.strokeRect((b % cols) * cell + 0.5, Math.floor(b / cols) * cell + 0.5, cell - 1, cell - 1);
  }
  ctx.lineWidth = 1;
}

/** The block under a pointer event, or -1. */
function blockAt(v, ev) {
  const { x, y } = eventToElementCoordinates(ev, v.canvas);
  const { cell, cols } = v.geometry;
  const b = Math.floor(y / cell) * cols + Math.floor(x / cell);
  return b < 0 || b >= v.n || Math.floor(x / cell) >= cols ? -1 : b;
}

function pointer(v) {
  v.canvas.addEventListener("pointermove", (ev) => {
    if (!v.run || !v.geometry) return;
    const b = blockAt(v, ev);
    if (b < 0) return hideTip();
    const r = v.state.owner[b];
    const q = v.run.trace.requests;
    const lines = [`Block ${fmtInt(b)}`, ["at step", fmtInt(v.state.step)]];
    if (r < 0) lines.push("free");
    else lines.push(["request", fmtInt(r)], ["prompt / output", `${fmtInt(q.prompt[r])} / ${fmtInt(q.output[r])} tokens`], ["arrived", fmtTime(q.arrival[r])], ["finished", fmtTime(q.finish[r])]);
    showTip(ev, lines);
    moveTip(ev);
  });
  v.canvas.addEventListener("pointerleave", hideTip);
  v.canvas.addEventListener("click", (ev) => {
    const b = v.run && v.geometry && v.onPick ? blockAt(v, ev) : -1;
    if (b >= 0 && v.state.owner[b] >= 0) v.onPick(v.state.owner[b]);
  });
}

export function mountPool(el, { label, maxHeight = 280, onPick = null }) {
  const canvas = h("canvas", { class: "srv-pool-canvas", role: "img", "aria-label": label, dataset: { draws: "0" } });
  const wrap = h("div", { class: "srv-pool-wrap" }, canvas);
  el.append(wrap);
  const v = { canvas, wrap, width: 0, draws: 0, run: null, n: 0, maxHeight, state: null, ctxCache: null, geometry: null, pin: null, onPick };
  const unwire = wireCanvasView(v, {
    frame: paint,
    tween: () => false,
    pointer,
    keyboard: () => {},
    minWidth: 120,
    ready: (x) => Boolean(x.run),
    resized: (x) => x.redraw(),
    themed: (x) => x.redraw(),
  });
  return {
    setRun(run, numBlocks) {
      v.run = run;
      v.n = numBlocks;
      v.state = { owner: new Int32Array(numBlocks).fill(-1), cursor: 0, step: -1, used: 0 };
    },
    show(t) {
      if (!v.run || !v.run.trace) return;
      replay(v.state, v.run.trace.events, stepAt(v.run.trace.segments, t));
      v.redraw();
    },
    setPin(request) {
      v.pin = request;
      if (v.run && v.run.trace) v.redraw();
    },
    exportSvg() {
      return poolSvg(v);
    },
    destroy: unwire,
  };
}

/** The grid at the shown step as SVG rects, one per run of equal colour along a row. */
function poolSvg(v) {
  const { cell, cols } = v.geometry || gridShape(v.n, 600, v.maxHeight);
  const rows = Math.ceil(v.n / cols);
  const out = svg("svg", { width: cols * cell, height: rows * cell, viewBox: `0 0 ${cols * cell} ${rows * cell}` });
  for (let row = 0; row < rows; row += 1) {
    let c = 0;
    while (c < cols && row * cols + c < v.n) {
      const who = v.state.owner[row * cols + c];
      let end = c + 1;
      while (end < cols && row * cols + end < v.n && v.state.owner[row * cols + end] === who) end += 1;
      out.append(svg("rect", { x: c * cell, y: row * cell, width: (end - c) * cell, height: cell, fill: who < 0 ? cssVar("--border") : groupColor(who) }));
      c = end;
    }
  }
  return out;
}
