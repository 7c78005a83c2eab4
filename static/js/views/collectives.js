// A collective drawn step by step: every GPU a card on a circle (or a tree) holding its buffer
// as cells; in each step chunks travel along the links at once, "+" chunks add into the cell
// they land on, plain ones overwrite it, and partial sums fill their cell in colour.
// Play, step, scrub; every frame is derived from the playhead time t (steps are 1 unit long).
// The drawing itself is in collectives-scene.js; this module owns the clock and transport.
//
// A click, or Enter on a focused card, pins a GPU (its card ringed, its links lit, what it
// sends and receives in the step shown listed under the readout); again, or Escape, unpins.
//
// mount(el, {onStep, onRank}) -> {update(data, step, why, rank), exportSvg(), destroy()}
import { h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { createLoop, createRedraw } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { prepare, stepAt } from "./collectives-model.js";
import { fmtBytes } from "../lib/format.js";
import { createScene, build, drawFrame, drawMovers, describe, pinRank, tipFor } from "./collectives-scene.js";
import { ensureStylesheet } from "./collectives-svgchart.js";

/** Milliseconds one step takes to play. */
const STEP_MS = 1100;

function transportControls() {
  const button = (label, text, cls) => h("button", { type: "button", class: cls, "aria-label": label, title: label }, text);
  const c = {
    reset: button("Back to the start", "|◀"),
    back: button("Previous step", "◀"),
    play: button("Play", "▶ Play", "primary co-play"),
    next: button("Next step", "▶|"),
    scrub: h("input", { type: "range", min: "0", max: "1", step: "any", value: "0", class: "co-scrub", "aria-label": "Step (playhead)" }),
    readout: h("output", { class: "co-readout" }, ""),
    pin: h("p", { class: "co-pin", hidden: true }),
  };
  c.bar = h("div", { class: "co-transport", dataset: { embed: "playback" } }, c.reset, c.back, c.play, c.next, c.scrub);
  return c;
}

const stepsOf = (p) => (p.scene.model ? p.scene.model.steps.length : 0);

function paint(p) {
  const { scene, ui } = p;
  if (!scene.model || !scene.geo) return;
  const { index, u } = stepAt(p.t, stepsOf(p));
  drawFrame(scene, index);
  drawMovers(scene, index, index < stepsOf(p) ? u : 0);
  ui.scrub.value = String(p.t);
  p.wrap.dataset.step = String(index);
  ui.readout.textContent = describe(scene, index, u);
  showPin(p, index);
}

/** The pinned GPU's card and links, and its transfers in step `index` (only when they change). */
function showPin(p, index) {
  const key = `${p.rank}|${index}|${p.scene.moverStep}`;
  if (key === p.pinShown) return;
  p.pinShown = key;
  const moves = pinRank(p.scene, p.rank, index);
  const { pin } = p.ui;
  pin.hidden = p.rank < 0;
  pin.dataset.rank = String(p.rank);
  if (p.rank < 0) return pin.replaceChildren();
  const n = stepsOf(p);
  const what = index >= n ? "done: it sends nothing more" : moves.length
    ? moves.map((m) => `${m.dir} GPU ${m.peer} (chunk ${m.chunk}, ${fmtBytes(m.bytes)}, ${m.op})`).join("; ")
    : `idle in step ${index + 1}`;
  pin.replaceChildren(h("b", {}, `GPU ${p.rank}`), ` · node ${p.scene.model.view.node[p.rank]}`,
    index < n ? ` · step ${index + 1}: ` : " · ", h("span", { class: "co-pin-moves" }, what),
    h("button", { type: "button", class: "co-pin-clear pin-close", "aria-label": "Unpin", title: "Unpin (Esc)", onclick: () => setRank(p, -1) }, "×"));
  pin.dataset.moves = JSON.stringify(moves.map((m) => [m.dir === "sends to" ? p.rank : m.peer, m.dir === "sends to" ? m.peer : p.rank, m.chunk]));
}

/** Pin rank r (-1: none), redraw, and report it. */
function setRank(p, r) {
  p.rank = r;
  p.pinShown = "";
  paint(p);
  if (p.onRank) p.onRank(r);
}

function setPlaying(p, on) {
  p.ui.play.textContent = on ? "❚❚ Pause" : p.scene.model && p.t >= stepsOf(p) ? "↺ Replay" : "▶ Play";
  p.ui.play.setAttribute("aria-label", on ? "Pause" : "Play");
  p.wrap.dataset.playing = on ? "1" : "0";
}

function settle(p) {
  if (p.onStep && p.scene.model) p.onStep(Math.round(p.t));
}

/** Animate to `end`; under prefers-reduced-motion jump there instead. */
function runTo(p, end) {
  p.anchor = p.t;
  p.target = end;
  if (p.loop.start()) return setPlaying(p, true);
  p.t = end;
  paint(p);
  settle(p);
}

/** Stop and show time `to`; `commit` reports the step (not while scrubbing). */
function jump(p, to, commit = true) {
  p.loop.stop();
  p.t = to;
  setPlaying(p, false);
  paint(p);
  if (commit) settle(p);
}

function wireTransport(p) {
  const { ui, scene } = p;
  ui.play.addEventListener("click", () => {
    if (!scene.model) return;
    if (p.loop.running) return jump(p, p.t);
    if (p.t >= stepsOf(p)) p.t = 0;
    runTo(p, stepsOf(p));
  });
  ui.next.addEventListener("click", () => {
    if (!scene.model || p.t >= stepsOf(p)) return;
    p.loop.stop();
    runTo(p, Math.floor(p.t) + 1);
  });
  ui.back.addEventListener("click", () => scene.model && jump(p, Math.max(0, Math.ceil(p.t) - 1)));
  ui.reset.addEventListener("click", () => jump(p, 0));
  ui.scrub.addEventListener("input", () => jump(p, Number(ui.scrub.value), false));
  ui.scrub.addEventListener("change", () => settle(p));
  scene.root.addEventListener("pointermove", (ev) => {
    const lines = scene.model ? tipFor(scene, ev.target, p.t) : null;
    if (!lines) return hideTip();
    showTip(ev, lines);
    moveTip(ev);
  });
  scene.root.addEventListener("pointerleave", hideTip);
  const toggle = (cardEl) => setRank(p, Number(cardEl.dataset.rank) === p.rank ? -1 : Number(cardEl.dataset.rank));
  scene.root.addEventListener("click", (ev) => {
    const cardEl = scene.model && ev.target.closest(".co-card");
    if (cardEl) toggle(cardEl);
  });
  scene.root.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && p.rank >= 0) return setRank(p, -1);
    const cardEl = ev.target.closest && ev.target.closest(".co-card");
    if (!cardEl || (ev.key !== "Enter" && ev.key !== " ")) return;
    ev.preventDefault();
    toggle(cardEl);
  });
}

/**
 * Show a new answer at step `step` with rank `rank` pinned (either out of range: the start, no
 * pin); with no drawing data, say `why` instead. Returns the step and rank shown.
 */
function show(p, next, step, why, rank) {
  const { scene, ui } = p;
  p.loop.stop();
  scene.data = next;
  scene.model = next && next.columns && next.view ? prepare(next) : null;
  const drawn = Boolean(scene.model);
  p.empty.hidden = drawn;
  p.empty.textContent = drawn ? "" : why;
  scene.root.style.display = drawn ? "" : "none";
  ui.bar.hidden = !drawn;
  scene.legend.hidden = !drawn;
  p.t = drawn && Number.isInteger(step) && step >= 0 && step <= stepsOf(p) ? step : 0;
  p.rank = drawn && Number.isInteger(rank) && rank >= 0 && rank < next.ranks ? rank : -1;
  p.pinShown = "";
  ui.scrub.max = String(drawn ? stepsOf(p) : 1);
  setPlaying(p, false);
  build(scene, p.width);
  paint(p);
  if (!drawn) ui.readout.textContent = "";
  return { step: p.t, rank: p.rank };
}

export function mount(el, { onStep, onRank } = {}) {
  const scene = createScene();
  const ui = transportControls();
  const empty = h("p", { class: "muted co-empty", hidden: true });
  const wrap = h("div", { class: "co-view", dataset: { step: "0", playing: "0" } }, ui.bar, ui.readout, ui.pin, scene.root, empty, scene.legend);
  el.append(wrap);
  const p = { scene, ui, empty, wrap, onStep, onRank, t: 0, anchor: 0, target: 0, width: 0, loop: null, rank: -1, pinShown: "" };
  p.loop = createLoop(wrap, (elapsed) => {
    p.t = Math.min(p.target, p.anchor + elapsed / STEP_MS);
    paint(p);
    if (p.t < p.target) return true;
    setPlaying(p, false);
    settle(p);
    return false;
  });
  wireTransport(p);
  const redraw = createRedraw(() => {
    build(scene, p.width);
    p.pinShown = "";
    paint(p);
  });
  const unResize = onResize(el, (w) => {
    p.width = Math.min(w, 760);
    redraw();
  });
  const unTheme = onThemeChange(redraw);
  return {
    update: (next, step = 0, why = "", rank = -1) => show(p, next, step, why, rank),
    exportSvg: () => scene.root,
    destroy() {
      p.loop.destroy();
      unResize();
      unTheme();
      wrap.remove();
    },
  };
}

/** The home gallery's live preview: a ring all-reduce on 4 GPUs, looping (one request). */
export async function preview(el) {
  ensureStylesheet("/static/css/views/collectives.css");
  const data = await fetchJSON("/api/v1/collectives?ranks=4&view=true&format=columns");
  const scene = createScene();
  scene.data = data;
  scene.model = prepare(data);
  build(scene, 220);
  Object.assign(scene.root.style, { width: "100%", height: "100%" });
  el.append(scene.root);
  const p = { scene, ui: { scrub: {}, readout: {}, pin: h("p") }, wrap: { dataset: {} }, t: 0, rank: -1, pinShown: "" };
  const n = stepsOf(p) + 1; // one extra step to show the result before starting over
  const loop = createLoop(el, (elapsed) => {
    p.t = (elapsed / STEP_MS) % n;
    paint(p);
  });
  if (!loop.start()) {
    p.t = stepsOf(p);
    paint(p);
  }
}
