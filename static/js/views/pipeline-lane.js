// One schedule's Gantt lane on canvas: rank rows, time axis, per-rank activation strip.
// Everything static is drawn once into an offscreen buffer (per data / size / zoom / theme);
// each frame only composites it: full colour up to the playhead, faded after, plus the
// playhead and the hovered dependency chain. No per-frame allocation of op arrays.
import { cssVar, mix } from "../lib/colors.js";
import { niceTicks } from "../lib/scale.js";
import { fmtNum } from "../lib/format.js";
import { lastAtOrBefore, partnerInRow } from "./pipeline-data.js";

const FADE_ROWS = 0.2;
const FADE_STRIP = 0.3;
const HEAT_LEVELS = 32;
export const CHUNK_SHADE = 0.25;

/** The theme variable holding the colour of op kind `name` ("F" → "--op-f"). */
export const kindVar = (name) => `--op-${name.toLowerCase()}`;

/** Geometry of a lane, in CSS pixels. Pure. */
export function laneLayout(p, width, { compact = false, height = 0 } = {}) {
  if (compact) {
    const top = 4;
    const rowH = Math.max(2, (height - top - 4) / p);
    const rowsBottom = top + rowH * p;
    return { compact: true, width, height, left: 22, right: width - 6, top, rowH, gap: rowH >= 6 ? 1 : 0, rowsBottom, axisTop: rowsBottom, stripTop: height, stripRowH: 0, stripBottom: height };
  }
  const rowH = p <= 4 ? 30 : p <= 8 ? 24 : p <= 16 ? 16 : p <= 32 ? 10 : p <= 64 ? 7 : 4;
  // a right gutter with each rank's idle share, where rows are tall enough to label
  const idleGutter = width >= 560 && rowH >= 10 ? 44 : 0;
  const top = 6;
  const rowsBottom = top + rowH * p;
  const stripRowH = p <= 4 ? 12 : p <= 8 ? 8 : p <= 16 ? 5 : p <= 32 ? 3 : p <= 64 ? 2 : 1;
  const stripTop = rowsBottom + 34 + 22;
  const stripBottom = stripTop + stripRowH * p;
  return {
    compact: false,
    width,
    height: stripBottom + 6,
    left: width < 560 ? 48 : 58,
    right: width - 16 - idleGutter,
    idleGutter,
    top,
    rowH,
    gap: rowH >= 6 ? 1 : 0,
    rowsBottom,
    axisTop: rowsBottom,
    stripTop,
    stripRowH,
    stripBottom,
  };
}

function luminance(hex) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return 0.5;
  const n = Number.parseInt(m[1], 16);
  return (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
}

/** "#rrggbb" as one little-endian RGBA pixel (ImageData's byte order). */
export function u32(hex) {
  const m = /^#([0-9a-f]{6})$/i.exec(String(hex).trim());
  const n = m ? Number.parseInt(m[1], 16) : 0x808080;
  return ((255 << 24) | ((n & 255) << 16) | (n & 0xff00) | ((n >> 16) & 255)) >>> 0;
}

/** Colours a lane needs, read from the theme, for the op kinds named in `kindNames`. */
export function laneColors(kindNames) {
  const kinds = kindNames.map((k) => cssVar(kindVar(k)));
  const text = cssVar("--text");
  // odd chunks (interleaved, V schedules) are shaded toward the text colour
  const kindsAlt = kinds.map((c) => mix(c, text, CHUNK_SHADE));
  const fb = cssVar("--op-fb");
  const ink = (c) => (luminance(c) > 0.5 ? "#1d1d1b" : "#ffffff");
  const surface = cssVar("--surface");
  const base = cssVar("--surface-2");
  const heat = [];
  for (let l = 0; l <= HEAT_LEVELS; l++) heat.push(mix(base, cssVar("--mem-act"), l / HEAT_LEVELS));
  const bubble = cssVar("--bubble");
  const ok = cssVar("--ok");
  return {
    u: {
      done: u32(mix(surface, ok, 0.12)),
      kinds: kinds.map(u32),
      kindsAlt: kindsAlt.map(u32),
      fb: u32(fb),
      surface: u32(surface),
      surface2: u32(base),
      bubble: u32(bubble),
      heat: heat.map(u32),
    },
    kinds,
    kindsAlt,
    fb,
    kindInk: kinds.map(ink),
    kindInkAlt: kindsAlt.map(ink),
    fbInk: ink(fb),
    surface,
    surface2: base,
    text,
    muted: cssVar("--muted"),
    border: cssVar("--border"),
    accent: cssVar("--accent"),
    ok,
    focus: cssVar("--focus"),
    font: cssVar("--font") || "system-ui, sans-serif",
  };
}

/** Integer pixel spans written straight into an ImageData (one typed-array fill per row). */
class Raster {
  constructor(img, lane) {
    const L = lane.L;
    this.px = new Uint32Array(img.data.buffer);
    this.W = img.width;
    this.dpr = lane.dpr;
    this.k = (L.right - L.left) / (lane.d1 - lane.d0 || 1);
    this.left = L.left;
    this.d0 = lane.d0;
    this.clipL = Math.round(L.left * lane.dpr);
    this.clipR = Math.round(L.right * lane.dpr);
  }

  /** Device-pixel column of time t. */
  x(t) {
    return Math.round((this.left + (t - this.d0) * this.k) * this.dpr);
  }

  /** Device-pixel rows [y0, y1) of CSS rows [top, top + height). */
  rows(top, height) {
    const y0 = Math.round(top * this.dpr);
    return [y0, Math.max(y0 + 1, Math.round((top + height) * this.dpr))];
  }

  rect(x0, x1, y0, y1, col) {
    const a = Math.max(x0, this.clipL);
    const b = Math.min(x1, this.clipR);
    for (let y = y0; y < y1 && b > a; y++) this.px.fill(col, y * this.W + a, y * this.W + b);
  }
}

export class Lane {
  constructor(canvas, { compact = false } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.buf = document.createElement("canvas");
    this.bctx = this.buf.getContext("2d", { alpha: false });
    this.fbuf = document.createElement("canvas");
    this.fctx = this.fbuf.getContext("2d", { alpha: false });
    this.img = null;
    this.shownPx = -1; // playhead column on screen, −1: repaint everything next time
    this.shownChain = null;
    this.shownHead = true;
    this.compact = compact;
    this.P = null;
    this.L = null;
    this.d0 = 0;
    this.d1 = 1;
    this.actMax = 1;
    this.raceEnd = 0; // in race mode, the other schedule's end (the shared time scale)
    this.colors = null;
    this.stale = true;
    this.dpr = 1;
    this.renders = 0;
  }

  setData(P) {
    this.P = P;
    this.colors = null;
    this.stale = true;
  }

  /** Size the lane for `width` CSS px (and `height` for compact previews). */
  resize(width, height = 0) {
    if (!this.P) return;
    this.dpr = Math.min(2, window.devicePixelRatio || 1); // 3× phones: 2× is sharp enough
    this.L = laneLayout(this.P.ranks, width, { compact: this.compact, height });
    const w = Math.max(1, Math.round(width * this.dpr));
    const hh = Math.max(1, Math.round(this.L.height * this.dpr));
    for (const c of [this.canvas, this.buf, this.fbuf]) {
      if (c.width !== w || c.height !== hh) {
        c.width = w;
        c.height = hh;
      }
    }
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${this.L.height}px`;
    // the plot's geometry in CSS px, for tests and tools that point at ops and times
    Object.assign(this.canvas.dataset, { plotLeft: this.L.left, plotRight: this.L.right, rowTop: this.L.top, rowHeight: this.L.rowH });
    this.stale = true;
  }

  setDomain(d0, d1) {
    if (d0 !== this.d0 || d1 !== this.d1) {
      this.d0 = d0;
      this.d1 = d1;
      this.stale = true;
    }
  }

  themeChanged() {
    this.colors = null;
    this.stale = true;
  }

  xOf(t) {
    const L = this.L;
    return L.left + ((t - this.d0) * (L.right - L.left)) / (this.d1 - this.d0 || 1);
  }

  tOf(x) {
    const L = this.L;
    return this.d0 + ((x - L.left) * (this.d1 - this.d0)) / (L.right - L.left || 1);
  }

  /** What is under CSS point (x, y): {area: "rows" | "strip" | "axis" | null, rank, t, lower}. */
  hit(x, y) {
    const L = this.L;
    if (!L || !this.P) return { area: null, rank: -1, t: 0, lower: false };
    const t = this.tOf(x);
    if (y >= L.top && y < L.rowsBottom) {
      const rank = Math.floor((y - L.top) / L.rowH);
      const lower = y - L.top - rank * L.rowH > L.rowH / 2;
      return { area: x >= L.left ? "rows" : "labels", rank, t, lower };
    }
    if (!L.compact && y >= L.stripTop && y < L.stripBottom) {
      return { area: "strip", rank: Math.floor((y - L.stripTop) / L.stripRowH), t, lower: false };
    }
    if (y >= L.axisTop && y < L.stripTop) return { area: "axis", rank: -1, t, lower: false };
    return { area: null, rank: -1, t, lower: false };
  }

  /** The schedule is over here while the raced one still runs. */
  raceDone() {
    return this.raceEnd > this.P.makespan * (1 + 1e-9) && this.P.makespan < this.d1;
  }

  /**
   * Draw everything static into the offscreen buffers: `buf` in full colour and `fbuf` with
   * the rows and strip faded (what is still to come). Bars, hatching and the heat strip are
   * written straight into pixels (100k+ ops in a few ms); text goes on top with the canvas API.
   */
  render() {
    if (!this.P || !this.L) return;
    const t0 = performance.now();
    this.renders++;
    if (!this.colors) this.colors = laneColors(this.P.kindNames);
    const C = this.colors;
    const ctx = this.bctx;
    if (!this.img || this.img.width !== this.buf.width || this.img.height !== this.buf.height) {
      this.img = ctx.createImageData(this.buf.width, this.buf.height);
    }
    const R = new Raster(this.img, this);
    R.px.fill(this.L.compact ? C.u.surface2 : C.u.surface);
    this.rasterBubbles(R, C);
    this.rasterOps(R, C);
    this.rasterRaceDone(R, C);
    if (!this.L.compact) this.rasterHeat(R, C);
    ctx.putImageData(this.img, 0, 0);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.renderPlotText(ctx, C);
    this.renderGutter(ctx, C);
    if (!this.L.compact) {
      this.renderAxis(ctx, C);
      this.renderStrip(ctx, C);
    }
    this.renderFaded();
    this.stale = false;
    this.shownPx = -1;
    this.lastRenderMs = performance.now() - t0;
  }

  /** Idle time (bubbles): every row hatched up to the makespan; ops cover it. */
  rasterBubbles(R, C) {
    const { P, L } = this;
    const xa = Math.max(R.clipL, R.x(Math.max(0, this.d0)));
    const xb = Math.min(R.clipR, R.x(Math.min(P.makespan, this.d1)));
    const period = Math.max(3, Math.round(6 * R.dpr));
    const lw = Math.max(1, Math.round(R.dpr));
    for (let r = 0; r < P.ranks; r++) {
      const [y0, y1] = R.rows(L.top + r * L.rowH, L.rowH - L.gap);
      for (let y = y0; y < y1; y++) {
        const row = y * R.W;
        for (let x = xa; x < xb; x++) if ((x + y) % period < lw) R.px[row + x] = C.u.bubble;
      }
    }
  }

  /** Ops in time order per rank; an overlapped F&B pair is one span with F and B bands. */
  rasterOps(R, C) {
    const { P, L } = this;
    const barH = L.rowH - L.gap;
    const band = Math.max(1, Math.round(barH * 0.22 * R.dpr));
    const bands = barH >= 8;
    const gapPx = Math.max(1, Math.round(R.dpr));
    for (let r = 0; r < P.ranks; r++) {
      const lo = P.rowOffset[r];
      const hi = P.rowOffset[r + 1];
      const [y0, y1] = R.rows(L.top + r * L.rowH, barH);
      for (let j = Math.max(lo, lastAtOrBefore(P.rowStart, lo, hi, this.d0)); j < hi; j++) {
        const i = P.rowIdx[j];
        if (P.start[i] > this.d1) break;
        const x0 = R.x(P.start[i]);
        let x1 = R.x(P.end[i]);
        if (x1 <= x0) x1 = x0 + 1;
        else if (x1 - x0 >= 4 * gapPx) x1 -= gapPx;
        const kind = P.kind[i];
        if (!P.overlapped[i]) {
          R.rect(x0, x1, y0, y1, (P.chunk[i] & 1 ? C.u.kindsAlt : C.u.kinds)[kind]);
        } else if (kind === P.forwardKind) {
          // both ops of the pair cover the same span: each fills all but its partner's band,
          // so whichever is drawn second cannot paint over the other's F (top) / B (bottom)
          R.rect(x0, x1, y0, bands ? y1 - band : y1, C.u.fb);
          if (bands) R.rect(x0, x1, y0, y0 + band, C.u.kinds[kind]);
        } else {
          R.rect(x0, x1, bands ? y0 + band : y0, y1, C.u.fb);
          if (bands) R.rect(x0, x1, y1 - band, y1, C.u.kinds[kind]);
        }
      }
    }
  }

  /** Race mode: the time this schedule is already done while the other still runs. */
  rasterRaceDone(R, C) {
    if (!this.raceDone()) return;
    const [y0, y1] = R.rows(this.L.top, this.L.rowsBottom - this.L.gap - this.L.top);
    R.rect(R.x(Math.max(this.P.makespan, this.d0)), R.x(Math.min(this.raceEnd, this.d1)), y0, y1, C.u.done);
  }

  /** Activations in flight per rank, as a heat strip under the axis. */
  rasterHeat(R, C) {
    const { P, L } = this;
    const sh = L.stripRowH;
    const xe = Math.min(R.clipR, R.x(P.makespan));
    const levels = C.u.heat.length - 1;
    for (let r = 0; r < P.ranks; r++) {
      const [y0, y1] = R.rows(L.stripTop + r * sh, sh - (sh >= 4 ? 1 : 0));
      R.rect(R.clipL, xe, y0, y1, C.u.heat[0]);
      const hi = P.actOffset[r + 1];
      for (let q = P.actOffset[r]; q < hi; q++) {
        const c = P.actC[q];
        const ta = P.actT[q];
        const tb = q + 1 < hi ? P.actT[q + 1] : P.makespan;
        if (c <= 0 || tb < this.d0 || ta > this.d1) continue;
        const lv = Math.min(levels, Math.max(1, Math.round((c / (this.actMax || 1)) * levels)));
        const x0 = R.x(ta);
        R.rect(x0, Math.max(x0 + 1, R.x(tb)), y0, y1, C.u.heat[lv]);
      }
    }
  }

  /** Text inside the plot: microbatch labels on wide ops, and the race's "done sooner". */
  renderPlotText(ctx, C) {
    const L = this.L;
    ctx.save();
    ctx.beginPath();
    ctx.rect(L.left, 0, L.right - L.left, L.height);
    ctx.clip();
    if (L.rowH >= 12) this.renderOpLabels(ctx, C);
    if (this.raceDone()) this.renderRaceNote(ctx, C);
    ctx.restore();
  }

  /** Labels: microbatch (·chunk) where the op is wide enough; "F|B" on overlapped spans. */
  renderOpLabels(ctx, C) {
    const { P, L } = this;
    const k = (L.right - L.left) / (this.d1 - this.d0 || 1);
    const barH = L.rowH - L.gap;
    const fs = Math.min(11, L.rowH - 8);
    ctx.font = `${fs}px ${C.font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    const digitW = fs * 0.62;
    for (let r = 0; r < P.ranks; r++) {
      const lo = P.rowOffset[r];
      const hi = P.rowOffset[r + 1];
      const yMid = L.top + r * L.rowH + barH / 2 + 0.5;
      for (let j = Math.max(lo, lastAtOrBefore(P.rowStart, lo, hi, this.d0)); j < hi; j++) {
        const i = P.rowIdx[j];
        const s = P.start[i];
        if (s > this.d1) break;
        const w = (P.end[i] - s) * k;
        const label = w < digitW + 4 ? null : opLabel(P, i, j, lo, hi, (text) => text.length * digitW + 4 <= w);
        if (label === null) continue;
        ctx.fillStyle = P.overlapped[i] ? C.fbInk : (P.chunk[i] & 1 ? C.kindInkAlt : C.kindInk)[P.kind[i]];
        ctx.fillText(label, L.left + (s - this.d0 + (P.end[i] - s) / 2) * k, yMid);
      }
    }
  }

  renderRaceNote(ctx, C) {
    const { P, L } = this;
    const xa = this.xOf(Math.max(P.makespan, this.d0));
    const xb = this.xOf(Math.min(this.raceEnd, this.d1));
    const saved = P.time.fmt(this.raceEnd - P.makespan, 4);
    ctx.font = `600 11px ${C.font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillStyle = C.ok;
    const long = `done ${saved} sooner`;
    const text = ctx.measureText(long).width + 8 <= xb - xa ? long : `−${saved}`;
    if (ctx.measureText(text).width + 6 <= xb - xa) ctx.fillText(text, (xa + xb) / 2, (L.top + L.rowsBottom) / 2);
  }

  /** Rank labels on the left, each rank's idle share on the right. */
  renderGutter(ctx, C) {
    const { P, L } = this;
    ctx.fillStyle = C.muted;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const fs = L.compact ? 9 : L.rowH >= 14 ? 11 : 10;
    ctx.font = `${fs}px ${C.font}`;
    let step = 1;
    while (step * L.rowH < fs + 3) step *= 2;
    const yMid = (r) => L.top + r * L.rowH + (L.rowH - L.gap) / 2 + 0.5;
    for (let r = 0; r < P.ranks; r += step) {
      const label = L.compact || L.width < 560 || step > 1 ? `r${r}` : `rank ${r}`;
      ctx.fillText(label, L.left - 6, yMid(r));
    }
    const last = P.ranks - 1;
    if (step > 1 && !L.compact && last % step !== 0 && (last % step) * L.rowH >= fs + 3) {
      ctx.fillText(`r${last}`, L.left - 6, yMid(last)); // mark the last rank when the step skips it
    }
    if (!L.idleGutter) return;
    ctx.textAlign = "left";
    const x = L.right + 8;
    for (let r = 0; r < P.ranks; r++) {
      const frac = P.makespan > 0 ? P.idle[r] / P.makespan : 0;
      ctx.fillText(`${(frac * 100).toFixed(frac < 0.1 ? 1 : 0)}%`, x, yMid(r));
    }
    ctx.font = `600 10px ${C.font}`;
    ctx.textBaseline = "alphabetic";
    ctx.fillText("idle", x, L.axisTop + 14);
  }

  renderAxis(ctx, C) {
    const L = this.L;
    const y = L.axisTop + 3;
    ctx.strokeStyle = C.border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(L.left, y + 0.5);
    ctx.lineTo(L.right, y + 0.5);
    ctx.stroke();
    ctx.fillStyle = C.muted;
    ctx.font = `11px ${C.font}`;
    ctx.textBaseline = "top";
    ctx.beginPath();
    for (const v of niceTicks(this.d0, this.d1, Math.max(2, Math.floor((L.right - L.left) / 80)))) {
      const x = Math.round(this.xOf(v)) + 0.5;
      ctx.moveTo(x, y);
      ctx.lineTo(x, y + 5);
      // keep tick labels inside the plot: a label centred on the right edge would run into
      // the idle-share gutter ("1400idle")
      const label = fmtNum(v, 6);
      const half = ctx.measureText(label).width / 2;
      ctx.textAlign = x + half > L.right + 1 ? "right" : x - half < L.left - 1 ? "left" : "center";
      ctx.fillText(label, { right: L.right + 1, left: L.left - 1, center: x }[ctx.textAlign], y + 7);
    }
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillText(`time (${this.P.time.unit}) →`, L.right, y + 20);
  }

  renderStrip(ctx, C) {
    const { P, L } = this;
    ctx.fillStyle = C.text;
    ctx.font = `600 11px ${C.font}`;
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillText("Activations in flight (microbatches) per rank", L.left, L.stripTop - 7);
    ctx.fillStyle = C.muted;
    ctx.font = `10px ${C.font}`;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const sh = L.stripRowH;
    ctx.fillText("r0", L.left - 6, L.stripTop + sh / 2);
    if (P.ranks > 1) ctx.fillText(`r${P.ranks - 1}`, L.left - 6, L.stripBottom - sh / 2);
  }

  /** The "still to come" copy: rows and strip faded toward the background, axis as is. */
  renderFaded() {
    const L = this.L;
    const f = this.fctx;
    const W = this.buf.width;
    const H = this.buf.height;
    f.setTransform(1, 0, 0, 1, 0, 0);
    f.globalAlpha = 1;
    f.fillStyle = L.compact ? this.colors.surface2 : this.colors.surface;
    f.fillRect(0, 0, W, H);
    const rb = Math.min(H, Math.ceil(L.rowsBottom * this.dpr));
    const sb = L.compact ? H : Math.min(H, Math.floor((L.stripTop - 2) * this.dpr));
    const copy = (x, y, w, hh, alpha) => {
      f.globalAlpha = alpha;
      if (w > 0 && hh > 0) f.drawImage(this.buf, x, y, w, hh, x, y, w, hh);
      f.globalAlpha = 1;
    };
    copy(0, 0, W, rb, FADE_ROWS);
    // the right gutter (idle share per rank) is a label, not part of the timeline
    const gx = Math.floor((L.right + 1) * this.dpr);
    if (L.idleGutter) copy(gx, 0, W - gx, rb, 1);
    copy(0, rb, W, sb - rb, 1);
    copy(0, sb, W, H - sb, FADE_STRIP);
  }

  /**
   * Composite one frame at playhead time t; `chain` is the hovered dependency chain or null.
   * While the playhead only moves forward (playing), just the columns it swept since the last
   * frame are copied (a few pixels wide); anything else repaints the whole canvas.
   */
  paint(t, chain, showPlayhead = true) {
    if (!this.P || !this.L) return;
    const full = this.stale || chain !== null || this.shownChain !== null || this.shownPx < 0;
    if (this.stale) this.render();
    const { ctx, L, dpr } = this;
    const W = this.canvas.width;
    const H = this.canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const xT = Math.min(L.right, Math.max(L.left, this.xOf(t)));
    const px = Math.max(1, Math.min(W, Math.round(xT * dpr)));
    const pad = Math.ceil(dpr) + 1; // the playhead line covers [px − dpr, px + dpr]
    if (!full && px >= this.shownPx && this.shownHead === showPlayhead) {
      const a = Math.max(0, this.shownPx - pad);
      if (px > a) ctx.drawImage(this.buf, a, 0, px - a, H, a, 0, px - a, H);
      const b = Math.min(W, px + pad);
      if (b > px) ctx.drawImage(this.fbuf, px, 0, b - px, H, px, 0, b - px, H);
    } else {
      // both buffers are opaque: two plain copies, no blending
      ctx.drawImage(this.buf, 0, 0, px, H, 0, 0, px, H);
      if (px < W) ctx.drawImage(this.fbuf, px, 0, W - px, H, px, 0, W - px, H);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (chain) this.paintChain(ctx, chain);
    if (showPlayhead) {
      ctx.fillStyle = this.colors.accent;
      ctx.fillRect(xT - 1, L.top - 4, 2, L.rowsBottom - L.top + 8);
      if (!L.compact) ctx.fillRect(xT - 1, L.stripTop - 2, 2, L.stripBottom - L.stripTop + 4);
    }
    this.shownPx = px;
    this.shownChain = chain;
    this.shownHead = showPlayhead;
  }

  /** The hovered op's microbatch in full colour over a veiled chart, with its data flow. */
  paintChain(ctx, chain) {
    const { P, L, colors: C } = this;
    const barH = L.rowH - L.gap;
    ctx.save();
    ctx.beginPath();
    ctx.rect(L.left, 0, L.right - L.left, L.rowsBottom + 2);
    ctx.clip();
    ctx.globalAlpha = 0.62;
    ctx.fillStyle = C.surface;
    ctx.fillRect(L.left, L.top, L.right - L.left, L.rowsBottom - L.top);
    ctx.globalAlpha = 1;
    for (const i of chain.members) {
      ctx.fillStyle = (P.chunk[i] & 1 ? C.kindsAlt : C.kinds)[P.kind[i]];
      const x0 = this.xOf(P.start[i]);
      const w = Math.max(1.5, this.xOf(P.end[i]) - x0);
      const y = L.top + P.rank[i] * L.rowH;
      // of an overlapped span, only this microbatch's half
      if (P.overlapped[i]) ctx.fillRect(x0, P.kind[i] === P.forwardKind ? y : y + barH / 2, w, barH / 2);
      else ctx.fillRect(x0, y, w, barH);
    }
    this.paintLinks(ctx, chain.links, barH);
    ctx.lineWidth = 2;
    ctx.strokeStyle = C.text;
    for (const i of chain.preds) this.strokeOp(ctx, i, barH);
    ctx.strokeStyle = C.focus;
    ctx.lineWidth = 2.5;
    this.strokeOp(ctx, chain.focus, barH);
    ctx.restore();
  }

  /** Data-flow links between ranks (a link within one rank is the rank's own order). */
  paintLinks(ctx, links, barH) {
    const { P, L } = this;
    ctx.strokeStyle = this.colors.text;
    ctx.globalAlpha = 0.55;
    ctx.lineWidth = 1.25;
    ctx.beginPath();
    for (let q = 0; q + 1 < links.length; q += 2) {
      const a = links[q];
      const b = links[q + 1];
      if (P.rank[a] === P.rank[b]) continue;
      ctx.moveTo(this.xOf(P.end[a]), L.top + P.rank[a] * L.rowH + barH / 2);
      ctx.lineTo(this.xOf(P.start[b]), L.top + P.rank[b] * L.rowH + barH / 2);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  strokeOp(ctx, i, barH) {
    const P = this.P;
    const x0 = this.xOf(P.start[i]);
    const w = Math.max(2, this.xOf(P.end[i]) - x0);
    ctx.strokeRect(x0, this.L.top + P.rank[i] * this.L.rowH, w, barH);
  }
}

/**
 * The label of op i (at row position j of [lo, hi)) that `fits`, or null: "7|3" on an
 * overlapped span (drawn once, on its forward), else "7·c1" with several chunks, else "7".
 */
function opLabel(P, i, j, lo, hi, fits) {
  const mb = String(P.mb[i]);
  if (P.overlapped[i]) {
    if (P.kind[i] !== P.forwardKind) return null;
    const partner = partnerInRow(P, j, lo, hi);
    const both = `${mb}|${partner >= 0 ? P.mb[partner] : ""}`;
    return fits(both) ? both : mb;
  }
  const full = `${mb}·c${P.chunk[i]}`;
  if (P.chunks > 1 && fits(full)) return full;
  return fits(mb) ? mb : null;
}
