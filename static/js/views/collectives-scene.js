// Drawing a collective's state: rank cards with their cells, the links, and the chunks in
// flight. Every function takes the scene (DOM groups + the prepared model and geometry) and
// draws one thing; `collectives.js` owns the clock and the controls.
import { svg, h, clear } from "../lib/dom.js";
import { palette } from "../lib/colors.js";
import { fmtBytes, fmtTime } from "../lib/format.js";
import { easeInOut } from "../lib/anim.js";
import { layout, cellXY } from "./collectives-model.js";

const LINK_NAMES = { intra_node: "inside the node", network: "over the network", both: "inside nodes and over the network" };

/** The SVG groups of a scene, in drawing order, and its legend. */
export function createScene() {
  const root = svg("svg", { class: "co-svg", role: "img", "aria-label": "Ranks and their buffers" });
  const scene = {
    root,
    links: svg("g", { class: "co-links" }),
    active: svg("g", { class: "co-active" }),
    cards: svg("g", { class: "co-cards" }),
    moving: svg("g", { class: "co-movers" }),
    legend: h("div", { class: "legend co-legend" }),
    model: null,
    data: null,
    geo: null,
    shownFrame: -1,
    moverStep: -1,
    movers: [],
  };
  root.append(scene.links, scene.active, scene.cards, scene.moving);
  return scene;
}

/** Lay out and draw the static parts (links, cards, legend) for a drawing `width` px wide. */
export function build(scene, width) {
  for (const g of [scene.links, scene.cards, scene.active, scene.moving]) clear(g);
  scene.movers = [];
  scene.moverStep = -1;
  scene.shownFrame = -1;
  const { model, data } = scene;
  if (!model || !width) return;
  const geo = layout(model, width, data.layout === "tree");
  scene.geo = geo;
  scene.root.setAttribute("viewBox", `0 0 ${geo.width} ${geo.height}`);
  scene.root.setAttribute("width", geo.width);
  scene.root.setAttribute("height", geo.height);
  for (const [a, b] of model.pairs) {
    const p = geo.pos[a];
    const q = geo.pos[b];
    const cls = model.view.node[a] === model.view.node[b] ? "co-link" : "co-link co-link-net";
    scene.links.append(svg("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y, class: cls }));
  }
  if (data.nodes > 1 && data.layout !== "tree") nodeLabels(scene);
  for (let r = 0; r < model.n; r += 1) scene.cards.append(card(scene, r));
  legendFor(scene);
}

/** "node k" inside the circle, at the middle of each node's arc. */
function nodeLabels(scene) {
  const { geo, model } = scene;
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
    const at = { x: mx - ((mx - cx) / d) * pull, y: my - ((my - cy) / d) * pull };
    scene.links.append(svg("text", { ...at, class: "co-node-label", "text-anchor": "middle" }, `node ${k}`));
  }
}

function card(scene, r) {
  const { geo, model } = scene;
  const p = geo.pos[r];
  const g = svg("g", { class: "co-card", tabindex: 0, role: "button", "aria-label": `GPU ${r}: Enter pins it`, dataset: { rank: String(r) } });
  g.append(
    svg("rect", { x: p.x - geo.cardW / 2, y: p.y - geo.cardH / 2, width: geo.cardW, height: geo.cardH, rx: 3, class: "co-card-bg" }),
    svg("text", { x: p.x, y: p.y - geo.cardH / 2 - 4, class: "co-card-label", "text-anchor": "middle" }, `GPU ${r}`),
  );
  if (!geo.showCells) return g;
  for (let k = 0; k < model.cells; k += 1) {
    const c = cellXY(geo, r, k);
    const cell = svg("g", { class: "co-cell", dataset: { rank: String(r), cell: String(k) } });
    cell.append(
      svg("rect", { x: c.x, y: c.y, width: geo.cell - 1, height: geo.cellH - 1, class: "co-cell-bg" }),
      svg("rect", { x: c.x, y: c.y, width: geo.cell - 1, height: 0, class: "co-cell-fill" }),
    );
    g.append(cell);
  }
  return g;
}

function legendFor(scene) {
  const { model, data, legend } = scene;
  clear(legend);
  const sw = (cls, style) => h("span", { class: `swatch ${cls}`, style });
  const ops = new Set(model.steps.flatMap((st) => st.ops));
  const colour = model.hueOf === "sender" ? "colour: the GPU a block comes from" : "colour: the chunk";
  const item = (...children) => h("span", { class: "legend-item" }, ...children);
  const items = [
    item(sw("", { background: palette(0) }), sw("", { background: palette(1) }), sw("", { background: palette(2) }), colour),
    model.full > 1 ? item(sw("co-swatch-partial", {}), `fill: share of the ${model.full} GPUs summed in`) : null,
    ops.has("reduce") ? item(h("span", { class: "co-key-reduce" }, "+"), "reduce: added into the cell it lands on") : null,
    ops.has("copy") ? item(h("span", { class: "co-key-copy" }), "copy: overwrites the cell") : null,
    data.nodes > 1 ? item(h("span", { class: "co-key-net" }), "a link across nodes (network)") : null,
  ];
  legend.append(...items.filter(Boolean));
}

/** Fill every cell as it is after `k` steps (only when k changes). */
export function drawFrame(scene, k) {
  const { geo, model } = scene;
  if (k === scene.shownFrame || !geo || !geo.showCells) return;
  scene.shownFrame = k;
  const f = model.frames[k];
  const size = geo.cellH - 1;
  for (const cell of scene.cards.querySelectorAll(".co-cell")) {
    const at = Number(cell.dataset.rank) * model.cells + Number(cell.dataset.cell);
    const hue = f.hue[at];
    const frac = hue < 0 ? 0 : Math.min(1, f.holds[at] / model.full);
    const fill = cell.lastChild;
    fill.setAttribute("y", String(Number(cell.firstChild.getAttribute("y")) + size * (1 - frac)));
    fill.setAttribute("height", String(size * frac));
    fill.setAttribute("fill", hue < 0 ? "none" : palette(hue));
    cell.classList.toggle("co-cell-full", frac >= 1);
  }
}

function moverFor(scene, i, before) {
  const { geo, model } = scene;
  const c = model.columns;
  const hue = before.hue[c.src[i] * model.cells + model.view.src_cell[i]];
  const size = Math.max(6, geo.showCells ? geo.cell - 1 : 8);
  const tall = geo.showCells ? geo.cellH - 1 : size;
  const reduce = c.op_names[c.op[i]] === "reduce";
  const g = svg("g", { class: reduce ? "co-mover co-mover-reduce" : "co-mover", dataset: { i: String(i) } });
  g.append(svg("rect", { width: size, height: tall, rx: 2, fill: palette(Math.max(0, hue)) }));
  if (reduce && size >= 9) g.append(svg("text", { x: size / 2, y: tall / 2 + 0.5, "text-anchor": "middle", "dominant-baseline": "middle", class: "co-plus" }, "+"));
  return { el: g, i, size };
}

/** The chunks of step `s` at progress u ∈ [0, 1) along their links. */
export function drawMovers(scene, s, u) {
  const { geo, model } = scene;
  const c = model.columns;
  const v = model.view;
  if (s !== scene.moverStep) {
    clear(scene.moving);
    clear(scene.active);
    scene.movers = [];
    scene.moverStep = s;
    if (s < model.steps.length) {
      const st = model.steps[s];
      for (let i = st.start; i < st.end; i += 1) {
        const p = geo.pos[c.src[i]];
        const q = geo.pos[c.dst[i]];
        scene.active.append(svg("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y, class: "co-link-on", dataset: { src: String(c.src[i]), dst: String(c.dst[i]), chunk: String(c.chunk[i]) } }));
        const m = moverFor(scene, i, model.frames[s]);
        scene.moving.append(m.el);
        scene.movers.push(m);
      }
    }
  }
  const e = easeInOut(u);
  const at = (rank, cell, size) => (geo.showCells ? cellXY(geo, rank, cell) : { x: geo.pos[rank].x - size / 2, y: geo.pos[rank].y - size / 2 });
  for (const m of scene.movers) {
    const a = at(c.src[m.i], v.src_cell[m.i], m.size);
    const b = at(c.dst[m.i], v.dst_cell[m.i], m.size);
    m.el.setAttribute("transform", `translate(${a.x + (b.x - a.x) * e},${a.y + (b.y - a.y) * e})`);
  }
  // paused between steps, the links of the step to come stay lit (the movers wait)
  scene.moving.style.display = u > 0 ? "" : "none";
}

/**
 * Ring the pinned rank's card (-1: none) and light its own links of step `s`; returns what it
 * sends and receives in that step, from the API's columns: [{dir, peer, chunk, bytes, op}].
 */
export function pinRank(scene, r, s) {
  for (const cardEl of scene.cards.querySelectorAll(".co-card")) cardEl.classList.toggle("pinned", Number(cardEl.dataset.rank) === r);
  for (const line of scene.active.querySelectorAll(".co-link-on")) {
    line.classList.toggle("mine", r >= 0 && (Number(line.dataset.src) === r || Number(line.dataset.dst) === r));
  }
  const { model } = scene;
  if (r < 0 || !model || s >= model.steps.length) return [];
  const c = model.columns;
  const st = model.steps[s];
  const out = [];
  for (let i = st.start; i < st.end; i += 1) {
    if (c.src[i] === r) out.push({ dir: "sends to", peer: c.dst[i], chunk: c.chunk[i], bytes: c.bytes[i], op: c.op_names[c.op[i]] });
    if (c.dst[i] === r) out.push({ dir: "receives from", peer: c.src[i], chunk: c.chunk[i], bytes: c.bytes[i], op: c.op_names[c.op[i]] });
  }
  return out;
}

/** The readout under the transport: the step coming (or under way), or the end. */
export function describe(scene, index, u) {
  const { model, data } = scene;
  const n = model.steps.length;
  if (index >= n) return `Done after ${n} step${n === 1 ? "" : "s"}: ${data.promise}.`;
  const st = model.steps[index];
  const count = st.end - st.start;
  const what = `${count} transfer${count === 1 ? "" : "s"} (${st.ops.join(" + ")})`;
  return `${u > 0 ? "Step" : "Next: step"} ${index + 1} of ${n}: ${what} ${LINK_NAMES[st.link] || ""}, ${fmtTime(st.time)}`;
}

function cellText(model, r, k, hue, holds) {
  const where = model.hueOf === "sender" ? `slot ${k}` : `chunk ${k}`;
  if (holds === 0) return [`GPU ${r}, ${where}`, "empty"];
  if (model.hueOf === "sender") return [`GPU ${r}, ${where}`, hue === r ? "its own block (to send)" : `holds GPU ${hue}'s block for it`];
  if (model.full > 1) return [`GPU ${r}, chunk ${k}`, ["summed", `${holds} of ${model.full} GPUs`]];
  return [`GPU ${r}, chunk ${k}`, "holds the data"];
}

/** Tooltip lines for whatever is under the pointer at playhead `t`, or null. */
export function tipFor(scene, target, t) {
  const { model, data } = scene;
  const mover = target.closest(".co-mover");
  const cell = target.closest(".co-cell");
  const cardEl = target.closest(".co-card");
  if (mover) {
    const i = Number(mover.dataset.i);
    const c = model.columns;
    return [`Step ${c.step[i] + 1}: GPU ${c.src[i]} → GPU ${c.dst[i]}`, ["chunk", c.chunk[i]], ["bytes", fmtBytes(c.bytes[i])], ["op", c.op_names[c.op[i]]]];
  }
  if (cell) {
    const r = Number(cell.dataset.rank);
    const k = Number(cell.dataset.cell);
    const f = model.frames[Math.min(Math.floor(t), model.steps.length)];
    return cellText(model, r, k, f.hue[r * model.cells + k], f.holds[r * model.cells + k]);
  }
  if (cardEl) {
    const r = Number(cardEl.dataset.rank);
    return [`GPU ${r}`, ["node", model.view.node[r]], ["buffer", fmtBytes(data.bytes)]];
  }
  return null;
}
