/**
 * Row kernels of the fused linear layer and the attention head layout (TypeScript references and the math:
 * ../../kernels/heads.ts), with f32x4 SIMD and memory.copy:
 *   fillRows(out, bias, R, C)   out[r, :] = bias                       (the linear layer's starting value)
 *   sumRows(db, g, R, C)        db[c] += sum_r g[r, c], rows in order  (its bias gradient; same order as the reference)
 *   headsToSlabs / slabsToHeads (=|+=) between rows (B, T, rowStride) at column offset + h Dh and slabs (B, H, T, Dh)
 */

export function fillRows(out: usize, bias: usize, R: i32, C: i32): void {
  const step = <usize>C << 2;
  for (let r = 0; r < R; r++) memory.copy(out + <usize>r * step, bias, step);
}

export function sumRows(db: usize, g: usize, R: i32, C: i32): void {
  const step = <usize>C << 2;
  for (let r = 0; r < R; r++) {
    const row = g + <usize>r * step;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const p = <usize>c << 2;
      v128.store(db + p, f32x4.add(v128.load(db + p), v128.load(row + p)));
    }
    for (; c < C; c++) {
      const p = <usize>c << 2;
      store<f32>(db + p, load<f32>(db + p) + load<f32>(row + p));
    }
  }
}

/** dst (=|+=) src over Dh floats. */
// @ts-ignore: decorator
@inline
function moveRow(dst: usize, src: usize, Dh: i32, accumulate: bool): void {
  if (!accumulate) {
    memory.copy(dst, src, <usize>Dh << 2);
    return;
  }
  let d = 0;
  for (; d + 4 <= Dh; d += 4) {
    const p = <usize>d << 2;
    v128.store(dst + p, f32x4.add(v128.load(dst + p), v128.load(src + p)));
  }
  for (; d < Dh; d++) {
    const p = <usize>d << 2;
    store<f32>(dst + p, load<f32>(dst + p) + load<f32>(src + p));
  }
}

/** toSlabs: slabs (=|+=) rows; otherwise rows (=|+=) slabs. */
export function moveHeads(
  slabs: usize,
  rows: usize,
  B: i32,
  T: i32,
  H: i32,
  Dh: i32,
  rowStride: i32,
  offset: i32,
  toSlabs: bool,
  accumulate: bool,
): void {
  const headBytes = <usize>Dh << 2;
  const rowBytes = <usize>rowStride << 2;
  let o = slabs;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      let r = rows + ((<usize>b * <usize>T * <usize>rowStride + <usize>offset + <usize>h * <usize>Dh) << 2);
      for (let t = 0; t < T; t++) {
        if (toSlabs) moveRow(o, r, Dh, accumulate);
        else moveRow(r, o, Dh, accumulate);
        r += rowBytes;
        o += headBytes;
      }
    }
  }
}

/**
 * Pair rotation (reference: ../../kernels/rotate.ts) for the "half" layout, pair p = channels (p, p + P):
 *   forward  (x1, x2) -> (x1 c - x2 s, x1 s + x2 c)
 *   backward dx1 += dy1 c + dy2 s, dx2 += -dy1 s + dy2 c
 * x viewed as [outer, T, inner, D]; cos/sin tables (T x P); channels from 2P on pass through (forward copies them,
 * backward adds them).
 */
export function rotateHalf(
  out: usize,
  x: usize,
  cos: usize,
  sin: usize,
  outer: i32,
  T: i32,
  inner: i32,
  D: i32,
  P: i32,
  backward: bool,
): void {
  const rowBytes = <usize>D << 2;
  const second = <usize>P << 2;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < T; t++) {
      const c = cos + ((<usize>t * <usize>P) << 2);
      const s = sin + ((<usize>t * <usize>P) << 2);
      for (let n = 0; n < inner; n++) {
        const row = ((<usize>o * <usize>T + <usize>t) * <usize>inner + <usize>n) * rowBytes;
        const xr = x + row;
        const yr = out + row;
        let p = 0;
        for (; p + 4 <= P; p += 4) {
          const q = <usize>p << 2;
          const cv = v128.load(c + q);
          const sv = v128.load(s + q);
          const a = v128.load(xr + q);
          const b = v128.load(xr + second + q);
          if (backward) {
            v128.store(yr + q, f32x4.add(v128.load(yr + q), f32x4.add(f32x4.mul(a, cv), f32x4.mul(b, sv))));
            v128.store(
              yr + second + q,
              f32x4.add(v128.load(yr + second + q), f32x4.add(f32x4.neg(f32x4.mul(a, sv)), f32x4.mul(b, cv))),
            );
          } else {
            v128.store(yr + q, f32x4.sub(f32x4.mul(a, cv), f32x4.mul(b, sv)));
            v128.store(yr + second + q, f32x4.add(f32x4.mul(a, sv), f32x4.mul(b, cv)));
          }
        }
        for (; p < P; p++) {
          const q = <usize>p << 2;
          const cs = load<f32>(c + q);
          const ss = load<f32>(s + q);
          const a = load<f32>(xr + q);
          const b = load<f32>(xr + second + q);
          if (backward) {
            store<f32>(yr + q, load<f32>(yr + q) + (a * cs + b * ss));
            store<f32>(yr + second + q, load<f32>(yr + second + q) + (-a * ss + b * cs));
          } else {
            store<f32>(yr + q, a * cs - b * ss);
            store<f32>(yr + second + q, a * ss + b * cs);
          }
        }
        for (let d = 2 * P; d < D; d++) {
          const q = <usize>d << 2;
          store<f32>(yr + q, backward ? load<f32>(yr + q) + load<f32>(xr + q) : load<f32>(xr + q));
        }
      }
    }
  }
}
