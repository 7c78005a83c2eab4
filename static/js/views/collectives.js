// A collective drawn step by step: every GPU a card on a circle (or a tree) holding its buffer
// as cells; in each step chunks travel along the links at once, "+" chunks add into the cell
// they land on, plain ones overwrite it, and partial sums fill their cell in colour.
// Play, step, scrub; every frame is derived from the playhead time t (steps are 1 unit long).
// The drawing itself is in collectives-scene.js; this module owns the clock and transport.
//
// mount(el, {onStep}) -> {update(data, step, why), exportSvg(), destroy()}
import { h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { createLoop, createRedraw } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";
import { showTip, moveTip, hideTip } from "../lib/tooltip.js";
import { prepare, stepAt } from "./collectives-model.js";
import { createScene, build, drawFrame, drawMovers, describe, tipFor } from "./collectives-scene.js";
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
}

/** Show a new answer at step `step`; with no drawing data, say `why` instead. */
function show(p, next, step, why) {
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
  p.t = drawn ? Math.max(0, Math.min(stepsOf(p), step)) : 0;
  ui.scrub.max = String(drawn ? stepsOf(p) : 1);
  setPlaying(p, false);
  build(scene, p.width);
  paint(p);
  if (!drawn) ui.readout.textContent = "";
}

export function mount(el, { onStep } = {}) {
  const scene = createScene();
  const ui = transportControls();
  const empty = h("p", { class: "muted co-empty", hidden: true });
  const wrap = h("div", { class: "co-view", dataset: { step: "0", playing: "0" } }, ui.bar, ui.readout, scene.root, empty, scene.legend);
  el.append(wrap);
  const p = { scene, ui, empty, wrap, onStep, t: 0, anchor: 0, target: 0, width: 0, loop: null };
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
    paint(p);
  });
  const unResize = onResize(el, (w) => {
    p.width = Math.min(w, 760);
    redraw();
  });
  const unTheme = onThemeChange(redraw);
  return {
    update: (next, step = 0, why = "") => show(p, next, step, why),
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
  const p = { scene, ui: { scrub: {}, readout: {} }, wrap: { dataset: {} }, t: 0 };
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
