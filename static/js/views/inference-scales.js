// Log scales, ticks and unit formatting shared by the inference and serving charts.
// Pure functions: a test or another view can call them without a DOM.

/** Log10 map from [d0, d1] (positive) to [r0, r1], with .ticks() at powers of ten. */
export function logScale(d0, d1, r0, r1) {
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  const k = (r1 - r0) / (l1 - l0 || 1);
  const f = (x) => r0 + (Math.log10(Math.max(x, 1e-300)) - l0) * k;
  f.domain = [d0, d1];
  f.ticks = () => {
    const out = [];
    for (let e = Math.ceil(l0); e <= Math.floor(l1); e += 1) out.push(10 ** e);
    return out;
  };
  return f;
}

/** [lo, hi] widened to whole powers of ten around the positive values. */
export function decades(values, pad = 0) {
  const v = values.filter((x) => x > 0 && Number.isFinite(x));
  if (!v.length) return [1, 10];
  const lo = 10 ** (Math.floor(Math.log10(Math.min(...v))) - pad);
  const hi = 10 ** (Math.ceil(Math.log10(Math.max(...v))) + pad);
  return [lo, hi > lo ? hi : lo * 10];
}

const PREFIX = [
  [1e15, "P"],
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];

/** 3.2e14 → "320 T" (with the unit appended by the caller). */
export function si(v, digits = 3) {
  const a = Math.abs(v);
  for (const [scale, p] of PREFIX) {
    if (a >= scale) return `${Number((v / scale).toPrecision(digits))} ${p}`;
  }
  if (a >= 1 || a === 0) return `${Number(v.toPrecision(digits))} `;
  return `${Number(v.toPrecision(digits))} `;
}

/** Powers of ten as axis labels: 1e-3 → "10⁻³". */
export function pow10Label(v) {
  const e = Math.round(Math.log10(v));
  if (e >= 0 && e <= 3) return String(10 ** e);
  const sup = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  return `10${String(e).split("").map((c) => sup[c] ?? c).join("")}`;
}

/** Linear interpolation of a and b in log space (for tweening positions on log axes). */
export function logLerp(a, b, t) {
  if (!(a > 0) || !(b > 0)) return b;
  return 10 ** (Math.log10(a) + (Math.log10(b) - Math.log10(a)) * t);
}

/** Seconds as a short axis label: 0 → "0", 0.05 → "50 ms", 12.5 → "12.5 s". */
export function secondsLabel(t) {
  if (t === 0) return "0";
  if (t >= 1) return `${Number(t.toPrecision(3))} s`;
  if (t >= 1e-3) return `${Number((t * 1e3).toPrecision(3))} ms`;
  return `${Number((t * 1e6).toPrecision(3))} µs`;
}
