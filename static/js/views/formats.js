// Format cards for /formats: coloured bit layout, key numbers and a tiny number line of the
// positive values on a log₂ axis. `preview(el)` draws the e4m3fn values for the home gallery.
import { fetchJSON, num } from "../lib/api.js";
import { eventToElementCoordinates, onResize, setupCanvas } from "../lib/canvas.js";
import { cssVar, onThemeChange } from "../lib/colors.js";
import { h } from "../lib/dom.js";
import { fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { fieldsOf } from "./bitfield.js";
import { binadeCounts, drawStrip, log2Ticks, minPositive, positiveValues, pow2Label } from "./valuestrip.js";

export const FAMILIES = [
  { key: "fp8", title: "FP8", blurb: "8-bit floats for training and inference on H100, MI300 and TPU." },
  { key: "fp6", title: "FP6 / FP4", blurb: "Microscaling (MX) and NVFP4 elements: a handful of values, always used with a block scale.", also: ["fp4"] },
  { key: "scale", title: "Scale (E8M0)", blurb: "The shared power-of-two scale of every MX block." },
  { key: "16-bit", title: "16-bit", blurb: "The mixed-precision workhorses." },
  { key: "32-bit", title: "32-bit reference", blurb: "Single precision, the yardstick for everything above." },
];

/** Group formats by family in display order: [{family, formats}]. */
export function groupFormats(formats) {
  return FAMILIES.map((fam) => ({
    family: fam,
    formats: formats.filter((f) => f.family === fam.key || (fam.also || []).includes(f.family)),
  })).filter((g) => g.formats.length);
}

/** "2⁻⁶ = 0.015625" for powers of two, else a short number. */
export function keyNumber(v) {
  const x = num(v);
  if (v === null || v === undefined) return "none";
  const p = pow2Label(x);
  const d = fmtNum(x, 6);
  if (p && x >= 1 && x <= 65536) return d;
  return p ? `${p} ≈ ${fmtNum(x, 3)}` : d;
}

export function overflowText(info) {
  if (info.overflow === "saturate") return "saturates to ±max";
  if (info.overflow === "inf") return "→ ±∞";
  return "→ NaN";
}

/** Small coloured S/E/M boxes for a format's layout. */
export function layoutBoxes(info) {
  const wrap = h("div", { class: "fmt-layout", "aria-label": `${info.sign_bits ?? 1} sign, ${info.exponent_bits} exponent, ${info.mantissa_bits} mantissa bits` });
  for (const f of fieldsOf(info)) {
    const n = f.from - f.to + 1;
    const letter = f.key === "sign" ? "S" : f.key === "exp" ? "E" : "M";
    const group = h("span", { class: `fmt-field fmt-${f.key}` });
    for (let i = 0; i < n; i += 1) group.append(h("span", { class: "fmt-bit" }, letter));
    wrap.append(group);
  }
  return wrap;
}

const nanText = (info) => (info.has_nan ? `${fmtInt(info.nan_count ?? (info.nan_codes || []).length)} code${(info.nan_count ?? 0) === 1 ? "" : "s"}` : "none");

/** One card (a link to the explorer). */
export function card(info, base = "") {
  const rows = [
    ["max", keyNumber(info.max)],
    ["min normal", keyNumber(info.min_normal)],
    ["min subnormal", info.min_subnormal === null ? "none" : keyNumber(info.min_subnormal)],
    ["eps", keyNumber(info.eps)],
    ["NaN", nanText(info)],
    ["±∞", info.has_inf ? "yes" : "none"],
    ["finite values", fmtInt(info.finite_count)],
    ["past max", overflowText(info)],
  ];
  const mini = h("div", { class: "fmt-mini" });
  const a = h(
    "a",
    { class: "fmt-card", href: `${base}/formats/${encodeURIComponent(info.name)}`, dataset: { format: info.name } },
    h("div", { class: "fmt-card-head" },
      h("h3", { class: "mono" }, info.name),
      h("span", { class: "fmt-tag" }, `E${info.exponent_bits}M${info.mantissa_bits} · ${info.bits} bits`)),
    layoutBoxes(info),
    h("p", { class: "fmt-desc" }, info.description || ""),
    mini,
    h("dl", { class: "fmt-keys" }, rows.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { class: "mono" }, v)))),
  );
  mountMiniLine(mini, info);
  return a;
}

/**
 * A tiny number line of the positive finite values on a log₂ axis (ticks, or per-binade counts
 * when dense) with a hover tooltip. Returns {destroy}.
 */
export function mountMiniLine(el, info, { height = 58 } = {}) {
  const canvas = h("canvas", { role: "img", "aria-label": `Positive values of ${info.name} on a log₂ axis` });
  el.append(canvas);
  const lo = Math.floor(Math.log2(minPositive(info)));
  const hi = Math.ceil(Math.log2(info.max) + 1e-9) + (Number.isInteger(Math.log2(info.max)) ? 1 : 0);
  const k0 = lo - 0.3;
  const k1 = hi + 0.3;
  const values = positiveValues(info);
  const counts = binadeCounts(info);
  let width = 280;
  const pad = 6;
  const draw = () => {
    const ctx = setupCanvas(canvas, width, height);
    ctx.clearRect(0, 0, width, height);
    const { ticks } = drawStrip(ctx, info, { x0: pad, x1: width - pad, k0, k1, y: 4, hh: 26, color: cssVar("--cls-normal"), maxLog: Math.max(3, info.mantissa_bits), values });
    if (!ticks) {
      // too dense for one tick per value: say how dense
      const n = 2 ** info.mantissa_bits;
      const label = `${fmtInt(n)} value${n === 1 ? "" : "s"} per binade`;
      ctx.font = `600 10px ${cssVar("--mono")}`;
      const w = ctx.measureText(label).width + 10;
      ctx.fillStyle = cssVar("--surface");
      ctx.globalAlpha = 0.85;
      ctx.fillRect(width / 2 - w / 2, 10, w, 14);
      ctx.globalAlpha = 1;
      ctx.fillStyle = cssVar("--text");
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(label, width / 2, 17.5);
    }
    ctx.fillStyle = cssVar("--border");
    ctx.fillRect(pad, 32, width - 2 * pad, 1);
    ctx.font = `10px ${cssVar("--mono")}`;
    ctx.fillStyle = cssVar("--muted");
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    let last = -Infinity;
    for (const t of log2Ticks(k0, k1, width - 2 * pad)) {
      const x = pad + ((t.k - k0) / (k1 - k0)) * (width - 2 * pad);
      const w = ctx.measureText(t.label).width;
      ctx.fillRect(Math.round(x), 32, 1, 4);
      if (x - w / 2 < last + 4 || x - w / 2 < 0 || x + w / 2 > width) continue;
      ctx.fillText(t.label, x, 38);
      last = x + w / 2;
    }
  };
  const xToK = (x) => k0 + ((x - pad) / (width - 2 * pad)) * (k1 - k0);
  canvas.addEventListener("mousemove", (e) => {
    const { x } = eventToElementCoordinates(e, canvas);
    const k = xToK(x);
    if (values && values.length <= 512) {
      let best = values[0];
      for (const v of values) if (Math.abs(Math.log2(v) - k) < Math.abs(Math.log2(best) - k)) best = v;
      showTip(e, [`${fmtNum(best, 8)}`, ["binade", `[${fmtPow2(Math.floor(Math.log2(best)))}, ${fmtPow2(Math.floor(Math.log2(best)) + 1)})`], ["class", best < info.min_normal ? "subnormal" : "normal"]]);
    } else {
      const b = Math.floor(k);
      showTip(e, [`binade [${fmtPow2(b)}, ${fmtPow2(b + 1)})`, ["values in binade", fmtInt(counts.get(b) || 0)], ["class", b < info.exponent_min ? "subnormal" : "normal"]]);
    }
  });
  canvas.addEventListener("mouseleave", hideTip);
  const off = onResize(el, (w) => {
    width = w;
    draw();
  });
  const offTheme = onThemeChange(draw);
  return {
    destroy() {
      off();
      offTheme();
    },
  };
}

export function mount(el, state) {
  let s = { ...state };
  const render = () => {
    el.replaceChildren();
    for (const g of groupFormats(s.formats)) {
      el.append(
        h("section", { class: "fmt-family", "aria-labelledby": `fam-${g.family.key}` },
          h("div", { class: "fmt-family-head" },
            h("h2", { id: `fam-${g.family.key}` }, g.family.title),
            h("p", { class: "muted" }, g.family.blurb)),
          h("div", { class: "fmt-cards" }, g.formats.map((f) => card(f, s.base || "")))),
      );
    }
  };
  render();
  return {
    update(next) {
      s = { ...s, ...next };
      render();
    },
    destroy() {
      el.replaceChildren();
    },
  };
}

/** Home-gallery preview: float8_e4m3fn's bit layout and positive values on a log₂ line. */
export async function preview(el) {
  const info = await fetchJSON("/api/v1/formats/float8_e4m3fn");
  const canvas = h("canvas", { role: "img", "aria-label": "float8_e4m3fn: bit layout and its positive values on a log₂ axis" });
  el.append(canvas);
  const values = positiveValues(info);
  const k0 = Math.log2(info.min_subnormal) - 0.4;
  const k1 = Math.log2(info.max) + 0.6;
  const draw = (width) => {
    const height = el.clientHeight || 120;
    const ctx = setupCanvas(canvas, width, height);
    const pad = 12;
    let x = pad;
    ctx.font = `700 11px ${cssVar("--mono")}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (const f of fieldsOf(info)) {
      for (let i = f.from; i >= f.to; i -= 1) {
        ctx.fillStyle = cssVar(`--${f.key}`);
        ctx.fillRect(x, 12, 16, 20);
        ctx.fillStyle = cssVar("--surface");
        ctx.fillText(f.key === "sign" ? "S" : f.key === "exp" ? "E" : "M", x + 8, 22.5);
        x += 18;
      }
      x += 5;
    }
    ctx.textAlign = "left";
    ctx.fillStyle = cssVar("--text");
    ctx.font = `600 12px ${cssVar("--mono")}`;
    ctx.fillText("float8_e4m3fn", x + 6, 22);
    drawStrip(ctx, info, { x0: pad, x1: width - pad, k0, k1, y: 44, hh: 36, color: cssVar("--cls-normal"), maxLog: 3, values });
    ctx.fillStyle = cssVar("--border");
    ctx.fillRect(pad, 82, width - 2 * pad, 1);
    ctx.font = `10px ${cssVar("--mono")}`;
    ctx.fillStyle = cssVar("--muted");
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of log2Ticks(k0, k1, width - 2 * pad)) {
      const tx = pad + ((t.k - k0) / (k1 - k0)) * (width - 2 * pad);
      ctx.fillRect(Math.round(tx), 82, 1, 4);
      ctx.fillText(t.label, tx, 89);
    }
  };
  onResize(el, draw);
  onThemeChange(() => draw(el.clientWidth));
}
