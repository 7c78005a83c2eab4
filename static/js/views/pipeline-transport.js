// The pipeline view's transport bar: play / pause, speed, the time slider, its readout, and
// the zoom buttons. DOM only; what each control does is the view's (callbacks in `on`).
import { h } from "../lib/dom.js";
import { fmtNum } from "../lib/format.js";

export const SPEEDS = [0.5, 1, 2, 4, 8];

/**
 * on: {playPause(), speed(s), scrub(t), step(dir), zoom(factor | "fit")}.
 * Returns {el, showPlaying(on, atEnd), showTime(t, tEnd), setSpeed(s), setZoom(z), setEnd(tEnd)}.
 */
export function createTransport(on) {
  const playBtn = h("button", { type: "button", class: "pl-play primary", "aria-label": "Play" }, "▶ Play");
  const speedSel = h("select", { "aria-label": "Playback speed", class: "pl-speed" }, SPEEDS.map((s) => h("option", { value: String(s) }, `${s}×`)));
  const scrub = h("input", { type: "range", min: "0", max: "1", step: "any", value: "0", "aria-label": "Playhead time", class: "pl-scrub" });
  const readout = h("output", { class: "pl-readout", "aria-live": "off" }, "t = 0");
  const zoomOut = h("button", { type: "button", title: "Zoom out (time axis)", "aria-label": "Zoom out" }, "−");
  const zoomIn = h("button", { type: "button", title: "Zoom in (time axis; also Ctrl + wheel on the chart)", "aria-label": "Zoom in" }, "+");
  const zoomFit = h("button", { type: "button", title: "Show the whole schedule", "aria-label": "Zoom to fit" }, "fit");
  const zoomLabel = h("span", { class: "pl-zoom-label muted" }, "");
  const el = h(
    "div",
    { class: "pl-transport" },
    playBtn,
    h("label", { class: "pl-speed-label" }, h("span", { class: "muted" }, "speed"), speedSel),
    h("label", { class: "pl-scrub-label" }, h("span", { class: "visually-hidden" }, "time"), scrub),
    readout,
    h("span", { class: "pl-zoom segmented", role: "group", "aria-label": "Zoom the time axis" }, zoomOut, zoomFit, zoomIn),
    zoomLabel,
  );

  playBtn.addEventListener("click", () => on.playPause());
  speedSel.addEventListener("change", () => on.speed(Number(speedSel.value) || 1));
  scrub.addEventListener("input", () => on.scrub(Number(scrub.value)));
  scrub.addEventListener("keydown", (ev) => {
    const dir = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[ev.key];
    if (!dir) return;
    ev.preventDefault();
    on.step(dir);
  });
  zoomIn.addEventListener("click", () => on.zoom(2));
  zoomOut.addEventListener("click", () => on.zoom(0.5));
  zoomFit.addEventListener("click", () => on.zoom("fit"));

  return {
    el,
    showPlaying(playing, atEnd) {
      playBtn.textContent = playing ? "❚❚ Pause" : atEnd ? "↺ Replay" : "▶ Play";
      playBtn.setAttribute("aria-label", playing ? "Pause" : "Play");
    },
    /** `fmt` writes a time in the answer's unit (pipeline-data.js `timeFormat`). */
    showTime(t, tEnd, fmt = fmtNum) {
      scrub.value = String(t);
      readout.textContent = `t = ${fmt(t, 6)} / ${fmt(tEnd, 6)}`;
    },
    setSpeed(s) {
      speedSel.value = String(s);
    },
    setEnd(tEnd) {
      scrub.max = String(tEnd);
    },
    setZoom(z) {
      zoomLabel.textContent = z > 1.01 ? `${fmtNum(z, 3)}× zoom` : "";
      zoomOut.disabled = z <= 1.001;
      zoomFit.disabled = z <= 1.001;
    },
  };
}
