// Pipeline schedule as an animated Gantt chart: ranks as rows, time as x, ops coloured by
// kind, bubbles hatched, a playhead that sweeps time (play / pause / speed / scrub / drag),
// hover for an op's dependency chain, and one or two schedules (race) on one time scale.
//
// mount(el, {lanes: [{data, name}], speed, onSpeed}) -> {update, destroy, exportSvg}
// preview(el): a small looping 1F1B (p = 4, m = 8) for the home gallery.
import { h, clear } from "../lib/dom.js";
import { fetchJSON } from "../lib/api.js";
import { createLoop, prefersReducedMotion } from "../lib/anim.js";
import { eventToElementCoordinates, onResize } from "../lib/canvas.js";
import { onThemeChange } from "../lib/colors.js";
import { fmtNum, fmtPct } from "../lib/format.js";
import { showTip, hideTip } from "../lib/tooltip.js";
import { packSchedule, opAt, dependencyChain, activationAt, overlapPartner, KINDS } from "./pipeline-data.js";
import { Lane } from "./pipeline-lane.js";
import { scheduleSvg } from "./pipeline-svg.js";

export const SPEEDS = [0.5, 1, 2, 4, 8];
/** Seconds the whole schedule takes to play at 1×. */
export const PLAY_SECONDS = 8;

const KIND_NAMES = { F: "forward", B: "backward", I: "backward (inputs)", W: "backward (weights)" };

export function mount(el, state) {
  let lanes = []; // {P, data, name, lane, canvas, head}
  let speed = SPEEDS.includes(state.speed) ? state.speed : 1;
  let onSpeed = state.onSpeed || null;
  let t = 0;
  let tEnd = 1;
  let d0 = 0;
  let d1 = 1;
  let anchorT = 0;
  let rate = 0;
  let hover = null; // {laneIndex, chain}
  let dragging = false;
  let touch = null; // {x} while a finger is down and has not started to scrub
  let draws = 0;
  let width = 0;
  let redrawQueued = 0;
  let lastLoopPaint = -1e9;
  let stalled = 0; // ms of slow frames not counted as playing time
  let renders = 0;
  let paintMs = 0;

  const playBtn = h("button", { type: "button", class: "pl-play primary", "aria-label": "Play" }, "▶ Play");
  const speedSel = h(
    "select",
    { "aria-label": "Playback speed", class: "pl-speed" },
    SPEEDS.map((s) => h("option", { value: String(s) }, `${s}×`)),
  );
  const scrub = h("input", { type: "range", min: "0", max: "1", step: "any", value: "0", "aria-label": "Playhead time (cost units)", class: "pl-scrub" });
  const readout = h("output", { class: "pl-readout", "aria-live": "off" }, "t = 0");
  const zoomOut = h("button", { type: "button", title: "Zoom out (time axis)", "aria-label": "Zoom out" }, "−");
  const zoomIn = h("button", { type: "button", title: "Zoom in (time axis; also Ctrl + wheel on the chart)", "aria-label": "Zoom in" }, "+");
  const zoomFit = h("button", { type: "button", title: "Show the whole schedule", "aria-label": "Zoom to fit" }, "fit");
  const zoomLabel = h("span", { class: "pl-zoom-label muted" }, "");
  const transport = h(
    "div",
    { class: "pl-transport" },
    playBtn,
    h("label", { class: "pl-speed-label" }, h("span", { class: "muted" }, "speed"), speedSel),
    h("label", { class: "pl-scrub-label" }, h("span", { class: "visually-hidden" }, "time"), scrub),
    readout,
    h("span", { class: "pl-zoom segmented", role: "group", "aria-label": "Zoom the time axis" }, zoomOut, zoomFit, zoomIn),
    zoomLabel,
  );
  const live = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const lanesEl = h("div", { class: "pl-lanes" });
  const legendEl = h("div", { class: "legend pl-legend" });
  const root = h("div", { class: "pl-view", dataset: { playhead: "0", draws: "0" } }, transport, live, lanesEl, legendEl);
  el.append(root);

  // ---- clock: every frame is derived from the playhead time t ----
  const loop = createLoop(root, (elapsed) => {
    t = Math.min(tEnd, anchorT + (elapsed - stalled) * rate);
    follow();
    lastLoopPaint = performance.now();
    paint();
    // a frame that re-rendered the buffers (first frame of a big schedule, or a zoomed view
    // paging to follow the playhead) can take 100+ ms: do not let the playhead leap over it
    const took = performance.now() - lastLoopPaint;
    if (took > 50) stalled += took;
    if (t >= tEnd) {
      setPlaying(false);
      return false;
    }
    return true;
  });

  function setRate() {
    rate = (tEnd / (PLAY_SECONDS * 1000)) * speed;
  }

  function setPlaying(on) {
    playBtn.textContent = on ? "❚❚ Pause" : t >= tEnd ? "↺ Replay" : "▶ Play";
    playBtn.setAttribute("aria-label", on ? "Pause" : "Play");
    root.dataset.playing = on ? "1" : "0";
  }

  function play(force = true) {
    if (t >= tEnd) t = 0;
    anchorT = t;
    stalled = 0;
    setRate();
    const ok = loop.start({ force });
    setPlaying(ok);
    return ok;
  }

  function pause() {
    loop.stop();
    setPlaying(false);
  }

  playBtn.addEventListener("click", () => (loop.running ? pause() : play(true)));
  speedSel.addEventListener("change", () => {
    speed = Number(speedSel.value) || 1;
    if (onSpeed) onSpeed(speed);
    if (loop.running) play(true);
  });
  scrub.addEventListener("input", () => {
    pause();
    t = Math.min(tEnd, Math.max(0, Number(scrub.value)));
    follow();
    requestPaint();
  });

  scrub.addEventListener("keydown", (ev) => {
    const dir = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[ev.key];
    if (!dir) return;
    ev.preventDefault();
    pause();
    t = Math.min(tEnd, Math.max(0, t + (dir * tEnd) / 100));
    follow();
    requestPaint();
    announce();
  });

  /** For keyboard and screen-reader users: what every rank runs at the playhead. */
  function announce() {
    const parts = [`t = ${fmtNum(t, 4)}`];
    for (const L of lanes) {
      const P = L.P;
      const ranks = [];
      for (let r = 0; r < Math.min(P.ranks, 16); r++) {
        const i = opAt(P, r, t);
        ranks.push(`rank ${r} ${i >= 0 ? `${KINDS[P.kind[i]]}${P.mb[i]}` : "idle"}`);
      }
      parts.push(`${L.name}: ${ranks.join(", ")}${P.ranks > 16 ? ", …" : ""}`);
    }
    live.textContent = parts.join(". ");
  }

  // ---- zoom on the time axis ----
  function setDomain(a, b) {
    const span = Math.max(tEnd / 2048, Math.min(tEnd, b - a));
    let lo = Math.max(0, a);
    if (lo + span > tEnd) lo = tEnd - span;
    d0 = Math.max(0, lo);
    d1 = d0 + span;
    for (const L of lanes) L.lane.setDomain(d0, d1);
    const z = tEnd / (d1 - d0);
    zoomLabel.textContent = z > 1.01 ? `${fmtNum(z, 3)}× zoom` : "";
    zoomOut.disabled = z <= 1.001;
    zoomFit.disabled = z <= 1.001;
    requestPaint();
  }
  function zoomAt(center, factor) {
    const span = (d1 - d0) / factor;
    const frac = (center - d0) / (d1 - d0 || 1);
    setDomain(center - frac * span, center - frac * span + span);
  }
  zoomIn.addEventListener("click", () => zoomAt(t > d0 && t < d1 ? t : (d0 + d1) / 2, 2));
  zoomOut.addEventListener("click", () => zoomAt(t > d0 && t < d1 ? t : (d0 + d1) / 2, 0.5));
  zoomFit.addEventListener("click", () => setDomain(0, tEnd));

  /** While zoomed, keep the playhead in view. */
  function follow() {
    if (d1 - d0 >= tEnd * 0.999) return;
    if (t > d1 - (d1 - d0) * 0.02 || t < d0) {
      const span = d1 - d0;
      setDomain(t - span * 0.1, t + span * 0.9);
    }
  }

  // ---- painting: at most once per animation frame ----
  function paint() {
    const p0 = performance.now();
    redrawQueued = 0;
    for (let q = 0; q < lanes.length; q++) {
      const L = lanes[q];
      L.lane.paint(t, hover && hover.laneIndex === q ? hover.chain : null, true);
    }
    draws++;
    root.dataset.draws = String(draws);
    if (lanes.length && lanes[0].lane.renders !== renders) {
      renders = lanes[0].lane.renders;
      root.dataset.renders = String(renders);
      root.dataset.renderMs = lanes.map((L) => (L.lane.lastRenderMs || 0).toFixed(1)).join(",");
    }
    root.dataset.playhead = String(t);
    // the slider and the readout are DOM: while playing, refresh them at ~15 Hz, not 60
    if (!loop.running || draws % 4 === 0 || t >= tEnd) {
      scrub.value = String(t);
      readout.textContent = `t = ${fmtNum(t, 6)} / ${fmtNum(tEnd, 6)}`;
    }
    // mean cost of one paint over the last 30, for bench/bench_pipeline_page.py
    paintMs += performance.now() - p0;
    if (draws % 30 === 0) {
      root.dataset.paintMs = (paintMs / 30).toFixed(2);
      paintMs = 0;
    }
  }
  function requestPaint() {
    if (redrawQueued) return;
    redrawQueued = requestAnimationFrame(() => {
      redrawQueued = 0;
      // a ticking loop paints every frame anyway: never paint twice in one frame
      if (loop.running && performance.now() - lastLoopPaint < 100) return;
      paint();
    });
  }

  // ---- pointer: hover tooltips + chains, drag to scrub, ctrl+wheel to zoom ----
  function laneOf(canvas) {
    return lanes.findIndex((L) => L.canvas === canvas);
  }
  function onMove(ev) {
    const q = laneOf(ev.currentTarget);
    if (q < 0) return;
    const L = lanes[q];
    const { x, y } = eventToElementCoordinates(ev, L.canvas);
    const hit = L.lane.hit(x, y);
    if (touch && !dragging) {
      // a finger scrubs once it has moved sideways; a tap shows the op (see onUp)
      if (Math.abs(ev.clientX - touch.x) < 8) return;
      startDrag(L, ev);
    }
    if (dragging) {
      t = Math.min(tEnd, Math.max(0, hit.t));
      requestPaint();
      return;
    }
    const P = L.P;
    if (hit.area === "rows") {
      const tol = (2 * (d1 - d0)) / Math.max(1, L.lane.L.right - L.lane.L.left);
      const i = opAt(P, hit.rank, hit.t, tol, hit.lower);
      if (i >= 0) {
        if (!hover || hover.laneIndex !== q || hover.chain.focus !== i) {
          hover = { laneIndex: q, chain: dependencyChain(P, i) };
          requestPaint();
        }
        showTip(ev, opLines(P, i, L.name));
        L.canvas.style.cursor = "crosshair";
        return;
      }
    }
    clearHover();
    const inside = hit.rank >= 0 && hit.rank < P.ranks && hit.t >= 0 && hit.t <= P.makespan;
    if (inside && hit.area === "strip") {
      const c = activationAt(P, hit.rank, hit.t);
      showTip(ev, [
        `rank ${hit.rank} · activations`,
        ["time", fmtNum(hit.t, 4)],
        ["microbatches in flight", fmtNum(c, 4)],
        ["peak on this rank", fmtNum(peakOf(L.data, hit.rank), 4)],
      ]);
    } else if (inside && hit.area === "rows") {
      showTip(ev, [`rank ${hit.rank} · idle`, ["time", fmtNum(hit.t, 4)], "bubble: the rank waits for data from a neighbour"]);
    } else if (hit.area === "rows" && lanes.length > 1 && hit.t > P.makespan && hit.t <= tEnd) {
      showTip(ev, [`${L.name} is done`, ["its makespan", fmtNum(P.makespan, 6)], ["the other ends at", fmtNum(tEnd, 6)], `${fmtNum(tEnd - P.makespan, 4)} cost units sooner`]);
    } else {
      hideTip();
    }
  }
  function clearHover() {
    if (hover) {
      hover = null;
      requestPaint();
    }
  }
  function onLeave(ev) {
    if (ev.pointerType === "touch") return; // a tap's tooltip stays until the next touch
    hideTip();
    clearHover();
  }
  function onDown(ev) {
    const q = laneOf(ev.currentTarget);
    if (q < 0 || ev.button !== 0) return;
    const L = lanes[q];
    const { x, y } = eventToElementCoordinates(ev, L.canvas);
    const hit = L.lane.hit(x, y);
    if (hit.area === null || hit.area === "labels") return;
    if (ev.pointerType === "touch") {
      touch = { x: ev.clientX };
      return;
    }
    startDrag(L, ev);
    t = Math.min(tEnd, Math.max(0, hit.t));
    requestPaint();
  }
  function startDrag(L, ev) {
    dragging = true;
    L.canvas.setPointerCapture(ev.pointerId);
    pause();
    hideTip();
    clearHover();
  }
  function onUp(ev) {
    const tap = touch && !dragging;
    touch = null;
    dragging = false;
    if (tap && ev.type === "pointerup") onMove(ev); // a tap: the same tooltip and chain as hover
  }
  function onWheel(ev) {
    const q = laneOf(ev.currentTarget);
    if (q < 0) return;
    const L = lanes[q];
    if (ev.ctrlKey || ev.metaKey) {
      ev.preventDefault();
      const { x } = eventToElementCoordinates(ev, L.canvas);
      zoomAt(L.lane.tOf(x), Math.exp(-ev.deltaY * 0.004));
    } else if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY) && d1 - d0 < tEnd) {
      ev.preventDefault();
      const dt = (ev.deltaX * (d1 - d0)) / (L.lane.L.right - L.lane.L.left);
      setDomain(d0 + dt, d1 + dt);
    }
  }
  function onKey(ev) {
    const step = (d1 - d0) / 100;
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      ev.preventDefault();
      pause();
      t = Math.min(tEnd, Math.max(0, t + (ev.key === "ArrowRight" ? step : -step)));
      follow();
      requestPaint();
      announce();
    } else if (ev.key === "Home" || ev.key === "End") {
      ev.preventDefault();
      pause();
      t = ev.key === "Home" ? 0 : tEnd;
      setPlaying(false);
      if (ev.key === "Home") setDomain(d0 > 0 ? 0 : d0, d0 > 0 ? d1 - d0 : d1);
      else follow();
      requestPaint();
      announce();
    } else if (ev.key === " " || ev.key === "k") {
      ev.preventDefault();
      if (loop.running) pause();
      else play(true);
    } else if (ev.key === "+" || ev.key === "=") {
      zoomAt(t, 2);
    } else if (ev.key === "-") {
      zoomAt(t, 0.5);
    }
  }

  function buildLanes(specs) {
    for (const L of lanes) L.section.remove();
    lanes = specs.map((spec) => {
      const P = packSchedule(spec.data);
      const canvas = h("canvas", {
        class: "pl-canvas",
        tabindex: "0",
        role: "img",
        "aria-label": `${spec.name}: Gantt chart of ${P.ranks} ranks over time; arrow keys move the playhead, Home and End jump to the start and the end, space plays or pauses, + and − zoom`,
      });
      canvas.addEventListener("pointermove", onMove);
      canvas.addEventListener("pointerleave", onLeave);
      canvas.addEventListener("pointerdown", onDown);
      canvas.addEventListener("pointerup", onUp);
      canvas.addEventListener("pointercancel", onUp);
      canvas.addEventListener("wheel", onWheel, { passive: false });
      canvas.addEventListener("keydown", onKey);
      const head = laneHead(spec);
      const section = h(
        "section",
        { class: "pl-lane", dataset: { schedule: spec.data.schedule || "" } },
        head,
        h("div", { class: "pl-canvas-wrap" }, canvas),
        orderText(P, spec.name),
      );
      lanesEl.append(section);
      const lane = new Lane(canvas);
      lane.setData(P);
      return { P, data: spec.data, name: spec.name, lane, canvas, section };
    });
    tEnd = Math.max(1e-9, ...lanes.map((L) => L.P.makespan));
    const actMax = Math.max(1, ...lanes.map((L) => L.P.actMax));
    for (const L of lanes) {
      L.lane.actMax = actMax;
      L.lane.raceEnd = lanes.length > 1 ? tEnd : 0;
    }
    buildLegend(actMax);
    scrub.max = String(tEnd);
    hover = null;
    if (width > 0) for (const L of lanes) L.lane.resize(width);
    setDomain(0, tEnd);
  }

  function buildLegend(actMax) {
    clear(legendEl);
    const present = [false, false, false, false];
    let overlap = false;
    for (const L of lanes) {
      L.P.kindsPresent.forEach((v, k) => (present[k] = present[k] || v));
      overlap = overlap || L.P.anyOverlap;
    }
    KINDS.forEach((k, idx) => {
      if (!present[idx]) return;
      const sw = h("span", { class: `swatch pl-sw-${k.toLowerCase()}` });
      legendEl.append(h("span", { class: "legend-item" }, sw, `${k} ${KIND_NAMES[k]}`));
    });
    if (lanes.some((L) => L.P.chunks > 1)) {
      legendEl.append(
        h("span", { class: "legend-item" }, h("span", { class: "swatch pl-sw-f" }), h("span", { class: "swatch pl-sw-f pl-sw-alt" }), "chunk 0 · chunk 1 (odd chunks shaded)"),
      );
    }
    if (overlap) {
      legendEl.append(h("span", { class: "legend-item" }, h("span", { class: "swatch pl-sw-fb" }), "F&B overlapped (one span, label F|B microbatch)"));
    }
    legendEl.append(h("span", { class: "legend-item" }, h("span", { class: "swatch hatched" }), "idle (bubble)"));
    legendEl.append(h("span", { class: "legend-item" }, h("span", { class: "pl-playhead-swatch" }), "playhead (faded ops are still to come)"));
    legendEl.append(
      h(
        "span",
        { class: "legend-item pl-heat-legend" },
        "activations in flight: 0",
        h("span", { class: "pl-heat-ramp" }),
        fmtNum(actMax, 3),
        " microbatches",
      ),
    );
    legendEl.append(h("span", { class: "legend-item muted" }, "labels: microbatch (·chunk); hover an op for its dependency chain"));
  }

  function laneHead(spec) {
    const d = spec.data;
    const cf = d.closed_form;
    const bits = [
      h("b", { class: "pl-lane-name" }, spec.name),
      h("span", { class: "pl-lane-stat" }, "bubble ", h("b", { class: "mono", dataset: { metric: "bubble" } }, fmtPct(d.bubble_fraction))),
      h("span", { class: "pl-lane-stat" }, "makespan ", h("b", { class: "mono", dataset: { metric: "makespan" } }, fmtNum(d.makespan, 6))),
    ];
    if (cf && cf.applies) bits.push(h("span", { class: "pl-lane-stat muted" }, `closed form ${fmtPct(cf.bubble_fraction)}`));
    return h("header", { class: "pl-lane-head" }, ...bits);
  }

  function relayout(w) {
    width = w;
    for (const L of lanes) L.lane.resize(w);
    paint(); // now, before the resized (cleared) canvases reach the screen
  }
  const stopResize = onResize(lanesEl, relayout);
  const stopTheme = onThemeChange(() => {
    for (const L of lanes) L.lane.themeChanged();
    requestPaint();
  });

  function start(autoplay) {
    t = 0;
    if (!autoplay || !play(false)) {
      // reduced motion (or no autoplay): show the final state, the user can still play
      loop.stop();
      t = tEnd;
      setPlaying(false);
      requestPaint();
    }
  }

  function update(next) {
    if (next.speed && next.speed !== speed) {
      speed = next.speed;
      speedSel.value = String(speed);
      if (loop.running) play(true);
    }
    if (next.onSpeed) onSpeed = next.onSpeed;
    const same =
      next.lanes &&
      next.lanes.length === lanes.length &&
      next.lanes.every((s, q) => s.data === lanes[q].data && s.name === lanes[q].name);
    if (next.lanes && !same) {
      pause();
      buildLanes(next.lanes);
      start(next.autoplay !== false);
    }
  }

  speedSel.value = String(speed);
  update({ ...state, speed });

  return {
    update,
    get playhead() {
      return t;
    },
    play: () => play(true),
    pause,
    exportSvg() {
      return scheduleSvg(lanes.map((L) => ({ P: L.P, name: L.name, data: L.data, lane: L.lane })), tEnd);
    },
    destroy() {
      loop.destroy();
      stopResize();
      stopTheme();
      if (redrawQueued) cancelAnimationFrame(redrawQueued);
      hideTip();
      root.remove();
    },
  };
}

/** The per-rank op order as text (a reading of the chart without the canvas), small schedules only. */
export function orderText(P, name, maxOps = 600) {
  if (P.n > maxOps) return null;
  const rows = [];
  for (let r = 0; r < P.ranks; r++) {
    const names = [];
    for (let j = P.rowOffset[r]; j < P.rowOffset[r + 1]; j++) {
      const i = P.rowIdx[j];
      names.push(`${KINDS[P.kind[i]]}${P.mb[i]}${P.chunks > 1 ? `.c${P.chunk[i]}` : ""}${P.overlapped[i] ? "*" : ""}`);
    }
    rows.push(h("li", {}, h("span", { class: "muted" }, `rank ${r}: `), names.join(" ")));
  }
  return h(
    "details",
    { class: "pl-order" },
    h("summary", {}, `${name}: op order per rank, as text`),
    h("ol", { start: "0" }, rows),
    P.anyOverlap ? h("p", { class: "muted" }, "* one overlapped F&B span: the F and B next to each other run together") : null,
  );
}

function peakOf(data, rank) {
  const pr = (data.per_rank || [])[rank];
  return pr ? pr.peak_activations : 0;
}

/** Tooltip lines for op i. */
export function opLines(P, i, name) {
  const k = KINDS[P.kind[i]];
  const lines = [`${k} · microbatch ${P.mb[i]}${P.chunks > 1 ? ` · chunk ${P.chunk[i]}` : ""}`];
  lines.push(["schedule", name]);
  lines.push(["rank", P.rank[i]]);
  lines.push(["stage", P.chunks > 1 ? `${P.stage[i]} (chunk ${P.chunk[i]} of rank ${P.rank[i]})` : P.stage[i]]);
  lines.push(["kind", `${k}, ${KIND_NAMES[k]}`]);
  lines.push(["start", fmtNum(P.start[i], 6)]);
  lines.push(["end", fmtNum(P.end[i], 6)]);
  lines.push(["duration", fmtNum(P.end[i] - P.start[i], 6)]);
  const partner = overlapPartner(P, i);
  if (partner >= 0) {
    lines.push(`overlapped with ${KINDS[P.kind[partner]]} of microbatch ${P.mb[partner]} (chunk ${P.chunk[partner]}): one F&B span, counted once`);
  }
  lines.push("outlined: the ops it waits for; lines: its microbatch's data flow");
  return lines;
}

/** A small looping 1F1B (p = 4, m = 8) for the home gallery. */
export async function preview(el) {
  const data = await fetchJSON("/api/v1/pipeline?schedule=1f1b&stages=4&microbatches=8");
  const P = packSchedule(data);
  const canvas = h("canvas", { class: "pl-preview", "aria-hidden": "true" });
  el.append(canvas);
  const lane = new Lane(canvas, { compact: true });
  lane.setData(P);
  const size = () => {
    lane.resize(Math.max(120, el.clientWidth || 300), Math.max(60, el.clientHeight || 120));
    lane.setDomain(0, P.makespan);
  };
  size();
  onThemeChange(() => {
    lane.themeChanged();
    lane.paint(P.makespan, null, false);
  });
  const cycle = 5000;
  const hold = 1500;
  const loop = createLoop(el, (ms) => {
    const phase = ms % (cycle + hold);
    const tt = Math.min(1, phase / cycle) * P.makespan;
    lane.paint(tt, null, phase < cycle);
    canvas.dataset.painted = "1";
  });
  if (prefersReducedMotion() || !loop.start()) {
    lane.paint(P.makespan, null, false);
    canvas.dataset.painted = "1";
  }
  onResize(el, () => {
    size();
    if (!loop.running) lane.paint(P.makespan, null, false);
  });
}
