// What the pipeline view says in words: lane headers, the legend, tooltips, the op order as
// text and the screen-reader announcement. Every name and figure comes from the payload.
import { h, clear } from "../lib/dom.js";
import { fmtNum, fmtPct } from "../lib/format.js";
import { opAt, overlapPartner, timeFormat } from "./pipeline-data.js";

/** The header above a lane: its name, bubble and makespan (and the paper's bubble). */
export function laneHead(name, data) {
  const cf = data.closed_form;
  return h(
    "header",
    { class: "pl-lane-head" },
    h("b", { class: "pl-lane-name" }, name),
    h("span", { class: "pl-lane-stat" }, "bubble ", h("b", { class: "mono", dataset: { metric: "bubble", value: String(data.bubble_fraction) } }, fmtPct(data.bubble_fraction))),
    h("span", { class: "pl-lane-stat" }, "makespan ", h("b", { class: "mono", dataset: { metric: "makespan", value: String(data.makespan) } }, timeFormat(data).fmt(data.makespan, 6))),
    cf && cf.applies ? h("span", { class: "pl-lane-stat muted" }, `closed form ${fmtPct(cf.bubble_fraction)}`) : null,
  );
}

/** The legend for every kind drawn in any lane, chunk shading, overlap, idle and the heat. */
export function fillLegend(el, lanes, actMax) {
  clear(el);
  const item = (...parts) => el.append(h("span", { class: "legend-item" }, ...parts));
  const { kinds } = lanes[0].P;
  kinds.forEach((k, q) => {
    if (!lanes.some((L) => L.P.kindsPresent[q])) return;
    item(h("span", { class: `swatch pl-sw-${k.kind.toLowerCase()}` }), `${k.kind} ${k.title}`);
  });
  if (lanes.some((L) => L.P.chunks > 1)) {
    item(h("span", { class: "swatch pl-sw-f" }), h("span", { class: "swatch pl-sw-f pl-sw-alt" }), "chunk 0 · chunk 1 (odd chunks shaded)");
  }
  if (lanes.some((L) => L.P.anyOverlap)) item(h("span", { class: "swatch pl-sw-fb" }), "F&B overlapped (one span, label F|B microbatch)");
  item(h("span", { class: "swatch hatched" }), "idle (bubble)");
  item(h("span", { class: "pl-playhead-swatch" }), "playhead (faded ops are still to come)");
  el.append(h("span", { class: "legend-item pl-heat-legend" }, "activations in flight: 0", h("span", { class: "pl-heat-ramp" }), fmtNum(actMax, 3), " microbatches"));
  el.append(h("span", { class: "legend-item muted" }, "labels: microbatch (·chunk); hover an op for its dependency chain, click to pin it (Esc unpins)"));
}

/** The name of op i: "F3", with ".c1" when ranks hold several chunks. */
function opName(P, i) {
  return `${P.kindNames[P.kind[i]]}${P.mb[i]}${P.chunks > 1 ? `.c${P.chunk[i]}` : ""}`;
}

/** The per-rank op order as text (a reading of the chart without the canvas), small schedules only. */
export function orderText(P, name, maxOps = 600) {
  if (P.n > maxOps) return null;
  const rows = [];
  for (let r = 0; r < P.ranks; r++) {
    const names = [];
    for (let j = P.rowOffset[r]; j < P.rowOffset[r + 1]; j++) {
      const i = P.rowIdx[j];
      names.push(`${opName(P, i)}${P.overlapped[i] ? "*" : ""}`);
    }
    rows.push(h("li", {}, h("span", { class: "muted" }, `rank ${r}: `), names.join(" ")));
  }
  return h(
    "details",
    { class: "pl-order", dataset: { embed: "more" } },
    h("summary", {}, `${name}: op order per rank, as text`),
    h("ol", { start: "0" }, rows),
    P.anyOverlap ? h("p", { class: "muted" }, "* one overlapped F&B span: the F and B next to each other run together") : null,
  );
}

/** Tooltip lines for op i: what it is, where, when, and what it waits for. */
export function opLines(P, i, name) {
  const kind = P.kinds[P.kind[i]];
  const stage = P.stage[i];
  const role = P.stageRoles[stage];
  const where = [P.chunks > 1 ? `chunk ${P.chunk[i]} of rank ${P.rank[i]}` : "", role === "middle" ? "" : `${role} stage`].filter(Boolean);
  const lines = [`${kind.kind} · microbatch ${P.mb[i]}${P.chunks > 1 ? ` · chunk ${P.chunk[i]}` : ""}`];
  lines.push(["schedule", name]);
  lines.push(["rank", P.rank[i]]);
  lines.push(["stage", where.length ? `${stage} (${where.join("; ")})` : stage]);
  lines.push(["kind", `${kind.kind}, ${kind.title}`]);
  lines.push(["start", P.time.fmt(P.start[i], 6)]);
  lines.push(["end", P.time.fmt(P.end[i], 6)]);
  lines.push(["duration", P.time.fmt(P.end[i] - P.start[i], 6)]);
  const waits = [P.waits[2 * i], P.waits[2 * i + 1]].filter((d) => d >= 0);
  lines.push(["waits for", waits.length ? waits.map((d) => `${opName(P, d)} (rank ${P.rank[d]})`).join(", ") : "nothing"]);
  const partner = overlapPartner(P, i);
  if (partner >= 0) {
    lines.push(`overlapped with ${opName(P, partner)} (chunk ${P.chunk[partner]}): one F&B span, counted once`);
  }
  lines.push("outlined: the ops it waits for; lines: its microbatch's data flow");
  return lines;
}

/** For keyboard and screen-reader users: what every rank runs at time t. */
export function announcement(lanes, t) {
  const parts = [`t = ${lanes[0].P.time.fmt(t, 4)}`];
  for (const L of lanes) {
    const P = L.P;
    const ranks = [];
    for (let r = 0; r < Math.min(P.ranks, 16); r++) {
      const i = opAt(P, r, t);
      ranks.push(`rank ${r} ${i >= 0 ? `${P.kindNames[P.kind[i]]}${P.mb[i]}` : "idle"}`);
    }
    parts.push(`${L.name}: ${ranks.join(", ")}${P.ranks > 16 ? ", …" : ""}`);
  }
  return parts.join(". ");
}

/**
 * The pinned op's card: the tooltip's lines (opLines) as a line of label: value items, then
 * how to unpin it and a button that does.
 */
export function pinCard(lines, onClose) {
  const items = lines.map((line, k) => {
    if (Array.isArray(line)) return h("span", { class: "legend-item pl-lane-stat" }, `${line[0]}: `, h("b", {}, String(line[1])));
    return k === 0 ? h("b", { class: "legend-item pl-lane-name" }, `Pinned: ${line}`) : h("span", { class: "legend-item" }, line);
  });
  const close = h("button", { type: "button", "aria-label": "Unpin this op", title: "Unpin (Esc)", dataset: { embed: "controls" } }, "× unpin");
  close.addEventListener("click", onClose);
  return [...items, close];
}
