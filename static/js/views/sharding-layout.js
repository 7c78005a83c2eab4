// Geometry of the shard-map view as pure functions. A tensor of 1–4 dimensions is drawn as
// 2-D panels of blocks: a 1-D tensor is one strip (wrapped into rows when it has many
// blocks), a 2-D tensor one grid, and a 3-D/4-D tensor a stack of 2-D slices, one per block
// along the leading dimension(s). Blocks are numbered as the API's `blocks` list numbers them
// (row-major over the shard grid).

/** Block coordinates of a row-major flat index. */
export function blockCoords(grid, f) {
  const c = new Array(grid.length);
  for (let d = grid.length - 1; d >= 0; d -= 1) {
    c[d] = f % grid[d];
    f = Math.floor(f / grid[d]);
  }
  return c;
}

/**
 * A shape or index tuple the way numpy and JAX print it: "[128256, 8192]". No thousands
 * separators inside a tuple, where "128,256, 8,192" would read as four dimensions.
 */
export function tupleText(values) {
  return `[${values.map((v) => String(v)).join(", ")}]`;
}

/** Half-open element ranges per dimension: "[0, 512) × [1024, 2048)". */
export function rangeText(index) {
  return index.map(([a, b]) => `[${a}, ${b})`).join(" × ");
}

/** A spec list (per dimension, axis names major to minor) as /api/v1/sharding's `spec=`. */
export function formatSpec(spec) {
  return spec.map((e) => (e.length ? e.join("+") : "_")).join(",");
}

/**
 * Layout of a shard grid in `width` CSS px.
 * Returns {panels: [{x, y, w, h, lead: [block coords of leading dims], label}], rowsPer,
 * colsPer (blocks per panel), bw, bh (block size), width, height, wrap (1-D rows)}.
 */
export function tensorLayout(shape, grid, width, { maxHeight = 440 } = {}) {
  const nd = shape.length;
  const labelH = 18;
  const bottomH = 16; // tick labels / column-dimension label under each panel
  const axisW = 44; // room for the row-dimension label and row ticks on the left
  if (nd === 1) {
    const n = grid[0];
    const perRow = Math.min(n, Math.max(1, Math.floor((width - 8) / 14)), 64);
    const rows = Math.ceil(n / perRow);
    const bw = (width - 8) / perRow;
    const bh = Math.max(rows > 16 ? 8 : 14, Math.min(56, bw * 1.2));
    return {
      nd, panels: [{ x: 4, y: labelH, w: bw * perRow, h: bh * rows, lead: [], label: "" }],
      rowsPer: rows, colsPer: perRow, bw, bh, wrap: true, labelH, axisW: 0,
      width, height: labelH + bh * rows + bottomH + 4,
    };
  }
  const lead = grid.slice(0, nd - 2);
  const count = lead.reduce((a, b) => a * b, 1);
  const gr = grid[nd - 2];
  const gc = grid[nd - 1];
  const rowsN = shape[nd - 2];
  const colsN = shape[nd - 1];
  // Panel aspect follows the tensor's (clamped) so a [8192, 1024] weight looks tall.
  const aspect = Math.min(2, Math.max(0.2, rowsN / colsN));
  const gapX = 18;
  const gapY = labelH + bottomH + 6;
  let best = null;
  let fallback = null;
  for (let perRow = Math.min(count, 16); perRow >= 1; perRow -= 1) {
    const pw = Math.floor((width - axisW - (perRow - 1) * gapX) / perRow);
    if (pw < 40 && perRow > 1) continue;
    const ph = Math.max(24, Math.round(pw * aspect));
    const rows = Math.ceil(count / perRow);
    const cand = { perRow, pw, ph, rows, height: rows * (ph + gapY) + 8 };
    if (!fallback) fallback = cand;
    if (cand.height <= maxHeight) best = cand;
  }
  best = best || fallback || { perRow: 1, pw: Math.max(40, width - axisW), ph: 40, rows: count };
  let { pw, ph } = best;
  if (count === 1) {
    // One panel: fit the budget height and never wider than needed.
    ph = Math.min(ph, maxHeight - gapY);
    pw = Math.min(pw, Math.round(ph / aspect));
  }
  const panels = [];
  for (let s = 0; s < count; s += 1) {
    const col = s % best.perRow;
    const row = Math.floor(s / best.perRow);
    const leadCoords = blockCoords(lead, s);
    panels.push({
      x: axisW + col * (pw + gapX),
      y: labelH + row * (ph + gapY),
      w: pw,
      h: ph,
      lead: leadCoords,
      label: "",
    });
  }
  return {
    nd, panels, rowsPer: gr, colsPer: gc, bw: pw / gc, bh: ph / gr, wrap: false, labelH, axisW,
    perRow: best.perRow, gapX, gapY,
    width, height: labelH + best.rows * (ph + gapY) - 6,
    bottomH,
  };
}

/** Screen rect {x, y, w, h} of block `f` (row-major flat index over grid). */
export function blockRect(T, grid, f) {
  if (T.nd === 1) {
    const col = f % T.colsPer;
    const row = Math.floor(f / T.colsPer);
    const p = T.panels[0];
    return { x: p.x + col * T.bw, y: p.y + row * T.bh, w: T.bw, h: T.bh };
  }
  const per = T.rowsPer * T.colsPer;
  const s = Math.floor(f / per);
  const inner = f - s * per;
  const i = Math.floor(inner / T.colsPer);
  const j = inner % T.colsPer;
  const p = T.panels[s];
  return { x: p.x + j * T.bw, y: p.y + i * T.bh, w: T.bw, h: T.bh };
}

/** Flat block index under (x, y), or -1. Arithmetic, no search over blocks. */
export function blockAt(T, grid, x, y) {
  if (T.nd === 1) {
    const p = T.panels[0];
    const col = Math.floor((x - p.x) / T.bw);
    const row = Math.floor((y - p.y) / T.bh);
    if (col < 0 || col >= T.colsPer || row < 0 || row >= T.rowsPer) return -1;
    const f = row * T.colsPer + col;
    return f < grid[0] ? f : -1;
  }
  const pitchX = T.panels[0].w + T.gapX;
  const pitchY = T.panels[0].h + T.gapY;
  const col = Math.floor((x - T.axisW) / pitchX);
  const row = Math.floor((y - T.labelH) / pitchY);
  if (col < 0 || col >= T.perRow || row < 0) return -1;
  const s = row * T.perRow + col;
  if (s >= T.panels.length) return -1;
  const p = T.panels[s];
  const j = Math.floor((x - p.x) / T.bw);
  const i = Math.floor((y - p.y) / T.bh);
  if (i < 0 || i >= T.rowsPer || j < 0 || j >= T.colsPer) return -1;
  return s * T.rowsPer * T.colsPer + i * T.colsPer + j;
}
