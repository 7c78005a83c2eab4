// Shard-map view: a tensor drawn as blocks coloured by shard, on canvas (up to 4,096 devices).
// Picking a device outlines the block it holds; picking a block lights up every replica.
// Switching the spec (or shape, or mesh) flies every device's piece from where it sat to
// where it sits now, each frame derived from the elapsed time.
import { createLoop, createRedraw, easeInOut } from "../lib/anim.js";
import { fetchJSON } from "../lib/api.js";
import { eventToElementCoordinates, onResize, setupCanvas } from "../lib/canvas.js";
import { cssVar, groupColor, mix, onThemeChange } from "../lib/colors.js";
import { h, svg } from "../lib/dom.js";
import { fmtInt } from "../lib/format.js";
import { hideTip, showTip } from "../lib/tooltip.js";
import { blockAt, blockRect, flatBlock, partitionSpec, rangeText, tensorLayout } from "./sharding-layout.js";

const TWEEN_MS = 650;

export function blockColour(f) {
  return groupColor(f % 30);
}

/** Flat block index held by each device (from the API's per-device block coordinates). */
export function deviceBlocks(data) {
  return Int32Array.from(data.devices, (d) => flatBlock(data.grid, d.block));
}

/** Tooltip lines for block f. */
export function blockLines(data, f) {
  const b = data.blocks[f];
  const ranks = b.ranks;
  return [
    `Block (${b.block.join(", ")})`,
    ["elements", rangeText(b.index)],
    ["held by", ranks.length <= 8 ? `rank${ranks.length > 1 ? "s" : ""} ${ranks.join(", ")}` : `${ranks.length} ranks: ${ranks.slice(0, 6).join(", ")}, …`],
    ["copies", String(ranks.length)],
  ];
}

function drawTensor(ctx, T, data, opts) {
  const { grid, shape } = data;
  const nd = shape.length;
  const mono = cssVar("--mono") || "monospace";
  const font = cssVar("--font") || "sans-serif";
  const text = cssVar("--text");
  const muted = cssVar("--muted");
  const border = cssVar("--surface");
  // Dimension labels and block-boundary ticks (element indices where each block starts).
  const p0 = T.panels[0];
  const tickFont = `10px ${mono}`;
  ctx.fillStyle = muted;
  ctx.textBaseline = "alphabetic";
  ctx.textAlign = "left";
  ctx.font = `11px ${font}`;
  if (nd === 1) {
    ctx.fillText(`dim 0 · ${fmtInt(shape[0])} elements in ${fmtInt(grid[0])} block${grid[0] > 1 ? "s" : ""} →${T.rowsPer > 1 ? " (wrapped)" : ""}`, p0.x, p0.y - 6);
    if (T.bw >= 30) {
      ctx.font = tickFont;
      for (let c = 0; c < Math.min(T.colsPer, grid[0]); c += 1) ctx.fillText(fmtInt(c * data.shard_shape[0]), p0.x + c * T.bw + 2, p0.y + T.rowsPer * T.bh + 12);
    }
  } else {
    const rowDim = nd - 2;
    const colDim = nd - 1;
    const ssR = data.shard_shape[rowDim];
    const ssC = data.shard_shape[colDim];
    T.panels.forEach((p, k) => {
      ctx.fillStyle = muted;
      if (nd > 2) {
        ctx.font = `600 11px ${font}`;
        ctx.fillStyle = text;
        const lab = p.lead.map((c, d) => `dim ${d} ∈ [${c * data.shard_shape[d]}, ${(c + 1) * data.shard_shape[d]})`).join(", ");
        ctx.fillText(lab, p.x, p.y - 6, p.w);
        ctx.fillStyle = muted;
      } else if (k === 0) {
        ctx.font = `11px ${font}`;
        ctx.fillText(`dim ${colDim} · ${fmtInt(shape[colDim])} →`, p.x, p.y - 6);
      }
      ctx.font = tickFont;
      // A stacked (3-D/4-D) panel has its slice range on top, so its column dimension is named
      // at the right end of the tick row; ticks that would run into that name are skipped.
      let tickEnd = p.x + p.w;
      if (nd > 2 && p.w >= 70) {
        const name = p.w >= 150 ? `dim ${colDim} · ${fmtInt(shape[colDim])} →` : `dim ${colDim} →`;
        ctx.textAlign = "right";
        ctx.fillText(name, p.x + p.w, p.y + p.h + 12);
        ctx.textAlign = "left";
        tickEnd -= ctx.measureText(name).width + 8;
      }
      if (T.bw >= 30) {
        for (let j = 0; j < T.colsPer; j += 1) {
          const tick = fmtInt(j * ssC);
          const x = p.x + j * T.bw + 2;
          if (x + ctx.measureText(tick).width <= tickEnd) ctx.fillText(tick, x, p.y + p.h + 12);
        }
      }
      if (T.bh >= 18 && p.x === T.axisW) {
        ctx.textAlign = "right";
        for (let i = 0; i < T.rowsPer; i += 1) ctx.fillText(fmtInt(i * ssR), p.x - 4, p.y + i * T.bh + 10);
        ctx.textAlign = "left";
      }
    });
    ctx.save();
    ctx.font = `11px ${font}`;
    ctx.textAlign = "right";
    ctx.translate(12, p0.y);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(`dim ${rowDim} · ${fmtInt(shape[rowDim])}`, 0, 0);
    ctx.restore();
  }
  // Blocks.
  const nb = data.blocks.length;
  const hi = opts.highlight; // Set of flat blocks to keep bright, or null
  for (let f = 0; f < nb; f += 1) {
    const r = blockRect(T, grid, f);
    ctx.fillStyle = blockColour(f);
    ctx.globalAlpha = hi && !hi.has(f) ? 0.22 : 1;
    ctx.fillRect(r.x, r.y, r.w, r.h);
  }
  ctx.globalAlpha = 1;
  // Block borders (skip when blocks are hairlines).
  if (T.bw >= 4 && T.bh >= 4) {
    ctx.strokeStyle = border;
    ctx.lineWidth = T.bw >= 16 && T.bh >= 16 ? 2 : 1;
    ctx.beginPath();
    for (let f = 0; f < nb; f += 1) {
      const r = blockRect(T, grid, f);
      ctx.rect(r.x, r.y, r.w, r.h);
    }
    ctx.stroke();
  }
  // Labels inside blocks: the holders, or the copy count.
  if (T.bw >= 26 && T.bh >= 16) {
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (let f = 0; f < nb; f += 1) {
      const r = blockRect(T, grid, f);
      const ranks = data.blocks[f].ranks;
      const big = `600 ${T.bh >= 30 && T.bw >= 44 ? 12 : 10}px ${mono}`;
      ctx.font = big;
      let label = ranks.length === 1 ? `r${ranks[0]}` : `r${ranks.join(",")}`;
      if (ctx.measureText(label).width > r.w - 6) label = `×${ranks.length}`;
      if (ctx.measureText(label).width > r.w - 4) continue;
      ctx.fillStyle = cssVar("--bg");
      ctx.globalAlpha = hi && !hi.has(f) ? 0.4 : 1;
      // Second line: the copy count, or the element ranges when the block is roomy.
      let second = ranks.length > 1 && !label.startsWith("×") ? `×${ranks.length} copies` : "";
      ctx.font = `10px ${mono}`;
      if (!second && T.bh >= 44) {
        const range = data.blocks[f].index.map(([a, b]) => `${a}:${b}`).join(", ");
        if (ctx.measureText(`[${range}]`).width <= r.w - 8) second = `[${range}]`;
      }
      const twoLines = second && T.bh >= 40;
      ctx.font = big;
      ctx.fillText(label, r.x + r.w / 2, r.y + r.h / 2 - (twoLines ? 7 : 0));
      if (twoLines) {
        ctx.font = `10px ${mono}`;
        ctx.fillText(second, r.x + r.w / 2, r.y + r.h / 2 + 9);
      }
    }
    ctx.globalAlpha = 1;
  }
  // Outlines: picked block (and its device's block) in the text colour, hover thin.
  for (const [f, width] of opts.outlines) {
    if (f < 0 || f >= nb) continue;
    const r = blockRect(T, grid, f);
    ctx.strokeStyle = text;
    ctx.lineWidth = width;
    ctx.strokeRect(r.x + width / 2, r.y + width / 2, Math.max(1, r.w - width), Math.max(1, r.h - width));
  }
}

/**
 * Mount the view. state: {data (API /sharding response), device (rank or -1), block (flat
 * index or -1), onPickBlock(f), onHoverBlock(f)}.
 */
export function mount(el, state) {
  const canvas = h("canvas", {
    class: "sharding-canvas",
    tabindex: "0",
    role: "img",
    "aria-label": "Tensor blocks coloured by shard. Arrow keys move between blocks, Enter picks one.",
  });
  const wrap = h("div", { class: "chart sharding-chart" }, canvas);
  el.append(wrap);
  let s = { ...state };
  let data = null;
  let T = null;
  let blocksOfDevice = new Int32Array(0);
  let hover = -1;
  let keyFocus = -1;
  let width = Math.max(240, Math.floor(wrap.clientWidth) || 600);
  let tween = null;
  let draws = 0;

  function relayout() {
    T = tensorLayout(data.shape, data.grid, width);
    canvas.dataset.blocks = String(data.blocks.length);
  }

  function highlightSet() {
    if (s.device >= 0 && s.device < blocksOfDevice.length) return new Set([blocksOfDevice[s.device]]);
    if (s.block >= 0) return new Set([s.block]);
    return null;
  }

  // Everything but the hover outline is painted once into `base` and composited per frame, so
  // hovering 4,096 blocks costs one drawImage and one strokeRect, not a full repaint.
  const base = document.createElement("canvas");
  let baseFor = null; // {T, data, device, block, theme} the base layer was painted for
  let theme = 0;
  let ctxCache = null; // {ctx, w, h, dpr}: resize the backing store only when the size changes

  function context(w, hh) {
    const dpr = window.devicePixelRatio || 1;
    if (!ctxCache || ctxCache.w !== w || ctxCache.h !== hh || ctxCache.dpr !== dpr) {
      ctxCache = { ctx: setupCanvas(canvas, w, hh), w, h: hh, dpr };
    }
    ctxCache.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctxCache.ctx;
  }

  function paintBase() {
    const dpr = window.devicePixelRatio || 1;
    base.width = Math.max(1, Math.round(T.width * dpr));
    base.height = Math.max(1, Math.round(T.height * dpr));
    const bctx = base.getContext("2d");
    bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    bctx.clearRect(0, 0, T.width, T.height);
    const outlines = [];
    if (s.block >= 0) outlines.push([s.block, 3]);
    if (s.device >= 0 && s.device < blocksOfDevice.length) outlines.push([blocksOfDevice[s.device], 3]);
    drawTensor(bctx, T, data, { highlight: highlightSet(), outlines });
    baseFor = { T, data, device: s.device, block: s.block, theme };
  }

  function draw() {
    if (!T) return;
    const b = baseFor;
    if (!b || b.T !== T || b.data !== data || b.device !== s.device || b.block !== s.block || b.theme !== theme) paintBase();
    const ctx = context(T.width, T.height);
    ctx.clearRect(0, 0, T.width, T.height);
    ctx.drawImage(base, 0, 0, T.width, T.height);
    if (hover >= 0 && hover < data.blocks.length) {
      const r = blockRect(T, data.grid, hover);
      const lw = 1.5;
      ctx.strokeStyle = cssVar("--text");
      ctx.lineWidth = lw;
      ctx.strokeRect(r.x + lw / 2, r.y + lw / 2, Math.max(1, r.w - lw), Math.max(1, r.h - lw));
    }
    draws += 1;
    canvas.dataset.draws = String(draws);
  }
  const redraw = createRedraw(draw);

  function drawTween(ms) {
    const k = easeInOut(ms / TWEEN_MS);
    const H = Math.max(T.height, tween.height);
    const ctx = context(T.width, H);
    ctx.clearRect(0, 0, T.width, H);
    const { from, fromColour } = tween;
    const n = data.devices.length;
    ctx.globalAlpha = 0.85;
    for (let r = 0; r < n; r += 1) {
      const to = blockRect(T, data.grid, blocksOfDevice[r]);
      const a = r < from.length ? from[r] : to;
      const x = a.x + (to.x - a.x) * k;
      const y = a.y + (to.y - a.y) * k;
      const w = a.w + (to.w - a.w) * k;
      const hh = a.h + (to.h - a.h) * k;
      const c1 = blockColour(blocksOfDevice[r]);
      ctx.fillStyle = r < fromColour.length ? mix(fromColour[r], c1, k) : c1;
      ctx.fillRect(x + 1, y + 1, Math.max(1, w - 2), Math.max(1, hh - 2));
    }
    ctx.globalAlpha = 1;
    draws += 1;
    canvas.dataset.draws = String(draws);
    if (ms >= TWEEN_MS) {
      tween = null;
      canvas.dataset.animating = "0";
      draw();
      return false;
    }
    return true;
  }
  const loop = createLoop(canvas, drawTween);

  function setData(next, animate) {
    const prev = data && T ? { rects: Array.from(blocksOfDevice, (f) => blockRect(T, data.grid, f)), colours: Array.from(blocksOfDevice, (f) => blockColour(f)), height: T.height } : null;
    data = next;
    blocksOfDevice = deviceBlocks(data);
    relayout();
    loop.stop();
    tween = null;
    if (animate && prev) {
      tween = { from: prev.rects, fromColour: prev.colours, height: prev.height };
      if (loop.start()) {
        canvas.dataset.animating = "1";
        return;
      }
      tween = null; // reduced motion: jump to the final state
    }
    canvas.dataset.animating = "0";
    redraw();
  }

  function tipAt(event, f) {
    if (f < 0) {
      hideTip();
      return;
    }
    showTip(event, blockLines(data, f));
  }

  function setHover(f, event) {
    if (f !== hover) {
      hover = f;
      if (!tween) redraw();
      if (s.onHoverBlock) s.onHoverBlock(f);
    }
    if (event) tipAt(event, f);
  }

  canvas.addEventListener("pointermove", (e) => {
    if (!T) return;
    const p = eventToElementCoordinates(e, canvas);
    setHover(blockAt(T, data.grid, p.x, p.y), e);
  });
  canvas.addEventListener("pointerleave", () => {
    setHover(-1);
    hideTip();
  });
  canvas.addEventListener("click", (e) => {
    if (!T) return;
    const p = eventToElementCoordinates(e, canvas);
    const f = blockAt(T, data.grid, p.x, p.y);
    if (s.onPickBlock) s.onPickBlock(f === s.block ? -1 : f);
  });
  canvas.addEventListener("keydown", (e) => {
    if (!T) return;
    const nb = data.blocks.length;
    const cur = keyFocus >= 0 ? keyFocus : s.block >= 0 ? s.block : 0;
    const lastDim = data.grid[data.grid.length - 1];
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: data.grid.length > 1 ? lastDim : T.colsPer, ArrowUp: -(data.grid.length > 1 ? lastDim : T.colsPer) };
    if (e.key in moves) {
      e.preventDefault();
      keyFocus = Math.min(nb - 1, Math.max(0, cur + moves[e.key]));
      const r = blockRect(T, data.grid, keyFocus);
      const box = canvas.getBoundingClientRect();
      setHover(keyFocus, { clientX: box.left + r.x + r.w, clientY: box.top + r.y + r.h });
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (s.onPickBlock) s.onPickBlock(cur === s.block ? -1 : cur);
    } else if (e.key === "Escape") {
      keyFocus = -1;
      setHover(-1);
      hideTip();
      if (s.onPickBlock) s.onPickBlock(-1);
    }
  });
  canvas.addEventListener("blur", () => {
    keyFocus = -1;
    setHover(-1);
    hideTip();
  });

  const stopResize = onResize(wrap, (w) => {
    width = Math.max(240, w);
    if (!data) return;
    relayout();
    if (!tween) redraw();
  });
  const stopTheme = onThemeChange(() => requestAnimationFrame(() => {
    theme += 1;
    if (data && !tween) redraw();
  }));

  if (s.data) setData(s.data, false);

  const api = {
    update(next) {
      const prev = s;
      s = { ...s, ...next };
      if (next.data && next.data !== prev.data) {
        setData(next.data, next.animate !== false);
        return;
      }
      if (data && !tween) redraw();
    },
    /** Centre of block f in canvas CSS px (for tests). */
    blockCentre(f) {
      if (!T) return null;
      const r = blockRect(T, data.grid, f);
      return { x: r.x + r.w / 2, y: r.y + r.h / 2 };
    },
    /** Blocks drawn bright (the picked device's or block's), for tests. */
    highlighted: () => [...(highlightSet() || [])],
    toSvg: () => (data ? tensorSvg(T, data) : null),
    destroy() {
      loop.destroy();
      stopResize();
      stopTheme();
      hideTip();
      wrap.remove();
    },
  };
  canvas.bitmeshView = api;
  return api;
}

/** SVG of the tensor (Download SVG). */
export function tensorSvg(T, data) {
  const top = 20; // a caption line above the drawing: an SVG has no page around it
  const nd = data.shape.length;
  const root = svg("svg", { viewBox: `0 0 ${T.width} ${T.height + top}`, width: T.width, height: T.height + top, "font-family": cssVar("--font") || "sans-serif" });
  const muted = cssVar("--muted");
  root.append(svg("text", { x: 4, y: 13, "font-size": 12, fill: cssVar("--text") }, `${partitionSpec(data.spec)} on Mesh(${data.axis_names.map((n, i) => `'${n}': ${data.mesh_shape[i]}`).join(", ")}) · shape [${data.shape.join(", ")}] · shard [${data.shard_shape.join(", ")}]`));
  const body = svg("g", { transform: `translate(0,${top})` });
  root.append(body);
  // Dimension names, as on screen: rows down the left, columns along each panel.
  if (nd === 1) {
    body.append(svg("text", { x: T.panels[0].x, y: T.panels[0].y - 6, "font-size": 11, fill: muted }, `dim 0 · ${data.shape[0]} elements →`));
  } else {
    const p0 = T.panels[0];
    body.append(svg("text", { transform: `translate(12,${p0.y}) rotate(-90)`, "text-anchor": "end", "font-size": 11, fill: muted }, `dim ${nd - 2} · ${data.shape[nd - 2]}`));
    T.panels.forEach((p) => {
      const lab = nd > 2
        ? p.lead.map((c, d) => `dim ${d} ∈ [${c * data.shard_shape[d]}, ${(c + 1) * data.shard_shape[d]})`).join(", ")
        : `dim ${nd - 1} · ${data.shape[nd - 1]} →`;
      body.append(svg("text", { x: p.x, y: p.y - 6, "font-size": 11, fill: nd > 2 ? cssVar("--text") : muted }, lab));
      if (nd > 2) body.append(svg("text", { x: p.x + p.w, y: p.y + p.h + 12, "text-anchor": "end", "font-size": 10, fill: muted }, `dim ${nd - 1} · ${data.shape[nd - 1]} →`));
    });
  }
  data.blocks.forEach((b, f) => {
    const r = blockRect(T, data.grid, f);
    body.append(
      svg("rect", { x: r.x, y: r.y, width: r.w, height: r.h, fill: blockColour(f), stroke: cssVar("--surface"), "stroke-width": 1 },
        svg("title", {}, blockLines(data, f).map((l) => (Array.isArray(l) ? `${l[0]}: ${l[1]}` : l)).join("\n"))),
    );
    if (T.bw >= 26 && T.bh >= 16) {
      body.append(svg("text", { x: r.x + r.w / 2, y: r.y + r.h / 2 + 4, "text-anchor": "middle", "font-size": 10, "font-family": cssVar("--mono") || "monospace", fill: cssVar("--bg") }, b.ranks.length === 1 ? `r${b.ranks[0]}` : `×${b.ranks.length}`));
    }
  });
  return root;
}

/** Home-gallery preview: a [16, 32] tensor sharded P('dp', 'tp') over dp:2,tp:4. */
export async function preview(el) {
  const data = await fetchJSON("/api/v1/sharding?axes=dp:2,tp:4&shape=16,32&spec=dp,tp");
  const canvas = h("canvas", { class: "sharding-preview" });
  el.append(canvas);
  const w = Math.max(200, el.clientWidth || 300);
  const hh = Math.max(80, el.clientHeight || 120);
  const paint = () => {
    const ctx = setupCanvas(canvas, w, hh);
    ctx.clearRect(0, 0, w, hh);
    const T = tensorLayout(data.shape, data.grid, Math.min(w - 20, 2 * (hh - 24) + 26), { maxHeight: hh - 4 });
    ctx.save();
    ctx.translate(Math.max(0, (w - T.width) / 2), 0);
    drawTensor(ctx, T, data, { highlight: null, outlines: [] });
    ctx.restore();
  };
  paint();
  onThemeChange(() => requestAnimationFrame(paint));
}

