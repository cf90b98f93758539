/**
 * LayerNorm (Ba, Kiros & Hinton 2016, arXiv:1607.06450) over the last axis of [N, C], with f32x4 SIMD:
 *   forward:  mean = sum x / C;  rstd = 1 / sqrt(sum (x - mean)^2 / C + eps);  norm = (x - mean) rstd;
 *             y = norm w + b                         (w, b optional: pointer 0 means none)
 *   backward: dnorm = dy w;  db += dy;  dw += dy norm;
 *             dx += rstd (dnorm - mean(dnorm) - norm mean(dnorm norm))
 */

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

export function layernormForward(
  out: usize,
  mean: usize,
  rstd: usize,
  inp: usize,
  w: usize,
  b: usize,
  N: i32,
  C: i32,
  eps: f32,
): void {
  const step = <usize>C << 2;
  const invC: f32 = 1 / <f32>C;
  for (let r = 0; r < N; r++) {
    const x = inp + <usize>r * step;
    const y = out + <usize>r * step;
    let sV = f32x4.splat(0);
    let s: f32 = 0;
    let c = 0;
    for (; c + 4 <= C; c += 4) sV = f32x4.add(sV, v128.load(x + (<usize>c << 2)));
    for (; c < C; c++) s += load<f32>(x + (<usize>c << 2));
    const m = (hsum(sV) + s) * invC;
    const mV = f32x4.splat(m);
    let vV = f32x4.splat(0);
    let v: f32 = 0;
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(x + (<usize>c << 2)), mV);
      vV = f32x4.add(vV, f32x4.mul(d, d));
    }
    for (; c < C; c++) {
      const d = load<f32>(x + (<usize>c << 2)) - m;
      v += d * d;
    }
    const rs: f32 = 1 / Mathf.sqrt((hsum(vV) + v) * invC + eps);
    const rsV = f32x4.splat(rs);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      let n = f32x4.mul(f32x4.sub(v128.load(x + o), mV), rsV);
      if (w) n = f32x4.mul(n, v128.load(w + o));
      if (b) n = f32x4.add(n, v128.load(b + o));
      v128.store(y + o, n);
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      let n = (load<f32>(x + o) - m) * rs;
      if (w) n *= load<f32>(w + o);
      if (b) n += load<f32>(b + o);
      store<f32>(y + o, n);
    }
    store<f32>(mean + (<usize>r << 2), m);
    store<f32>(rstd + (<usize>r << 2), rs);
  }
}

export function layernormBackward(
  dinp: usize,
  dw: usize,
  db: usize,
  dout: usize,
  inp: usize,
  w: usize,
  mean: usize,
  rstd: usize,
  N: i32,
  C: i32,
): void {
  const step = <usize>C << 2;
  const invC: f32 = 1 / <f32>C;
  for (let r = 0; r < N; r++) {
    const row = <usize>r * step;
    const x = inp + row;
    const dy = dout + row;
    const dx = dinp + row;
    const m = load<f32>(mean + (<usize>r << 2));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const mV = f32x4.splat(m);
    const rsV = f32x4.splat(rs);
    let aV = f32x4.splat(0);
    let bV = f32x4.splat(0);
    let a: f32 = 0;
    let bs: f32 = 0;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const norm = f32x4.mul(f32x4.sub(v128.load(x + o), mV), rsV);
      let dnorm = v128.load(dy + o);
      if (w) dnorm = f32x4.mul(dnorm, v128.load(w + o));
      aV = f32x4.add(aV, dnorm);
      bV = f32x4.add(bV, f32x4.mul(dnorm, norm));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const norm = (load<f32>(x + o) - m) * rs;
      let dnorm = load<f32>(dy + o);
      if (w) dnorm *= load<f32>(w + o);
      a += dnorm;
      bs += dnorm * norm;
    }
    const dnormMean = (hsum(aV) + a) * invC;
    const dnormNormMean = (hsum(bV) + bs) * invC;
    const dmV = f32x4.splat(dnormMean);
    const dnmV = f32x4.splat(dnormNormMean);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const norm = f32x4.mul(f32x4.sub(v128.load(x + o), mV), rsV);
      const g = v128.load(dy + o);
      const dnorm = w ? f32x4.mul(g, v128.load(w + o)) : g;
      if (db) v128.store(db + o, f32x4.add(v128.load(db + o), g));
      if (dw) v128.store(dw + o, f32x4.add(v128.load(dw + o), f32x4.mul(g, norm)));
      const t = f32x4.sub(f32x4.sub(dnorm, dmV), f32x4.mul(norm, dnmV));
      v128.store(dx + o, f32x4.add(v128.load(dx + o), f32x4.mul(rsV, t)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      const norm = (load<f32>(x + o) - m) * rs;
      const g = load<f32>(dy + o);
      const dnorm = w ? g * load<f32>(w + o) : g;
      if (db) store<f32>(db + o, load<f32>(db + o) + g);
      if (dw) store<f32>(dw + o, load<f32>(dw + o) + g * norm);
      store<f32>(dx + o, load<f32>(dx + o) + rs * (dnorm - dnormMean - norm * dnormNormMean));
    }
  }
}
