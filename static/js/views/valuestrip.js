// Positive finite values of a format on a log₂ axis: one tick per value when they fit, and a
// per-binade count strip when they are dense. Shared by the format cards and /compare.
//
// The values follow from a FormatInfo alone (exact, no table needed): subnormals are
// m · min_subnormal for m = 1 .. 2^M − 1, normals (1 + m/2^M) · 2^k for k = exponent_min ..
// exponent_max, up to max (which drops the NaN codes of "fn" formats from the top binade).
import { cssVar } from "../lib/colors.js";
import { fmtPow2 } from "../lib/format.js";

const MAX_LISTED = 1 << 14;

/** Number of positive finite values (subnormals + normals), exactly. */
export function positiveCount(info) {
  const counts = binadeCounts(info);
  let n = 0;
  for (const c of counts.values()) n += c;
  return n;
}

/**
 * Positive finite values in increasing order, or null when there are more than 16,384
 * (bf16, fp16, fp32: use binadeCounts). E.g. float4_e2m1fn → [0.5, 1, 1.5, 2, 3, 4, 6].
 */
export function positiveValues(info) {
  const M = info.mantissa_bits;
  if (positiveCount(info) > MAX_LISTED) return null;
  const out = [];
  const step = 2 ** M;
  if (info.min_subnormal !== null && info.min_subnormal !== undefined && M > 0) {
    for (let m = 1; m < step; m += 1) out.push(m * info.min_subnormal);
  }
  for (let k = info.exponent_min; k <= info.exponent_max; k += 1) {
    for (let m = 0; m < step; m += 1) {
      const v = (1 + m / step) * 2 ** k;
      if (v > info.max) return out;
      out.push(v);
    }
  }
  return out;
}

/** Map binade k → number of positive finite values in [2^k, 2^(k+1)). */
export function binadeCounts(info) {
  const M = info.mantissa_bits;
  const counts = new Map();
  if (info.min_subnormal !== null && info.min_subnormal !== undefined && M > 0) {
    // subnormal m lies in binade exponent_min − M + floor(log2 m); 2^j of them per binade
    const base = Math.round(Math.log2(info.min_subnormal));
    for (let j = 0; j < M; j += 1) counts.set(base + j, 2 ** j);
  }
  for (let k = info.exponent_min; k < info.exponent_max; k += 1) counts.set(k, 2 ** M);
  // top binade: values 2^emax · (1 + m/2^M) up to max
  const top = Math.round((info.max / 2 ** info.exponent_max - 1) * 2 ** M) + 1;
  counts.set(info.exponent_max, top);
  return counts;
}

/** log₂ of the smallest positive value. */
export function minPositive(info) {
  return info.min_subnormal ?? info.min_normal;
}

/** Dynamic range in binades: log₂(max / smallest positive). */
export function dynamicRange(info) {
  return Math.log2(info.max / minPositive(info));
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

/**
 * Draw the positive values of `info` into ctx between pixels x0..x1 for the log₂ domain
 * [k0, k1], in a band at y with height hh. `maxLog` scales the count strip (log₂ of the largest
 * per-binade count shown in the figure), so strips of different formats compare.
 * Returns {ticks: bool} (whether individual values were drawn).
 */
export function drawStrip(ctx, info, { x0, x1, k0, k1, y, hh, color, maxLog = 23, values }) {
  const xOf = (k) => x0 + ((k - k0) / (k1 - k0)) * (x1 - x0);
  const pxPerBinade = (x1 - x0) / (k1 - k0);
  const counts = binadeCounts(info);
  const sub = cssVar("--cls-subnormal");
  const list = values === undefined ? positiveValues(info) : values;
  const ticks = Boolean(list && list.length && (x1 - x0) / Math.max(1, visibleCount(list, k0, k1)) >= 1.2);
  // background strip: one block per binade, height ~ log₂(count); stronger when no ticks
  ctx.globalAlpha = ticks ? 0.2 : 0.5;
  for (const [k, c] of counts) {
    const xa = Math.max(x0, xOf(k));
    const xb = Math.min(x1, xOf(k + 1));
    if (xb <= xa) continue;
    const frac = 0.25 + (0.75 * Math.log2(c + 1)) / Math.log2(2 ** maxLog + 1);
    ctx.fillStyle = k < info.exponent_min ? sub : color;
    ctx.fillRect(xa, y + hh * (1 - frac), Math.max(1, xb - xa - (pxPerBinade > 4 ? 1 : 0)), hh * frac);
  }
  ctx.globalAlpha = 1;
  if (ticks) {
    const normal = new Path2D();
    const subs = new Path2D();
    for (const v of list) {
      const k = Math.log2(v);
      if (k < k0 || k > k1) continue;
      const x = Math.round(xOf(k)) + 0.5;
      const p = v < info.min_normal ? subs : normal;
      p.moveTo(x, y);
      p.lineTo(x, y + hh);
    }
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
