// Positive finite values of a format on a log₂ axis: one tick per value when they fit, and a
// per-binade count strip when they are dense. Shared by the format cards and /compare.
//
// Everything drawn comes from the API's FormatInfo: `binades` lists, for each binade
// [2^k, 2^(k+1)), how many positive finite values it holds, their spacing and whether they
// are subnormal; `min_positive` and `dynamic_range` are the ends and the span.
import { cssVar } from "../lib/colors.js";
import { fmtPow2 } from "../lib/format.js";

const MAX_LISTED = 1 << 14; // a drawing budget: wider formats are drawn as per-binade counts

/** The API's binades (columns) as rows: [{exponent, count, step, subnormal}]; binade
 * [2^exponent, 2^(exponent+1)) holds `count` values 2^exponent + j·step. */
export function binadeList(info) {
  const b = info.binades;
  return b.exponent.map((exponent, i) => ({ exponent, count: b.count[i], step: 2 ** b.spacing[i], subnormal: i < b.subnormal }));
}

/** Number of positive finite values, from the API's binades. */
export function positiveCount(info) {
  return info.binades.count.reduce((n, c) => n + c, 0);
}

/**
 * Positive finite values in increasing order, {values, subnormals} with the subnormals first,
 * or null when there are more than 16,384 (bf16, fp16, fp32: draw the binade counts instead).
 */
export function positiveValues(info) {
  if (positiveCount(info) > MAX_LISTED) return null;
  const values = [];
  let subnormals = 0;
  for (const b of binadeList(info)) {
    for (let j = 0; j < b.count; j += 1) values.push(2 ** b.exponent + j * b.step);
    if (b.subnormal) subnormals += b.count;
  }
  return { values, subnormals };
}

/** Map binade exponent → {exponent, count, step, subnormal}. */
export function binadeCounts(info) {
  return new Map(binadeList(info).map((b) => [b.exponent, b]));
}

/** Label a value as 2^k when it is a power of two, else null. */
export function pow2Label(v) {
  if (!(v > 0)) return null;
  const k = Math.log2(v);
  return Number.isInteger(k) ? fmtPow2(k) : null;
}

/** Ticks for a log₂ axis over [k0, k1] on `width` px: [{k, label}], at most ~width/56. */
export function log2Ticks(k0, k1, width) {
  const span = k1 - k0;
  const budget = Math.max(2, Math.floor(width / 56));
  const steps = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100];
  const stepK = steps.find((s) => span / s <= budget) ?? Math.ceil(span / budget);
  const out = [];
  for (let k = Math.ceil(k0 / stepK) * stepK; k <= k1; k += stepK) out.push({ k, label: fmtPow2(k) });
  return out;
}

/** A log₂ axis under a strip: a rule at y from x0 to x1, a tick per label, and the labels
 * that fit without colliding (inside a canvas `width` wide). */
export function drawLog2Axis(ctx, { x0, x1, y, k0, k1, width }) {
  ctx.fillStyle = cssVar("--border");
  ctx.fillRect(x0, y, x1 - x0, 1);
  ctx.font = `10px ${cssVar("--mono")}`;
  ctx.fillStyle = cssVar("--muted");
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  let last = -Infinity;
  for (const t of log2Ticks(k0, k1, x1 - x0)) {
    const x = x0 + ((t.k - k0) / (k1 - k0)) * (x1 - x0);
    const w = ctx.measureText(t.label).width;
    ctx.fillRect(Math.round(x), y, 1, 4);
    if (x - w / 2 < last + 4 || x - w / 2 < 0 || x + w / 2 > width) continue;
    ctx.fillText(t.label, x, y + 6);
    last = x + w / 2;
  }
}

/**
 * Draw the positive values of `info` into ctx between pixels x0..x1 for the log₂ domain
 * [k0, k1], in a band at y with height hh. `maxLog` scales the count strip (log₂ of the largest
 * per-binade count shown in the figure), so strips of different formats compare.
 * Returns {ticks: bool} (whether individual values were drawn).
 */
export function drawStrip(ctx, info, { x0, x1, k0, k1, y, hh, color, maxLog = 23, values }) {
  const xOf = (k) => x0 + ((k - k0) / (k1 - k0)) * (x1 - x0);
  const pxPerBinade = (x1 - x0) / (k1 - k0);
  const sub = cssVar("--cls-subnormal");
  const list = values === undefined ? positiveValues(info) : values;
  const ticks = Boolean(list && list.values.length && (x1 - x0) / Math.max(1, visibleCount(list.values, k0, k1)) >= 1.2);
  // background strip: one block per binade, height ~ log₂(count); stronger when no ticks
  ctx.globalAlpha = ticks ? 0.2 : 0.5;
  for (const b of binadeList(info)) {
    const xa = Math.max(x0, xOf(b.exponent));
    const xb = Math.min(x1, xOf(b.exponent + 1));
    if (xb <= xa) continue;
    const frac = 0.25 + (0.75 * Math.log2(b.count + 1)) / Math.log2(2 ** maxLog + 1);
    ctx.fillStyle = b.subnormal ? sub : color;
    ctx.fillRect(xa, y + hh * (1 - frac), Math.max(1, xb - xa - (pxPerBinade > 4 ? 1 : 0)), hh * frac);
  }
  ctx.globalAlpha = 1;
  if (ticks) {
    const normal = new Path2D();
    const subs = new Path2D();
    list.values.forEach((v, i) => {
      const k = Math.log2(v);
      if (k < k0 || k > k1) return;
      const x = Math.round(xOf(k)) + 0.5;
      const p = i < list.subnormals ? subs : normal;
      p.moveTo(x, y);
      p.lineTo(x, y + hh);
    });
    ctx.lineWidth = 1;
    ctx.strokeStyle = color;
    ctx.stroke(normal);
    ctx.strokeStyle = sub;
    ctx.stroke(subs);
  }
  return { ticks };
}

function visibleCount(list, k0, k1) {
  const lo = 2 ** k0;
  const hi = 2 ** k1;
  let n = 0;
  for (const v of list) if (v >= lo && v <= hi) n += 1;
  return n;
}
