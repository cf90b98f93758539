/**
 * Elementwise kernels with f32x4 SIMD.
 *
 * GELU, tanh approximation (Hendrycks & Gimpel 2016, arXiv:1606.08415; as in GPT-2):
 *   gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 *   gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2),  t = tanh(u)
 * with tanh(u) = sign(u) (1 - 2 / (exp(2|u|) + 1)) on the SIMD exp (absolute error ~1e-7).
 */
import { expv } from "./softmax";

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_CUBIC: f32 = 0.044715;

// @ts-ignore: decorator
@inline
function tanhv(u: v128): v128 {
  const e = expv(f32x4.mul(f32x4.abs(u), f32x4.splat(2)));
  const t = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  return v128.or(t, v128.and(u, i32x4.splat(0x80000000)));
}

// @ts-ignore: decorator
@inline
function geluInner(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  return f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_CUBIC), x3)));
}

// @ts-ignore: decorator
@inline
function geluV(x: v128): v128 {
  const t = tanhv(geluInner(x));
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1), t));
}

// @ts-ignore: decorator
@inline
function geluGradV(x: v128): v128 {
  const t = tanhv(geluInner(x));
  const du = f32x4.mul(
    f32x4.splat(SQRT_2_OVER_PI),
    f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * GELU_CUBIC), f32x4.mul(x, x))),
  );
  const left = f32x4.mul(f32x4.splat(0.5), f32x4.add(f32x4.splat(1), t));
  const right = f32x4.mul(f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t))), du);
  return f32x4.add(left, right);
}

/** y[i] = gelu(x[i]) for i < n (y may equal x). */
export function geluForward(y: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, geluV(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(geluV(f32x4.splat(load<f32>(x + o))), 0));
  }
}

/** dx[i] += gelu'(x[i]) dy[i] for i < n. */
export function geluBackward(dx: usize, dy: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(geluGradV(v128.load(x + o)), v128.load(dy + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = f32x4.extract_lane(geluGradV(f32x4.splat(load<f32>(x + o))), 0);
    store<f32>(dx + o, load<f32>(dx + o) + g * load<f32>(dy + o));
  }
}
