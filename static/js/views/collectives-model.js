// Pure data and geometry for the collectives view: no DOM here, so each piece can be read
// (and tested) on its own. Everything comes from a /api/v1/collectives answer asked with
// view=true&format=columns; nothing is recomputed, only regrouped and placed.

/**
 * Group the columnar transfers into steps and build the buffer state before every step:
 * frames[k] is every cell after k steps (hue and holds, rank-major), assigned from the API's
 * per-transfer "after" values — no arithmetic on the data.
 */
export function prepare(data) {
  const c = data.columns;
  const v = data.view;
  const n = data.ranks;
  const cells = v.cells;
  const count = c.step.length;
  const numSteps = c.step_time.length;
  const steps = [];
  let start = 0;
  for (let s = 0; s < numSteps; s += 1) {
    let end = start;
    while (end < count && c.step[end] === s) end += 1;
    const ops = new Set();
    for (let i = start; i < end; i += 1) ops.add(c.op_names[c.op[i]]);
    steps.push({ index: s, start, end, time: c.step_time[s], link: c.step_link[s], ops: [...ops] });
    start = end;
  }
  const frames = [];
  let hue = Int32Array.from(v.initial_hue.flat());
  let holds = Int32Array.from(v.initial_holds.flat());
  frames.push({ hue, holds });
  for (const st of steps) {
    hue = hue.slice();
    holds = holds.slice();
    for (let i = st.start; i < st.end; i += 1) {
      const at = c.dst[i] * cells + v.dst_cell[i];
      hue[at] = v.hue[i];
      holds[at] = v.holds[i];
    }
    frames.push({ hue, holds });
  }
  // every (src, dst) pair that ever talks: the topology drawn faintly under the steps
  const seen = new Set();
  const pairs = [];
  for (let i = 0; i < count; i += 1) {
    const a = Math.min(c.src[i], c.dst[i]);
    const b = Math.max(c.src[i], c.dst[i]);
    const key = a * n + b;
    if (!seen.has(key)) {
      seen.add(key);
      pairs.push([a, b]);
    }
  }
  return { n, cells, full: v.full, hueOf: v.hue_of, columns: c, view: v, steps, frames, pairs };
}

/**
 * Columns and rows of a rank's buffer in a box of roomW × roomH px, and the cell size: the
 * grid that gives the largest cells, each cell 1.5 times as tall as it is wide (so a partial
 * sum's fill reads at a glance).
 */
export function cellGrid(cells, roomW, roomH) {
  let best = { cols: cells, rows: 1, cell: 0 };
  for (let cols = 1; cols <= cells; cols += 1) {
    const rows = Math.ceil(cells / cols);
    const widest = cells <= 2 ? 40 : 22;
    const cell = Math.min(widest, Math.floor(Math.min(roomW / cols, roomH / (rows * 1.5))));
    if (cell > best.cell || (cell === best.cell && rows < best.rows)) best = { cols, rows, cell };
  }
  return best;
}

/**
 * Where every rank's card goes for a drawing `width` px wide. The API's unit-square positions
 * (a circle, or tree levels) are stretched over the drawing; cell size shrinks with the room
 * each rank has, and cards are dropped (dots only) when a cell would be under 3 px.
 */
export function layout(model, width, tree) {
  const { n, cells, view } = model;
  const narrow = width < 520;
  const label = 16;
  let height;
  let roomW;
  let roomH;
  if (tree) {
    const levels = new Set(view.y).size - 1;
    height = Math.max(200, (levels + 1) * (narrow ? 92 : 120) + 20);
    roomW = ((width - 24) / Math.max(2, 2 ** levels)) * 0.85;
    roomH = (height / (levels + 1)) * 0.5;
  } else {
    height = Math.min(width, narrow ? 440 : 620);
    const radius = height / 2 - 40;
    const arc = (2 * Math.PI * radius) / n;
    roomW = Math.min(arc * 0.85, width * 0.3);
    roomH = Math.min(arc * 0.55, height * 0.16);
  }
  const grid = cellGrid(cells, roomW, roomH);
  const cell = grid.cell;
  const cellH = Math.min(33, Math.round(cell * 1.5));
  const showCells = cell >= 3;
  const cardW = showCells ? grid.cols * cell + 6 : 10;
  const cardH = showCells ? grid.rows * cellH + 6 : 10;
  const marginX = cardW / 2 + 6;
  const marginY = cardH / 2 + label + 6;
  const spanX = width - 2 * marginX;
  const spanY = height - 2 * marginY;
  // a tree fills the drawing; a circle stays round, in a square in the middle
  const side = Math.min(spanX, spanY);
  const box = tree
    ? { x: marginX, y: marginY, w: spanX, h: spanY }
    : { x: (width - side) / 2, y: (height - side) / 2, w: side, h: side };
  const pos = view.x.map((x, r) => ({ x: box.x + x * box.w, y: box.y + view.y[r] * box.h }));
  return { width, height, grid, cell, cellH, showCells, cardW, cardH, label, pos };
}

/** Top-left corner of cell `k` of rank `r`'s card. */
export function cellXY(geo, r, k) {
  const p = geo.pos[r];
  const col = k % geo.grid.cols;
  const row = Math.floor(k / geo.grid.cols);
  return { x: p.x - geo.cardW / 2 + 3 + col * geo.cell, y: p.y - geo.cardH / 2 + 3 + row * geo.cellH };
}

/** The step under playhead time t (steps are unit-length): index, and progress u in [0, 1). */
export function stepAt(t, numSteps) {
  if (t >= numSteps) return { index: numSteps, u: 0 };
  const index = Math.max(0, Math.floor(t));
  return { index, u: t - index };
}
