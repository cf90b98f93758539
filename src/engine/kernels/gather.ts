/**
 * Row gather (embedding lookup) and its scatter-add gradient:
 *   out[n, :] = table[ids[n], :]    for n < N, table (V, C)
 */
type Floats = Float32Array;

export function embeddingForward(out: Floats, ids: Int32Array, table: Floats, N: number, C: number): void {
  for (let n = 0; n < N; ) {
    const run = runLength(ids, n, N); // consecutive ids (a gather of rows in order) copy as one block
    out.set(table.subarray(ids[n] * C, (ids[n] + run) * C), n * C);
    n += run;
  }
}
/** in the forward pass this was: out[n] = table[ids[n]]; so dtable[ids[n]] += dout[n] (repeated ids add up). */
export function embeddingBackward(dtable: Floats, dout: Floats, ids: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; ) {
    const run = runLength(ids, n, N);
    const dst = ids[n] * C;
    const src = n * C;
    for (let i = 0; i < run * C; i++) dtable[dst + i] += dout[src + i];
    n += run;
  }
}

/** Length of the run of consecutive ids starting at n: ids[n + r] = ids[n] + r for r < the result. */
function runLength(ids: Int32Array, n: number, N: number): number {
  let r = 1;
  while (n + r < N && ids[n + r] === ids[n] + r) r++;
  return r;
}

/**
 * Row scatter, the inverse of a gather by distinct ids: out[rows[n], :] = y[n, :] for n < N, out (R, C) zeroed
 * beforehand by the caller (rows not listed stay 0). Backward: dy[n, :] += dout[rows[n], :]. Runs of consecutive
 * rows (a padded batch's real tokens) move as one block.
 */
export function scatterRowsForward(out: Floats, y: Floats, rows: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; ) {
    const run = runLength(rows, n, N);
    out.set(y.subarray(n * C, (n + run) * C), rows[n] * C);
    n += run;
  }
}
/** in the forward pass this was: out[rows[n]] = y[n]; so dy[n] += dout[rows[n]]. */
export function scatterRowsBackward(dy: Floats, dout: Floats, rows: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; ) {
    const run = runLength(rows, n, N);
    const src = rows[n] * C;
    const dst = n * C;
    for (let i = 0; i < run * C; i++) dy[dst + i] += dout[src + i];
    n += run;
  }
}

/**
 * Gather with linear interpolation along the last axis (a 1-D `grid_sample` over rows):
 *   x = clamp(positions[r, j], 0, P - 1),  f = floor(x),  c = ceil(x),  w = x - f
 *   out[r, j] = table[r, f] + w (table[r, c] - table[r, f])          table (R, P), positions and out (R, J)
 */
export function lerpGatherForward(
  out: Floats,
  table: Floats,
  positions: Floats,
  R: number,
  P: number,
  J: number,
): void {
  const last = P - 1;
  for (let r = 0; r < R; r++) {
    const row = r * P;
    for (let j = 0, n = r * J; j < J; j++, n++) {
      const x = Math.min(Math.max(positions[n], 0), last);
      const f = Math.floor(x);
      const low = table[row + f];
      out[n] = low + (x - f) * (table[row + Math.ceil(x)] - low);
    }
  }
}

/**
 * in the forward pass this was: out = (1 - w) table[f] + w table[c]; so dtable[f] += (1 - w) dout,
 * dtable[c] += w dout, and dpositions += dout (table[c] - table[f]) where the position was not clamped
 * (inside [0, P - 1], bounds included, as torch.clamp). Either gradient may be skipped (null).
 */
export function lerpGatherBackward(
  dtable: Floats | null,
  dpositions: Floats | null,
  dout: Floats,
  table: Floats,
  positions: Floats,
  R: number,
  P: number,
  J: number,
): void {
  const last = P - 1;
  for (let r = 0; r < R; r++) {
    const row = r * P;
    for (let j = 0, n = r * J; j < J; j++, n++) {
      const raw = positions[n];
      const x = Math.min(Math.max(raw, 0), last);
      const f = Math.floor(x);
      const c = Math.ceil(x);
      const w = x - f;
      const g = dout[n];
      if (dtable) {
        dtable[row + f] += (1 - w) * g;
        dtable[row + c] += w * g;
      }
      if (dpositions && raw >= 0 && raw <= last) dpositions[n] += g * (table[row + c] - table[row + f]);
    }
  }
}
