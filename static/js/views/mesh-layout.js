// Geometry of the mesh view as pure functions: where each GPU cell sits, which cell is under a
// point (arithmetic, no search), group members and colour keys, and the rank a coordinate had
// in a previous mesh (for animating cells to their new places). Every fact about the mesh
// (node and local rank of each rank, coordinates, axis strides) comes from /api/v1/mesh;
// nothing here re-derives the rank order.

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
 * Layout of a mesh ({world_size, node_count, gpus_per_node} from the API) in `width` CSS px.
 * Picks the largest cell size whose drawing stays under a height budget; nodes per row is a
 * power of two so that mesh axes (whose strides are usually powers of two) line up in columns.
 */
export function meshLayout(mesh, width, { maxCell = 52, maxHeight } = {}) {
  const shape = { world: mesh.world_size, nodes: mesh.node_count, gpusPerNode: mesh.gpus_per_node };
  const budget = maxHeight ?? Math.max(420, Math.min(1100, width * 1.05));
  const grids = [nodeGrid(shape.gpusPerNode)];
  // Big meshes may read better with each node as one row of cells (more nodes per row).
  if (shape.gpusPerNode <= 16 && shape.gpusPerNode > 1 && shape.nodes > 8) grids.push({ cols: shape.gpusPerNode, rows: 1 });
  let best = null;
  for (const grid of grids) {
    for (let cell = maxCell; cell >= 2; cell -= 1) {
      const geom = geometry(shape, grid, width, cell);
      if (!geom || geom.height > budget) continue;
      if (!best || geom.cell > best.cell) best = geom;
      break;
    }
  }
  if (best) return best;
  let smallest = null;
  for (const grid of grids) {
    const geom = geometry(shape, grid, Math.max(width, 64), 2, true);
    if (!smallest || geom.height < smallest.height) smallest = geom;
  }
  return smallest;
}

function spacing(cell, width) {
  const showNodeLabels = cell >= 12;
  return {
    gap: cell >= 12 ? 2 : cell >= 4 ? 1 : 0,
    pad: cell >= 12 ? 5 : cell >= 5 ? 2 : 1,
    nodeGap: cell >= 12 ? 10 : cell >= 5 ? 4 : 2,
    showNodeLabels,
    labelH: showNodeLabels ? 15 : 0,
    gutter: showNodeLabels ? 0 : width >= 360 ? 40 : 32,
  };
}

function geometry({ world, nodes, gpusPerNode }, grid, width, cell, force = false) {
  const sp = spacing(cell, width);
  const nodeW = grid.cols * (cell + sp.gap) - sp.gap + 2 * sp.pad;
  const nodeH = grid.rows * (cell + sp.gap) - sp.gap + 2 * sp.pad;
  const avail = width - sp.gutter;
  const fit = Math.floor((avail + sp.nodeGap) / (nodeW + sp.nodeGap));
  if (fit < 1 && !force) return null;
  const perRow = nodes <= Math.max(1, fit) ? nodes : largestPow2AtMost(Math.max(1, fit));
  const rows = Math.ceil(nodes / perRow);
  const pitchX = nodeW + sp.nodeGap;
  const pitchY = nodeH + sp.nodeGap + sp.labelH;
  const usedW = perRow * pitchX - sp.nodeGap;
  const x0 = sp.gutter + Math.max(0, Math.floor((avail - usedW) / 2));
  const y0 = sp.showNodeLabels ? sp.labelH : 6;
  return {
    world, gpusPerNode, nodes, cols: grid.cols, rowsPerNode: grid.rows, cell, ...sp,
    nodeW, nodeH, perRow, rows, pitchX, pitchY, x0, y0,
    width: Math.max(width, x0 + usedW),
    height: y0 + rows * pitchY - sp.nodeGap - sp.labelH + 2,
  };
}

/** Top-left of node `n`'s outline. */
export function nodeOrigin(L, n) {
  return { x: L.x0 + (n % L.perRow) * L.pitchX, y: L.y0 + Math.floor(n / L.perRow) * L.pitchY };
}

/** Fill `xs`, `ys` with every rank's cell corner: slot `local` of its node (API columns). */
export function cellOrigins(L, node, local, xs, ys) {
  const step = L.cell + L.gap;
  for (let r = 0; r < L.world; r += 1) {
    const n = node[r];
    xs[r] = L.x0 + (n % L.perRow) * L.pitchX + L.pad + (local[r] % L.cols) * step;
    ys[r] = L.y0 + Math.floor(n / L.perRow) * L.pitchY + L.pad + Math.floor(local[r] / L.cols) * step;
  }
}

/** The rank drawn in each (node, local slot): `slots[n · gpusPerNode + local]`, −1 if empty. */
export function slotRanks(L, node, local) {
  const slots = new Int32Array(L.nodes * L.gpusPerNode).fill(-1);
  for (let r = 0; r < L.world; r += 1) slots[node[r] * L.gpusPerNode + local[r]] = r;
  return slots;
}

/** The rank whose cell (gaps included) contains (x, y), or -1. Pure arithmetic. */
export function rankAt(L, slots, x, y) {
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
  const n = row * L.perRow + col;
  if (local >= L.gpusPerNode || n >= L.nodes) return -1;
  return slots[n * L.gpusPerNode + local];
}

/** Ranks of the group along axis i through rank r: neighbours are `stride` ranks apart. */
export function groupRanks(mesh, i, r) {
  const stride = mesh.strides[i];
  const base = r - mesh.coords[i][r] * stride;
  return Array.from({ length: mesh.shape[i] }, (_, k) => base + k * stride);
}

/**
 * A colour key per rank for "cells of one colour = one group along `axis`": the mixed-radix
 * number of the rank's other coordinates taken in axis-name order, so a group keeps its key
 * (and colour) when the axis order changes. mode "coord" keys by the coordinate on `axis`;
 * axis "node" keys by node.
 */
export function groupKeys(mesh, axis, mode = "group") {
  if (axis === "node") return Int32Array.from(mesh.node);
  const i = mesh.axis_names.indexOf(axis);
  if (mode === "coord") return Int32Array.from(mesh.coords[i]);
  const order = mesh.axis_names.map((n, j) => [n, j]).filter(([n]) => n !== axis).sort(([a], [b]) => (a < b ? -1 : 1));
  const keys = new Int32Array(mesh.world_size);
  for (const [, j] of order) {
    const c = mesh.coords[j];
    const size = mesh.shape[j];
    for (let r = 0; r < keys.length; r += 1) keys[r] = keys[r] * size + c[r];
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
  const where = new Map(prev.axis_names.map((n, j) => [n, j]));
  for (let r = 0; r < next.world_size; r += 1) {
    let pr = 0;
    let ok = true;
    for (let i = 0; i < next.shape.length && ok; i += 1) {
      const c = next.coords[i][r];
      const j = where.get(next.axis_names[i]);
      if (j === undefined) ok = c === 0;
      else if (c >= prev.shape[j]) ok = false;
      else pr += c * prev.strides[j];
    }
    out[r] = ok ? pr : -1;
  }
  return out;
}

/** The axes text for /api/v1/mesh from [{name, size}]: "dp:2,tp:4". */
export function formatAxes(axes) {
  return axes.map((a) => `${a.name}:${a.size}`).join(",");
}
