// /serving's drawings from one /api/v1/inference/batching answer: the two KV pools (continuous
// and static batching) side by side, replayed on one simulated clock, and the timelines under
// them. The clock plays in simulated time (scaled so a run lasts a few seconds), pauses when
// the view is off-screen, and does not run under prefers-reduced-motion.
//
// mount({continuous, static, timeline, transport}, {t, onPause, onPick}) -> {update(data),
// setPin(request), exportSvg(), destroy()}: `t` (simulated seconds, or null) opens the first
// answer paused there; onPause(t) runs when the reader pauses or lets go of the slider (not
// every frame); a click on a held block calls onPick(request), whose blocks are outlined.
import { h } from "../lib/dom.js";
import { createLoop } from "../lib/anim.js";
import { fetchJSON } from "../lib/api.js";
import { fmtInt, fmtTime } from "../lib/format.js";
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

/** A request's lines for its pinned detail: its lengths and its times under both batchings. */
export function requestLines(data, r) {
  const c = data.continuous.trace.requests;
  const lines = [`Request ${r}`, ["prompt / output", `${fmtInt(c.prompt[r])} / ${fmtInt(c.output[r])} tokens`], ["arrived", fmtTime(c.arrival[r])]];
  for (const run of RUNS) lines.push([`finished, ${run.title}`, fmtTime(data[run.key].trace.requests.finish[r])]);
  return lines;
}

function transport(el, onSeek, onToggle, onRelease) {
  const play = h("button", { type: "button", class: "srv-play", "aria-pressed": "false" }, "Play");
  const slider = h("input", { type: "range", min: "0", max: "1000", step: "1", value: "0", "aria-label": "Simulated time" });
  const clock = h("output", { class: "srv-clock" }, "0 s");
  play.addEventListener("click", onToggle);
  slider.addEventListener("input", () => onSeek(Number(slider.value) / 1000));
  slider.addEventListener("change", onRelease);
  el.append(play, slider, clock);
  return { play, slider, clock };
}

export function mount(els, { t: held = null, onPause = () => {}, onPick = null } = {}) {
  const pools = { continuous: mountPool(els.continuous, { label: "KV pool under continuous batching", onPick }), static: mountPool(els.static, { label: "KV pool under static batching", onPick }) };
  let start = held; // a playhead from the URL: the first answer opens paused there
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
      onPause(t);
      return;
    }
    from = t >= span ? 0 : t;
    if (loop.start({ force: true })) setPlaying(true);
  };
  const ui = transport(els.transport, (f) => {
    loop.stop();
    setPlaying(false);
    show(f * span);
  }, toggle, () => onPause(t));
  return {
    update(next) {
      data = next;
      loop.stop();
      setPlaying(false);
      if (!data.continuous.trace) return;
      span = timeSpan(data);
      for (const r of RUNS) pools[r.key].setRun(data[r.key], data.num_blocks);
      timeline.update(data);
      if (start !== null && start >= 0 && start <= span) {
        show(start); // paused at the URL's frame; play resumes from there
        requestAnimationFrame(() => timeline.playhead(t)); // once the timeline is drawn
        start = null;
        return;
      }
      start = null; // a time past this run is no playhead
      show(busiestTime(data));
      from = 0;
      if (loop.start()) setPlaying(true);
    },
    setPin(request) {
      for (const r of RUNS) pools[r.key].setPin(request);
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
