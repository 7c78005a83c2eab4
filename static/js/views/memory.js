// Per-GPU memory as stacked bars, one per pipeline stage, against the GPU's capacity line.
// SVG (a few dozen marks). Bars tween from the previous answer to the new one, each frame
// derived from time t; under prefers-reduced-motion they jump. Everything drawn comes from the
// /api/v1/memory answer: stage totals, roles, and each term's bytes and segment.
import { svg, clear } from "../lib/dom.js";
import { createLoop, createRedraw, easeInOut } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { fetchJSON } from "../lib/api.js";
import { fmtBytes, fmtInt, fmtPct } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { LANDING_QUERY, SEGMENTS, barsFrom, blendBars, labelledBars, layoutBars, lerp, shortGpu, yTop } from "./memory-model.js";

const TWEEN_MS = 420;
const SEG_BY_KEY = Object.fromEntries(SEGMENTS.map((s) => [s.key, s]));
const GB = 1e9;

/** Tick label in GB without trailing zeros: 80e9 → "80". */
function gbTick(v) {
  const g = v / GB;
  return Number(g.toPrecision(4)).toString();
}

/** Bytes inside a segment: "27.2" (GB implied by the axis) — short enough for narrow bars. */
function gbShort(v) {
  const g = v / GB;
  if (g >= 100) return g.toFixed(0);
  if (g >= 10) return g.toFixed(1);
  if (g >= 1) return g.toFixed(2);
  return g.toPrecision(2);
}

function plotSize(width) {
  const narrow = width < 560;
  return {
    width,
    height: narrow ? 300 : 380,
    m: { top: 26, right: narrow ? 8 : 16, bottom: 46, left: narrow ? 44 : 56 },
    narrow,
  };
}

/**
 * Where the capacity tag goes: the right end of the line, else the left end, else the widest gap
 * between bars that reach the line (bars span [x, x + barWidth] and fill from yTotal down).
 * `blocked` says no spot is free.
 */
export function capLabelPlace(geo, textWidth, capY, plotWidth) {
  // the tag sits centred on the line, about 20 px tall; a bar reaches 20 px above its top with
  // its total label, which may be a little wider than the bar
  const reaches = (b) => b.yTotal - 20 < capY + 11;
  const hits = (x0, x1) => geo.bars.some((b) => reaches(b) && b.x - 8 < x1 && b.x + geo.barWidth + 8 > x0);
  const right = { x: plotWidth - 8, anchor: "end", span: [plotWidth - 14 - textWidth, plotWidth] };
  const left = { x: 8, anchor: "start", span: [0, 14 + textWidth] };
  if (!hits(...right.span)) return right;
  if (!hits(...left.span)) return left;
  // otherwise the widest run of bars that stay below the tag
  let best = null;
  let runStart = 0;
  const edges = [...geo.bars.filter(reaches).map((b) => [b.x - 8, b.x + geo.barWidth + 8]), [plotWidth, plotWidth]];
  for (const [x0, x1] of edges) {
    if (x0 - runStart > textWidth + 16 && (!best || x0 - runStart > best.w)) best = { x: runStart + 8, w: x0 - runStart };
    runStart = Math.max(runStart, x1);
  }
  return best ? { x: best.x, anchor: "start", span: [best.x - 8, best.x + textWidth + 8] } : { ...right, blocked: true };
}

/**
 * The capacity tag: the full GPU name where it fits beside the bars, else the short one; when
 * every bar crosses the line there is no free spot (`onAxis`), and the value goes on the y axis.
 */
function capacityTag(geo, capY, pw, gpuTitle, capacity) {
  const name = shortGpu(gpuTitle) || "GPU";
  let text = `${name} · ${fmtBytes(capacity)}`;
  let pos = capLabelPlace(geo, text.length * 6.6, capY, pw);
  if (pos.blocked) {
    const short = `${name.split(" ")[0]} · ${fmtBytes(capacity)}`;
    const alt = capLabelPlace(geo, short.length * 6.6, capY, pw);
    if (!alt.blocked) {
      text = short;
      pos = alt;
    }
  }
  return { text, pos, onAxis: Boolean(pos.blocked) };
}

// ------------------------------------------------------------------ drawing steps

/** The legend inside the SVG (so a downloaded chart explains itself); returns its height. */
function drawLegend(g, target, gpuTitle, W) {
  clear(g);
  const items = SEGMENTS.filter((s) => s.key === "parameters" || target.bars.some((b) => b.values[s.key] > 0))
    .map((s) => ({ label: s.label, mark: () => svg("rect", { width: 11, height: 11, rx: 2, y: -9, class: `mem-seg seg-${s.key}` }) }));
  const capName = shortGpu(gpuTitle);
  items.push({
    label: `Capacity (${capName ? `${capName}, ` : ""}${fmtBytes(target.capacity)})`,
    mark: () => svg("line", { x1: 0, x2: 16, y1: -3.5, y2: -3.5, class: "mem-cap-line" }),
    w: 16,
  });
  if (target.usable < target.capacity) {
    items.push({
      label: `Keeps ${fmtBytes(target.capacity - target.usable)} free`,
      mark: () => svg("line", { x1: 0, x2: 16, y1: -3.5, y2: -3.5, class: "mem-usable-line" }),
      w: 16,
    });
  }
  if (target.bars.some((b) => b.total > target.capacity)) {
    items.push({ label: "Over capacity", mark: () => svg("rect", { width: 11, height: 11, y: -9, class: "mem-overflow" }) });
  }
  let x = 0;
  let row = 0;
  for (const it of items) {
    const w = (it.w || 11) + 6 + it.label.length * 6.7 + 16;
    if (x > 0 && x + w > W) {
      x = 0;
      row += 1;
    }
    g.append(svg("g", { transform: `translate(${x + 1},${14 + row * 19})` }, it.mark(),
      svg("text", { x: (it.w || 11) + 6, y: 0, class: "mem-legend-text" }, it.label)));
    x += w;
  }
  return (row + 1) * 19 + 6;
}

/** Grid lines, the y axis in GB and the x axis of stage numbers (thinned when crowded). */
function drawAxes(gGrid, gAxes, p, geo, bars, top, tag) {
  const { m, pw, ph, H, narrow } = p;
  clear(gGrid);
  clear(gAxes);
  for (const v of niceTicks(0, top, narrow ? 4 : 6)) {
    const yy = m.top + geo.y(v);
    gGrid.append(svg("line", { x1: m.left, x2: m.left + pw, y1: yy, y2: yy, class: v === 0 ? "mem-baseline" : "mem-gridline" }));
    if (tag.onAxis && Math.abs(geo.y(v) - tag.capY) < 13) continue; // the capacity value takes this spot
    gAxes.append(svg("text", { x: m.left - 6, y: yy, "text-anchor": "end", "dominant-baseline": "central" }, gbTick(v)));
  }
  gAxes.append(svg("text", {
    class: "axis-label",
    transform: `translate(${narrow ? 11 : 14},${m.top + ph / 2}) rotate(-90)`,
    "text-anchor": "middle",
  }, "GB per GPU (10⁹ bytes)"));
  const labelled = labelledBars(bars.length, geo.slot, narrow ? 22 : 26);
  geo.bars.forEach((b, i) => {
    if (labelled.has(i)) gAxes.append(svg("text", { x: m.left + b.cx, y: m.top + ph + 16, "text-anchor": "middle" }, b.bar.label));
  });
  gAxes.append(svg("text", { class: "axis-label", x: m.left + pw / 2, y: H - 6, "text-anchor": "middle" }, p.xLabel || "Pipeline stage"));
}

/** The SVG nodes of one bar: a rect and a label per segment, the overflow hatch, the total. */
function barGroup(i, gBars, gTotals) {
  const g = svg("g", { class: "mem-bar", tabindex: 0, "data-index": i });
  const rects = {};
  const labels = {};
  for (const s of SEGMENTS) {
    rects[s.key] = svg("rect", { class: `mem-seg seg-${s.key}`, "data-index": i, "data-key": s.key });
    g.append(rects[s.key]);
  }
  const over = svg("rect", { class: "mem-overflow", "data-index": i, "data-key": "overflow" });
  g.append(over);
  for (const s of SEGMENTS) {
    labels[s.key] = svg("text", { class: "mem-seg-label", "text-anchor": "middle", "dominant-baseline": "central" });
    g.append(labels[s.key]);
  }
  // paint-order as an attribute, so the halo survives "Download SVG" (which inlines styles)
  const total = svg("text", { class: "mem-total", "text-anchor": "middle", "paint-order": "stroke" });
  const totalBg = svg("rect", { class: "mem-total-bg", height: 14, rx: 2 });
  gTotals.append(totalBg, total);
  gBars.append(g);
  return { g, rects, labels, over, total, totalBg, remove: () => [g, total, totalBg].forEach((x) => x.remove()) };
}

/** One segment's rect (data-bytes = the API's bytes) and, where it has room, its GB label. */
function paintSegment(r, lab, seg, barWidth) {
  if (!seg || seg.h < 0.25) {
    r.setAttribute("display", "none");
    lab.setAttribute("display", "none");
    return;
  }
  r.removeAttribute("display");
  for (const [k, v] of [["x", 0], ["y", seg.y], ["width", barWidth], ["height", seg.h]]) r.setAttribute(k, v);
  r.dataset.bytes = String(Math.round(seg.bytes));
  if (seg.h >= 15 && barWidth >= 30) {
    lab.removeAttribute("display");
    lab.setAttribute("x", barWidth / 2);
    lab.setAttribute("y", seg.y + seg.h / 2);
    lab.textContent = gbShort(seg.bytes);
  } else {
    lab.setAttribute("display", "none");
  }
}

function paintBar(grp, b, geo, p, capacity, capY, count) {
  const { m } = p;
  grp.g.setAttribute("transform", `translate(${m.left + b.x},${m.top})`);
  grp.g.setAttribute("aria-label", `${b.bar.long}: ${fmtBytes(b.bar.total)} of ${fmtBytes(capacity)}`);
  grp.g.dataset.total = String(Math.round(b.bar.total));
  grp.g.classList.toggle("ghost", Boolean(b.bar.ghost));
  const byKey = Object.fromEntries(b.segments.map((s) => [s.key, s]));
  for (const s of SEGMENTS) paintSegment(grp.rects[s.key], grp.labels[s.key], byKey[s.key], geo.barWidth);
  // the part above the capacity line is hatched
  if (b.bar.total > capacity && capY - b.yTotal > 0.5) {
    grp.over.removeAttribute("display");
    for (const [k, v] of [["x", 0], ["y", b.yTotal], ["width", geo.barWidth], ["height", capY - b.yTotal]]) grp.over.setAttribute(k, v);
  } else {
    grp.over.setAttribute("display", "none");
  }
  const showTotal = geo.barWidth >= 26 || count <= 8;
  const cx = m.left + b.x + geo.barWidth / 2;
  grp.total.setAttribute("display", showTotal ? "inline" : "none");
  grp.total.setAttribute("x", cx);
  grp.total.setAttribute("y", m.top + b.yTotal - 6);
  grp.total.classList.toggle("over", b.bar.total > capacity);
  grp.total.textContent = geo.barWidth >= 52 ? fmtBytes(b.bar.total) : gbShort(b.bar.total);
  const tw = grp.total.textContent.length * 7 + 6;
  grp.totalBg.setAttribute("display", showTotal ? "inline" : "none");
  grp.totalBg.setAttribute("x", cx - tw / 2);
  grp.totalBg.setAttribute("y", m.top + b.yTotal - 17);
  grp.totalBg.setAttribute("width", tw);
}

/** The capacity line, and its tag beside the bars or its value on the y axis. */
function drawCapacity(g, p, tag, capacity, usableY) {
  clear(g);
  const { m, pw } = p;
  const cy = m.top + tag.capY;
  if (usableY !== null) {
    const uy = m.top + usableY;
    g.append(svg("line", { x1: m.left, x2: m.left + pw, y1: uy, y2: uy, class: "mem-usable-line" }));
  }
  g.append(svg("line", { x1: m.left, x2: m.left + pw, y1: cy, y2: cy, class: "mem-cap-line" }));
  if (tag.onAxis) {
    g.append(svg("text", { x: m.left - 6, y: cy, "text-anchor": "end", "dominant-baseline": "central", class: "mem-cap-axis" }, gbTick(capacity)));
    return;
  }
  const tagBg = svg("rect", { class: "mem-cap-tag", rx: 3 });
  const text = svg("text", { x: m.left + tag.pos.x, y: cy, "text-anchor": tag.pos.anchor, "dominant-baseline": "central", class: "mem-cap-label" }, tag.text);
  g.append(tagBg, text);
  const bb = text.getBBox();
  if (bb.width > 0) {
    for (const [k, v] of [["x", bb.x - 6], ["y", bb.y - 2], ["width", bb.width + 12], ["height", bb.height + 4]]) tagBg.setAttribute(k, v);
  }
}

// ------------------------------------------------------------------ tooltips

/** Tooltip lines for segment `key` of bar `i`: bytes, share, and the API's terms behind it. */
export function segmentLines(target, i, key) {
  const bar = target && target.bars[i];
  if (!bar) return null;
  if (key === "overflow") {
    const over = bar.total - target.capacity;
    return [`${bar.long}: over capacity`, ["Over by", `${fmtBytes(over)} (${fmtPct(over / target.capacity)} of ${fmtBytes(target.capacity)})`]];
  }
  const v = bar.values[key];
  const lines = [`${SEG_BY_KEY[key].label} · ${bar.long}`, ["Bytes", `${fmtBytes(v, 2)} (${fmtInt(v)} B)`], ["Share", `${fmtPct(v / bar.total)} of this GPU's ${fmtBytes(bar.total)}`]];
  const terms = (bar.terms || []).filter((t) => t.segment === key);
  for (const term of terms) {
    lines.push([terms.length > 1 ? `${term.name.replaceAll("_", " ")} (${fmtBytes(term.bytes)})` : "Formula", term.formula]);
    if (term.source) lines.push(["Source", term.source]);
  }
  return lines;
}

export function barLines(target, i) {
  const bar = target && target.bars[i];
  if (!bar) return null;
  const lines = [`${bar.long}${bar.layers !== null ? ` · ${bar.layers} layers` : ""}`];
  for (const s of SEGMENTS) if (bar.values[s.key] > 0) lines.push([s.label, fmtBytes(bar.values[s.key], 2)]);
  lines.push(["Total", `${fmtBytes(bar.total, 2)} of ${fmtBytes(target.capacity)} (${fmtPct(bar.total / target.capacity, 0)})`]);
  return lines;
}

/** Hover a segment or focus a bar for its breakdown; delegated, so it survives repaints. */
function wireTooltips(root, getTarget, onSegmentHover) {
  let hovered = null;
  const leave = () => {
    if (hovered) hovered.classList.remove("hover");
    hovered = null;
    hideTip();
    if (onSegmentHover) onSegmentHover(null, -1);
  };
  root.addEventListener("pointermove", (ev) => {
    const t = ev.target;
    if (!(t instanceof SVGElement) || !t.dataset.key) return leave();
    const lines = segmentLines(getTarget(), Number(t.dataset.index), t.dataset.key);
    if (!lines) return;
    if (hovered === t) return moveTip(ev);
    if (hovered) hovered.classList.remove("hover");
    hovered = t;
    t.classList.add("hover");
    showTip(ev, lines);
    if (onSegmentHover) onSegmentHover(t.dataset.key, Number(t.dataset.index));
  });
  root.addEventListener("pointerleave", leave);
  root.addEventListener("focusin", (ev) => {
    const g = ev.target.closest && ev.target.closest(".mem-bar");
    if (!g) return;
    const r = g.getBoundingClientRect();
    const lines = barLines(getTarget(), Number(g.dataset.index));
    if (lines) showTip({ clientX: r.right, clientY: r.top + r.height / 2 }, lines);
  });
  root.addEventListener("focusout", hideTip);
}

/**
 * Click a segment (or press Enter on a focused bar) to pin it; the same again, or Escape,
 * unpins. `onPin(i, key)` gets the bar index and segment key ("" for a whole bar, -1 to clear).
 */
function wirePins(root, getPinned, onPin) {
  root.addEventListener("click", (ev) => {
    const t = ev.target;
    if (!(t instanceof SVGElement) || !t.dataset.key || t.dataset.key === "overflow") return;
    const i = Number(t.dataset.index);
    const { stage, segment } = getPinned();
    if (stage === i && segment === t.dataset.key) onPin(-1, "");
    else onPin(i, t.dataset.key);
  });
  root.addEventListener("keydown", (ev) => {
    const g = ev.target.closest && ev.target.closest(".mem-bar");
    if (ev.key === "Escape") return onPin(-1, "");
    if (!g || (ev.key !== "Enter" && ev.key !== " ")) return;
    ev.preventDefault();
    const i = Number(g.dataset.index);
    const { stage, segment } = getPinned();
    onPin(stage === i && !segment ? -1 : i, "");
  });
}

/**
 * The pinned bar and segment: `mark()` sets their classes on the bar groups, `pin(stage,
 * segment)` changes them ("" for the whole bar; stage -1 clears), `lines()` says what the pinned
 * mark holds (its tooltip's lines) or null.
 */
function pinState(groups, getTarget) {
  let pinned = { stage: -1, segment: "" };
  const mark = () => groups.forEach((grp, i) => {
    const on = i === pinned.stage;
    grp.g.classList.toggle("pinned", on);
    for (const [k, r] of Object.entries(grp.rects)) r.classList.toggle("pinned", on && k === pinned.segment);
  });
  return {
    get: () => pinned,
    mark,
    pin(stage, segment = "") {
      pinned = { stage, segment: stage >= 0 ? segment : "" };
      mark();
    },
    lines() {
      const target = getTarget();
      if (!target || pinned.stage < 0) return null;
      return pinned.segment ? segmentLines(target, pinned.stage, pinned.segment) : barLines(target, pinned.stage);
    },
  };
}

// ------------------------------------------------------------------ the chart

function chartNodes(el) {
  const root = svg("svg", { class: "mem-svg", role: "group", "aria-label": "Bytes per GPU by pipeline stage" });
  const defs = svg("defs", {}, svg("pattern",
    { id: "mem-over", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    svg("rect", { width: 2.2, height: 6, class: "mem-over-stripe" })));
  const layers = {
    legend: svg("g", { class: "mem-legend" }),
    grid: svg("g", { class: "axis mem-grid" }),
    bars: svg("g", { class: "mem-bars" }),
    cap: svg("g", { class: "mem-capacity" }),
    totals: svg("g", { class: "mem-totals" }), // above the capacity line, so their halo keeps them legible
    axes: svg("g", { class: "axis" }),
  };
  root.append(defs, ...Object.values(layers));
  el.append(root);
  return { root, layers };
}

/**
 * Mount the chart in `el`. `update(data, meta)` takes a /api/v1/memory answer and
 * {gpuTitle, xLabel}; the chart keeps showing the previous answer until it is called.
 */
export function mount(el, { onSegmentHover, onPin } = {}) {
  const { root, layers } = chartNodes(el);
  let width = Math.max(240, el.clientWidth || 640);
  let meta = {};
  let target = null; // {bars, top, capacity}
  let shown = null; // what is on screen now (possibly mid-tween)
  let from = null;
  const groups = [];
  const pins = pinState(groups, () => target);

  // Off-screen charts paint at once: a paused tween would leave stale bars until scrolled to.
  let onScreen = false;
  const io = new IntersectionObserver((entries) => {
    onScreen = entries.some((e) => e.isIntersecting);
  });
  io.observe(el);

  function paint(frame) {
    shown = frame;
    const size = plotSize(width);
    const legendH = drawLegend(layers.legend, target, meta.gpuTitle, size.width);
    const m = { ...size.m, top: size.m.top + legendH };
    const H = size.height + legendH;
    const p = { ...size, m, H, pw: size.width - m.left - m.right, ph: H - m.top - m.bottom, xLabel: meta.xLabel };
    for (const [k, v] of [["viewBox", `0 0 ${size.width} ${H}`], ["width", size.width], ["height", H]]) root.setAttribute(k, v);
    const { bars, top, capacity, usable } = frame;
    const geo = layoutBars(bars, p.pw, p.ph, top);
    const capY = geo.y(capacity);
    const tag = { ...capacityTag(geo, capY, p.pw, meta.gpuTitle, capacity), capY };
    drawAxes(layers.grid, layers.axes, p, geo, bars, top, tag);
    while (groups.length < bars.length) groups.push(barGroup(groups.length, layers.bars, layers.totals));
    while (groups.length > bars.length) groups.pop().remove();
    geo.bars.forEach((b, i) => paintBar(groups[i], b, geo, p, capacity, capY, bars.length));
    drawCapacity(layers.cap, p, tag, capacity, usable < capacity ? geo.y(usable) : null);
    pins.mark();
  }

  const loop = createLoop(el, (ms) => {
    const t = easeInOut(ms / TWEEN_MS);
    paint(t >= 1 || !from ? target : { bars: blendBars(from.bars, target.bars, t), top: lerp(from.top, target.top, t), capacity: lerp(from.capacity, target.capacity, t), usable: lerp(from.usable, target.usable, t) });
    return ms < TWEEN_MS;
  });
  const redraw = createRedraw(() => shown && paint(shown));
  const stopResize = onResize(el, (w) => {
    width = Math.max(240, w);
    redraw();
  });
  wireTooltips(root, () => target, onSegmentHover);
  if (onPin) wirePins(root, pins.get, onPin);

  return {
    update(data, nextMeta = {}) {
      meta = { ...meta, ...nextMeta };
      const bars = barsFrom(data);
      from = shown;
      const usable = data.usable === undefined ? data.capacity : data.usable;
      target = { bars, top: yTop(bars, data.capacity), capacity: data.capacity, usable };
      if (!from || !onScreen || !loop.start()) {
        loop.stop();
        paint(target);
      }
    },
    pin: pins.pin, // see pinState
    pinnedLines: pins.lines,
    /** Current geometry for tests: [{id, total, values}] of the target bars. */
    get bars() {
      return target ? target.bars : [];
    },
    svg: () => root,
    exportSvg: (caption) => exportSvg(root, Object.values(layers), caption, Boolean(shown)),
    destroy() {
      loop.destroy();
      io.disconnect();
      stopResize();
      hideTip();
      root.remove();
    },
  };
}

/**
 * The chart for "Download SVG", with `caption` (what model and layout it shows) wrapped above
 * it: a downloaded file has no page around it. The caption lives in the live SVG only until the
 * caller has serialised it (same task), then the chart is put back.
 */
function exportSvg(root, moved, caption, drawn) {
  if (!caption || !drawn) return root;
  const W = Number(root.getAttribute("width"));
  const H = Number(root.getAttribute("height"));
  const perLine = Math.max(30, Math.floor((W - 8) / 6.9));
  const lines = [];
  for (const part of caption.split(" · ")) {
    const last = lines.length ? lines[lines.length - 1] : null;
    if (last !== null && last.length + 3 + part.length <= perLine) lines[lines.length - 1] = `${last} · ${part}`;
    else lines.push(part);
  }
  const extra = lines.length * 17 + 8;
  const cap = svg("g", { class: "mem-export-caption" },
    ...lines.map((l, i) => svg("text", { x: 1, y: 13 + i * 17, class: "mem-legend-text mem-caption-text" }, l)));
  for (const g of moved) g.setAttribute("transform", `translate(0,${extra})`);
  root.setAttribute("viewBox", `0 0 ${W} ${H + extra}`);
  root.setAttribute("height", H + extra);
  root.append(cap);
  setTimeout(() => {
    cap.remove();
    for (const g of moved) g.removeAttribute("transform");
    root.setAttribute("viewBox", `0 0 ${W} ${H}`);
    root.setAttribute("height", H);
  }, 0);
  return root;
}

/** The home gallery's live preview of the memory page's landing layout (one request). */
export async function preview(el) {
  const data = await fetchJSON(`/api/v1/memory?${LANDING_QUERY}`);
  const W = Math.max(200, el.clientWidth || 300);
  const H = Math.max(100, el.clientHeight || 120);
  const m = { top: 18, right: 64, bottom: 8, left: 12 };
  const small = { fontSize: "10px", fontFamily: "var(--font)" };
  const bars = barsFrom(data);
  const cap = data.capacity;
  const geo = layoutBars(bars, W - m.left - m.right, H - m.top - m.bottom, yTop(bars, cap));
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: "100%", role: "img",
    "aria-label": `${data.model}: bytes per GPU for each of ${bars.length} pipeline stages against ${fmtBytes(cap)}` });
  root.style.display = "block";
  for (const b of geo.bars) {
    const g = svg("g", { transform: `translate(${m.left + b.x},${m.top})` });
    for (const s of b.segments) {
      g.append(svg("rect", { x: 0, y: s.y, width: geo.barWidth, height: s.h, style: { fill: `var(${SEG_BY_KEY[s.key].color})` } }));
    }
    const over = b.bar.total > cap;
    g.append(svg("text", { x: geo.barWidth / 2, y: b.yTotal - 4, "text-anchor": "middle", style: { ...small, fill: over ? "var(--danger)" : "var(--muted)" } }, fmtBytes(b.bar.total, 0)));
    root.append(g);
  }
  const cy = m.top + geo.y(cap);
  const x1 = W - m.right + 4;
  const line = { stroke: "var(--text)", strokeWidth: "1.2", strokeDasharray: "5 3" };
  const label = { ...small, fill: "var(--text)", fontWeight: "600" };
  root.append(
    svg("line", { x1: m.left, x2: W - m.right, y1: H - m.bottom, y2: H - m.bottom, style: { stroke: "var(--border)" } }),
    svg("line", { x1: m.left, x2: x1, y1: cy, y2: cy, style: line }),
    svg("text", { x: x1 + 4, y: cy - 2, style: label }, data.gpu.split("-")[0].toUpperCase()),
    svg("text", { x: x1 + 4, y: cy + 10, style: { ...label, fontWeight: "400", fill: "var(--muted)" } }, fmtBytes(cap, 0)),
  );
  el.append(root);
}
