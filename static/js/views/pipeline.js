// Pipeline schedule as an animated Gantt chart: ranks as rows, time as x, ops coloured by
// kind, bubbles hatched, a playhead that sweeps time (play / pause / speed / scrub / drag),
// hover for an op's dependency chain, and one or two schedules (race) on one time scale.
//
// mount(el, {lanes: [{data, name}], speed, onSpeed}) -> {update, destroy, exportSvg, ...}
// preview(el): the API's default schedule, looping, for the home gallery.
//
// `data` is a GET /api/v1/pipeline?format=columns payload; the view draws what it says.
import { h } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { createLoop, createRedraw, prefersReducedMotion } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";
import { hideTip } from "../lib/tooltip.js";
import { packSchedule } from "./pipeline-data.js";
import { Lane } from "./pipeline-lane.js";
import { attachPointer } from "./pipeline-pointer.js";
import { scheduleSvg } from "./pipeline-svg.js";
import { announcement, fillLegend, laneHead, orderText } from "./pipeline-text.js";
import { SPEEDS, createTransport } from "./pipeline-transport.js";

export { SPEEDS };
/** Seconds the whole schedule takes to play at 1×. */
export const PLAY_SECONDS = 8;

/** The view's state and behaviour; `mount` returns its public face. */
class PipelineView {
  constructor(el, state) {
    this.lanes = []; // {P, data, name, lane, canvas, section}
    this.speed = SPEEDS.includes(state.speed) ? state.speed : 1;
    this.onSpeed = state.onSpeed || null;
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
      zoom: (z) => (z === "fit" ? this.setDomain(0, this.tEnd) : this.zoomAt(this.zoomCentre(), z)),
    });
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
  }

  setSpeed(s) {
    this.speed = s;
    this.transport.setSpeed(s);
    if (this.onSpeed) this.onSpeed(s);
    if (this.loop.running) this.play(true);
  }

  /** Pause and put the playhead at t. */
  seek(t) {
    this.pause();
    this.t = Math.min(this.tEnd, Math.max(0, t));
    this.follow();
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
    this.showPlaying(false);
    if (toEnd) this.follow();
    else this.setDomain(0, this.d1 - this.d0);
    this.requestPaint();
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

  zoomAt(centre, factor) {
    const span = (this.d1 - this.d0) / factor;
    const frac = (centre - this.d0) / (this.d1 - this.d0 || 1);
    this.setDomain(centre - frac * span, centre - frac * span + span);
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
    this.lanes.forEach((L, q) => L.lane.paint(this.t, this.hover && this.hover.laneIndex === q ? this.hover.chain : null, true));
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
      this.start(next.autoplay !== false);
    }
  }

  destroy() {
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
