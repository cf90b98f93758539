/**
 * Elementwise kernels with f32x4 SIMD.
 *
 * GELU, tanh approximation (Hendrycks & Gimpel 2016, arXiv:1606.08415; as in GPT-2):
 *   gelu(x) = 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
 *   gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2),  t = tanh(u)
 * computed as 0.5 (1 + tanh(u)) = s = sigmoid(2u) = 1 / (1 + e), e = exp(-2u), on the SIMD exp (one exp and one
 * division, no sign fix-up): gelu(x) = x / (1 + e), gelu'(x) = s + 2 x s (1 - s) du/dx with 1 - s = e s,
 * du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
 * For u -> -inf, -2u is capped at 80 (s ~ 2e-35, gelu ~ 0); for u -> +inf, e = 0 and s = 1.
 */
import { expv } from "./softmax";

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_CUBIC: f32 = 0.044715;

// @ts-ignore: decorator
@inline
function geluInner(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  return f32x4.mul(f32x4.splat(SQRT_2_OVER_PI), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_CUBIC), x3)));
}

/** sigmoid(2u) = 0.5 (1 + tanh(u)) = 1 / (1 + e) with e = exp(-2u). */
// @ts-ignore: decorator
@inline
function expMinus2u(x: v128): v128 {
  // -2u capped at 80 keeps e finite (e^80 ~ 5.5e34), so e s below stays a number as x -> -inf (inf * 0 is NaN).
  return expv(f32x4.pmin(f32x4.mul(geluInner(x), f32x4.splat(-2)), f32x4.splat(80)));
}

// @ts-ignore: decorator
@inline
function geluV(x: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1), expMinus2u(x)));
}

// @ts-ignore: decorator
@inline
function geluGradV(x: v128): v128 {
  const e = expMinus2u(x);
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  const du = f32x4.mul(
    f32x4.splat(SQRT_2_OVER_PI),
    f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * GELU_CUBIC), f32x4.mul(x, x))),
  );
  // 0.5 x (1 - t^2) du = 2 x s (1 - s) du, with 1 - s = e s (no cancellation as s -> 1)
  const oneMinusS = f32x4.mul(e, s);
  const right = f32x4.mul(f32x4.mul(f32x4.mul(f32x4.add(x, x), s), oneMinusS), du);
  return f32x4.add(s, right);
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

/**
 * dx[i] += scale * dy[i] for i < n: the gradient of affine (y = scale x + shift) and of reshape (scale 1, whose
 * output is a view, so its gradient is the output's, accumulated into the input's).
 */
export function affineBackward(dx: usize, dy: usize, scale: f32, n: i32): void {
  const s = f32x4.splat(scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(s, v128.load(dy + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(dx + o) + scale * load<f32>(dy + o));
  }
}
