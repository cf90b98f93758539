/**
 * Reductions over axes and the scan (cumsum). Reductions walk the input's shape with a plan whose operands are
 * [x (contiguous), out (stride 0 on reduced axes)], see ./broadcast.ts.
 */
import { type BroadcastPlan, forEachRun } from "./broadcast.js";

type Floats = Float32Array;

/** out[r] += sum of x over the reduced axes (out must start zeroed for a plain sum). */
export function sumForward(out: Floats, x: Floats, plan: BroadcastPlan): void {
  forEachRun(plan, (off, len, st) => {
    const xo = off[0],
      oo = off[1],
      so = st[1];
    if (so === 0) {
      let s = 0;
      for (let j = 0; j < len; j++) s += x[xo + j];
      out[oo] += s;
    } else {
      for (let j = 0; j < len; j++) out[oo + j * so] += x[xo + j];
    }
  });
}
/** in the forward pass this was: out[r] += x[i], so dx[i] += scale * dout[r]. */
export function sumBackward(dx: Floats, dout: Floats, scale: number, plan: BroadcastPlan): void {
  forEachRun(plan, (off, len, st) => {
    const xo = off[0],
      oo = off[1],
      so = st[1];
    for (let j = 0; j < len; j++) dx[xo + j] += scale * dout[oo + j * so];
  });
}

/**
 * out[r] = max of x over the reduced axes; argmax[r] = flat index in x of the first maximum (saved for backward).
 */
export function maxForward(out: Floats, argmax: Int32Array, x: Floats, plan: BroadcastPlan): void {
  out.fill(Number.NEGATIVE_INFINITY);
  argmax.fill(-1);
  forEachRun(plan, (off, len, st) => {
    const xo = off[0],
      oo = off[1],
      so = st[1];
    for (let j = 0; j < len; j++) {
      const r = oo + j * so;
      const v = x[xo + j];
      if (v > out[r] || argmax[r] < 0) {
        out[r] = v;
        argmax[r] = xo + j;
      }
    }
  });
}
/** The whole gradient goes to the first maximum. */
export function maxBackward(dx: Floats, dout: Floats, argmax: Int32Array, outSize: number): void {
  for (let r = 0; r < outSize; r++) dx[argmax[r]] += dout[r];
}

/**
 * Inclusive prefix sum along one axis: x viewed as [outer, n, inner], out[o, t, i] = sum_{s<=t} x[o, s, i];
 * with `reverse`, the sum runs over s >= t.
 */
export function cumsumForward(
  out: Floats,
  x: Floats,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let s = 0;
      for (let step = 0; step < n; step++) {
        const t = reverse ? n - 1 - step : step;
        s += x[base + t * inner];
        out[base + t * inner] = s;
      }
    }
  }
}
/** out[t] = sum_{s<=t} x[s], so dx[s] += sum_{t>=s} dout[t]: a cumsum in the opposite direction. */
export function cumsumBackward(
  dx: Floats,
  dout: Floats,
  outer: number,
  n: number,
  inner: number,
  reverse: boolean,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let s = 0;
      for (let step = 0; step < n; step++) {
        const t = reverse ? step : n - 1 - step;
        s += dout[base + t * inner];
        dx[base + t * inner] += s;
      }
    }
  }
}
