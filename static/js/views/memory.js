// Per-GPU memory as stacked bars, one per pipeline stage, against the GPU's capacity line.
// SVG (a few dozen marks). Bars tween from the previous answer to the new one, each frame
// derived from time t; under prefers-reduced-motion they jump.
import { svg, clear } from "../lib/dom.js";
import { createLoop, easeInOut } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { fetchJSON } from "../lib/api.js";
import { fmtBytes, fmtInt, fmtPct } from "../lib/format.js";
import { niceTicks } from "../lib/scale.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { SEGMENTS, barsFrom, segmentOf, blendBars, labelledBars, layoutBars, lerp, shortGpu, yTop } from "./memory-model.js";

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
 * Mount the chart in `el`. `update(data, meta)` takes a /api/v1/memory answer and
 * {gpuTitle, xLabel}; the chart keeps showing the previous answer until it is called.
 */
export function mount(el, { onSegmentHover } = {}) {
  const root = svg("svg", { class: "mem-svg", role: "group", "aria-label": "Bytes per GPU by pipeline stage" });
  const defs = svg(
    "defs",
    {},
    svg(
      "pattern",
      { id: "mem-over", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      svg("rect", { width: 2.2, height: 6, class: "mem-over-stripe" }),
    ),
  );
  const gLegend = svg("g", { class: "mem-legend" });
  const gGrid = svg("g", { class: "axis mem-grid" });
  const gBars = svg("g", { class: "mem-bars" });
  const gCap = svg("g", { class: "mem-capacity" });
  const gTotals = svg("g", { class: "mem-totals" });
  const gAxes = svg("g", { class: "axis" });
  // totals above the capacity line, so their halo keeps them legible where they cross it
  root.append(defs, gLegend, gGrid, gBars, gCap, gTotals, gAxes);
  el.append(root);

  let width = Math.max(240, el.clientWidth || 640);
  let data = null;
  let meta = {};
  let target = null; // {bars, top, capacity}
  let shown = null; // what is on screen now (possibly mid-tween)
  let from = null;
  const groups = [];

  // Off-screen charts paint at once: a paused tween would leave stale bars until scrolled to.
  let onScreen = false;
  const io = new IntersectionObserver((entries) => {
    onScreen = entries.some((e) => e.isIntersecting);
  });
  io.observe(el);

  const loop = createLoop(el, (ms) => {
    const t = easeInOut(ms / TWEEN_MS);
    paint(blend(from, target, t));
    return ms < TWEEN_MS;
  });

  function blend(a, b, t) {
    if (!a || t >= 1) return b;
    return {
      bars: blendBars(a.bars, b.bars, t),
      top: lerp(a.top, b.top, t),
      capacity: lerp(a.capacity, b.capacity, t),
    };
  }

  /** The legend inside the SVG (so a downloaded chart explains itself); returns its height. */
  function drawLegend(W) {
    clear(gLegend);
    if (!target) return 0;
    const items = SEGMENTS.filter((s) => s.key === "parameters" || target.bars.some((b) => b.values[s.key] > 0))
      .map((s) => ({ label: s.label, mark: () => svg("rect", { width: 11, height: 11, rx: 2, y: -9, class: `mem-seg seg-${s.key}` }) }));
    const capName = shortGpu(meta.gpuTitle);
    const capLabel = `Capacity${capName ? ` (${capName}, ${fmtBytes(target.capacity)})` : ` (${fmtBytes(target.capacity)})`}`;
    items.push({ label: capLabel, mark: () => svg("line", { x1: 0, x2: 16, y1: -3.5, y2: -3.5, class: "mem-cap-line" }), w: 16 });
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
      const g = svg("g", { transform: `translate(${x + 1},${14 + row * 19})` }, it.mark(),
        svg("text", { x: (it.w || 11) + 6, y: 0, class: "mem-legend-text" }, it.label));
      gLegend.append(g);
      x += w;
    }
    return (row + 1) * 19 + 6;
  }

  function ensureGroups(n) {
    while (groups.length < n) {
      const i = groups.length;
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
      groups.push({ g, rects, labels, over, total, totalBg });
    }
    while (groups.length > n) {
      const gone = groups.pop();
      gone.g.remove();
      gone.total.remove();
      gone.totalBg.remove();
    }
  }

  function paint(frame) {
    if (!frame) return;
    shown = frame;
    const { width: W, height: H0, m, narrow } = plotSize(width);
    const legendH = drawLegend(W);
    const H = H0 + legendH;
    m.top += legendH;
    const pw = W - m.left - m.right;
    const ph = H - m.top - m.bottom;
    root.setAttribute("viewBox", `0 0 ${W} ${H}`);
    root.setAttribute("width", W);
    root.setAttribute("height", H);

    const { bars, top, capacity } = frame;
    const geo = layoutBars(bars, pw, ph, top);
    const y = geo.y;
    const capY = y(capacity);
    // The capacity tag: the full name where it fits beside the bars, else the short one; when
    // every bar crosses the line there is no free spot, and the value goes on the y axis.
    const name = shortGpu(meta.gpuTitle) || "GPU";
    let capText = `${name} · ${fmtBytes(capacity)}`;
    let pos = capLabelPlace(geo, capText.length * 6.6, capY, pw);
    if (pos.blocked) {
      const short = `${name.split(" ")[0]} · ${fmtBytes(capacity)}`;
      const alt = capLabelPlace(geo, short.length * 6.6, capY, pw);
      if (!alt.blocked) {
        capText = short;
        pos = alt;
      }
    }
    const onAxis = Boolean(pos.blocked);

    // grid + y axis
    clear(gGrid);
    clear(gAxes);
    const ticks = niceTicks(0, top, narrow ? 4 : 6);
    for (const v of ticks) {
      const yy = m.top + y(v);
      gGrid.append(svg("line", { x1: m.left, x2: m.left + pw, y1: yy, y2: yy, class: v === 0 ? "mem-baseline" : "mem-gridline" }));
      if (onAxis && Math.abs(y(v) - capY) < 13) continue; // the capacity value takes this spot
      gAxes.append(svg("text", { x: m.left - 6, y: yy, "text-anchor": "end", "dominant-baseline": "central" }, gbTick(v)));
    }
    gAxes.append(
      svg("text", {
        class: "axis-label",
        transform: `translate(${narrow ? 11 : 14},${m.top + ph / 2}) rotate(-90)`,
        "text-anchor": "middle",
      }, "GB per GPU (10⁹ bytes)"),
    );

    // x axis: stage numbers, thinned when crowded
    const labelled = labelledBars(bars.length, geo.slot, narrow ? 22 : 26);
    geo.bars.forEach((b, i) => {
      if (!labelled.has(i)) return;
      gAxes.append(svg("text", { x: m.left + b.cx, y: m.top + ph + 16, "text-anchor": "middle" }, b.bar.label));
    });
    gAxes.append(
      svg("text", { class: "axis-label", x: m.left + pw / 2, y: H - 6, "text-anchor": "middle" }, meta.xLabel || "Pipeline stage"),
    );

    // bars
    ensureGroups(bars.length);
    geo.bars.forEach((b, i) => {
      const grp = groups[i];
      grp.g.setAttribute("transform", `translate(${m.left + b.x},${m.top})`);
      grp.g.setAttribute("aria-label", `${b.bar.long}: ${fmtBytes(b.bar.total)} of ${fmtBytes(capacity)}`);
      grp.g.classList.toggle("ghost", Boolean(b.bar.ghost));
      const byKey = Object.fromEntries(b.segments.map((s) => [s.key, s]));
      for (const s of SEGMENTS) {
        const r = grp.rects[s.key];
        const lab = grp.labels[s.key];
        const seg = byKey[s.key];
        if (!seg || seg.h < 0.25) {
          r.setAttribute("display", "none");
          lab.setAttribute("display", "none");
          continue;
        }
        r.removeAttribute("display");
        r.setAttribute("x", 0);
        r.setAttribute("y", seg.y);
        r.setAttribute("width", geo.barWidth);
        r.setAttribute("height", seg.h);
        r.dataset.bytes = String(Math.round(seg.bytes));
        const room = seg.h >= 15 && geo.barWidth >= 30;
        if (room) {
          lab.removeAttribute("display");
          lab.setAttribute("x", geo.barWidth / 2);
          lab.setAttribute("y", seg.y + seg.h / 2);
          lab.textContent = gbShort(seg.bytes);
        } else {
          lab.setAttribute("display", "none");
        }
      }
      // the part above the capacity line is hatched
      const overTop = b.yTotal;
      if (b.bar.total > capacity && capY - overTop > 0.5) {
        grp.over.removeAttribute("display");
        grp.over.setAttribute("x", 0);
        grp.over.setAttribute("y", overTop);
        grp.over.setAttribute("width", geo.barWidth);
        grp.over.setAttribute("height", capY - overTop);
      } else {
        grp.over.setAttribute("display", "none");
      }
      const showTotal = geo.barWidth >= 26 || bars.length <= 8;
      grp.total.setAttribute("display", showTotal ? "inline" : "none");
      grp.total.setAttribute("x", m.left + b.x + geo.barWidth / 2);
      grp.total.setAttribute("y", m.top + b.yTotal - 6);
      grp.total.classList.toggle("over", b.bar.total > capacity);
      grp.total.textContent = geo.barWidth >= 52 ? fmtBytes(b.bar.total) : gbShort(b.bar.total);
      const tw = grp.total.textContent.length * 7 + 6;
      grp.totalBg.setAttribute("display", showTotal ? "inline" : "none");
      grp.totalBg.setAttribute("x", m.left + b.x + geo.barWidth / 2 - tw / 2);
      grp.totalBg.setAttribute("y", m.top + b.yTotal - 17);
      grp.totalBg.setAttribute("width", tw);
    });

    // capacity line and its label (drawn above the bars)
    clear(gCap);
    const cy = m.top + capY;
    gCap.append(svg("line", { x1: m.left, x2: m.left + pw, y1: cy, y2: cy, class: "mem-cap-line" }));
    if (onAxis) {
      gCap.append(svg("text", { x: m.left - 6, y: cy, "text-anchor": "end", "dominant-baseline": "central", class: "mem-cap-axis" }, gbTick(capacity)));
      return;
    }
    const tagBg = svg("rect", { class: "mem-cap-tag", rx: 3 });
    const tag = svg("text", { x: m.left + pos.x, y: cy, "text-anchor": pos.anchor, "dominant-baseline": "central", class: "mem-cap-label" }, capText);
    gCap.append(tagBg, tag);
    const bb = tag.getBBox();
    if (bb.width > 0) {
      tagBg.setAttribute("x", bb.x - 6);
      tagBg.setAttribute("y", bb.y - 2);
      tagBg.setAttribute("width", bb.width + 12);
      tagBg.setAttribute("height", bb.height + 4);
    }
  }

  // ---- tooltips: delegated, so they survive repaints
  /** The API's terms behind one segment of stage i (its own terms if the stage has them). */
  function termsFor(i, key) {
    const st = data && Array.isArray(data.per_stage) ? data.per_stage[i] : null;
    const own = st && Array.isArray(st.terms);
    const list = own ? st.terms : data && Array.isArray(data.terms) ? data.terms : [];
    return { own: own || !data.per_stage || data.per_stage.length < 2, terms: list.filter((t) => segmentOf(t.name) === key) };
  }
  function segmentLines(i, key) {
    const bar = target && target.bars[i];
    if (!bar) return null;
    if (key === "overflow") {
      const over = bar.total - target.capacity;
      return [`${bar.long}: over capacity`, ["Over by", `${fmtBytes(over)} (${fmtPct(over / target.capacity)} of ${fmtBytes(target.capacity)})`]];
    }
    const seg = SEG_BY_KEY[key];
    const v = bar.values[key];
    const lines = [`${seg.label} · ${bar.long}`, ["Bytes", `${fmtBytes(v, 2)} (${fmtInt(v)} B)`], ["Share", `${fmtPct(v / bar.total)} of this GPU's ${fmtBytes(bar.total)}`]];
    const { own, terms } = termsFor(i, key);
    if (key === "other" && !terms.length) lines.push("Total minus the named terms.");
    const many = terms.length > 1;
    for (const term of terms) {
      const label = many ? `${term.name.replaceAll("_", " ")} (${fmtBytes(term.bytes)})` : own ? "Formula" : "Formula (fullest stage)";
      lines.push([label, term.formula]);
      if (term.source) lines.push(["Source", term.source]);
    }
    return lines;
  }
  function barLines(i) {
    const bar = target && target.bars[i];
    if (!bar) return null;
    const lines = [`${bar.long}${bar.layers !== null ? ` · ${bar.layers} layers` : ""}`];
    for (const s of SEGMENTS) if (bar.values[s.key] > 0) lines.push([s.label, fmtBytes(bar.values[s.key], 2)]);
    lines.push(["Total", `${fmtBytes(bar.total, 2)} of ${fmtBytes(target.capacity)} (${fmtPct(bar.total / target.capacity, 0)})`]);
    return lines;
  }

  let hovered = null;
  const onMove = (ev) => {
    const t = ev.target;
    if (!(t instanceof SVGElement) || !t.dataset.key) {
      leave();
      return;
    }
    const i = Number(t.dataset.index);
    const key = t.dataset.key;
    const lines = segmentLines(i, key);
    if (!lines) return;
    if (hovered !== t) {
      if (hovered) hovered.classList.remove("hover");
      hovered = t;
      t.classList.add("hover");
      showTip(ev, lines);
      if (onSegmentHover) onSegmentHover(key, i);
    } else {
      moveTip(ev);
    }
  };
  const leave = () => {
    if (hovered) hovered.classList.remove("hover");
    hovered = null;
    hideTip();
    if (onSegmentHover) onSegmentHover(null, -1);
  };
  root.addEventListener("pointermove", onMove);
  root.addEventListener("pointerleave", leave);
  root.addEventListener("focusin", (ev) => {
    const g = ev.target.closest && ev.target.closest(".mem-bar");
    if (!g) return;
    const r = g.getBoundingClientRect();
    const lines = barLines(Number(g.dataset.index));
    if (lines) showTip({ clientX: r.right, clientY: r.top + r.height / 2 }, lines);
  });
  root.addEventListener("focusout", hideTip);

  const stopResize = onResize(el, (w) => {
    width = Math.max(240, w);
    if (shown) paint(shown);
  });

  return {
    update(next, nextMeta = {}) {
      data = next;
      meta = { ...meta, ...nextMeta };
      const bars = barsFrom(next);
      const capacity = Number(next.capacity) || 0;
      const to = { bars, top: yTop(bars, capacity), capacity };
      from = shown;
      target = to;
      if (!from || !onScreen || !loop.start()) {
        loop.stop();
        paint(to);
      }
    },
    /** Current geometry for tests: [{id, total, values}] of the target bars. */
    get bars() {
      return target ? target.bars : [];
    },
    svg: () => root,
    /**
     * The chart for "Download SVG", with `caption` (what model and layout it shows) wrapped
     * above it: a downloaded file has no page around it. The caption lives in the live SVG only
     * until the caller has serialised it (same task), then the chart is put back.
     */
    exportSvg(caption) {
      if (!caption || !shown) return root;
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
      const moved = [gLegend, gGrid, gBars, gCap, gTotals, gAxes];
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
    },
    destroy() {
      loop.destroy();
      io.disconnect();
      stopResize();
      hideTip();
      root.remove();
    },
  };
}

/** A small live preview for the home gallery: Llama 3 70B on H100s, TP 8 × PP 4 × DP 8, ZeRO-1. */
export async function preview(el) {
  const q = "model=llama3-70b&gpu=h100-sxm&dp=8&tp=8&pp=4&zero=1&seq_len=8192&micro_batch=1" +
    "&sequence_parallel=true&recompute=selective";
  const data = await fetchJSON(`/api/v1/memory?${q}`);
  const W = Math.max(200, el.clientWidth || 300);
  const H = Math.max(100, el.clientHeight || 120);
  const m = { top: 18, right: 64, bottom: 8, left: 12 };
  const small = { fontSize: "10px", fontFamily: "var(--font)" };
  const bars = barsFrom(data);
  const cap = Number(data.capacity);
  const top = yTop(bars, cap);
  const geo = layoutBars(bars, W - m.left - m.right, H - m.top - m.bottom, top);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: "100%", role: "img",
    "aria-label": `Llama 3 70B: bytes per GPU for each of 4 pipeline stages against ${fmtBytes(cap)}` });
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
    svg("text", { x: x1 + 4, y: cy - 2, style: label }, "H100"),
    svg("text", { x: x1 + 4, y: cy + 10, style: { ...label, fontWeight: "400", fill: "var(--muted)" } }, fmtBytes(cap, 0)),
  );
  el.append(root);
}
