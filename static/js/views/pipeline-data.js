// Pipeline schedule data, packed once into typed arrays so that drawing 100k+ ops, hit-testing
// and dependency chains never allocate per frame. Pure functions: no DOM.
import { num } from "../lib/api.js";

export const KINDS = ["F", "B", "I", "W"];
const KIND_INDEX = { F: 0, B: 1, I: 2, W: 3 };

/**
 * Pack a GET /api/v1/pipeline payload. Ops are indexed by rank row (sorted by start time,
 * for binary search) and by (kind, stage, microbatch) for dependency look-ups.
 */
export function packSchedule(data) {
  const cols = data.ops && !Array.isArray(data.ops) ? data.ops : null; // format=columns
  const ops = cols ? null : data.ops || [];
  const n = cols ? cols.kind.length : ops.length;
  const rank = new Int32Array(n);
  const stage = new Int32Array(n);
  const chunk = new Int32Array(n);
  const mb = new Int32Array(n);
  const kind = new Uint8Array(n);
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const overlapped = new Uint8Array(n);
  if (cols) {
    rank.set(cols.rank);
    stage.set(cols.stage);
    if (cols.chunk) chunk.set(cols.chunk);
    mb.set(cols.microbatch);
    for (let i = 0; i < n; i++) {
      kind[i] = KIND_INDEX[cols.kind[i]] ?? 1;
      start[i] = num(cols.start[i]);
      end[i] = num(cols.end[i]);
      overlapped[i] = cols.overlapped && cols.overlapped[i] ? 1 : 0;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = ops[i];
      rank[i] = o.rank;
      stage[i] = o.stage;
      chunk[i] = o.chunk || 0;
      mb[i] = o.microbatch;
      kind[i] = KIND_INDEX[o.kind] ?? 1;
      start[i] = num(o.start);
      end[i] = num(o.end);
      overlapped[i] = o.overlapped ? 1 : 0;
    }
  }
  let maxRank = -1;
  let maxStage = -1;
  let maxMb = -1;
  const kindsPresent = [false, false, false, false];
  let anyOverlap = false;
  for (let i = 0; i < n; i++) {
    kindsPresent[kind[i]] = true;
    if (overlapped[i]) anyOverlap = true;
    if (rank[i] > maxRank) maxRank = rank[i];
    if (stage[i] > maxStage) maxStage = stage[i];
    if (mb[i] > maxMb) maxMb = mb[i];
  }
  const ranks = Math.max(data.ranks || 0, (data.per_rank || []).length, maxRank + 1);
  const numStages = Math.max(data.num_stages || 0, maxStage + 1);
  const microbatches = Math.max((data.parameters && data.parameters.microbatches) || 0, maxMb + 1);

  // counting sort by rank, then by start inside each rank
  const rowOffset = new Int32Array(ranks + 1);
  for (let i = 0; i < n; i++) rowOffset[rank[i] + 1]++;
  for (let r = 0; r < ranks; r++) rowOffset[r + 1] += rowOffset[r];
  const fill = rowOffset.slice(0, ranks);
  const rowIdx = new Int32Array(n);
  for (let i = 0; i < n; i++) rowIdx[fill[rank[i]]++] = i;
  for (let r = 0; r < ranks; r++) {
    const lo = rowOffset[r];
    const hi = rowOffset[r + 1];
    let sorted = true;
    for (let j = lo + 1; j < hi; j++) {
      if (start[rowIdx[j]] < start[rowIdx[j - 1]]) {
        sorted = false;
        break;
      }
    }
    if (!sorted) {
      const seg = Array.from(rowIdx.subarray(lo, hi)).sort((a, b) => start[a] - start[b] || kind[a] - kind[b]);
      rowIdx.set(seg, lo);
    }
  }
  const rowStart = new Float64Array(n);
  for (let j = 0; j < n; j++) rowStart[j] = start[rowIdx[j]];

  const lookup = new Int32Array(4 * numStages * microbatches).fill(-1);
  for (let i = 0; i < n; i++) lookup[(kind[i] * numStages + stage[i]) * microbatches + mb[i]] = i;

  // activations in flight: steps [t, count] per rank
  const perRank = data.per_rank || [];
  const actOffset = new Int32Array(ranks + 1);
  for (let r = 0; r < ranks; r++) actOffset[r + 1] = actOffset[r] + ((perRank[r] && perRank[r].activations) || []).length;
  const actT = new Float64Array(actOffset[ranks]);
  const actC = new Float32Array(actOffset[ranks]);
  let actMax = 0;
  for (let r = 0; r < ranks; r++) {
    const steps = (perRank[r] && perRank[r].activations) || [];
    for (let j = 0; j < steps.length; j++) {
      actT[actOffset[r] + j] = num(steps[j][0]);
      const c = num(steps[j][1]);
      actC[actOffset[r] + j] = c;
      if (c > actMax) actMax = c;
    }
  }
  for (const pr of perRank) if (num(pr.peak_activations) > actMax) actMax = num(pr.peak_activations);

  const idle = new Float64Array(ranks);
  for (let r = 0; r < ranks; r++) idle[r] = perRank[r] ? num(perRank[r].idle) : 0;

  let makespan = num(data.makespan);
  if (!Number.isFinite(makespan)) {
    makespan = 0;
    for (let i = 0; i < n; i++) if (end[i] > makespan) makespan = end[i];
  }
  return {
    n,
    ranks,
    numStages,
    microbatches,
    chunks: data.chunks || 1,
    rank,
    stage,
    chunk,
    mb,
    kind,
    start,
    end,
    overlapped,
    rowOffset,
    rowIdx,
    rowStart,
    lookup,
    actOffset,
    actT,
    actC,
    actMax,
    idle,
    makespan,
    kindsPresent,
    anyOverlap,
  };
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

/**
 * The op on `rank` under time t, or −1. `tol` (time units) catches ops thinner than the pointer.
 * For an overlapped F&B pair (same span) `lower` picks the backward half, else the forward.
 */
export function opAt(P, rank, t, tol = 0, lower = false) {
  if (rank < 0 || rank >= P.ranks) return -1;
  const lo = P.rowOffset[rank];
  const hi = P.rowOffset[rank + 1];
  if (hi <= lo) return -1;
  let j = lastAtOrBefore(P.rowStart, lo, hi, t);
  let best = -1;
  if (j >= lo && P.end[P.rowIdx[j]] + tol >= t) best = j;
  else if (j + 1 < hi && P.rowStart[j + 1] - tol <= t) best = j + 1;
  if (best < 0) return -1;
  j = best;
  const i = P.rowIdx[j];
  if (!P.overlapped[i]) return i;
  // the partner shares the start: it is the neighbour with the same start
  let partner = -1;
  if (j > lo && P.rowStart[j - 1] === P.rowStart[j] && P.overlapped[P.rowIdx[j - 1]]) partner = P.rowIdx[j - 1];
  else if (j + 1 < hi && P.rowStart[j + 1] === P.rowStart[j] && P.overlapped[P.rowIdx[j + 1]]) partner = P.rowIdx[j + 1];
  if (partner < 0) return i;
  const fwd = P.kind[i] === 0 ? i : partner;
  const bwd = fwd === i ? partner : i;
  return lower ? bwd : fwd;
}

/** The other op of an overlapped F&B pair, or −1. */
export function overlapPartner(P, i) {
  if (!P.overlapped[i]) return -1;
  const r = P.rank[i];
  const lo = P.rowOffset[r];
  const hi = P.rowOffset[r + 1];
  const j = lastAtOrBefore(P.rowStart, lo, hi, P.start[i]);
  for (let k = j; k >= lo && P.rowStart[k] === P.start[i]; k--) {
    const o = P.rowIdx[k];
    if (o !== i && P.overlapped[o]) return o;
  }
  return -1;
}

function find(P, kind, stage, mb) {
  if (stage < 0 || stage >= P.numStages) return -1;
  return P.lookup[(kind * P.numStages + stage) * P.microbatches + mb];
}

/** The backward op of (stage, mb) that the previous stage waits for: B, else I. */
function backOf(P, stage, mb) {
  const b = find(P, 1, stage, mb);
  return b >= 0 ? b : find(P, 2, stage, mb);
}

/** Ops that op i waits for directly (data dependencies, as the simulation defines them). */
export function predecessors(P, i) {
  const s = P.stage[i];
  const k = P.mb[i];
  const out = [];
  const kind = P.kind[i];
  if (kind === 0) {
    if (s > 0) out.push(find(P, 0, s - 1, k));
  } else if (kind === 1 || kind === 2) {
    out.push(s < P.numStages - 1 ? backOf(P, s + 1, k) : find(P, 0, s, k));
  } else {
    out.push(find(P, 2, s, k));
  }
  return out.filter((x) => x >= 0);
}

/**
 * The dependency chain of op i's microbatch: every op of it (`members`), the direct
 * predecessors of i (`preds`), and the data-flow links [from, to, from, to, ...] across ranks:
 * F down the stages, then the backward up again, and each I to its W.
 */
export function dependencyChain(P, i) {
  const k = P.mb[i];
  const S = P.numStages;
  const members = [];
  for (let kind = 0; kind < 4; kind++) {
    for (let s = 0; s < S; s++) {
      const o = find(P, kind, s, k);
      if (o >= 0) members.push(o);
    }
  }
  const links = [];
  for (let s = 0; s < S - 1; s++) {
    const a = find(P, 0, s, k);
    const b = find(P, 0, s + 1, k);
    if (a >= 0 && b >= 0) links.push(a, b);
  }
  const lastF = find(P, 0, S - 1, k);
  const lastB = backOf(P, S - 1, k);
  if (lastF >= 0 && lastB >= 0) links.push(lastF, lastB);
  for (let s = S - 1; s > 0; s--) {
    const a = backOf(P, s, k);
    const b = backOf(P, s - 1, k);
    if (a >= 0 && b >= 0) links.push(a, b);
  }
  for (let s = 0; s < S; s++) {
    const a = find(P, 2, s, k);
    const b = find(P, 3, s, k);
    if (a >= 0 && b >= 0) links.push(a, b);
  }
  return {
    focus: i,
    members: Int32Array.from(members),
    preds: Int32Array.from(predecessors(P, i)),
    links: Int32Array.from(links),
  };
}

/** Activations in flight on `rank` at time t (the step holding at t). */
export function activationAt(P, rank, t) {
  if (rank < 0 || rank >= P.ranks) return 0;
  const lo = P.actOffset[rank];
  const hi = P.actOffset[rank + 1];
  const j = lastAtOrBefore(P.actT, lo, hi, t);
  return j >= lo ? P.actC[j] : 0;
}
