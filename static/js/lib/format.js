// Number formatting. Bytes use SI units (1 GB = 1e9 B) as the ZeRO paper does; binary units
// are offered by fmtBytesBinary for capacities quoted in GiB.
import { num } from "./api.js";

export function fmtNum(v, digits = 4) {
  const x = num(v);
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "+∞";
  if (x === -Infinity) return "−∞";
  if (x === 0) return Object.is(x, -0) ? "−0" : "0";
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-4) return x.toExponential(Math.max(0, digits - 1)).replace("e+", "e").replace("-", "−");
  const s = Number(x.toPrecision(digits)).toString();
  return s.replace("-", "−");
}

/** The shortest decimal that round-trips the float64 (JS's own), with a proper minus sign. */
export function fmtFull(v) {
  const x = num(v);
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+∞" : "−∞";
  if (Object.is(x, -0)) return "−0";
  return String(x).replace("-", "−");
}

export function fmtInt(v) {
  return Math.round(num(v)).toLocaleString("en-US");
}

export function fmtPct(fraction, digits = 1) {
  return `${(num(fraction) * 100).toFixed(digits)}%`;
}

const SI = ["B", "KB", "MB", "GB", "TB", "PB"];
const BIN = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

function units(bytes, base, names, digits) {
  let b = num(bytes);
  let i = 0;
  while (Math.abs(b) >= base && i < names.length - 1) {
    b /= base;
    i += 1;
  }
  return `${i === 0 ? Math.round(b) : b.toFixed(b >= 100 ? 0 : digits)} ${names[i]}`;
}

export const fmtBytes = (bytes, digits = 1) => units(bytes, 1000, SI, digits);
export const fmtBytesBinary = (bytes, digits = 1) => units(bytes, 1024, BIN, digits);

/** Power of two as text: 2^-9 → "2⁻⁹". */
export function fmtPow2(e) {
  const sup = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
  return `2${String(e).split("").map((c) => sup[c] ?? c).join("")}`;
}

/** Seconds with a sensible unit. */
export function fmtTime(seconds) {
  const s = num(seconds);
  if (s === 0) return "0 s";
  if (Math.abs(s) < 1e-6) return `${(s * 1e9).toFixed(1)} ns`;
  if (Math.abs(s) < 1e-3) return `${(s * 1e6).toFixed(1)} µs`;
  if (Math.abs(s) < 1) return `${(s * 1e3).toFixed(2)} ms`;
  return `${s.toFixed(3)} s`;
}
