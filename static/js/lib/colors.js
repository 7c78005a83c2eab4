// Colours come from the stylesheet's variables so that every view follows the theme.
import { onThemeChange } from "./theme.js";

let cache = new Map();
onThemeChange(() => {
  cache = new Map();
});

/** The computed value of a CSS custom property, e.g. cssVar("--exp"). */
export function cssVar(name) {
  if (!cache.has(name)) {
    cache.set(name, getComputedStyle(document.documentElement).getPropertyValue(name).trim());
  }
  return cache.get(name);
}

export const PALETTE_SIZE = 10;

/** Categorical colour i (cycles through --c0..--c9). */
export function palette(i) {
  return cssVar(`--c${((i % PALETTE_SIZE) + PALETTE_SIZE) % PALETTE_SIZE}`);
}

/** Colour for a value class: zero, subnormal, normal, inf, nan. */
export function classColor(cls) {
  return cssVar(`--cls-${cls}`);
}

/** A categorical colour for many groups: palette hue, lightness varied per cycle. */
export function groupColor(i) {
  const base = palette(i);
  const cycle = Math.floor(i / PALETTE_SIZE) % 3;
  if (cycle === 0) return base;
  return mix(base, cycle === 1 ? "#ffffff" : "#000000", 0.35);
}

/** Mix two #rrggbb colours; t = 0 gives a, 1 gives b. */
export function mix(a, b, t) {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return a;
  const c = pa.map((v, i) => Math.round(v + (pb[i] - v) * t));
  return `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

function parse(c) {
  const m = /^#([0-9a-f]{6})$/i.exec(c.trim());
  if (!m) return null;
  const n = Number.parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Listen for theme changes (to redraw canvases). */
export { onThemeChange };
