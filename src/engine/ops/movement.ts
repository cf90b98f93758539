/**
 * Movement ops: reshape, permute/transpose, slice, concat, embedding (row gather), scatterRows (its inverse for
 * distinct rows), lerpGather (interpolated gather along the last axis). `reshape` is a zero-copy view: its output shares the input's storage (tensors are
 * contiguous row-major, so a new shape of the same size reads the same elements in the same order; the storage is
 * freed when its last owner is disposed, storage.ts). The other ops' outputs own their storage (they copy). Each
 * gradient is the inverse movement, accumulated.
 */
import { contiguousStrides, makePlan } from "../kernels/broadcast.js";
import { kernels } from "../kernels/index.js";
import { shareStorage } from "../storage.js";
import {
  formatShape,
  gradOrNull,
  inputGrad,
  record,
  type Shape,
  shapeSize,
  Tensor,
  uninitialized,
  zeros,
} from "../tensor.js";
import { normalizeAxis } from "./shapes.js";

/** Row-major strides with no zeroing (for addressing sub-blocks). */
function denseStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Same values, new shape (one dim may be -1, inferred). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const inferred = shape.indexOf(-1);
  let target = [...shape];
  if (inferred >= 0) {
    const known = shape.reduce((p, d, i) => (i === inferred ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0 || shape.lastIndexOf(-1) !== inferred) {
      throw new RangeError(`reshape: cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
    }
    target = shape.map((d, i) => (i === inferred ? x.size / known : d));
  }
  if (shapeSize(target) !== x.size || target.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`,
    );
  }
  const out = new Tensor(shareStorage(x.data), target);
  return record(out, "reshape", [x], (g) => kernels().affineBackward(inputGrad(x), g, 1, x.size));
}

/** out.shape[i] = x.shape[axes[i]]; axes must be a permutation of 0..rank-1 (negative allowed). */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const order = axes.map((a) => normalizeAxis("permute", a, x.shape));
  if (order.length !== x.rank || new Set(order).size !== order.length) {
    throw new RangeError(
      `permute: axes [${axes.join(", ")}] are not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`,
    );
  }
  const shape = order.map((a) => x.shape[a]);
  const xStrides = denseStrides(x.shape);
  const readStrides = order.map((a) => (x.shape[a] === 1 ? 0 : xStrides[a]));
  const plan = makePlan(shape, [contiguousStrides(shape), readStrides]);
  const back = makePlan(shape, [readStrides, contiguousStrides(shape)]);
  const out = uninitialized(shape);
  kernels().stridedCopy(out.data, x.data, plan);
  return record(out, "permute", [x], (g) => kernels().stridedAdd(inputGrad(x), g, back));
}

/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  const a = normalizeAxis("transpose", axis0, x.shape);
  const b = normalizeAxis("transpose", axis1, x.shape);
  const order = x.shape.map((_, i) => i);
  order[a] = b;
  order[b] = a;
  return permute(x, order);
}

/** Elements start..end-1 along `axis` (negative start/end count from the end, as in Python). */
export function slice(
  x: Tensor,
  axis: number,
  start: number,
  end: number = Number.POSITIVE_INFINITY,
): Tensor {
  const a = normalizeAxis("slice", axis, x.shape);
  const n = x.shape[a];
  const lo = Math.min(Math.max(start < 0 ? start + n : start, 0), n);
  const hi = Math.min(Math.max(end < 0 ? end + n : end, lo), n);
  if (!Number.isInteger(lo) || !Number.isInteger(hi)) {
    throw new RangeError(
      `slice: start ${start} and end ${end} must be integers (shape ${formatShape(x.shape)})`,
    );
  }
  const shape = x.shape.map((d, i) => (i === a ? hi - lo : d));
  const xStrides = denseStrides(x.shape);
  const readStrides = shape.map((d, i) => (d === 1 ? 0 : xStrides[i]));
  const base = lo * xStrides[a];
  const plan = makePlan(shape, [contiguousStrides(shape), readStrides]);
  const back = makePlan(shape, [readStrides, contiguousStrides(shape)]);
  const out = uninitialized(shape);
  kernels().stridedCopy(out.data, x.data.subarray(base), plan);
  return record(out, "slice", [x], (g) => kernels().stridedAdd(inputGrad(x).subarray(base), g, back));
}

/** Joins tensors along `axis`; all other dims must match. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new RangeError("concat: needs at least one tensor, received none");
  const first = xs[0];
  const a = normalizeAxis("concat", axis, first.shape);
  for (const x of xs) {
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new RangeError(
        `concat: shapes ${formatShape(first.shape)} and ${formatShape(x.shape)} differ outside axis ${axis}`,
      );
    }
  }
  const shape = first.shape.map((d, i) => (i === a ? xs.reduce((s, x) => s + x.shape[a], 0) : d));
  const outStrides = denseStrides(shape);
  const out = uninitialized(shape);
  const blocks = xs.map((x, idx) => {
    const offset = xs.slice(0, idx).reduce((s, y) => s + y.shape[a], 0) * outStrides[a];
    const writeStrides = x.shape.map((d, i) => (d === 1 ? 0 : outStrides[i]));
    const plan = makePlan(x.shape, [writeStrides, contiguousStrides(x.shape)]);
    const back = makePlan(x.shape, [contiguousStrides(x.shape), writeStrides]);
    kernels().stridedCopy(out.data.subarray(offset), x.data, plan);
    return { offset, back };
  });
  return record(out, "concat", xs, (g) => {
    xs.forEach((x, idx) => {
      if (x.requiresGrad)
        kernels().stridedAdd(inputGrad(x), g.subarray(blocks[idx].offset), blocks[idx].back);
    });
  });
}

/**
 * Row gather: out[..., :] = table[ids[...], :], table (V, C), ids of shape `idsShape` (default [ids.length]).
 * The gradient scatter-adds rows back into the table (repeated ids accumulate).
 */
export function embedding(table: Tensor, ids: Int32Array, idsShape: Shape = [ids.length]): Tensor {
  if (table.rank !== 2)
    throw new RangeError(`embedding: table must be 2-D (V, C), received ${formatShape(table.shape)}`);
  if (shapeSize(idsShape) !== ids.length) {
    throw new RangeError(`embedding: ${ids.length} ids do not fill ids shape ${formatShape(idsShape)}`);
  }
  const [V, C] = table.shape;
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i] >= 0 && ids[i] < V)) {
      throw new RangeError(`embedding: id ${ids[i]} at index ${i} is out of range for a table of ${V} rows`);
    }
  }
  const out = uninitialized([...idsShape, C]);
  const N = ids.length;
  ids = Int32Array.from(ids); // the caller may reuse its array before backward runs
  kernels().embeddingForward(out.data, ids, table.data, N, C);
  return record(out, "embedding", [table], (g) =>
    kernels().embeddingBackward(inputGrad(table), g, ids, N, C),
  );
}

/**
 * Row scatter: out (R, C) with out[rows[n]] = y[n] for y (N, C) and N distinct rows, every other row 0. The
 * inverse of `embedding(x, rows)` on the listed rows (a model computes per-row work on the rows it needs, then
 * puts them back in place); the gradient gathers the listed rows of the output's.
 */
export function scatterRows(y: Tensor, rows: Int32Array, R: number): Tensor {
  if (y.rank !== 2)
    throw new RangeError(`scatterRows: y must be 2-D (N, C), received ${formatShape(y.shape)}`);
  const [N, C] = y.shape;
  if (rows.length !== N) {
    throw new RangeError(`scatterRows: ${rows.length} rows for the ${N} rows of y ${formatShape(y.shape)}`);
  }
  if (!(Number.isInteger(R) && R >= 0))
    throw new RangeError(`scatterRows: R must be an integer >= 0, got ${R}`);
  const seen = new Uint8Array(R);
  for (let n = 0; n < N; n++) {
    const r = rows[n];
    if (!(r >= 0 && r < R) || seen[r]) {
      throw new RangeError(`scatterRows: row ${r} at index ${n} is out of [0, ${R}) or listed twice`);
    }
    seen[r] = 1;
  }
  const out = zeros([R, C]);
  rows = Int32Array.from(rows); // the caller may reuse its array before backward runs
  kernels().scatterRowsForward(out.data, y.data, rows, N, C);
  return record(out, "scatterRows", [y], (g) => kernels().scatterRowsBackward(inputGrad(y), g, rows, N, C));
}

/**
 * Gather with linear interpolation along the last axis: for table [..., P] and positions [..., J] (same leading
 * dims), out[..., j] = table[..., f] + w (table[..., c] - table[..., f]) with x = clamp(positions[..., j], 0, P - 1),
 * f = floor(x), c = ceil(x), w = x - f. Gradients reach the table (split 1 - w / w) and the positions (the slope
 * table[c] - table[f], zero where clamped); at an integer position the slope is taken as 0 (f = c).
 */
export function lerpGather(table: Tensor, positions: Tensor): Tensor {
  if (
    table.rank < 1 ||
    positions.rank !== table.rank ||
    table.shape.some((d, i) => i < table.rank - 1 && d !== positions.shape[i])
  ) {
    throw new RangeError(
      `lerpGather: table ${formatShape(table.shape)} and positions ${formatShape(positions.shape)} must share every dim but the last`,
    );
  }
  const P = table.shape[table.rank - 1];
  const J = positions.shape[positions.rank - 1];
  if (P < 1) throw new RangeError(`lerpGather: table ${formatShape(table.shape)} has no entries to gather`);
  const R = table.size / P;
  const out = uninitialized(positions.shape);
  kernels().lerpGatherForward(out.data, table.data, positions.data, R, P, J);
  return record(out, "lerpGather", [table, positions], (g) =>
    kernels().lerpGatherBackward(
      gradOrNull(table),
      gradOrNull(positions),
      g,
      table.data,
      positions.data,
      R,
      P,
      J,
    ),
  );
}
