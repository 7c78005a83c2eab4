// A collective drawn step by step: every GPU a card on a circle (or a tree) holding its buffer
// as cells; in each step chunks travel along the links at once, "+" chunks add into the cell
// they land on, plain ones overwrite it, and partial sums fill their cell in colour.
// Play, step, scrub; every frame is derived from the playhead time t (steps are 1 unit long).
//
// mount(el, {onStep}) -> {update(data, step), exportSvg(), destroy()}
import { svg, h, clear } from "../lib/dom.js";
import { createLoop, createRedraw, easeInOut } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { palette, onThemeChange } from "../lib/colors.js";
import { fmtBytes, fmtTime } from "../lib/format.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { prepare, layout, cellXY, stepAt } from "./collectives-model.js";

/** Milliseconds one step takes to play. */
const STEP_MS = 1100;
const LINK_NAMES = { intra_node: "inside the node", network: "over the network", both: "inside nodes and over the network" };

function cellText(model, r, k, hue, holds) {
  const where = model.hueOf === "sender" ? `slot ${k}` : `chunk ${k}`;
  if (holds === 0) return [`GPU ${r}, ${where}`, "empty"];
  if (model.hueOf === "sender") return [`GPU ${r}, ${where}`, hue === r ? "its own block (to send)" : `holds GPU ${hue}'s block for it`];
  if (model.full > 1) return [`GPU ${r}, chunk ${k}`, ["summed", `${holds} of ${model.full} GPUs`]];
  return [`GPU ${r}, chunk ${k}`, "holds the data"];
}

export function mount(el, { onStep } = {}) {
  let model = null;
  let data = null;
  let geo = null;
  let t = 0;
  let width = 0;
  let shownFrame = -1;
  let movers = []; // {el, i} for the step being animated
  let moverStep = -1;
  let anchor = 0;
  let target = 0;

  const playBtn = h("button", { type: "button", class: "primary co-play", "aria-label": "Play" }, "▶ Play");
  const backBtn = h("button", { type: "button", "aria-label": "Previous step", title: "Previous step" }, "◀");
  const nextBtn = h("button", { type: "button", "aria-label": "Next step", title: "Next step" }, "▶|");
  const resetBtn = h("button", { type: "button", "aria-label": "Back to the start", title: "Back to the start" }, "|◀");
  const scrub = h("input", { type: "range", min: "0", max: "1", step: "any", value: "0", class: "co-scrub", "aria-label": "Step (playhead)" });
  const readout = h("output", { class: "co-readout" }, "");
  const transport = h("div", { class: "co-transport" }, resetBtn, backBtn, playBtn, nextBtn, scrub);
  const root = svg("svg", { class: "co-svg", role: "img", "aria-label": "Ranks and their buffers" });
  const gLinks = svg("g", { class: "co-links" });
  const gActive = svg("g", { class: "co-active" });
  const gCards = svg("g", { class: "co-cards" });
  const gMovers = svg("g", { class: "co-movers" });
  root.append(gLinks, gActive, gCards, gMovers);
  const legend = h("div", { class: "legend co-legend" });
  const empty = h("p", { class: "muted co-empty", hidden: true });
  const wrap = h("div", { class: "co-view", dataset: { step: "0", playing: "0" } }, transport, readout, root, empty, legend);
  el.append(wrap);

  // ---- clock -------------------------------------------------------------------------
  const loop = createLoop(wrap, (elapsed) => {
    t = Math.min(target, anchor + elapsed / STEP_MS);
    paint();
    if (t >= target) {
      setPlaying(false);
      settle();
      return false;
    }
    return true;
  });

  function setPlaying(on) {
    const end = model && t >= model.steps.length;
    playBtn.textContent = on ? "❚❚ Pause" : end ? "↺ Replay" : "▶ Play";
    playBtn.setAttribute("aria-label", on ? "Pause" : "Play");
    wrap.dataset.playing = on ? "1" : "0";
  }

  function runTo(end) {
    if (!model) return;
    anchor = t;
    target = end;
    if (!loop.start()) {
      // prefers-reduced-motion: no travelling chunks, jump to the end state
      t = end;
      paint();
      settle();
      return;
    }
    setPlaying(true);
  }

  function settle() {
    if (onStep && model) onStep(Math.round(t));
  }

  playBtn.addEventListener("click", () => {
    if (!model) return;
    if (loop.running) {
      loop.stop();
      setPlaying(false);
      settle();
      return;
    }
    if (t >= model.steps.length) t = 0;
    runTo(model.steps.length);
  });
  nextBtn.addEventListener("click", () => {
    if (!model || t >= model.steps.length) return;
    loop.stop();
    runTo(Math.floor(t) + 1);
  });
  backBtn.addEventListener("click", () => {
    if (!model) return;
    loop.stop();
    t = Math.max(0, Math.ceil(t) - 1);
    setPlaying(false);
    paint();
    settle();
  });
  resetBtn.addEventListener("click", () => {
    loop.stop();
    t = 0;
    setPlaying(false);
    paint();
    settle();
  });
  scrub.addEventListener("input", () => {
    loop.stop();
    t = Number(scrub.value);
    setPlaying(false);
    paint();
  });
  scrub.addEventListener("change", settle);

  // ---- drawing -----------------------------------------------------------------------
  function build() {
    clear(gLinks);
    clear(gCards);
    clear(gActive);
    clear(gMovers);
    movers = [];
    moverStep = -1;
    shownFrame = -1;
    if (!model || !width) return;
    geo = layout(model, width, data.layout === "tree");
    root.setAttribute("viewBox", `0 0 ${geo.width} ${geo.height}`);
    root.setAttribute("width", geo.width);
    root.setAttribute("height", geo.height);
    for (const [a, b] of model.pairs) {
      const p = geo.pos[a];
      const q = geo.pos[b];
      gLinks.append(svg("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y, class: model.view.node[a] === model.view.node[b] ? "co-link" : "co-link co-link-net" }));
    }
    if (data.nodes > 1 && data.layout !== "tree") nodeLabels();
    for (let r = 0; r < model.n; r += 1) gCards.append(card(r));
    legendFor();
  }

  /** "node k" inside the circle, at the middle of each node's arc. */
  function nodeLabels() {
    const cx = geo.width / 2;
    const cy = geo.height / 2;
    const nodes = new Map();
    model.view.node.forEach((k, r) => {
      if (!nodes.has(k)) nodes.set(k, []);
      nodes.get(k).push(geo.pos[r]);
    });
    for (const [k, pts] of nodes) {
      const mx = pts.reduce((a, p) => a + p.x, 0) / pts.length;
      const my = pts.reduce((a, p) => a + p.y, 0) / pts.length;
      const d = Math.hypot(mx - cx, my - cy) || 1;
      const pull = Math.min(d, geo.height * 0.12);
      gLinks.append(svg("text", { x: mx - ((mx - cx) / d) * pull, y: my - ((my - cy) / d) * pull, class: "co-node-label", "text-anchor": "middle" }, `node ${k}`));
    }
  }

  function card(r) {
    const p = geo.pos[r];
    const g = svg("g", { class: "co-card", dataset: { rank: String(r) } });
    g.append(
      svg("rect", { x: p.x - geo.cardW / 2, y: p.y - geo.cardH / 2, width: geo.cardW, height: geo.cardH, rx: 3, class: "co-card-bg" }),
      svg("text", { x: p.x, y: p.y - geo.cardH / 2 - 4, class: "co-card-label", "text-anchor": "middle" }, `GPU ${r}`),
    );
    if (geo.showCells) {
      for (let k = 0; k < model.cells; k += 1) {
        const c = cellXY(geo, r, k);
        const cell = svg("g", { class: "co-cell", dataset: { rank: String(r), cell: String(k) } });
        cell.append(
          svg("rect", { x: c.x, y: c.y, width: geo.cell - 1, height: geo.cellH - 1, class: "co-cell-bg" }),
          svg("rect", { x: c.x, y: c.y, width: geo.cell - 1, height: 0, class: "co-cell-fill" }),
        );
        g.append(cell);
      }
    }
    return g;
  }

  function legendFor() {
    clear(legend);
    const sw = (cls, style) => h("span", { class: `swatch ${cls}`, style });
    const ops = new Set(model.steps.flatMap((st) => st.ops));
    const colour = model.hueOf === "sender" ? "colour: the GPU a block comes from" : "colour: the chunk";
    const items = [
      h("span", { class: "legend-item" }, sw("", { background: palette(0) }), sw("", { background: palette(1) }), sw("", { background: palette(2) }), colour),
      model.full > 1 ? h("span", { class: "legend-item" }, sw("co-swatch-partial", {}), `fill: share of the ${model.full} GPUs summed in`) : null,
      ops.has("reduce") ? h("span", { class: "legend-item" }, h("span", { class: "co-key-reduce" }, "+"), "reduce: added into the cell it lands on") : null,
      ops.has("copy") ? h("span", { class: "legend-item" }, h("span", { class: "co-key-copy" }), "copy: overwrites the cell") : null,
      data.nodes > 1 ? h("span", { class: "legend-item" }, h("span", { class: "co-key-net" }), "a link across nodes (network)") : null,
    ];
    legend.append(...items.filter(Boolean));
  }

  function drawFrame(k) {
    if (k === shownFrame || !geo || !geo.showCells) return;
    shownFrame = k;
    const f = model.frames[k];
    for (const cell of gCards.querySelectorAll(".co-cell")) {
      const r = Number(cell.dataset.rank);
      const c = Number(cell.dataset.cell);
      const at = r * model.cells + c;
      const hue = f.hue[at];
      const holds = f.holds[at];
      const fill = cell.lastChild;
      const frac = hue < 0 ? 0 : Math.min(1, holds / model.full);
      const size = geo.cellH - 1;
      fill.setAttribute("y", String(Number(cell.firstChild.getAttribute("y")) + size * (1 - frac)));
      fill.setAttribute("height", String(size * frac));
      fill.setAttribute("fill", hue < 0 ? "none" : palette(hue));
      cell.classList.toggle("co-cell-full", frac >= 1);
    }
  }

  function drawMovers(s, u) {
    if (s !== moverStep) {
      clear(gMovers);
      clear(gActive);
      movers = [];
      moverStep = s;
      if (s < model.steps.length) {
        const st = model.steps[s];
        const c = model.columns;
        const v = model.view;
        const before = model.frames[s];
        for (let i = st.start; i < st.end; i += 1) {
          const p = geo.pos[c.src[i]];
          const q = geo.pos[c.dst[i]];
          gActive.append(svg("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y, class: "co-link-on" }));
          const hue = before.hue[c.src[i] * model.cells + v.src_cell[i]];
          const size = Math.max(6, geo.showCells ? geo.cell - 1 : 8);
          const tall = geo.showCells ? geo.cellH - 1 : size;
          const reduce = c.op_names[c.op[i]] === "reduce";
          const g = svg("g", { class: reduce ? "co-mover co-mover-reduce" : "co-mover", dataset: { i: String(i) } });
          g.append(svg("rect", { width: size, height: tall, rx: 2, fill: palette(Math.max(0, hue)) }));
          if (reduce && size >= 9) g.append(svg("text", { x: size / 2, y: tall / 2 + 0.5, "text-anchor": "middle", "dominant-baseline": "middle", class: "co-plus" }, "+"));
          gMovers.append(g);
          movers.push({ el: g, i, size });
        }
      }
    }
    const e = easeInOut(u);
    const c = model.columns;
    const v = model.view;
    for (const m of movers) {
      const a = geo.showCells ? cellXY(geo, c.src[m.i], v.src_cell[m.i]) : { x: geo.pos[c.src[m.i]].x - m.size / 2, y: geo.pos[c.src[m.i]].y - m.size / 2 };
      const b = geo.showCells ? cellXY(geo, c.dst[m.i], v.dst_cell[m.i]) : { x: geo.pos[c.dst[m.i]].x - m.size / 2, y: geo.pos[c.dst[m.i]].y - m.size / 2 };
      m.el.setAttribute("transform", `translate(${a.x + (b.x - a.x) * e},${a.y + (b.y - a.y) * e})`);
    }
    gMovers.style.display = u > 0 ? "" : "none";
    gActive.style.display = u > 0 ? "" : "none";
  }

  function paint() {
    if (!model || !geo) return;
    const n = model.steps.length;
    const { index, u } = stepAt(t, n);
    drawFrame(index);
    if (index < n) drawMovers(index, u);
    else {
      gMovers.style.display = "none";
      gActive.style.display = "none";
    }
    scrub.value = String(t);
    wrap.dataset.step = String(index);
    readout.textContent = describe(index, u);
  }

  function describe(index, u) {
    const n = model.steps.length;
    if (index >= n) return `Done after ${n} step${n === 1 ? "" : "s"}: ${data.promise}.`;
    const st = model.steps[index];
    const moving = u > 0 ? "Step" : "Next: step";
    const count = st.end - st.start;
    const ops = st.ops.join(" + ");
    return `${moving} ${index + 1} of ${n}: ${count} transfer${count === 1 ? "" : "s"} (${ops}) ${LINK_NAMES[st.link] || ""}, ${fmtTime(st.time)}`;
  }

  const redraw = createRedraw(() => {
    build();
    paint();
  });
  const unResize = onResize(el, (w) => {
    width = Math.min(w, 760);
    redraw();
  });
  const unTheme = onThemeChange(() => {
    shownFrame = -1;
    moverStep = -1;
    redraw();
  });

  // ---- tooltips ----------------------------------------------------------------------
  root.addEventListener("pointermove", (ev) => {
    if (!model) return;
    const cell = ev.target.closest(".co-cell");
    const mover = ev.target.closest(".co-mover");
    const cardEl = ev.target.closest(".co-card");
    if (mover) {
      const i = Number(mover.dataset.i);
      const c = model.columns;
      showTip(ev, [`Step ${c.step[i] + 1}: GPU ${c.src[i]} → GPU ${c.dst[i]}`, ["chunk", c.chunk[i]], ["bytes", fmtBytes(c.bytes[i])], ["op", c.op_names[c.op[i]]]]);
    } else if (cell) {
      const r = Number(cell.dataset.rank);
      const k = Number(cell.dataset.cell);
      const f = model.frames[Math.min(Math.floor(t), model.steps.length)];
      showTip(ev, cellText(model, r, k, f.hue[r * model.cells + k], f.holds[r * model.cells + k]));
    } else if (cardEl) {
      const r = Number(cardEl.dataset.rank);
      showTip(ev, [`GPU ${r}`, ["node", model.view.node[r]], ["buffer", fmtBytes(data.bytes)]]);
    } else {
      hideTip();
      return;
    }
    moveTip(ev);
  });
  root.addEventListener("pointerleave", hideTip);

  return {
    /** Show a new answer (null: nothing to draw, with `why`), at step `step`. */
    update(next, step = 0, why = "") {
      loop.stop();
      data = next;
      model = next && next.columns && next.view ? prepare(next) : null;
      empty.hidden = Boolean(model);
      empty.textContent = model ? "" : why;
      root.style.display = model ? "" : "none";
      transport.hidden = !model;
      legend.hidden = !model;
      t = model ? Math.max(0, Math.min(model.steps.length, step)) : 0;
      scrub.max = String(model ? model.steps.length : 1);
      setPlaying(false);
      build();
      paint();
      if (!model) readout.textContent = "";
    },
    exportSvg() {
      return root;
    },
    destroy() {
      loop.destroy();
      unResize();
      unTheme();
      wrap.remove();
    },
  };
}
