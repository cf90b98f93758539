/**
 * sin, cos and SPDER's sin(x) sqrt(|x|) with f32x4 SIMD (the SIREN / SPDER activations of a coordinate MLP, whose
 * JavaScript Math.sin loops were half of its training step).
 *
 * Range reduction (Cody and Waite): k = nearest(x 2/pi), r = x - k pi/2 with pi/2 split in three float32 parts
 * (1.5703125 + 4.837512969970703125e-4 + 7.54978995489188216e-8, the first two exact in few bits, so k * part is
 * exact for |k| < 2^15), r in [-pi/4, pi/4]. On that interval (minimax polynomials of Cephes' sinf/cosf):
 *   sin r = r + r^3 (-1.6666654611e-1 + r^2 (8.3321608736e-3 + r^2 (-1.9515295891e-4)))
 *   cos r = 1 - r^2 / 2 + r^4 (4.166664568298827e-2 + r^2 (-1.388731625493765e-3 + r^2 2.443315711809948e-5))
 * and by quadrant q = k mod 4: sin x = (s, c, -s, -c)[q]; cos x = sin(x + pi/2), quadrant q + 1.
 * Accuracy: a few float32 ulps for |x| up to about 1e4 (tested against Math.sin); beyond, the reduction loses
 * bits like any float32 evaluation. NaN and +-Infinity give NaN (inf - inf), as Math.sin does.
 */

const TWO_OVER_PI: f32 = 0.6366197723675814;
const PIO2_1: f32 = 1.5703125;
const PIO2_2: f32 = 4.837512969970703125e-4;
const PIO2_3: f32 = 7.54978995489188216e-8;

/** sin(x) when `shift` is 0, cos(x) when it is 1 (quadrant shifted by one). */
// @ts-ignore: decorator
@inline
function sinQuadrant(x: v128, shift: i32): v128 {
  const kf = f32x4.nearest(f32x4.mul(x, f32x4.splat(TWO_OVER_PI)));
  let r = f32x4.sub(x, f32x4.mul(kf, f32x4.splat(PIO2_1)));
  r = f32x4.sub(r, f32x4.mul(kf, f32x4.splat(PIO2_2)));
  r = f32x4.sub(r, f32x4.mul(kf, f32x4.splat(PIO2_3)));
  const q = i32x4.add(i32x4.trunc_sat_f32x4_s(kf), i32x4.splat(shift));
  const r2 = f32x4.mul(r, r);
  let ps = f32x4.add(f32x4.splat(8.3321608736e-3), f32x4.mul(r2, f32x4.splat(-1.9515295891e-4)));
  ps = f32x4.add(f32x4.splat(-1.6666654611e-1), f32x4.mul(r2, ps));
  const s = f32x4.add(r, f32x4.mul(f32x4.mul(r2, r), ps));
  let pc = f32x4.add(f32x4.splat(-1.388731625493765e-3), f32x4.mul(r2, f32x4.splat(2.443315711809948e-5)));
  pc = f32x4.add(f32x4.splat(4.166664568298827e-2), f32x4.mul(r2, pc));
  const c = f32x4.add(
    f32x4.sub(f32x4.splat(1), f32x4.mul(r2, f32x4.splat(0.5))),
    f32x4.mul(f32x4.mul(r2, r2), pc),
  );
  // odd quadrants take the cosine polynomial; quadrants 2 and 3 flip the sign (bit 1 of q moved to the sign bit)
  const odd = i32x4.ne(v128.and(q, i32x4.splat(1)), i32x4.splat(0));
  const value = v128.bitselect(c, s, odd);
  const sign = i32x4.shl(v128.and(q, i32x4.splat(2)), 30);
  return v128.xor(value, sign);
}

/** SPDER's derivative cos(x) sqrt|x| + sin(x) sign(x) / (2 sqrt|x|), with sin(x) sign(x) = sin|x| (sin is odd);
 * 0 at x = 0 (the reference's limit, not 0 / 0). */
// @ts-ignore: decorator
@inline
function spderGrad(x: v128): v128 {
  const root = f32x4.sqrt(f32x4.abs(x));
  const grad = f32x4.add(
    f32x4.mul(sinQuadrant(x, 1), root),
    f32x4.div(sinQuadrant(f32x4.abs(x), 0), f32x4.add(root, root)),
  );
  return v128.andnot(grad, f32x4.eq(x, f32x4.splat(0)));
}

/** y[i] = sin(x[i]) (shift 0) or cos(x[i]) (shift 1) for i < n (y may equal x). */
function sineForward(y: usize, x: usize, n: i32, shift: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, sinQuadrant(v128.load(x + o), shift));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(sinQuadrant(f32x4.splat(load<f32>(x + o)), shift), 0));
  }
}

/** dx[i] += sign * dy[i] * sin(x[i] + shift pi/2): sin' = cos (shift 1, sign 1), cos' = -sin (shift 0, sign -1). */
function sineBackward(dx: usize, dy: usize, x: usize, n: i32, shift: i32, sign: f32): void {
  const s = f32x4.splat(sign);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = f32x4.mul(s, sinQuadrant(v128.load(x + o), shift));
    v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(g, v128.load(dy + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = sign * f32x4.extract_lane(sinQuadrant(f32x4.splat(load<f32>(x + o)), shift), 0);
    store<f32>(dx + o, load<f32>(dx + o) + g * load<f32>(dy + o));
  }
}

export function sinForward(y: usize, x: usize, n: i32): void {
  sineForward(y, x, n, 0);
}

export function sinBackward(dx: usize, dy: usize, x: usize, n: i32): void {
  sineBackward(dx, dy, x, n, 1, 1);
}

export function cosForward(y: usize, x: usize, n: i32): void {
  sineForward(y, x, n, 1);
}

export function cosBackward(dx: usize, dy: usize, x: usize, n: i32): void {
  sineBackward(dx, dy, x, n, 0, -1);
}

/** y[i] = sin(x[i]) sqrt(|x[i]|) for i < n (y may equal x). */
export function sinSqrtAbsForward(y: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, f32x4.mul(sinQuadrant(v, 0), f32x4.sqrt(f32x4.abs(v))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = f32x4.splat(load<f32>(x + o));
    store<f32>(y + o, f32x4.extract_lane(f32x4.mul(sinQuadrant(v, 0), f32x4.sqrt(f32x4.abs(v))), 0));
  }
}

/** dx[i] += dy[i] (cos(x) sqrt|x| + sin(|x|) / (2 sqrt|x|)), 0 at x = 0 (the reference's limit). */
export function sinSqrtAbsBackward(dx: usize, dy: usize, x: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(spderGrad(v128.load(x + o)), v128.load(dy + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = f32x4.extract_lane(spderGrad(f32x4.splat(load<f32>(x + o))), 0);
    store<f32>(dx + o, load<f32>(dx + o) + g * load<f32>(dy + o));
  }
}
