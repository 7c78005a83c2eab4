// Format cards for /formats: coloured bit layout, key numbers and a tiny number line of the
// positive values on a log₂ axis, grouped as /api/v1/formats groups them. `preview(el)` draws
// the first format /api/v1/compare shows by default, for the home gallery.
import { fetchJSON, num } from "../lib/api.js";
import { eventToElementCoordinates, onResize, setupCanvas } from "../lib/canvas.js";
import { cssVar, onThemeChange } from "../lib/colors.js";
import { h } from "../lib/dom.js";
import { fmtInt, fmtNum, fmtPow2 } from "../lib/format.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { fieldsOf } from "./bitfield.js";
import { binadeCounts, drawLog2Axis, drawStrip, positiveValues, pow2Label } from "./valuestrip.js";

/** The API's groups with their formats: [{group, formats}] (empty groups left out). */
export function groupFormats(formats, groups) {
  const byName = new Map(formats.map((f) => [f.name, f]));
  return groups
    .map((group) => ({ group, formats: group.formats.map((n) => byName.get(n)).filter(Boolean) }))
    .filter((g) => g.formats.length);
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


/** Small coloured S/E/M boxes for a format's layout. */
export function layoutBoxes(info) {
  const wrap = h("div", { class: "fmt-layout", "aria-label": `${info.sign_bits} sign, ${info.exponent_bits} exponent, ${info.mantissa_bits} mantissa bits` });
  for (const f of fieldsOf(info)) {
    const n = f.from - f.to + 1;
    const group = h("span", { class: `fmt-field fmt-${f.key}` });
    for (let i = 0; i < n; i += 1) group.append(h("span", { class: "fmt-bit" }, f.letter));
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
    ["past max", info.past_max],
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

/** The log₂ window [k0, k1] of a mini line: whole binades around every positive value. */
function miniRange(info) {
  const lo = Math.floor(Math.log2(info.min_positive));
  const top = Math.log2(info.max);
  const hi = Math.ceil(top + 1e-9) + (Number.isInteger(top) ? 1 : 0);
  return [lo - 0.3, hi + 0.3];
}

/** The strip, a "values per binade" badge when too dense for ticks, and the axis. */
function drawMiniLine(ctx, info, list, { width, height, pad, k0, k1 }) {
  ctx.clearRect(0, 0, width, height);
  const strip = { x0: pad, x1: width - pad, k0, k1, y: 4, hh: 26, color: cssVar("--cls-normal"), maxLog: Math.max(3, info.mantissa_bits), values: list };
  if (!drawStrip(ctx, info, strip).ticks) {
    const n = info.values_per_binade;
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
  drawLog2Axis(ctx, { x0: pad, x1: width - pad, y: 32, k0, k1, width });
}

/** Tooltip lines at log₂ position k: the nearest value when few, else the binade's count. */
function miniTip(list, counts, k) {
  const binade = (e) => `[${fmtPow2(e)}, ${fmtPow2(e + 1)})`;
  if (list && list.values.length <= 512) {
    let best = 0;
    list.values.forEach((v, i) => {
      if (Math.abs(Math.log2(v) - k) < Math.abs(Math.log2(list.values[best]) - k)) best = i;
    });
    const v = list.values[best];
    return [`${fmtNum(v, 8)}`, ["binade", binade(Math.floor(Math.log2(v)))], ["class", best < list.subnormals ? "subnormal" : "normal"]];
  }
  const b = counts.get(Math.floor(k));
  return [`binade ${binade(Math.floor(k))}`, ["values in binade", fmtInt(b ? b.count : 0)], ["class", b && b.subnormal ? "subnormal" : "normal"]];
}

/**
 * A tiny number line of the positive finite values on a log₂ axis (ticks, or per-binade counts
 * when dense) with a hover tooltip. Returns {destroy}.
 */
export function mountMiniLine(el, info, { height = 58 } = {}) {
  const canvas = h("canvas", { role: "img", "aria-label": `Positive values of ${info.name} on a log₂ axis` });
  el.append(canvas);
  const [k0, k1] = miniRange(info);
  const list = positiveValues(info);
  const counts = binadeCounts(info);
  const geom = { width: 280, height, pad: 6, k0, k1 };
  const draw = () => drawMiniLine(setupCanvas(canvas, geom.width, height), info, list, geom);
  canvas.addEventListener("mousemove", (e) => {
    const { x } = eventToElementCoordinates(e, canvas);
    showTip(e, miniTip(list, counts, k0 + ((x - geom.pad) / (geom.width - 2 * geom.pad)) * (k1 - k0)));
  });
  canvas.addEventListener("mouseleave", hideTip);
  const off = onResize(el, (w) => {
    geom.width = w;
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

/** state: {formats, groups, base}: one section per group, one card per format. */
export function mount(el, state) {
  let s = { ...state };
  const render = () => {
    el.replaceChildren();
    for (const { group, formats } of groupFormats(s.formats, s.groups)) {
      el.append(
        h("section", { class: "fmt-family", "aria-labelledby": `fam-${group.key}` },
          h("div", { class: "fmt-family-head" },
            h("h2", { id: `fam-${group.key}` }, group.title),
            h("p", { class: "muted" }, group.blurb)),
          h("div", { class: "fmt-cards" }, formats.map((f) => card(f, s.base || "")))),
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

/** Home-gallery preview: the bit layout and positive values of the first format that
 * /api/v1/compare shows by default, on a log₂ line. */
export async function preview(el) {
  const info = (await fetchJSON("/api/v1/compare")).formats[0];
  const canvas = h("canvas", { role: "img", "aria-label": `${info.name}: bit layout and its positive values on a log₂ axis` });
  el.append(canvas);
  const values = positiveValues(info);
  const k0 = Math.log2(info.min_positive) - 0.4;
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
        ctx.fillText(f.letter, x + 8, 22.5);
        x += 18;
      }
      x += 5;
    }
    ctx.textAlign = "left";
    ctx.fillStyle = cssVar("--text");
    ctx.font = `600 12px ${cssVar("--mono")}`;
    ctx.fillText(info.name, x + 6, 22);
    drawStrip(ctx, info, { x0: pad, x1: width - pad, k0, k1, y: 44, hh: 36, color: cssVar("--cls-normal"), maxLog: 3, values });
    drawLog2Axis(ctx, { x0: pad, x1: width - pad, y: 82, k0, k1, width });
  };
  onResize(el, draw);
  onThemeChange(() => draw(el.clientWidth));
}
