// Pointer, wheel and keyboard on a pipeline lane's canvas: hover shows an op and its
// dependency chain, a click or tap pins it (again: unpins), drag (or a sideways finger)
// scrubs, Ctrl + wheel zooms, arrow keys / Home / End / space / + / − drive the playhead and
// Enter pins the op at the playhead. `view` is a PipelineView.
import { eventToElementCoordinates } from "../lib/canvas.js";
import { fmtNum } from "../lib/format.js";
import { showTip, hideTip } from "../lib/tooltip.js";
import { activationAt, dependencyChain, opAt } from "./pipeline-data.js";
import { opLines } from "./pipeline-text.js";

/** Wire every handler of `canvas` (lane index `q` of `view`). */
export function attachPointer(view, canvas) {
  const at = (ev) => {
    const q = view.lanes.findIndex((L) => L.canvas === canvas);
    if (q < 0) return null;
    const L = view.lanes[q];
    const { x, y } = eventToElementCoordinates(ev, canvas);
    return { q, L, x, hit: L.lane.hit(x, y) };
  };
  let touch = null; // {x} while a finger is down and has not started to scrub
  let dragging = false;
  let press = null; // {x, y} where the mouse went down: a click if it comes up there

  const startDrag = (ev) => {
    dragging = true;
    canvas.setPointerCapture(ev.pointerId);
    view.pause();
    hideTip();
    view.setHover(null);
  };
  const move = (ev) => {
    const a = at(ev);
    if (!a) return;
    if (touch && !dragging) {
      // a finger scrubs once it has moved sideways; a tap shows the op (see up)
      if (Math.abs(ev.clientX - touch.x) < 8) return;
      startDrag(ev);
    }
    if (dragging) view.seek(a.hit.t);
    else describe(view, a, ev);
  };
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerleave", (ev) => {
    if (ev.pointerType === "touch") return; // a tap's tooltip stays until the next touch
    hideTip();
    view.setHover(null);
  });
  canvas.addEventListener("pointerdown", (ev) => {
    const a = at(ev);
    if (!a || ev.button !== 0 || a.hit.area === null || a.hit.area === "labels") return;
    if (ev.pointerType === "touch") touch = { x: ev.clientX };
    else {
      press = { x: ev.clientX, y: ev.clientY };
      startDrag(ev);
      view.seek(a.hit.t);
    }
  });
  const up = (ev) => {
    const tap = touch && !dragging;
    const click = press && Math.hypot(ev.clientX - press.x, ev.clientY - press.y) < 4;
    touch = null;
    press = null;
    dragging = false;
    if (ev.type !== "pointerup" || !(tap || click)) return;
    if (tap) move(ev); // a tap: the same tooltip and chain as hover
    const a = at(ev);
    const i = a ? opUnder(view, a) : -1;
    if (i >= 0) view.pin(a.q, i);
  };
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  canvas.addEventListener("wheel", (ev) => wheel(view, at(ev), ev), { passive: false });
  canvas.addEventListener("keydown", (ev) => {
    const a = ev.key === "Enter" ? view.lanes.findIndex((L) => L.canvas === canvas) : -1;
    if (a >= 0) enter(view, a);
    else key(view, ev);
  });
}

/** The op under the pointer (2 px of slack for thin ops), or −1. */
function opUnder(view, { L, hit }) {
  if (hit.area !== "rows") return -1;
  const tol = (2 * (view.d1 - view.d0)) / Math.max(1, L.lane.L.right - L.lane.L.left);
  return opAt(L.P, hit.rank, hit.t, tol, hit.lower);
}

/** Hover: the op under the pointer with its chain, else what the empty spot means. */
function describe(view, a, ev) {
  const { q, L, hit } = a;
  const P = L.P;
  if (hit.area === "rows") {
    const i = opUnder(view, a);
    if (i >= 0) {
      if (!view.hover || view.hover.laneIndex !== q || view.hover.chain.focus !== i) {
        view.setHover({ laneIndex: q, chain: dependencyChain(P, i) });
      }
      showTip(ev, opLines(P, i, L.name));
      L.canvas.style.cursor = "crosshair";
      return;
    }
  }
  view.setHover(null);
  const inside = hit.rank >= 0 && hit.rank < P.ranks && hit.t >= 0 && hit.t <= P.makespan;
  if (inside && hit.area === "strip") {
    showTip(ev, [
      `rank ${hit.rank} · activations`,
      ["time", P.time.fmt(hit.t, 4)],
      ["microbatches in flight", fmtNum(activationAt(P, hit.rank, hit.t), 4)],
      ["peak on this rank", fmtNum(P.peak[hit.rank], 4)],
    ]);
  } else if (inside && hit.area === "rows") {
    showTip(ev, [`rank ${hit.rank} · idle`, ["time", P.time.fmt(hit.t, 4)], "bubble: the rank waits for data from a neighbour"]);
  } else if (hit.area === "rows" && view.lanes.length > 1 && hit.t > P.makespan && hit.t <= view.tEnd) {
    const tEnd = view.tEnd;
    showTip(ev, [`${L.name} is done`, ["its makespan", P.time.fmt(P.makespan, 6)], ["the other ends at", P.time.fmt(tEnd, 6)], `${P.time.fmt(tEnd - P.makespan, 4)}${P.time.seconds ? "" : ` ${P.time.unit}`} sooner`]);
  } else {
    hideTip();
  }
}

/** Ctrl/⌘ + wheel zooms around the pointer; a sideways wheel pans a zoomed chart. */
function wheel(view, a, ev) {
  if (!a) return;
  const L = a.L.lane;
  if (ev.ctrlKey || ev.metaKey) {
    ev.preventDefault();
    view.zoomAt(L.tOf(a.x), Math.exp(-ev.deltaY * 0.004));
  } else if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY) && view.d1 - view.d0 < view.tEnd) {
    ev.preventDefault();
    const dt = (ev.deltaX * (view.d1 - view.d0)) / (L.L.right - L.L.left);
    view.setWindow(view.d0 + dt, view.d1 + dt);
  }
}

/** Enter: pin (or unpin) the op at the playhead on the pinned op's rank, else the first busy one. */
function enter(view, q) {
  const P = view.lanes[q].P;
  const pin = view.pinned && view.pinned.laneIndex === q ? view.pinned.chain.focus : -1;
  const ranks = pin >= 0 ? [P.rank[pin]] : Array.from({ length: P.ranks }, (_, r) => r);
  for (const r of ranks) {
    const i = opAt(P, r, view.t);
    if (i >= 0) return view.pin(q, i);
  }
  if (pin >= 0) view.unpin();
}

function key(view, ev) {
  const actions = {
    ArrowRight: () => view.step(1),
    ArrowLeft: () => view.step(-1),
    Home: () => view.jump(false),
    End: () => view.jump(true),
    " ": () => view.playPause(),
    k: () => view.playPause(),
    "+": () => view.zoomAt(view.t, 2),
    "=": () => view.zoomAt(view.t, 2),
    "-": () => view.zoomAt(view.t, 0.5),
  };
  const action = actions[ev.key];
  if (!action) return;
  if (!["+", "=", "-"].includes(ev.key)) ev.preventDefault();
  action();
}
