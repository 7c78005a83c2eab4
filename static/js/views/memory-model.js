// Pure helpers for the memory view: which segments a bar has, how an API answer becomes bars,
// how bars become rectangles, and how two answers blend during a tween. No DOM here.
import { niceTicks } from "../lib/scale.js";

/**
 * What /memory shows when its query string names nothing (and what the home gallery previews):
 * a 70B model on 256 H100s the way Megatron lays it out. The page writes it into its URL and
 * sends exactly that to the API, like any other query.
 */
export const LANDING_QUERY = "model=llama3-70b&dp=8&tp=8&pp=4&zero=1&seq_len=8192&sequence_parallel=true&recompute=selective";

/**
 * Stack order, bottom to top, of the API's term segments (`term.segment`), with the label and
 * theme colour each is drawn in.
 */
export const SEGMENTS = [
  { key: "parameters", label: "Parameters", color: "--mem-params" },
  { key: "gradients", label: "Gradients", color: "--mem-grads" },
  { key: "optimizer_states", label: "Optimizer states", color: "--mem-optim" },
  { key: "activations", label: "Activations", color: "--mem-act" },
  { key: "kv_cache", label: "KV cache", color: "--mem-kv" },
];

/** A term's name as a label: "embedding_activations" → "Embedding activations". */
export function termLabel(name) {
  const seg = SEGMENTS.find((s) => s.key === name);
  return seg ? seg.label : name.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
}

/** Bytes of each segment in one stage: the sum of its terms by the segment the API gave them. */
export function segmentValues(stage) {
  const values = Object.fromEntries(SEGMENTS.map((s) => [s.key, 0]));
  for (const t of stage.terms) if (t.segment in values) values[t.segment] += t.bytes;
  return values;
}

const ROLE = { first: " (embeddings)", last: " (LM head)" };

/** One bar per pipeline stage of an API answer, labelled with the stage's role. */
export function barsFrom(data) {
  return data.per_stage.map((s) => ({
    id: s.stage,
    label: s.role === "only" ? "all layers" : `${s.stage}`,
    long: s.role === "only" ? "The only stage" : `Stage ${s.stage}${ROLE[s.role] || ""}`,
    layers: s.layers,
    values: segmentValues(s),
    total: s.total,
    terms: s.terms,
  }));
}

/** The y-axis top: capacity and the tallest bar, with room for the total labels. */
export function yTop(bars, capacity) {
  const tallest = Math.max(0, ...bars.map((b) => b.total));
  const top = Math.max(tallest, capacity || 0) * 1.1;
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
