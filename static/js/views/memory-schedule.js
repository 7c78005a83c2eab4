// The pipeline panel of /memory: the simulated schedule's bubble and, per stage, a small strip
// of microbatches in flight over one iteration (the API's `schedule.strip`: the peak within
// each equal time slice), with links to the same layout in /pipeline and /mesh. Everything
// drawn comes from the /api/v1/memory answer.
import { h, svg } from "../lib/dom.js";
import { createRedraw } from "../lib/anim.js";
import { onResize } from "../lib/canvas.js";
import { fmtBytes, fmtPct } from "../lib/format.js";

const LABEL_W = 58;
const NARROW = 560; // below this width the right-hand labels drop "in flight"

function fmtCount(x) {
  return Number(x.toFixed(2)).toString();
}

/** Row height: every stage visible, up to 20 px each, the whole strip at most ~320 px. */
function rowHeight(stages) {
  return Math.max(3, Math.min(20, Math.floor(320 / stages)));
}

function stripSvg(data, width, pinned) {
  const sch = data.schedule;
  const rows = sch.strip;
  const rh = rowHeight(rows.length);
  const gap = rh >= 8 ? 2 : 0;
  const top = Math.max(1e-9, ...sch.peak);
  const narrow = width < NARROW;
  const peakW = narrow ? 104 : 150;
  const plotW = Math.max(60, width - LABEL_W - peakW);
  const H = rows.length * (rh + gap) + 18;
  const root = svg("svg", { class: "mem-strip", width, height: H, viewBox: `0 0 ${width} ${H}`, role: "img",
    "aria-label": `Microbatches in flight per stage over one iteration of ${sch.title}` });
  const bucketW = plotW / sch.strip_buckets;
  const labelEvery = rh >= 10 ? 1 : Math.ceil(10 / Math.max(1, rh + gap));
  rows.forEach((counts, r) => {
    const y0 = r * (rh + gap);
    const stage = data.per_stage[r];
    const worst = r === data.worst_stage;
    const g = svg("g", { class: `mem-strip-row${worst ? " worst" : ""}${r === pinned ? " pinned" : ""}`, "data-stage": r, transform: `translate(0,${y0})` });
    g.append(svg("rect", { x: LABEL_W, y: 0, width: plotW, height: rh, class: "mem-strip-bg" }));
    let d = `M${LABEL_W},${rh}`;
    counts.forEach((c, i) => {
      const y = rh - (c / top) * rh;
      d += ` L${LABEL_W + i * bucketW},${y} L${LABEL_W + (i + 1) * bucketW},${y}`;
    });
    d += ` L${LABEL_W + plotW},${rh} Z`;
    g.append(svg("path", { d, class: "mem-strip-area" }));
    const peak = sch.peak[r];
    const act = stage ? stage.activations : 0;
    g.append(svg("title", {}, `Stage ${r}: at most ${fmtCount(peak)} microbatches in flight, ${fmtBytes(act)} of activations`));
    if (r % labelEvery === 0 || worst || r === pinned) {
      g.append(svg("text", { x: LABEL_W - 6, y: rh / 2, "text-anchor": "end", "dominant-baseline": "central", class: "mem-strip-label" }, `stage ${r}`));
      g.append(svg("text", { x: LABEL_W + plotW + 6, y: rh / 2, "dominant-baseline": "central", class: "mem-strip-label" }, narrow ? `${fmtCount(peak)} · ${fmtBytes(act)}` : `${fmtCount(peak)} in flight · ${fmtBytes(act)}`));
    }
    root.append(g);
  });
  const yAxis = rows.length * (rh + gap) + 13;
  root.append(svg("text", { x: LABEL_W, y: yAxis, class: "mem-strip-axis" }, "start"),
    svg("text", { x: LABEL_W + plotW, y: yAxis, "text-anchor": "end", class: "mem-strip-axis" }, "one iteration →"),
    svg("text", { x: LABEL_W + plotW + 6, y: yAxis, class: "mem-strip-axis" }, "peak · bytes"));
  return root;
}

function links(data) {
  const out = [];
  if (data.links.pipeline) out.push(h("a", { href: data.links.pipeline, class: "mem-link" }, "Open this schedule in /pipeline →"));
  if (data.links.mesh) out.push(h("a", { href: data.links.mesh, class: "mem-link" }, "Open these degrees in /mesh →"));
  return h("p", { class: "mem-links" }, ...out);
}

/**
 * Mount the panel in `el`; `update(data)` redraws it from an answer (or hides it), `pin(stage)`
 * marks one stage's row (-1: none).
 */
export function mountSchedule(el, body) {
  let data = null;
  let pinned = -1;
  let width = body.clientWidth || 600;
  function draw() {
    if (!data || !data.schedule) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    const sch = data.schedule;
    const head = h("p", { class: "mem-pipe-head" },
      h("b", {}, sch.title), ` · ${sch.microbatches} microbatches of ${data.query.micro_batch} × ${data.query.seq_len.toLocaleString()} tokens`,
      sch.simulated ? ` · bubble ${fmtPct(sch.bubble_fraction)}` : " · no pipeline: one microbatch in flight");
    const parts = [head];
    if (sch.simulated && sch.strip.length) {
      parts.push(stripSvg(data, width, pinned));
      parts.push(h("p", { class: "mem-note muted" },
        `Each row is one stage: the microbatches whose activations it holds, from the same simulation as /pipeline (F = I = W = 1 cost units). `
        + `The first stage holds the embedding's inputs for ${fmtCount(sch.first_in_flight)}, the last the logits for ${fmtCount(sch.last_in_flight)} at once. Source: ${sch.source}.`));
    }
    parts.push(links(data));
    body.replaceChildren(...parts);
  }
  const redraw = createRedraw(draw);
  onResize(body, (w) => {
    if (Math.abs(w - width) < 2) return;
    width = w;
    redraw();
  });
  return {
    update(next) {
      data = next;
      width = body.clientWidth || width;
      draw();
    },
    pin(stage) {
      if (stage === pinned) return;
      pinned = stage;
      if (data) draw();
    },
  };
}
