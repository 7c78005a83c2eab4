// Geometry of the mesh view as pure functions: where each GPU cell sits, which cell is under
// a point (arithmetic, no search), mesh strides, group keys and the rank a coordinate had in
// a previous mesh (for animating cells to their new places).

/** Cells per row inside one node: a divisor of gpusPerNode near sqrt(2·gpn) (8 → 4×2). */
export function nodeGrid(gpusPerNode) {
  const target = Math.sqrt(2 * gpusPerNode);
  let best = Math.ceil(target);
  let bestErr = Infinity;
  for (let d = 1; d <= gpusPerNode; d += 1) {
    if (gpusPerNode % d) continue;
    const err = Math.abs(d - target);
    if (err < bestErr) {
      bestErr = err;
      best = d;
    }
  }
  if (gpusPerNode > 8 && (best < target / 2 || best > target * 2)) best = Math.ceil(target);
  return { cols: best, rows: Math.ceil(gpusPerNode / best) };
}

function largestPow2AtMost(n) {
  return n < 1 ? 1 : 2 ** Math.floor(Math.log2(n));
}

/**
 * Layout of `world` GPUs on nodes of `gpusPerNode` in `width` CSS px.
 * Picks the largest cell size whose drawing stays under a height budget; nodes per row is a
 * power of two so that mesh axes (whose strides are usually powers of two) line up in columns.
 */
export function meshLayout(world, gpusPerNode, width, { maxCell = 52, maxHeight } = {}) {
  const nodes = Math.ceil(world / gpusPerNode);
  const budget = maxHeight ?? Math.max(420, Math.min(1100, width * 1.05));
  const grids = [nodeGrid(gpusPerNode)];
  // Big meshes may read better with each node as one row of cells (more nodes per row).
  if (gpusPerNode <= 16 && gpusPerNode > 1 && nodes > 8) grids.push({ cols: gpusPerNode, rows: 1 });
  let best = null;
  for (const grid of grids) {
    for (let cell = maxCell; cell >= 2; cell -= 1) {
      const geom = geometry(world, gpusPerNode, nodes, grid, width, cell);
      if (!geom || geom.height > budget) continue;
      if (!best || geom.cell > best.cell) best = geom;
      break;
    }
  }
  if (best) return best;
  let smallest = null;
  for (const grid of grids) {
    const geom = geometry(world, gpusPerNode, nodes, grid, Math.max(width, 64), 2, true);
    if (!smallest || geom.height < smallest.height) smallest = geom;
  }
  return smallest;
}

function geometry(world, gpusPerNode, nodes, grid, width, cell, force = false) {
  const gap = cell >= 12 ? 2 : cell >= 4 ? 1 : 0;
  const pad = cell >= 12 ? 5 : cell >= 5 ? 2 : 1;
  const nodeGap = cell >= 12 ? 10 : cell >= 5 ? 4 : 2;
  const showNodeLabels = cell >= 12;
  const labelH = showNodeLabels ? 15 : 0;
  const gutter = showNodeLabels ? 0 : width >= 360 ? 40 : 32;
  const nodeW = grid.cols * (cell + gap) - gap + 2 * pad;
  const nodeH = grid.rows * (cell + gap) - gap + 2 * pad;
  const avail = width - gutter;
  const fit = Math.floor((avail + nodeGap) / (nodeW + nodeGap));
  if (fit < 1 && !force) return null;
  let perRow = Math.max(1, fit);
  perRow = nodes <= perRow ? nodes : largestPow2AtMost(perRow);
  const rows = Math.ceil(nodes / perRow);
  const pitchX = nodeW + nodeGap;
  const pitchY = nodeH + nodeGap + labelH;
  const usedW = perRow * pitchX - nodeGap;
  const x0 = gutter + Math.max(0, Math.floor((avail - usedW) / 2));
  const y0 = showNodeLabels ? labelH : 6;
  return {
    world,
    gpusPerNode,
    nodes,
    cols: grid.cols,
    rowsPerNode: grid.rows,
    cell,
    gap,
    pad,
    nodeGap,
    nodeW,
    nodeH,
    labelH,
    gutter,
    perRow,
    rows,
    pitchX,
    pitchY,
    x0,
    y0,
    width: Math.max(width, x0 + usedW),
    height: y0 + rows * pitchY - nodeGap - labelH + 2,
    showNodeLabels,
  };
}

/** Top-left of node `n`'s outline. */
export function nodeOrigin(L, n) {
  return { x: L.x0 + (n % L.perRow) * L.pitchX, y: L.y0 + Math.floor(n / L.perRow) * L.pitchY };
}

/** Top-left corner of rank r's cell (CSS px). */
export function cellOrigin(L, r) {
  const n = Math.floor(r / L.gpusPerNode);
  const local = r - n * L.gpusPerNode;
  const nx = L.x0 + (n % L.perRow) * L.pitchX;
  const ny = L.y0 + Math.floor(n / L.perRow) * L.pitchY;
  return {
    x: nx + L.pad + (local % L.cols) * (L.cell + L.gap),
    y: ny + L.pad + Math.floor(local / L.cols) * (L.cell + L.gap),
  };
}

/** Fill `xs`, `ys` (typed arrays of length world) with every cell's top-left corner. */
export function cellOrigins(L, xs, ys) {
  const step = L.cell + L.gap;
  for (let r = 0; r < L.world; r += 1) {
    const n = Math.floor(r / L.gpusPerNode);
    const local = r - n * L.gpusPerNode;
    xs[r] = L.x0 + (n % L.perRow) * L.pitchX + L.pad + (local % L.cols) * step;
    ys[r] = L.y0 + Math.floor(n / L.perRow) * L.pitchY + L.pad + Math.floor(local / L.cols) * step;
  }
}

/** The rank whose cell (gaps included) contains (x, y), or -1. Pure arithmetic. */
export function rankAt(L, x, y) {
  const col = Math.floor((x - L.x0) / L.pitchX);
  const row = Math.floor((y - L.y0) / L.pitchY);
  if (col < 0 || col >= L.perRow || row < 0 || row >= L.rows) return -1;
  const lx = x - L.x0 - col * L.pitchX - L.pad;
  const ly = y - L.y0 - row * L.pitchY - L.pad;
  const step = L.cell + L.gap;
  if (lx < -L.gap || ly < -L.gap) return -1;
  const cx = Math.min(L.cols - 1, Math.max(0, Math.floor((lx + L.gap / 2) / step)));
  const cy = Math.floor((ly + L.gap / 2) / step);
  if (lx > L.cols * step || cy < 0 || cy >= L.rowsPerNode) return -1;
  const local = cy * L.cols + cx;
  if (local >= L.gpusPerNode) return -1;
  const rank = (row * L.perRow + col) * L.gpusPerNode + local;
  return rank < L.world ? rank : -1;
}

/** Strides of a row-major mesh: stride[i] = product of the sizes after axis i. */
export function strides(shape) {
  const out = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i -= 1) out[i] = out[i + 1] * shape[i + 1];
  return out;
}

/** Coordinates of rank r in numpy.arange(world).reshape(shape) (last axis fastest). */
export function coordsOf(shape, r) {
  const c = new Array(shape.length);
  for (let i = shape.length - 1; i >= 0; i -= 1) {
    c[i] = r % shape[i];
    r = Math.floor(r / shape[i]);
  }
  return c;
}

/** Ranks of the group along axis i through rank r (ascending coordinate on that axis). */
export function groupRanks(shape, i, r) {
  const st = strides(shape)[i];
  const c = Math.floor(r / st) % shape[i];
  const base = r - c * st;
  return Array.from({ length: shape[i] }, (_, k) => base + k * st);
}

/**
 * A colour key per rank for "cells of one colour = one group along `axis`": the mixed-radix
 * number of the rank's other coordinates taken in axis-name order, so a group keeps its key
 * (and colour) when the axis order changes. axis = "node" keys by node.
 */
export function groupKeys(mesh, axis, mode = "group") {
  const { world_size: world, axis_names: names, shape } = mesh;
  const keys = new Int32Array(world);
  if (axis === "node") {
    for (let r = 0; r < world; r += 1) keys[r] = Math.floor(r / mesh.gpus_per_node);
    return keys;
  }
  if (mode === "coord") {
    // Cells of one colour share their coordinate on `axis` (e.g. one pipeline stage).
    const i = names.indexOf(axis);
    const st = strides(shape)[i];
    for (let r = 0; r < world; r += 1) keys[r] = Math.floor(r / st) % shape[i];
    return keys;
  }
  const order = names.map((n, i) => [n, i]).filter(([n]) => n !== axis).sort(([a], [b]) => (a < b ? -1 : 1));
  const st = strides(shape);
  for (let r = 0; r < world; r += 1) {
    let k = 0;
    for (const [, i] of order) k = k * shape[i] + (Math.floor(r / st[i]) % shape[i]);
    keys[r] = k;
  }
  return keys;
}

/**
 * For every rank of `next`, the rank holding the same coordinates in `prev` (axes matched by
 * name; an axis missing from one side counts as coordinate 0), or -1 if there is none.
 */
export function previousRanks(prev, next) {
  const out = new Int32Array(next.world_size).fill(-1);
  if (!prev) return out;
  const pIdx = new Map(prev.axis_names.map((n, i) => [n, i]));
  const pStr = strides(prev.shape);
  const nStr = strides(next.shape);
  const nIdx = new Map(next.axis_names.map((n, i) => [n, i]));
  const extraPrev = prev.axis_names.filter((n) => !nIdx.has(n));
  if (extraPrev.length && extraPrev.some((n) => prev.shape[pIdx.get(n)] < 1)) return out;
  for (let r = 0; r < next.world_size; r += 1) {
    let pr = 0;
    let ok = true;
    for (let i = 0; i < next.shape.length; i += 1) {
      const c = Math.floor(r / nStr[i]) % next.shape[i];
      const j = pIdx.get(next.axis_names[i]);
      if (j === undefined) {
        if (c !== 0) ok = false;
      } else if (c >= prev.shape[j]) ok = false;
      else pr += c * pStr[j];
      if (!ok) break;
    }
    out[r] = ok ? pr : -1;
  }
  return out;
}

/** Parse "dp:2,tp:4" leniently (for the editor); null if it is not name:size pairs. */
export function parseAxesText(text) {
  const parts = String(text || "").split(",").map((s) => s.trim()).filter(Boolean);
  const out = [];
  for (const p of parts) {
    const m = /^([A-Za-z][A-Za-z0-9_]*)\s*:\s*(\d+)$/.exec(p);
    if (!m) return null;
    out.push({ name: m[1], size: Number(m[2]) });
  }
  return out.length ? out : null;
}

export function formatAxes(axes) {
  return axes.map((a) => `${a.name}:${a.size}`).join(",");
}
