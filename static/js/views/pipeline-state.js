// The pipeline view's frame as URL values: the playhead `t`, the visible time window
// `from`..`to` and the pinned op `op` (its index in the API's `ops`, "race.<i>" for the raced
// schedule's). Times are in the answer's own unit (cost units, or seconds with a model). A
// value that does not fit the schedule on screen is ignored: the view keeps its default.
// `view` is a PipelineView.

/** A URL value as a number; NaN when absent or empty (Number("") would be 0). */
function num(raw) {
  return typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
}

/** A time for the URL: six significant digits, the end exactly. */
function timeText(view, t) {
  return String(t >= view.tEnd ? view.tEnd : Number(t.toPrecision(6)));
}

/** The op named by an `op` value: {laneIndex, i}, or null if there is no such op. */
export function parseOp(view, raw) {
  const m = typeof raw === "string" ? /^(race\.)?(\d+)$/.exec(raw) : null;
  if (!m) return null;
  const laneIndex = m[1] ? 1 : 0;
  const i = Number(m[2]);
  const L = view.lanes[laneIndex];
  return L && i < L.P.n ? { laneIndex, i } : null;
}

/**
 * Show the frame that `raw` ({t, from, to, op}: strings or null) names, each value on its own.
 * Returns true when it set the playhead (the view then opens paused there).
 */
export function applyFrame(view, raw) {
  const end = view.tEnd;
  const eps = end * 1e-6; // the URL's six digits may put the end a hair past it
  const from = num(raw.from);
  const to = num(raw.to);
  if (from >= 0 && to <= end + eps && to - from >= end / 2048 - eps && to - from < end - eps) {
    view.setDomain(from, Math.min(to, end));
  }
  const op = parseOp(view, raw.op);
  if (op) view.pin(op.laneIndex, op.i, false);
  const t = num(raw.t);
  if (!(t >= 0 && t <= end + eps)) return false;
  view.hold(Math.min(t, end));
  return true;
}

/** The frame on screen as URL values; null where it is the default (keys left out). */
export function frameOf(view) {
  const zoomed = view.d1 - view.d0 < view.tEnd * 0.999;
  const pin = view.pinned;
  return {
    t: view.held ? timeText(view, view.t) : null,
    from: zoomed ? timeText(view, view.d0) : null,
    to: zoomed ? timeText(view, view.d1) : null,
    op: pin ? `${pin.laneIndex ? "race." : ""}${pin.chain.focus}` : null,
  };
}
