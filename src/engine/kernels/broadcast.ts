/**
 * Broadcast plans: how to walk an output shape while reading operands of broadcast-compatible shapes
 * (NumPy rules: align trailing dims; a dim of 1 stretches). A plan lists the output's dims with each operand's
 * stride per dim (0 where it broadcasts), with size-1 dims dropped and adjacent dims merged where every operand is
 * contiguous across them, so `[B, T, C] + [C]` becomes two dims `[B*T, C]` and same-shape operands become one.
 *
 * Reductions reuse the same plans: summing x over some axes walks x's shape with the output's strides set to 0
 * on the reduced axes.
 */

export interface BroadcastPlan {
  /** Dims of the walk after dropping 1s and merging; [] for a single element. */
  readonly dims: number[];
  /** Per operand, its stride for each dim in `dims`. Operand 0 is usually the (contiguous) output. */
  readonly strides: number[][];
  /** Number of elements walked. */
  readonly size: number;
}

/** Row-major strides of `shape`, with 0 for dims of size 1 (they never advance). */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/**
 * Strides for reading an operand of `shape` while walking `outShape` (which it broadcasts to): 0 on dims it
 * lacks or has as 1. Assumes compatibility was checked.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, i) => (i < offset ? 0 : own[i - offset]));
}

/** Builds a plan walking `shape` with the given per-operand strides (each the length of `shape`). */
export function makePlan(shape: readonly number[], operandStrides: number[][]): BroadcastPlan {
  const dims: number[] = [];
  const strides: number[][] = operandStrides.map(() => []);
  let size = 1;
  for (let d = 0; d < shape.length; d++) {
    size *= shape[d];
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    // Merge with the previous dim when every operand steps across both as one contiguous run.
    if (last >= 0 && operandStrides.every((s, o) => strides[o][last] === s[d] * shape[d])) {
      dims[last] *= shape[d];
      for (let o = 0; o < strides.length; o++) strides[o][last] = operandStrides[o][d];
    } else {
      dims.push(shape[d]);
      for (let o = 0; o < strides.length; o++) strides[o].push(operandStrides[o][d]);
    }
  }
  return { dims, strides, size };
}

/**
 * Calls `row(offsets, length, innerStrides)` once per innermost run of the plan, where offsets[o] is operand o's
 * offset at the start of the run and innerStrides[o] its stride along the run. Kernels put their tight loop inside.
 */
export function forEachRun(
  plan: BroadcastPlan,
  row: (offsets: Int32Array, length: number, inner: Int32Array) => void,
): void {
  const { dims, strides, size } = plan;
  const operands = strides.length;
  const offsets = new Int32Array(operands);
  if (size === 0) return;
  if (dims.length === 0) {
    row(offsets, 1, new Int32Array(operands));
    return;
  }
  const rank = dims.length;
  const inner = new Int32Array(operands);
  for (let o = 0; o < operands; o++) inner[o] = strides[o][rank - 1];
  const length = dims[rank - 1];
  const counter = new Int32Array(rank);
  const runs = size / length;
  for (let r = 0; r < runs; r++) {
    row(offsets, length, inner);
    // Odometer over the outer dims.
    for (let d = rank - 2; d >= 0; d--) {
      counter[d]++;
      for (let o = 0; o < operands; o++) offsets[o] += strides[o][d];
      if (counter[d] < dims[d]) break;
      for (let o = 0; o < operands; o++) offsets[o] -= strides[o][d] * dims[d];
      counter[d] = 0;
    }
  }
}
