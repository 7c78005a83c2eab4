// /serving's drawings from one /api/v1/inference/batching answer: the two KV pools (continuous
// and static batching) side by side, replayed on one simulated clock, and the timelines under
// them. The clock plays in simulated time (scaled so a run lasts a few seconds), pauses when
// the view is off-screen, and does not run under prefers-reduced-motion.
//
// mount({continuous, static, timeline, transport}) -> {update(data), exportSvg(), destroy()}
import { h } from "../lib/dom.js";
import { createLoop } from "../lib/anim.js";
import { fetchJSON } from "../lib/api.js";
import { fmtTime } from "../lib/format.js";
import { mountPool } from "./serving-pool.js";
import { mountTimeline, timeSpan, RUNS } from "./serving-timeline.js";
import { stackSvgs } from "./inference.js";
import { ensureStylesheet } from "./collectives-svgchart.js";

const PLAY_SECONDS = 12; // wall-clock seconds a whole run takes to play

/** The moment to show before playing: when the continuous pool is fullest. */
export function busiestTime(data) {
  const s = data.continuous.trace.segments;
  let best = 0;
  for (let i = 1; i < s.blocks.length; i += 1) if (s.blocks[i] > s.blocks[best]) best = i;
  return s.blocks.length ? (s.start[best] + s.end[best]) / 2 : 0;
}

function transport(el, onSeek, onToggle) {
  const play = h("button", { type: "button", class: "srv-play", "aria-pressed": "false" }, "Play");
  const slider = h("input", { type: "range", min: "0", max: "1000", step: "1", value: "0", "aria-label": "Simulated time" });
  const clock = h("output", { class: "srv-clock" }, "0 s");
  play.addEventListener("click", onToggle);
  slider.addEventListener("input", () => onSeek(Number(slider.value) / 1000));
  el.append(play, slider, clock);
  return { play, slider, clock };
}

export function mount(els) {
  const pools = { continuous: mountPool(els.continuous, { label: "KV pool under continuous batching" }), static: mountPool(els.static, { label: "KV pool under static batching" }) };
  const timeline = mountTimeline(els.timeline);
  let data = null;
  let span = 1;
  let t = 0;
  let from = 0;
  const show = (time) => {
    t = Math.max(0, Math.min(span, time));
    for (const r of RUNS) pools[r.key].show(t);
    timeline.playhead(t);
    ui.slider.value = String(Math.round((t / span) * 1000));
    ui.clock.textContent = fmtTime(t);
    els.transport.dataset.time = String(t);
  };
  const loop = createLoop(els.transport, (ms) => {
    show(from + (ms / 1000) * (span / PLAY_SECONDS));
    if (t >= span) {
      setPlaying(false);
      return false;
    }
    return true;
  });
  const setPlaying = (on) => {
    ui.play.setAttribute("aria-pressed", String(on));
    ui.play.textContent = on ? "Pause" : "Play";
  };
  const toggle = () => {
    if (loop.running) {
      loop.stop();
      setPlaying(false);
      return;
    }
    from = t >= span ? 0 : t;
    if (loop.start({ force: true })) setPlaying(true);
  };
  const ui = transport(els.transport, (f) => {
    loop.stop();
    setPlaying(false);
    show(f * span);
  }, toggle);
  return {
    update(next) {
      data = next;
      loop.stop();
      setPlaying(false);
      if (!data.continuous.trace) return;
      span = timeSpan(data);
      for (const r of RUNS) pools[r.key].setRun(data[r.key], data.num_blocks);
      timeline.update(data);
      show(busiestTime(data));
      from = 0;
      if (loop.start()) setPlaying(true);
    },
    exportSvg() {
      return stackSvgs(els.timeline, [pools.continuous.exportSvg(), pools.static.exportSvg(), timeline.exportSvg()]);
    },
    destroy() {
      loop.destroy();
      timeline.destroy();
      for (const r of RUNS) pools[r.key].destroy();
    },
  };
}

/** The home gallery's preview: a small pool under continuous batching, at its fullest. */
export async function preview(el) {
  ensureStylesheet("/static/css/views/serving.css");
  const data = await fetchJSON("/api/v1/inference/batching?num_blocks=400&requests=60&rate=30");
  const pool = mountPool(el, { label: "KV pool under continuous batching", maxHeight: 150 });
  pool.setRun(data.continuous, data.num_blocks);
  requestAnimationFrame(() => pool.show(busiestTime(data)));
}
