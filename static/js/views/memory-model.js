// Pure helpers for the memory view: which segments a bar has, how an API answer becomes bars,
// how bars become rectangles, and how two answers blend during a tween. No DOM here.
import { niceTicks } from "../lib/scale.js";
import { num } from "../lib/api.js";

/** Stack order, bottom to top; `key` is the API field, `color` the theme variable. */
export const SEGMENTS = [
  { key: "parameters", label: "Parameters", color: "--mem-params" },
  { key: "gradients", label: "Gradients", color: "--mem-grads" },
  { key: "optimizer_states", label: "Optimizer states", color: "--mem-optim" },
  { key: "activations", label: "Activations", color: "--mem-act" },
  { key: "kv_cache", label: "KV cache", color: "--mem-kv" },
  { key: "other", label: "Other", color: "--mem-other" },
];
const KNOWN = SEGMENTS.filter((s) => s.key !== "other").map((s) => s.key);

/**
 * The segment a term of the API adds to: "embedding_activations" and "output_activations" are
 * part of a stage's activations, anything unnamed is "other".
 */
export function segmentOf(termName) {
  const n = String(termName);
  if (KNOWN.includes(n)) return n;
  if (n.includes("activation")) return "activations";
  if (n.includes("kv")) return "kv_cache";
  if (n.includes("optim")) return "optimizer_states";
  if (n.includes("grad")) return "gradients";
  if (n.includes("param") || n.includes("weight")) return "parameters";
  return "other";
}

/** Segment values of one record (a stage or the whole answer); `other` is what the total has on top. */
export function segmentValues(rec) {
  const values = {};
  let sum = 0;
  for (const k of KNOWN) {
    const v = Math.max(0, num(rec[k] ?? 0)) || 0;
    values[k] = v;
    sum += v;
  }
  const total = num(rec.total ?? sum);
  values.other = Math.max(0, total - sum);
  return { values, total: Math.max(total, sum) };
}

/**
 * Bars from an API answer: one per pipeline stage (per_stage), or a single bar for the GPU when
 * the answer has no per-stage breakdown.
 */
export function barsFrom(data) {
  const stages = Array.isArray(data.per_stage) && data.per_stage.length ? data.per_stage : null;
  if (!stages) {
    const { values, total } = segmentValues(data);
    return [{ id: 0, label: "GPU", long: "Every GPU", layers: null, values, total }];
  }
  const n = stages.length;
  return stages.map((s, i) => {
    const { values, total } = segmentValues(s);
    const stage = s.stage ?? i;
    const role = n === 1 ? "" : stage === 0 ? " (embeddings)" : stage === n - 1 ? " (LM head)" : "";
    return {
      id: stage,
      label: n === 1 ? "all layers" : `${stage}`,
      long: n === 1 ? "The only stage" : `Stage ${stage}${role}`,
      layers: s.layers ?? null,
      values,
      total,
    };
  });
}

/** The y-axis top: capacity and the tallest bar, with room for the total labels. */
export function yTop(bars, capacity) {
  const tallest = Math.max(0, ...bars.map((b) => b.total));
  const top = Math.max(tallest, num(capacity) || 0) * 1.1;
  const ticks = niceTicks(0, top, 5);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : top;
  return Math.max(top, Math.ceil(top / step) * step) || 1;
}

/** Blend two sets of bars (t in [0, 1]); stages present on one side only grow from or shrink to 0. */
export function blendBars(from, to, t) {
  if (!from || t >= 1) return to;
  const n = Math.max(from.length, to.length);
  const out = [];
  for (let i = 0; i < n; i += 1) {
    const a = from[i];
    const b = to[i];
    const base = b || a;
    const values = {};
    for (const s of SEGMENTS) {
      const va = a ? a.values[s.key] : 0;
      const vb = b ? b.values[s.key] : 0;
      values[s.key] = va + (vb - va) * t;
    }
    const total = (a ? a.total : 0) + ((b ? b.total : 0) - (a ? a.total : 0)) * t;
    out.push({ ...base, values, total, ghost: !b });
  }
  return out;
}

export const lerp = (a, b, t) => a + (b - a) * t;

/**
 * Rectangles for the bars in a plot area of width × height (CSS px), y from 0 to `top` bytes.
 * Returns {slot, barWidth, bars: [{x, cx, yTotal, segments: [{key, y, h, bytes}]}]}.
 */
export function layoutBars(bars, width, height, top) {
  const n = Math.max(1, bars.length);
  const slot = width / n;
  const barWidth = Math.max(2, Math.min(96, slot * (n > 24 ? 0.8 : 0.66)));
  const y = (v) => height - (v / top) * height;
  return {
    slot,
    barWidth,
    y,
    bars: bars.map((bar, i) => {
      const x = i * slot + (slot - barWidth) / 2;
      let acc = 0;
      const segments = [];
      for (const s of SEGMENTS) {
        const v = bar.values[s.key];
        if (!(v > 0)) continue;
        const y0 = y(acc);
        const y1 = y(acc + v);
        segments.push({ key: s.key, y: y1, h: Math.max(0, y0 - y1), bytes: v });
        acc += v;
      }
      return { bar, x, cx: x + barWidth / 2, yTotal: y(bar.total), segments };
    }),
  };
}

/**
 * Which bars get an x label when there are many: every k-th (k in 1, 2, 4, 8, …, so labels
 * land on round stage numbers), and the last one, which replaces its neighbour if too close.
 */
export function labelledBars(n, slot, minGap = 26) {
  let every = 1;
  while (every * slot < minGap && every < n) every *= 2;
  const out = [];
  for (let i = 0; i < n; i += every) out.push(i);
  const last = n - 1;
  if (out[out.length - 1] !== last) {
    if (out.length > 1 && last - out[out.length - 1] < every) out.pop();
    out.push(last);
  }
  return new Set(out);
}

/** Short GPU name for the capacity line: "NVIDIA H100 SXM 80GB" → "H100 SXM 80GB". */
export function shortGpu(title) {
  return String(title || "").replace(/^(NVIDIA|AMD)\s+(Instinct\s+)?/i, "");
}

/** The verdict for a total against a capacity: {fits, headroom, used}. */
export function verdict(total, capacity) {
  const t = num(total);
  const c = num(capacity);
  return { fits: t <= c, headroom: c - t, used: c > 0 ? t / c : Infinity };
}

/** Turn an advice change such as "zero=3" or "tp=8, pp=2" into {zero: "3"}. */
export function parseChange(change) {
  const out = {};
  for (const part of String(change).split(/[,&;\s]+/)) {
    const m = /^([a-z_]+)=([\w.+-]+)$/i.exec(part.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}
