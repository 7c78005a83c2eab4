// Pipeline schedule as an animated Gantt chart: ranks as rows, time as x, ops coloured by
// kind, bubbles hatched, a playhead that sweeps time (play / pause / speed / scrub / drag),
// hover for an op's dependency chain (a click pins it), and one or two schedules (race) on one
// time scale.
//
// mount(el, {lanes: [{data, name}], speed, onSpeed, frame, onFrame}) -> {update, frame, ...}
// `frame` ({t, from, to, op}, URL strings) is the frame to open on (pipeline-state.js); the
// reader's changes to it reach `onFrame(frame)` when playback stops, or when they scrub, step,
// zoom or pin, at most every FRAME_WRITE_MS, never per animation frame.
// preview(el): the API's default schedule, looping, for the home gallery.
//
// `data` is a GET /api/v1/pipeline?format=columns payload; the view draws what it says.
import { h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { createLoop, createRedraw, prefersReducedMotion } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";
import { hideTip } from "../lib/tooltip.js";
import { dependencyChain, packSchedule } from "./pipeline-data.js";
import { Lane } from "./pipeline-lane.js";
import { attachPointer } from "./pipeline-pointer.js";
import { scheduleSvg } from "./pipeline-svg.js";
import { applyFrame, frameOf } from "./pipeline-state.js";
import { announcement, fillLegend, laneHead, orderText, opLines, pinCard } from "./pipeline-text.js";
import { SPEEDS, createTransport } from "./pipeline-transport.js";

export { SPEEDS };
/** Seconds the whole schedule takes to play at 1×. */
export const PLAY_SECONDS = 8;
/** The frame goes to `onFrame` this long after the reader's last change. */
const FRAME_WRITE_MS = 200;

/** The view's state and behaviour; `mount` returns its public face. */
class PipelineView {
  constructor(el, state) {
    this.lanes = []; // {P, data, name, lane, canvas, section}
    this.speed = SPEEDS.includes(state.speed) ? state.speed : 1;
    this.onSpeed = state.onSpeed || null;
    this.onFrame = state.onFrame || null;
    this.frameTimer = 0;
    this.opening = state.frame || null; // the frame of the first schedule drawn
    this.held = false; // the reader put the playhead where it is (it goes in the URL)
    this.pinned = null; // {laneIndex, chain}: the op a click pinned
    this.t = 0;
    this.tEnd = 1;
    this.d0 = 0;
    this.d1 = 1;
    this.hover = null; // {laneIndex, chain}
    this.width = 0;
    this.stats = { draws: 0, renders: 0, paintMs: 0, lastLoopPaint: -1e9 };
    this.clock = { anchorT: 0, rate: 0, stalled: 0 }; // stalled: ms of slow frames not played
    this.transport = createTransport({
      playPause: () => this.playPause(),
      speed: (s) => this.setSpeed(s),
      scrub: (t) => this.seek(t),
      step: (dir) => this.step(dir, this.tEnd / 100),
      zoom: (z) => (z === "fit" ? this.setWindow(0, this.tEnd) : this.zoomAt(this.zoomCentre(), z)),
    });
    this.pinEl = h("div", { class: "legend pl-pin", role: "status" }); // in the DOM while pinned
    this.transport.setSpeed(this.speed);
    this.live = h("p", { class: "visually-hidden", "aria-live": "polite" });
    this.lanesEl = h("div", { class: "pl-lanes" });
    this.legendEl = h("div", { class: "legend pl-legend" });
    this.root = h("div", { class: "pl-view", dataset: { playhead: "0", draws: "0" } }, this.transport.el, this.live, this.lanesEl, this.legendEl);
    el.append(this.root);
    this.loop = createLoop(this.root, (elapsed) => this.frame(elapsed));
    // at most one paint per frame; a ticking loop paints every frame anyway
    this.requestPaint = createRedraw(() => {
      if (!(this.loop.running && performance.now() - this.stats.lastLoopPaint < 100)) this.paint();
    });
    this.stopResize = onResize(this.lanesEl, (w) => this.relayout(w));
    this.stopTheme = onThemeChange(() => {
      for (const L of this.lanes) L.lane.themeChanged();
      this.requestPaint();
    });
    this.onEscape = (ev) => {
      if (ev.key === "Escape" && this.pinned) this.unpin();
    };
    document.addEventListener("keydown", this.onEscape);
  }

  /** The reader changed the frame: tell `onFrame` once they pause for FRAME_WRITE_MS. */
  changed() {
    clearTimeout(this.frameTimer);
    if (this.onFrame) this.frameTimer = setTimeout(() => this.onFrame(frameOf(this)), FRAME_WRITE_MS);
  }

  // ---- clock: every frame is derived from the playhead time t ----

  frame(elapsed) {
    const c = this.clock;
    this.t = Math.min(this.tEnd, c.anchorT + (elapsed - c.stalled) * c.rate);
    this.follow();
    this.stats.lastLoopPaint = performance.now();
    this.paint();
    // a frame that re-rendered the buffers (first frame of a big schedule, or a zoomed view
    // paging to follow the playhead) can take 100+ ms: do not let the playhead leap over it
    const took = performance.now() - this.stats.lastLoopPaint;
    if (took > 50) c.stalled += took;
    if (this.t < this.tEnd) return true;
    this.showPlaying(false);
    this.held = true; // played to the end: that frame is the one to link to
    this.changed();
    return false;
  }

  showPlaying(on) {
    this.transport.showPlaying(on, this.t >= this.tEnd);
    this.root.dataset.playing = on ? "1" : "0";
  }

  play(force = true) {
    if (this.t >= this.tEnd) this.t = 0;
    this.clock = { anchorT: this.t, stalled: 0, rate: (this.tEnd / (PLAY_SECONDS * 1000)) * this.speed };
    const ok = this.loop.start({ force });
    this.showPlaying(ok);
    return ok;
  }

  pause() {
    this.loop.stop();
    this.showPlaying(false);
  }

  playPause() {
    if (this.loop.running) this.pause();
    else this.play(true);
    this.held = !this.loop.running;
    this.changed();
  }

  setSpeed(s) {
    this.speed = s;
    this.transport.setSpeed(s);
    if (this.onSpeed) this.onSpeed(s);
    if (this.loop.running) this.play(true);
  }

  /** Pause and put the playhead at t (the reader's doing: it goes in the URL). */
  seek(t) {
    this.pause();
    this.t = Math.min(this.tEnd, Math.max(0, t));
    this.held = true;
    this.follow();
    this.requestPaint();
    this.changed();
  }

  /** Open paused at t, the window as it is. */
  hold(t) {
    this.loop.stop();
    this.t = t;
    this.held = true;
    this.showPlaying(false);
    this.requestPaint();
  }

  /** Pause and move the playhead by `size` (default 1/100 of the visible span) in `dir`. */
  step(dir, size = (this.d1 - this.d0) / 100) {
    this.seek(this.t + dir * size);
    this.live.textContent = announcement(this.lanes, this.t);
  }

  /** Home / End: the playhead to the start (scrolling a zoomed chart back) or the end. */
  jump(toEnd) {
    this.pause();
    this.t = toEnd ? this.tEnd : 0;
    this.held = true;
    this.showPlaying(false);
    if (toEnd) this.follow();
    else this.setDomain(0, this.d1 - this.d0);
    this.requestPaint();
    this.changed();
    this.live.textContent = announcement(this.lanes, this.t);
  }

  // ---- zoom on the time axis ----

  setDomain(a, b) {
    const span = Math.max(this.tEnd / 2048, Math.min(this.tEnd, b - a));
    const lo = Math.max(0, Math.min(a, this.tEnd - span));
    this.d0 = lo;
    this.d1 = lo + span;
    for (const L of this.lanes) L.lane.setDomain(this.d0, this.d1);
    this.transport.setZoom(this.tEnd / span);
    this.requestPaint();
  }

  /** The reader's zoom or pan: the window goes in the URL. */
  setWindow(a, b) {
    this.setDomain(a, b);
    this.changed();
  }

  zoomAt(centre, factor) {
    const span = (this.d1 - this.d0) / factor;
    const frac = (centre - this.d0) / (this.d1 - this.d0 || 1);
    this.setWindow(centre - frac * span, centre - frac * span + span);
  }

  zoomCentre() {
    return this.t > this.d0 && this.t < this.d1 ? this.t : (this.d0 + this.d1) / 2;
  }

  /** While zoomed, keep the playhead in view. */
  follow() {
    const span = this.d1 - this.d0;
    if (span >= this.tEnd * 0.999) return;
    if (this.t > this.d1 - span * 0.02 || this.t < this.d0) this.setDomain(this.t - span * 0.1, this.t + span * 0.9);
  }

  // ---- painting ----

  paint() {
    const p0 = performance.now();
    const s = this.stats;
    const shown = this.hover || this.pinned; // hover looks elsewhere; the pin comes back after
    this.lanes.forEach((L, q) => L.lane.paint(this.t, shown && shown.laneIndex === q ? shown.chain : null, true));
    s.draws++;
    const ds = this.root.dataset;
    ds.draws = String(s.draws);
    ds.playhead = String(this.t);
    if (this.lanes.length && this.lanes[0].lane.renders !== s.renders) {
      s.renders = this.lanes[0].lane.renders;
      ds.renders = String(s.renders);
      ds.renderMs = this.lanes.map((L) => (L.lane.lastRenderMs || 0).toFixed(1)).join(",");
    }
    // the slider and the readout are DOM: while playing, refresh them at ~15 Hz, not 60
    if (!this.loop.running || s.draws % 4 === 0 || this.t >= this.tEnd) this.transport.showTime(this.t, this.tEnd, this.lanes[0].P.time.fmt);
    // mean cost of one paint over the last 30, for bench/bench_pipeline_page.py
    s.paintMs += performance.now() - p0;
    if (s.draws % 30 === 0) {
      ds.paintMs = (s.paintMs / 30).toFixed(2);
      s.paintMs = 0;
    }
  }

  setHover(hover) {
    if (hover === null && this.hover === null) return;
    this.hover = hover;
    this.requestPaint();
  }

  /** Pin op i of lane q (again: unpin it): its chain stays drawn, its card shown. */
  pin(q, i, toggle = true) {
    const L = this.lanes[q];
    if (toggle && this.pinned && this.pinned.laneIndex === q && this.pinned.chain.focus === i) return this.unpin();
    this.pinned = { laneIndex: q, chain: dependencyChain(L.P, i) };
    this.pinEl.replaceChildren(...pinCard(opLines(L.P, i, L.name), () => this.unpin()));
    this.pinEl.dataset.op = `${q ? "race." : ""}${i}`;
    L.canvas.parentElement.after(this.pinEl);
    this.requestPaint();
    this.changed();
  }

  unpin() {
    this.pinned = null;
    this.pinEl.remove();
    this.requestPaint();
    this.changed();
  }

  relayout(w) {
    this.width = w;
    for (const L of this.lanes) L.lane.resize(w);
    this.paint(); // now, before the resized (cleared) canvases reach the screen
  }

  // ---- lanes ----

  buildLanes(specs) {
    for (const L of this.lanes) L.section.remove();
    this.lanes = specs.map((spec) => this.buildLane(spec));
    this.tEnd = Math.max(1e-9, ...this.lanes.map((L) => L.P.makespan));
    const actMax = Math.max(1, ...this.lanes.map((L) => L.P.actMax));
    for (const L of this.lanes) {
      L.lane.actMax = actMax;
      L.lane.raceEnd = this.lanes.length > 1 ? this.tEnd : 0;
      if (this.width > 0) L.lane.resize(this.width);
    }
    fillLegend(this.legendEl, this.lanes, actMax);
    this.transport.setEnd(this.tEnd);
    this.hover = null;
    this.pinned = null;
    this.pinEl.remove();
    this.setDomain(0, this.tEnd);
  }

  buildLane(spec) {
    const P = packSchedule(spec.data);
    const canvas = h("canvas", {
      class: "pl-canvas",
      tabindex: "0",
      role: "img",
      "aria-label": `${spec.name}: Gantt chart of ${P.ranks} ranks over time; arrow keys move the playhead, Home and End jump to the start and the end, space plays or pauses, + and − zoom`,
    });
    attachPointer(this, canvas);
    const section = h(
      "section",
      { class: "pl-lane", dataset: { schedule: spec.data.schedule } },
      laneHead(spec.name, spec.data),
      h("div", { class: "pl-canvas-wrap" }, canvas),
      orderText(P, spec.name),
    );
    this.lanesEl.append(section);
    const lane = new Lane(canvas);
    lane.setData(P);
    return { P, data: spec.data, name: spec.name, lane, canvas, section };
  }

  /** Autoplay from 0, or (reduced motion, no autoplay) show the final state. */
  start(autoplay) {
    this.t = 0;
    this.held = false;
    if (autoplay && this.play(false)) return;
    this.loop.stop();
    this.t = this.tEnd;
    this.showPlaying(false);
    this.requestPaint();
  }

  update(next) {
    if (next.speed && next.speed !== this.speed) this.setSpeed(next.speed);
    if (next.onSpeed) this.onSpeed = next.onSpeed;
    const lanes = next.lanes;
    const same = lanes && lanes.length === this.lanes.length && lanes.every((s, q) => s.data === this.lanes[q].data && s.name === this.lanes[q].name);
    if (lanes && !same) {
      this.pause();
      this.buildLanes(lanes);
      // the link's frame belongs to the first schedule drawn; another one opens afresh
      const opening = this.opening;
      this.opening = null;
      if (!(opening && applyFrame(this, opening))) this.start(next.autoplay !== false);
      this.changed();
    }
  }

  destroy() {
    clearTimeout(this.frameTimer);
    document.removeEventListener("keydown", this.onEscape);
    this.loop.destroy();
    this.stopResize();
    this.stopTheme();
    hideTip();
    this.root.remove();
  }
}

export function mount(el, state) {
  const view = new PipelineView(el, state);
  view.update({ lanes: state.lanes, autoplay: state.autoplay });
  return {
    update: (next) => view.update(next),
    get playhead() {
      return view.t;
    },
    /** The frame on screen as URL values (pipeline-state.js), null where it is the default. */
    frame: () => frameOf(view),
    play: () => view.play(true),
    pause: () => view.pause(),
    exportSvg: () => scheduleSvg(view.lanes, view.tEnd),
    destroy: () => view.destroy(),
  };
}

/** The API's default schedule, looping, for the home gallery. */
export async function preview(el) {
  const P = packSchedule(await fetchJSON("/api/v1/pipeline?format=columns"));
  const canvas = h("canvas", { class: "pl-preview", "aria-hidden": "true" });
  el.append(canvas);
  const lane = new Lane(canvas, { compact: true });
  lane.setData(P);
  const still = () => {
    lane.paint(P.makespan, null, false);
    canvas.dataset.painted = "1";
  };
  const size = () => {
    lane.resize(Math.max(120, el.clientWidth || 300), Math.max(60, el.clientHeight || 120));
    lane.setDomain(0, P.makespan);
  };
  size();
  onThemeChange(() => {
    lane.themeChanged();
    still();
  });
  const cycle = 5000;
  const hold = 1500;
  const loop = createLoop(el, (ms) => {
    const phase = ms % (cycle + hold);
    lane.paint(Math.min(1, phase / cycle) * P.makespan, null, phase < cycle);
    canvas.dataset.painted = "1";
  });
  if (prefersReducedMotion() || !loop.start()) still();
  onResize(el, () => {
    size();
    if (!loop.running) still();
  });
}
