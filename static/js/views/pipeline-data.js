// A GET /api/v1/pipeline?format=columns payload packed once into typed arrays, so that
// drawing 100k+ ops, hit-testing and dependency chains never allocate per frame. Pure
// functions, no DOM. Nothing here knows a rule of the schedules: op kinds come from the
// payload's `kinds`, and which op waits for which from each op's `waits_for`.
import { num } from "../lib/api.js";
import { fmtNum, fmtTime } from "../lib/format.js";

/**
 * How the times of an answer read: its `units` is "seconds" when the API derived the costs
 * from a model (shown as ms or s), else abstract cost units (shown as plain numbers).
 */
export function timeFormat(data) {
  const seconds = data.units === "seconds";
  return {
    seconds,
    unit: data.units.split(":")[0],
    fmt: (v, digits = 4) => (seconds ? fmtTime(v) : fmtNum(v, digits)),
  };
}

/** Pack a columns payload: ops by rank row (sorted by start) and by microbatch. */
export function packSchedule(data) {
  const P = { ...readOps(data), ...readShape(data) };
  Object.assign(P, rowIndex(P), microbatchIndex(P), readActivations(data, P.ranks));
  P.kindsPresent = P.kinds.map((_, k) => P.kind.includes(k));
  P.anyOverlap = P.overlapped.includes(1);
  return P;
}

/** The op columns as typed arrays; `kind` indexes `kinds` (the payload's own list). */
function readOps(data) {
  const cols = data.ops;
  const kinds = data.kinds;
  const index = Object.fromEntries(kinds.map((k, i) => [k.kind, i]));
  const n = cols.kind.length;
  const kind = new Uint8Array(n);
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const waits = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    kind[i] = index[cols.kind[i]];
    start[i] = num(cols.start[i]);
    end[i] = num(cols.end[i]);
    waits[2 * i] = cols.waits_for[i][0];
    waits[2 * i + 1] = cols.waits_for[i][1];
  }
  return {
    n,
    kinds,
    kindNames: kinds.map((k) => k.kind),
    forwardKind: kinds.findIndex((k) => k.forward),
    rank: Int32Array.from(cols.rank),
    stage: Int32Array.from(cols.stage),
    chunk: Int32Array.from(cols.chunk),
    mb: Int32Array.from(cols.microbatch),
    kind,
    start,
    end,
    overlapped: Uint8Array.from(cols.overlapped, Number),
    waits,
  };
}

/** Sizes and summary figures, as the API states them. */
function readShape(data) {
  const perRank = data.per_rank;
  return {
    ranks: data.ranks,
    numStages: data.num_stages,
    microbatches: data.query.microbatches,
    chunks: data.chunks,
    stageRoles: data.stage_roles,
    makespan: num(data.makespan),
    time: timeFormat(data),
    idle: Float64Array.from(perRank, (r) => num(r.idle)),
    peak: Float64Array.from(perRank, (r) => num(r.peak_activations)),
  };
}

/** Op indices grouped by `key` (a counting sort): group g is idx[offset[g]:offset[g + 1]]. */
function groupBy(key, groups) {
  const offset = new Int32Array(groups + 1);
  for (let i = 0; i < key.length; i++) offset[key[i] + 1]++;
  for (let g = 0; g < groups; g++) offset[g + 1] += offset[g];
  const fill = offset.slice(0, groups);
  const idx = new Int32Array(key.length);
  for (let i = 0; i < key.length; i++) idx[fill[key[i]]++] = i;
  return { offset, idx };
}

/** Ops grouped by rank, each rank's ops sorted by start (they come sorted; check it). */
function rowIndex(P) {
  const { n, ranks, start, kind } = P;
  const { offset: rowOffset, idx: rowIdx } = groupBy(P.rank, ranks);
  for (let r = 0; r < ranks; r++) {
    const lo = rowOffset[r];
    const hi = rowOffset[r + 1];
    let sorted = true;
    for (let j = lo + 1; j < hi && sorted; j++) sorted = start[rowIdx[j]] >= start[rowIdx[j - 1]];
    if (!sorted) {
      const seg = Array.from(rowIdx.subarray(lo, hi)).sort((a, b) => start[a] - start[b] || kind[a] - kind[b]);
      rowIdx.set(seg, lo);
    }
  }
  const rowStart = new Float64Array(n);
  for (let j = 0; j < n; j++) rowStart[j] = start[rowIdx[j]];
  return { rowOffset, rowIdx, rowStart };
}

/** Ops grouped by microbatch: the members of a hovered op's chain. */
function microbatchIndex(P) {
  const { offset: mbOffset, idx: mbIdx } = groupBy(P.mb, P.microbatches);
  return { mbOffset, mbIdx };
}

/** Activations in flight: the steps [t, count] of every rank, flattened. */
function readActivations(data, ranks) {
  const perRank = data.per_rank;
  const actOffset = new Int32Array(ranks + 1);
  for (let r = 0; r < ranks; r++) actOffset[r + 1] = actOffset[r] + perRank[r].activations.length;
  const actT = new Float64Array(actOffset[ranks]);
  const actC = new Float32Array(actOffset[ranks]);
  for (let r = 0; r < ranks; r++) {
    perRank[r].activations.forEach(([t, c], j) => {
      actT[actOffset[r] + j] = num(t);
      actC[actOffset[r] + j] = num(c);
    });
  }
  return { actOffset, actT, actC, actMax: num(data.peak_activations) };
}

/** Index j in [lo, hi) of the last entry of `arr` with arr[j] <= t, or lo − 1. */
export function lastAtOrBefore(arr, lo, hi, t) {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (arr[mid] <= t) a = mid + 1;
    else b = mid;
  }
  return a - 1;
}

/** The other op sharing row position j's start in an overlapped span, or −1. */
export function partnerInRow(P, j, lo, hi) {
  const s = P.rowStart[j];
  if (j > lo && P.rowStart[j - 1] === s && P.overlapped[P.rowIdx[j - 1]]) return P.rowIdx[j - 1];
  if (j + 1 < hi && P.rowStart[j + 1] === s && P.overlapped[P.rowIdx[j + 1]]) return P.rowIdx[j + 1];
  return -1;
}

/**
 * The op on `rank` under time t, or −1. `tol` (time units) catches ops thinner than the pointer.
 * For an overlapped F&B pair (same span) `lower` picks the backward half, else the forward.
 */
export function opAt(P, rank, t, tol = 0, lower = false) {
  if (rank < 0 || rank >= P.ranks) return -1;
  const lo = P.rowOffset[rank];
  const hi = P.rowOffset[rank + 1];
  if (hi <= lo) return -1;
  const j = lastAtOrBefore(P.rowStart, lo, hi, t);
  let best = -1;
  if (j >= lo && P.end[P.rowIdx[j]] + tol >= t) best = j;
  else if (j + 1 < hi && P.rowStart[j + 1] - tol <= t) best = j + 1;
  if (best < 0) return -1;
  const i = P.rowIdx[best];
  const partner = P.overlapped[i] ? partnerInRow(P, best, lo, hi) : -1;
  if (partner < 0) return i;
  const fwd = P.kind[i] === P.forwardKind ? i : partner;
  return lower ? (fwd === i ? partner : i) : fwd;
}

/** The other op of an overlapped F&B pair, or −1. */
export function overlapPartner(P, i) {
  if (!P.overlapped[i]) return -1;
  const r = P.rank[i];
  const lo = P.rowOffset[r];
  const hi = P.rowOffset[r + 1];
  let j = lastAtOrBefore(P.rowStart, lo, hi, P.start[i]);
  while (j >= lo && P.rowIdx[j] !== i) j--;
  return j >= lo ? partnerInRow(P, j, lo, hi) : -1;
}

/** The ops op i waits for, as the API listed them. */
export function predecessors(P, i) {
  return [P.waits[2 * i], P.waits[2 * i + 1]].filter((x) => x >= 0);
}

/**
 * The dependency chain of op i's microbatch: every op of it (`members`), the direct
 * predecessors of i (`preds`), and the links [from, to, from, to, ...]: each member's
 * `waits_for` edges.
 */
export function dependencyChain(P, i) {
  const k = P.mb[i];
  const members = P.mbIdx.slice(P.mbOffset[k], P.mbOffset[k + 1]);
  const links = [];
  for (const o of members) for (const d of predecessors(P, o)) links.push(d, o);
  return { focus: i, members, preds: Int32Array.from(predecessors(P, i)), links: Int32Array.from(links) };
}

/** Activations in flight on `rank` at time t (the step holding at t). */
export function activationAt(P, rank, t) {
  if (rank < 0 || rank >= P.ranks) return 0;
  const lo = P.actOffset[rank];
  const hi = P.actOffset[rank + 1];
  const j = lastAtOrBefore(P.actT, lo, hi, t);
  return j >= lo ? P.actC[j] : 0;
}
