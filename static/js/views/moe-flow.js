// Token copies leaving their GPU for the experts' GPUs (dispatch), stacking up in each expert
// to the capacity line, the overflow falling off, and the kept copies coming back (combine).
// Every frame is a pure function of the loop time t; positions come from `layoutFlow`, which
// reads only what /api/v1/moe returned (routes, loads, capacity, ranks).
//
// mount(el, {t, onPause, onPick}) -> {update(data), setPin(expert), destroy()}: `t` (ms into the
// loop, or null) opens paused at that frame; onPause(t) runs when the reader pauses or scrubs
// (not every frame); a click on an expert's column calls onPick(expert), and the pinned one is
// outlined. The canvas's data-t, data-landed and data-fallen tell tests what the frame shows.
import { h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { createLoop, createRedraw, easeInOut, prefersReducedMotion } from "../lib/anim.js";
import { setupCanvas, onResize, eventToElementCoordinates } from "../lib/canvas.js";
import { cssVar, groupColor, onThemeChange } from "../lib/colors.js";
import { fmtInt } from "../lib/format.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { expertLines } from "./moe-charts.js";

/** Milliseconds of each phase of one loop. */
const T = { spread: 700, fly: 700, hold: 500, fall: 600, gap: 400, back: 900, rest: 900 };
const DISPATCH_END = T.spread + T.fly;
const FALL_START = DISPATCH_END + T.hold;
const COMBINE_START = FALL_START + T.fall + T.gap;
export const LOOP_MS = COMBINE_START + T.spread + T.fly + T.rest;
/** Most copies drawn one by one; beyond, every n-th token is drawn (the bars stay exact). */
const MAX_DRAWN = 12000;

/** Pure geometry: rank columns, token dots, expert bars and each copy's two ends. */
export function layoutFlow(d, width, compact = false) {
  const ep = d.ep;
  const pad = compact ? 4 : 34;
  const gap = ep > 16 ? 2 : compact ? 4 : 8;
  const cw = (width - pad - (compact ? 4 : 8) - gap * (ep - 1)) / ep;
  const colX = (r) => pad + r * (cw + gap);
  const top = compact ? { y: 4, h: 30 } : { y: 18, h: Math.max(70, Math.min(150, 12 * Math.sqrt(d.tokens_per_rank))) };
  const bottom = compact ? { y: 52, h: 48 } : { y: top.y + top.h + 70, h: 170 };
  const dropY = bottom.y + bottom.h + (compact ? 10 : 34);
  const height = compact ? 120 : dropY + 26;
  const routes = d.routes;
  const tokenIndex = new Map(); // token -> [rank, position among its GPU's tokens]
  const perRank = new Array(ep).fill(0);
  routes.token_rank.forEach((rank, t) => tokenIndex.set(t, [rank, perRank[rank]++]));
  const n = Math.max(...perRank, 1);
  const cols = Math.max(1, Math.ceil(Math.sqrt((n * cw) / top.h)));
  const rows = Math.ceil(n / cols);
  const cell = Math.min(cw / cols, top.h / rows);
  const dot = (rank, k) => [colX(rank) + (k % cols + 0.5) * cell, top.y + (Math.floor(k / cols) + 0.5) * cell];
  const epr = d.experts_per_rank;
  const bw = cw / epr;
  const scaleMax = Math.max(1, ...d.expert_load, d.dropless ? 0 : d.capacity);
  const unit = bottom.h / scaleMax;
  const barX = (e) => colX(d.expert_rank[e]) + (e - d.expert_rank[e] * epr) * bw;
  return { ep, cw, gap, colX, top, bottom, dropY, height, tokenIndex, dot, cell, bw, unit, barX, scaleMax, pad, cols, width, compact };
}

function copyEnds(geo, d, i) {
  const r = d.routes;
  const [rank, k] = geo.tokenIndex.get(r.token[i]);
  const [x0, y0] = geo.dot(rank, k);
  const x1 = geo.barX(r.expert[i]) + geo.bw / 2;
  const y1 = geo.bottom.y + geo.bottom.h - (r.slot[i] + 0.5) * geo.unit;
  return { x0, y0, x1, y1, k: k / Math.max(1, d.tokens_per_rank) };
}

function paintFrame(v, t) {
  const { ctx, geo, d } = v;
  ctx.clearRect(0, 0, geo.width, geo.height);
  drawFrame(ctx, geo, d);
  const r = d.routes;
  const size = Math.max(1.5, Math.min(geo.cell * 0.8, geo.bw * 0.8, 6));
  const faint = cssVar("--faint");
  ctx.fillStyle = cssVar("--border");
  for (const [rank, k] of geo.tokenIndex.values()) {
    const [x, y] = geo.dot(rank, k);
    ctx.fillRect(x - size / 2, y - size / 2, size, size);
  }
  const barW = Math.max(1, geo.bw * 0.78);
  const barH = Math.max(1, geo.unit);
  let landed = 0;
  let fallen = 0;
  for (let i = 0; i < r.token.length; i += v.stride) {
    const e = v.ends[i];
    const delay = e.k * T.spread + Math.max(0, r.choice[i]) * 60;
    let x = e.x0;
    let y = e.y0;
    let color = groupColor(r.dst[i]);
    const out = easeInOut((t - delay) / T.fly);
    const back = easeInOut((t - COMBINE_START - delay) / T.fly);
    if (!r.kept[i] && t >= FALL_START) {
      const f = easeInOut((t - FALL_START) / T.fall);
      const over = r.slot[i] - d.capacity; // spread the pile under its expert
      x = e.x1 + ((((over * 5) % geo.bw) + geo.bw) % geo.bw - geo.bw / 2) * 0.8 * f;
      y = e.y1 + (geo.dropY + (over % 3) * size - e.y1) * f;
      color = faint;
      if (f >= 1) fallen += 1;
    } else if (r.kept[i] && back > 0) {
      x = e.x1 + (e.x0 - e.x1) * back;
      y = e.y1 + (e.y0 - e.y1) * back;
    } else if (out >= 1) {
      ctx.fillStyle = color; // landed: a slice of its expert's bar
      ctx.fillRect(e.x1 - barW / 2, e.y1 - barH / 2, barW, barH);
      if (r.kept[i]) landed += 1;
      continue;
    } else {
      x = e.x0 + (e.x1 - e.x0) * out;
      y = e.y0 + (e.y1 - e.y0) * out;
    }
    ctx.fillStyle = color;
    ctx.fillRect(x - size / 2, y - size / 2, size, size);
  }
  outlineExpert(ctx, geo, d, v.pin);
  Object.assign(v.canvas.dataset, { landed: String(landed), fallen: String(fallen) });
}

/** A frame around the pinned expert's column of the bottom row. */
function outlineExpert(ctx, geo, d, e) {
  if (e === null || e === undefined || geo.compact) return;
  ctx.strokeStyle = cssVar("--text");
  ctx.lineWidth = 2;
  ctx.strokeRect(geo.barX(e) + 1, geo.bottom.y + 1, Math.max(2, geo.bw - 2), geo.bottom.h - 2);
  ctx.lineWidth = 1;
}

/** The expert under a pointer event, or null. */
function expertAt(v, ev) {
  const { geo, d } = v;
  const { x, y } = eventToElementCoordinates(ev, v.canvas);
  const rank = Math.floor((x - geo.pad) / (geo.cw + geo.gap));
  if (rank < 0 || rank >= d.ep || x > geo.colX(rank) + geo.cw) return null;
  if (y < geo.bottom.y || y > geo.bottom.y + geo.bottom.h) return null;
  return rank * d.experts_per_rank + Math.min(d.experts_per_rank - 1, Math.floor((x - geo.colX(rank)) / geo.bw));
}

function drawFrame(ctx, geo, d) {
  if (geo.compact) {
    for (let rank = 0; rank < geo.ep; rank++) {
      ctx.fillStyle = cssVar("--surface");
      ctx.fillRect(geo.colX(rank), geo.top.y, geo.cw, geo.top.h);
      ctx.fillRect(geo.colX(rank), geo.bottom.y, geo.cw, geo.bottom.h);
    }
    return;
  }
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "alphabetic";
  for (let rank = 0; rank < geo.ep; rank++) {
    const x = geo.colX(rank);
    ctx.fillStyle = cssVar("--surface-2");
    ctx.fillRect(x, geo.top.y, geo.cw, geo.top.h);
    ctx.fillRect(x, geo.bottom.y, geo.cw, geo.bottom.h);
    ctx.fillStyle = groupColor(rank);
    ctx.fillRect(x, geo.bottom.y + geo.bottom.h, geo.cw, 3);
    if (geo.cw > 34 || rank % Math.ceil(34 / geo.cw) === 0) {
      ctx.fillStyle = cssVar("--muted");
      ctx.textAlign = "center";
      ctx.fillText(`GPU ${rank}`, x + geo.cw / 2, geo.top.y - 5);
      ctx.fillText(`GPU ${rank}`, x + geo.cw / 2, geo.bottom.y + geo.bottom.h + 15);
    }
  }
  drawAxis(ctx, geo, d);
}

function drawAxis(ctx, geo, d) {
  const base = geo.bottom.y + geo.bottom.h;
  ctx.strokeStyle = cssVar("--border");
  ctx.fillStyle = cssVar("--muted");
  ctx.textAlign = "right";
  const ticks = [0, Math.round(geo.scaleMax)];
  for (const v of ticks) ctx.fillText(fmtInt(v), geo.pad - 4, base - v * geo.unit + 4);
  ctx.save();
  ctx.translate(10, geo.bottom.y + geo.bottom.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText("copies per expert", 0, 0);
  ctx.restore();
  ctx.textAlign = "left";
  ctx.fillText(`Tokens on their GPU (${fmtInt(d.tokens_per_rank)} each)`, geo.pad, geo.top.y + geo.top.h + 16);
  ctx.fillText(`Experts on their GPU (${d.experts_per_rank} each): copies stack by arrival`, geo.pad, geo.bottom.y - 8);
  if (!d.dropless) {
    const y = base - d.capacity * geo.unit;
    ctx.strokeStyle = cssVar("--danger");
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(geo.pad, y);
    ctx.lineTo(geo.width - 8, y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = cssVar("--danger");
    ctx.textAlign = "right";
    ctx.fillText(`capacity ${fmtInt(d.capacity)}`, geo.width - 10, y - 4);
  }
  if (d.dropped) {
    ctx.fillStyle = cssVar("--danger");
    ctx.textAlign = "left";
    ctx.fillText(`${fmtInt(d.dropped)} dropped copies fell here`, geo.pad, geo.dropY + 18);
  }
}

function legend(d) {
  const items = [];
  const shown = Math.min(d.ep, 10);
  for (let r = 0; r < shown; r++) items.push(h("span", { class: "legend-item" }, h("span", { class: "swatch", style: { background: groupColor(r) } }), `to GPU ${r}`));
  if (d.ep > shown) items.push(h("span", { class: "legend-item" }, `… ${d.ep - shown} more GPUs`));
  items.push(h("span", { class: "legend-item" }, h("span", { class: "swatch", style: { background: cssVar("--faint") } }), "dropped copy"));
  if (!d.dropless) items.push(h("span", { class: "legend-item" }, h("span", { class: "swatch moe-cap-swatch" }), "capacity"));
  return items;
}

function tipAt(v, ev) {
  const { geo, d } = v;
  const { x, y } = eventToElementCoordinates(ev, v.canvas);
  const rank = Math.floor((x - geo.pad) / (geo.cw + geo.gap));
  if (rank < 0 || rank >= d.ep || x > geo.colX(rank) + geo.cw) return null;
  const e = expertAt(v, ev);
  if (e !== null) return expertLines(d, e);
  if (y >= geo.top.y && y <= geo.top.y + geo.top.h) {
    const k = Math.floor((y - geo.top.y) / geo.cell) * geo.cols + Math.floor((x - geo.colX(rank)) / geo.cell);
    const token = v.tokenAt[rank] ? v.tokenAt[rank][k] : undefined;
    if (token !== undefined) return tokenTip(d, token, rank, v.copies.get(token));
    return [`GPU ${rank}`, ["tokens held", fmtInt(d.tokens_per_rank)], ["copies sent out", fmtInt(d.dispatch_tokens[rank].reduce((a, b) => a + b, 0) - d.dispatch_tokens[rank][rank])], ["copies kept local", fmtInt(d.dispatch_tokens[rank][rank])]];
  }
  return null;
}

function tokenTip(d, token, rank, copies) {
  const r = d.routes;
  const lines = [`Token ${token} on GPU ${rank}`];
  for (const i of copies) {
    const fate = r.kept[i] ? `kept, slot ${r.slot[i]}` : "dropped (expert full)";
    lines.push([`expert ${r.expert[i]} on GPU ${r.dst[i]}`, `gate ${r.gate[i].toFixed(3)}, ${fate}`]);
  }
  if (!copies.length) lines.push("no expert picked this token");
  return lines;
}

/** Tooltips on hover; a click on an expert's column calls onPick(expert). */
function wirePointer(v, onPick) {
  v.canvas.addEventListener("click", (ev) => {
    const e = v.geo && onPick ? expertAt(v, ev) : null;
    if (e !== null) onPick(e);
  });
  v.canvas.addEventListener("pointermove", (ev) => {
    const lines = v.geo ? tipAt(v, ev) : null;
    if (!lines) return hideTip();
    showTip(ev, lines);
    moveTip(ev);
  });
  v.canvas.addEventListener("pointerleave", hideTip);
}

/** Geometry, each copy's two ends and which token sits where, for the answer and width of v. */
function layoutCopies(v) {
  v.geo = layoutFlow(v.d, v.width);
  v.ctx = setupCanvas(v.canvas, v.width, v.geo.height);
  v.ends = v.d.routes.token.map((_, i) => copyEnds(v.geo, v.d, i));
  v.tokenAt = Array.from({ length: v.d.ep }, () => []);
  v.copies = new Map();
  for (const [token, [rank, k]] of v.geo.tokenIndex) {
    v.tokenAt[rank][k] = token;
    v.copies.set(token, []);
  }
  v.d.routes.token.forEach((token, i) => v.copies.get(token).push(i));
}

export function mount(el, { t = null, onPause = () => {}, onPick = null } = {}) {
  const canvas = h("canvas", { class: "moe-flow-canvas", role: "img", "aria-label": "Token copies flowing from their GPUs to the experts' GPUs and back" });
  const play = h("button", { type: "button", class: "primary", "aria-label": "Pause" }, "❚❚ Pause");
  const note = h("p", { class: "muted moe-flow-note", hidden: true });
  const leg = h("div", { class: "legend" });
  const wrap = h("div", { class: "moe-flow", dataset: { playing: "0" } }, h("div", { class: "moe-flow-bar", dataset: { embed: "playback" } }, play), canvas, note, leg);
  el.append(wrap);
  const scrub = h("input", { type: "range", class: "moe-scrub", min: "0", max: String(LOOP_MS - 1), step: "10", "aria-label": "Animation time (ms into the loop)" });
  play.after(scrub);
  let held = t; // a playhead from the URL: the first answer is drawn paused there
  const v = { canvas, d: null, geo: null, ctx: null, ends: [], stride: 1, width: 0, t: held ?? FALL_START + T.fall, pin: null };
  const redraw = createRedraw(() => paint(v));
  const loop = createLoop(wrap, (ms) => {
    v.t = ms % LOOP_MS;
    paint(v);
    scrub.value = String(v.t);
  });
  const setPlaying = (on) => {
    play.textContent = on ? "❚❚ Pause" : "▶ Play";
    play.setAttribute("aria-label", on ? "Pause" : "Play");
    wrap.dataset.playing = on ? "1" : "0";
  };
  play.addEventListener("click", () => {
    if (loop.running) {
      loop.stop();
      setPlaying(false);
      onPause(Math.round(v.t));
    } else setPlaying(loop.start({ force: true, from: v.t }));
  });
  scrub.addEventListener("input", () => {
    loop.stop();
    setPlaying(false);
    v.t = Number(scrub.value);
    redraw();
  });
  scrub.addEventListener("change", () => onPause(Math.round(v.t)));
  wirePointer(v, onPick);
  const relayout = () => {
    if (!v.d || !v.d.routes || !v.width) return;
    layoutCopies(v);
    redraw();
  };
  const unResize = onResize(el, (w) => {
    v.width = w;
    relayout();
  });
  const unTheme = onThemeChange(redraw);
  return {
    update(d) {
      v.d = d;
      const drawable = Boolean(d.routes);
      canvas.hidden = !drawable;
      play.hidden = !drawable;
      scrub.hidden = !drawable;
      note.hidden = drawable;
      note.textContent = drawable ? "" : (d.notes.find((n) => n.startsWith("Routes are listed")) || "No routes to draw.");
      leg.replaceChildren(...(drawable ? legend(d) : []));
      if (!drawable) return;
      v.stride = Math.max(1, Math.ceil(d.routes.token.length / MAX_DRAWN));
      relayout();
      scrub.value = String(v.t);
      if (held !== null) {
        held = null; // opens paused at the URL's frame; play resumes from there
        return setPlaying(false);
      }
      if (!loop.running) setPlaying(!prefersReducedMotion() && loop.start({ from: 0 }));
    },
    setPin(e) {
      v.pin = e;
      redraw();
    },
    destroy() {
      loop.destroy();
      unResize();
      unTheme();
      wrap.remove();
    },
  };
}

function paint(v) {
  if (!v.geo || !v.ctx) return;
  paintFrame(v, v.t);
  v.canvas.dataset.t = String(Math.round(v.t));
}

/** The home gallery's live preview: 64 tokens to 8 experts on 4 GPUs, looping (one request). */
export async function preview(el) {
  const d = await fetchJSON("/api/v1/moe?tokens=64&experts=8&ep=4&skew=1&routes=true");
  const canvas = h("canvas", { role: "img", "aria-label": "Tokens flowing to experts" });
  el.append(canvas);
  const width = Math.max(160, Math.floor(el.clientWidth) || 320);
  const v = { canvas, d, geo: layoutFlow(d, width, true), ctx: null, stride: 1, t: FALL_START + T.fall };
  v.ctx = setupCanvas(canvas, width, v.geo.height);
  v.ends = d.routes.token.map((_, i) => copyEnds(v.geo, d, i));
  const loop = createLoop(el, (ms) => {
    v.t = ms % LOOP_MS;
    paint(v);
  });
  if (!loop.start()) paint(v);
}
