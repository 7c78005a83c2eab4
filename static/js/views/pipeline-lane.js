// One schedule's Gantt lane on canvas: rank rows, time axis, per-rank activation strip.
// Everything static is drawn once into an offscreen buffer (per data / size / zoom / theme);
// each frame only composites it: full colour up to the playhead, faded after, plus the
// playhead and the hovered dependency chain. No per-frame allocation of op arrays.
import { cssVar, mix } from "../lib/colors.js";
import { niceTicks } from "../lib/scale.js";
import { fmtNum } from "../lib/format.js";
import { lastAtOrBefore } from "./pipeline-data.js";

export const KIND_VARS = ["--op-f", "--op-b", "--op-i", "--op-w"];
const FADE_ROWS = 0.2;
const FADE_STRIP = 0.3;
const HEAT_LEVELS = 32;
export const CHUNK_SHADE = 0.25;

/** Geometry of a lane, in CSS pixels. Pure. */
export function laneLayout(p, width, { compact = false, height = 0 } = {}) {
  if (compact) {
    const top = 4;
    const left = 22;
    const rowH = Math.max(2, (height - top - 4) / p);
    return {
      compact: true,
      width,
      height,
      left,
      right: width - 6,
      top,
      rowH,
      gap: rowH >= 6 ? 1 : 0,
      rowsBottom: top + rowH * p,
      axisTop: top + rowH * p,
      stripTop: height,
      stripRowH: 0,
      stripBottom: height,
    };
  }
  const rowH = p <= 4 ? 30 : p <= 8 ? 24 : p <= 16 ? 16 : p <= 32 ? 10 : p <= 64 ? 7 : 4;
  const left = width < 560 ? 48 : 58;
  // a right gutter with each rank's idle share, where rows are tall enough to label
  const idleGutter = width >= 560 && rowH >= 10 ? 44 : 0;
  const top = 6;
  const rowsBottom = top + rowH * p;
  const axisTop = rowsBottom;
  const axisH = 34;
  const stripRowH = p <= 4 ? 12 : p <= 8 ? 8 : p <= 16 ? 5 : p <= 32 ? 3 : p <= 64 ? 2 : 1;
  const stripTop = axisTop + axisH + 22;
  const stripBottom = stripTop + stripRowH * p;
  return {
    compact: false,
    width,
    height: stripBottom + 6,
    left,
    right: width - 16 - idleGutter,
    idleGutter,
    top,
    rowH,
    gap: rowH >= 6 ? 1 : 0,
    rowsBottom,
    axisTop,
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

/** Colours a lane needs, read from the theme. */
export function laneColors() {
  const kinds = KIND_VARS.map(cssVar);
  const text = cssVar("--text");
  // odd chunks (interleaved, V schedules) are shaded toward the text colour
  const kindsAlt = kinds.map((c) => mix(c, text, CHUNK_SHADE));
  const fb = cssVar("--op-fb");
  const ink = (c) => (luminance(c) > 0.5 ? "#1d1d1b" : "#ffffff");
  const surface = cssVar("--surface");
  const act = cssVar("--mem-act");
  const base = cssVar("--surface-2");
  const heat = [];
  for (let l = 0; l <= HEAT_LEVELS; l++) heat.push(mix(base, act, l / HEAT_LEVELS));
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
    faint: cssVar("--faint"),
    border: cssVar("--border"),
    bubble,
    accent: cssVar("--accent"),
    ok,
    focus: cssVar("--focus"),
    heat,
    font: cssVar("--font") || "system-ui, sans-serif",
  };
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
  }

  setData(P) {
    this.P = P;
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
    // the plot's x range in CSS px, for tests and tools that point at times
    this.canvas.dataset.plotLeft = String(this.L.left);
    this.canvas.dataset.plotRight = String(this.L.right);
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
      const lower = (y - L.top - rank * L.rowH) > L.rowH / 2;
      return { area: x >= L.left ? "rows" : "labels", rank, t, lower };
    }
    if (!L.compact && y >= L.stripTop && y < L.stripBottom) {
      return { area: "strip", rank: Math.floor((y - L.stripTop) / L.stripRowH), t, lower: false };
    }
    if (y >= L.axisTop && y < L.stripTop) return { area: "axis", rank: -1, t, lower: false };
    return { area: null, rank: -1, t, lower: false };
  }

  /**
   * Draw everything static into the offscreen buffers: `buf` in full colour and `fbuf` with
   * the rows and strip faded (what is still to come). Bars, hatching and the heat strip are
   * written straight into pixels (one typed-array fill per bar row: 100k+ ops in a few ms);
   * text goes on top with the canvas API.
   */
  render() {
    const P = this.P;
    const L = this.L;
    if (!P || !L) return;
    const t0 = performance.now();
    this.renders = (this.renders || 0) + 1;
    if (!this.colors) this.colors = laneColors();
    const C = this.colors;
    const ctx = this.bctx;
    const dpr = this.dpr;
    const W = this.buf.width;
    const H = this.buf.height;
    const { left, right, top, rowH, gap } = L;
    const d0 = this.d0;
    const d1 = this.d1;
    const k = (right - left) / (d1 - d0 || 1);
    const barH = rowH - gap;

    if (!this.img || this.img.width !== W || this.img.height !== H) this.img = ctx.createImageData(W, H);
    const px = new Uint32Array(this.img.data.buffer);
    px.fill(L.compact ? C.u.surface2 : C.u.surface);
    const clipL = Math.round(left * dpr);
    const clipR = Math.round(right * dpr);
    const X = (t) => Math.round((left + (t - d0) * k) * dpr);
    const rect = (x0, x1, y0, y1, col) => {
      if (x0 < clipL) x0 = clipL;
      if (x1 > clipR) x1 = clipR;
      if (x1 <= x0) return;
      for (let y = y0; y < y1; y++) px.fill(col, y * W + x0, y * W + x1);
    };
    const gapPx = Math.max(1, Math.round(dpr));

    // idle time (bubbles): every row up to the makespan, hatched; ops cover it
    const xa = Math.max(clipL, X(Math.max(0, d0)));
    const xb = Math.min(clipR, X(Math.min(P.makespan, d1)));
    const period = Math.max(3, Math.round(6 * dpr));
    const lw = Math.max(1, Math.round(dpr));
    for (let r = 0; r < P.ranks; r++) {
      const y0 = Math.round((top + r * rowH) * dpr);
      const y1 = Math.max(y0 + 1, Math.round((top + r * rowH + barH) * dpr));
      for (let y = y0; y < y1; y++) {
        const row = y * W;
        for (let x = xa; x < xb; x++) if ((x + y) % period < lw) px[row + x] = C.u.bubble;
      }
    }

    // ops, in time order per rank; an overlapped F&B pair is one span with F and B bands
    const band = Math.max(1, Math.round(barH * 0.22 * dpr));
    for (let r = 0; r < P.ranks; r++) {
      const lo = P.rowOffset[r];
      const hi = P.rowOffset[r + 1];
      let j = lastAtOrBefore(P.rowStart, lo, hi, d0);
      if (j < lo) j = lo;
      const y0 = Math.round((top + r * rowH) * dpr);
      const y1 = Math.max(y0 + 1, Math.round((top + r * rowH + barH) * dpr));
      for (; j < hi; j++) {
        const i = P.rowIdx[j];
        const s = P.start[i];
        if (s > d1) break;
        const x0 = X(s);
        let x1 = X(P.end[i]);
        if (x1 <= x0) x1 = x0 + 1;
        else if (x1 - x0 >= 4 * gapPx) x1 -= gapPx;
        if (P.overlapped[i]) {
          // both ops of the pair cover the same span: each fills all but its partner's band,
          // so whichever is drawn second cannot paint over the other's F (top) / B (bottom) band
          const kind = P.kind[i];
          const bands = barH >= 8;
          if (kind === 0) {
            rect(x0, x1, y0, bands ? y1 - band : y1, C.u.fb);
            if (bands) rect(x0, x1, y0, y0 + band, C.u.kinds[0]);
          } else {
            rect(x0, x1, bands ? y0 + band : y0, y1, C.u.fb);
            if (bands) rect(x0, x1, y1 - band, y1, C.u.kinds[kind]);
          }
        } else {
          rect(x0, x1, y0, y1, (P.chunk[i] & 1 ? C.u.kindsAlt : C.u.kinds)[P.kind[i]]);
        }
      }
    }

    // race mode: the time this schedule is already done while the other still runs
    const done = this.raceEnd > P.makespan * (1 + 1e-9) && P.makespan < d1;
    if (done) {
      const y0 = Math.round(top * dpr);
      const y1 = Math.round((L.rowsBottom - gap) * dpr);
      rect(X(Math.max(P.makespan, d0)), X(Math.min(this.raceEnd, d1)), y0, y1, C.u.done);
    }

    // activations in flight per rank, as a heat strip
    if (!L.compact) {
      const max = this.actMax || 1;
      const sh = L.stripRowH;
      const sg = sh >= 4 ? 1 : 0;
      const xe = Math.min(clipR, X(P.makespan));
      const levels = C.u.heat.length - 1;
      for (let r = 0; r < P.ranks; r++) {
        const y0 = Math.round((L.stripTop + r * sh) * dpr);
        const y1 = Math.max(y0 + 1, Math.round((L.stripTop + (r + 1) * sh - sg) * dpr));
        rect(clipL, xe, y0, y1, C.u.heat[0]);
        const lo = P.actOffset[r];
        const hi = P.actOffset[r + 1];
        for (let q = lo; q < hi; q++) {
          const c = P.actC[q];
          if (c <= 0) continue;
          const ta = P.actT[q];
          const tb = q + 1 < hi ? P.actT[q + 1] : P.makespan;
          if (tb < d0 || ta > d1) continue;
          const lv = Math.min(levels, Math.max(1, Math.round((c / max) * levels)));
          let x1 = X(tb);
          const x0 = X(ta);
          if (x1 <= x0) x1 = x0 + 1;
          rect(x0, x1, y0, y1, C.u.heat[lv]);
        }
      }
    }
    ctx.putImageData(this.img, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, 0, right - left, L.height);
    ctx.clip();

    // labels: microbatch (·chunk) where the op is wide enough
    if (rowH >= 12) {
      const fs = Math.min(11, rowH - 8);
      ctx.font = `${fs}px ${C.font}`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      const digitW = fs * 0.62;
      const multi = P.chunks > 1;
      for (let r = 0; r < P.ranks; r++) {
        const lo = P.rowOffset[r];
        const hi = P.rowOffset[r + 1];
        let j = lastAtOrBefore(P.rowStart, lo, hi, d0);
        if (j < lo) j = lo;
        const yMid = top + r * rowH + barH / 2 + 0.5;
        for (; j < hi; j++) {
          const i = P.rowIdx[j];
          const s = P.start[i];
          if (s > d1) break;
          const w = (P.end[i] - s) * k;
          if (w < digitW + 4) continue;
          const x = left + (s - d0 + (P.end[i] - s) / 2) * k;
          let label;
          if (P.overlapped[i]) {
            if (P.kind[i] !== 0) continue;
            const partner = partnerInRow(P, j, lo, hi);
            const b = partner >= 0 ? P.mb[partner] : "";
            label = `${P.mb[i]}|${b}`;
            if (label.length * digitW + 4 > w) label = String(P.mb[i]);
            ctx.fillStyle = C.fbInk;
          } else {
            const mbText = String(P.mb[i]);
            label = mbText;
            if (multi) {
              const full = `${mbText}·c${P.chunk[i]}`;
              if (full.length * digitW + 4 <= w) label = full;
            }
            if (label.length * digitW + 4 > w) continue;
            ctx.fillStyle = (P.chunk[i] & 1 ? C.kindInkAlt : C.kindInk)[P.kind[i]];
          }
          ctx.fillText(label, x, yMid);
        }
      }
    }
    if (done) {
      const xa = left + (Math.max(P.makespan, d0) - d0) * k;
      const xb = left + (Math.min(this.raceEnd, d1) - d0) * k;
      const saved = fmtNum(this.raceEnd - P.makespan, 4);
      ctx.font = `600 11px ${C.font}`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillStyle = C.ok;
      const long = `done ${saved} sooner`;
      const text = ctx.measureText(long).width + 8 <= xb - xa ? long : `−${saved}`;
      if (ctx.measureText(text).width + 6 <= xb - xa) ctx.fillText(text, (xa + xb) / 2, (top + L.rowsBottom) / 2);
    }
    ctx.restore();

    this.renderGutter(ctx, C);
    if (!L.compact) {
      this.renderAxis(ctx, C, k);
      this.renderStrip(ctx, C);
    }
    this.renderFaded();
    this.stale = false;
    this.shownPx = -1;
    this.lastRenderMs = performance.now() - t0;
  }

  renderGutter(ctx, C) {
    const L = this.L;
    const P = this.P;
    ctx.fillStyle = C.muted;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const fs = L.compact ? 9 : L.rowH >= 14 ? 11 : 10;
    ctx.font = `${fs}px ${C.font}`;
    let step = 1;
    while (step * L.rowH < fs + 3) step *= 2;
    for (let r = 0; r < P.ranks; r += step) {
      const label = L.compact ? `r${r}` : L.width < 560 || step > 1 ? `r${r}` : `rank ${r}`;
      ctx.fillText(label, L.left - 6, L.top + r * L.rowH + (L.rowH - L.gap) / 2 + 0.5);
    }
    if (L.idleGutter) {
      ctx.textAlign = "left";
      const x = L.right + 8;
      for (let r = 0; r < P.ranks; r++) {
        const frac = P.makespan > 0 ? P.idle[r] / P.makespan : 0;
        ctx.fillText(`${(frac * 100).toFixed(frac < 0.1 ? 1 : 0)}%`, x, L.top + r * L.rowH + (L.rowH - L.gap) / 2 + 0.5);
      }
      ctx.font = `600 10px ${C.font}`;
      ctx.textBaseline = "alphabetic";
      ctx.fillText("idle", x, L.axisTop + 14);
      ctx.textBaseline = "middle";
      ctx.font = `${fs}px ${C.font}`;
      ctx.textAlign = "right";
    }
    if (step > 1 && !L.compact) {
      // mark the last rank too when the step skips it
      const r = P.ranks - 1;
      if (r % step !== 0 && (r % step) * L.rowH >= fs + 3) ctx.fillText(`r${r}`, L.left - 6, L.top + r * L.rowH + L.rowH / 2);
    }
  }

  renderAxis(ctx, C, k) {
    const L = this.L;
    const y = L.axisTop + 3;
    ctx.strokeStyle = C.border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(L.left, y + 0.5);
    ctx.lineTo(L.right, y + 0.5);
    ctx.stroke();
    const ticks = niceTicks(this.d0, this.d1, Math.max(2, Math.floor((L.right - L.left) / 80)));
    ctx.fillStyle = C.muted;
    ctx.font = `11px ${C.font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.beginPath();
    for (const v of ticks) {
      const x = Math.round(L.left + (v - this.d0) * k) + 0.5;
      ctx.moveTo(x, y);
      ctx.lineTo(x, y + 5);
      // keep tick labels inside the plot: a label centred on the right edge would run into
      // the idle-share gutter ("1400idle")
      const label = fmtNum(v, 6);
      const half = ctx.measureText(label).width / 2;
      ctx.textAlign = x + half > L.right + 1 ? "right" : x - half < L.left - 1 ? "left" : "center";
      ctx.fillText(label, ctx.textAlign === "right" ? L.right + 1 : ctx.textAlign === "left" ? L.left - 1 : x, y + 7);
    }
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillStyle = C.muted;
    ctx.fillText("time (cost units) →", L.right, y + 20);
  }

  renderStrip(ctx, C) {
    const L = this.L;
    const P = this.P;
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
    const dpr = this.dpr;
    f.setTransform(1, 0, 0, 1, 0, 0);
    f.globalAlpha = 1;
    f.fillStyle = L.compact ? this.colors.surface2 : this.colors.surface;
    f.fillRect(0, 0, W, H);
    const rb = Math.min(H, Math.ceil(L.rowsBottom * dpr));
    const sb = L.compact ? H : Math.min(H, Math.floor((L.stripTop - 2) * dpr));
    f.globalAlpha = FADE_ROWS;
    f.drawImage(this.buf, 0, 0, W, rb, 0, 0, W, rb);
    f.globalAlpha = 1;
    // the right gutter (idle share per rank) is a label, not part of the timeline
    const gx = Math.floor((L.right + 1) * dpr);
    if (L.idleGutter && gx < W) f.drawImage(this.buf, gx, 0, W - gx, rb, gx, 0, W - gx, rb);
    if (sb > rb) f.drawImage(this.buf, 0, rb, W, sb - rb, 0, rb, W, sb - rb);
    if (H > sb) {
      f.globalAlpha = FADE_STRIP;
      f.drawImage(this.buf, 0, sb, W, H - sb, 0, sb, W, H - sb);
      f.globalAlpha = 1;
    }
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
    const ctx = this.ctx;
    const L = this.L;
    const dpr = this.dpr;
    const W = this.canvas.width;
    const H = this.canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const xT = Math.min(L.right, Math.max(L.left, this.xOf(t)));
    const px = Math.max(1, Math.min(W, Math.round(xT * dpr)));
    // the playhead line covers [px − dpr, px + dpr] device pixels
    const pad = Math.ceil(dpr) + 1;
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

  paintChain(ctx, chain) {
    const P = this.P;
    const L = this.L;
    const C = this.colors;
    const { top, rowH, gap, left, right } = L;
    const barH = rowH - gap;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, 0, right - left, L.rowsBottom + 2);
    ctx.clip();
    ctx.globalAlpha = 0.62;
    ctx.fillStyle = C.surface;
    ctx.fillRect(left, top, right - left, L.rowsBottom - top);
    ctx.globalAlpha = 1;
    const m = chain.members;
    for (let q = 0; q < m.length; q++) {
      const i = m[q];
      ctx.fillStyle = (P.chunk[i] & 1 ? C.kindsAlt : C.kinds)[P.kind[i]];
      const x0 = this.xOf(P.start[i]);
      const w = Math.max(1.5, this.xOf(P.end[i]) - x0);
      const y = top + P.rank[i] * rowH;
      if (P.overlapped[i]) {
        // only this microbatch's half of the shared span
        const half = barH / 2;
        ctx.fillRect(x0, P.kind[i] === 0 ? y : y + half, w, half);
      } else {
        ctx.fillRect(x0, y, w, barH);
      }
    }
    // data-flow links across ranks
    const lk = chain.links;
    ctx.strokeStyle = C.text;
    ctx.globalAlpha = 0.55;
    ctx.lineWidth = 1.25;
    ctx.beginPath();
    for (let q = 0; q + 1 < lk.length; q += 2) {
      const a = lk[q];
      const b = lk[q + 1];
      if (P.rank[a] === P.rank[b]) continue;
      ctx.moveTo(this.xOf(P.end[a]), top + P.rank[a] * rowH + barH / 2);
      ctx.lineTo(this.xOf(P.start[b]), top + P.rank[b] * rowH + barH / 2);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.lineWidth = 2;
    ctx.strokeStyle = C.text;
    for (let q = 0; q < chain.preds.length; q++) this.strokeOp(ctx, chain.preds[q], barH);
    ctx.strokeStyle = C.focus;
    ctx.lineWidth = 2.5;
    this.strokeOp(ctx, chain.focus, barH);
    ctx.restore();
  }

  strokeOp(ctx, i, barH) {
    const P = this.P;
    const x0 = this.xOf(P.start[i]);
    const w = Math.max(2, this.xOf(P.end[i]) - x0);
    ctx.strokeRect(x0, this.L.top + P.rank[i] * this.L.rowH, w, barH);
  }
}

function partnerInRow(P, j, lo, hi) {
  const s = P.rowStart[j];
  if (j > lo && P.rowStart[j - 1] === s && P.overlapped[P.rowIdx[j - 1]]) return P.rowIdx[j - 1];
  if (j + 1 < hi && P.rowStart[j + 1] === s && P.overlapped[P.rowIdx[j + 1]]) return P.rowIdx[j + 1];
  return -1;
}
