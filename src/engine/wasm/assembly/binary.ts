/**
 * Broadcast binary arithmetic over rows, with f32x4 SIMD: out (R x C) = a (op) b, where each operand is either
 * full (R x C, row-major) or one row (C values) broadcast over the R rows -- the shapes of bias adds, residual
 * adds and per-channel scales. ops: 0 add, 1 sub, 2 mul, 3 div (forward only for div).
 *
 * Backward accumulates (+=): add/sub: da += dout, db += +-dout; mul: da += dout b, db += dout a; a broadcast
 * operand's gradient sums over rows in row order (per column the same order as the scalar reference).
 */

// @ts-ignore: decorator
@inline
function apply(op: i32, x: v128, y: v128): v128 {
  if (op == 0) return f32x4.add(x, y);
  if (op == 1) return f32x4.sub(x, y);
  if (op == 2) return f32x4.mul(x, y);
  return f32x4.div(x, y);
}

// @ts-ignore: decorator
@inline
function applyScalar(op: i32, x: f32, y: f32): f32 {
  if (op == 0) return x + y;
  if (op == 1) return x - y;
  if (op == 2) return x * y;
  return x / y;
}

export function binaryForwardRows(op: i32, out: usize, a: usize, aRow: bool, b: usize, bRow: bool, R: i32, C: i32): void {
  const step = <usize>C << 2;
  for (let r = 0; r < R; r++) {
    const o = out + <usize>r * step;
    const ar = aRow ? a : a + <usize>r * step;
    const br = bRow ? b : b + <usize>r * step;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const p = <usize>c << 2;
      v128.store(o + p, apply(op, v128.load(ar + p), v128.load(br + p)));
    }
    for (; c < C; c++) {
      const p = <usize>c << 2;
      store<f32>(o + p, applyScalar(op, load<f32>(ar + p), load<f32>(br + p)));
    }
  }
}

/** op 0 add, 1 sub, 2 mul. da / db may be 0 (no gradient wanted). */
export function binaryBackwardRows(
  op: i32,
  da: usize,
  db: usize,
  dout: usize,
  a: usize,
  aRow: bool,
  b: usize,
  bRow: bool,
  R: i32,
  C: i32,
): void {
  const step = <usize>C << 2;
  const sign: f32 = op == 1 ? -1 : 1;
  const signV = f32x4.splat(sign);
  for (let r = 0; r < R; r++) {
    const g = dout + <usize>r * step;
    const rowA: usize = aRow ? 0 : <usize>r * step;
    const rowB: usize = bRow ? 0 : <usize>r * step;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const p = <usize>c << 2;
      const gv = v128.load(g + p);
      if (op == 2) {
        if (da) v128.store(da + rowA + p, f32x4.add(v128.load(da + rowA + p), f32x4.mul(gv, v128.load(b + rowB + p))));
        if (db) v128.store(db + rowB + p, f32x4.add(v128.load(db + rowB + p), f32x4.mul(gv, v128.load(a + rowA + p))));
      } else {
        if (da) v128.store(da + rowA + p, f32x4.add(v128.load(da + rowA + p), gv));
        if (db) v128.store(db + rowB + p, f32x4.add(v128.load(db + rowB + p), f32x4.mul(gv, signV)));
      }
    }
    for (; c < C; c++) {
      const p = <usize>c << 2;
      const gs = load<f32>(g + p);
      if (op == 2) {
        if (da) store<f32>(da + rowA + p, load<f32>(da + rowA + p) + gs * load<f32>(b + rowB + p));
        if (db) store<f32>(db + rowB + p, load<f32>(db + rowB + p) + gs * load<f32>(a + rowA + p));
      } else {
        if (da) store<f32>(da + rowA + p, load<f32>(da + rowA + p) + gs);
        if (db) store<f32>(db + rowB + p, load<f32>(db + rowB + p) + gs * sign);
      }
    }
  }
}
