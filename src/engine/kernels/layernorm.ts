/**
 * LayerNorm (Ba, Kiros & Hinton 2016, arXiv:1607.06450) and RMSNorm (Zhang & Sennrich 2019, arXiv:1910.07467)
 * over the last axis of an [N, C] view:
 *   layernorm: y = (x - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps)   (biased variance)
 *   rmsnorm:   y = x * rstd * w,               rstd = 1 / sqrt(mean(x^2) + eps)
 * Forward caches mean and rstd (one per row) for the backward pass. w and b may be null (no affine part).
 */
type Floats = Float32Array;

export function layernormForward(
  out: Floats,
  mean: Floats,
  rstd: Floats,
  inp: Floats,
  w: Floats | null,
  b: Floats | null,
  N: number,
  C: number,
  eps: number,
): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[o + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = inp[o + c] - m;
      v += d * d;
    }
    v /= C;
    const s = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < C; c++) {
      const n = (inp[o + c] - m) * s;
      out[o + c] = n * (w ? w[c] : 1) + (b ? b[c] : 0);
    }
    // cache the mean and rstd for the backward pass
    mean[r] = m;
    rstd[r] = s;
  }
}
/**
 * in the forward pass this was: y = norm * w + b, norm = (x - mean) * rstd; so
 *   db += dy, dw += dy * norm, and with dnorm = dy * w:
 *   dx += rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
 */
export function layernormBackward(
  dinp: Floats,
  dw: Floats | null,
  db: Floats | null,
  dout: Floats,
  inp: Floats,
  w: Floats | null,
  mean: Floats,
  rstd: Floats,
  N: number,
  C: number,
): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    const m = mean[r],
      s = rstd[r];
    let dnormMean = 0,
      dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c] - m) * s;
      const dnorm = dout[o + c] * (w ? w[c] : 1);
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c] - m) * s;
      const dy = dout[o + c];
      const dnorm = dy * (w ? w[c] : 1);
      if (db) db[c] += dy;
      if (dw) dw[c] += dy * norm;
      dinp[o + c] += s * (dnorm - dnormMean - norm * dnormNormMean);
    }
  }
}

export function rmsnormForward(
  out: Floats,
  rstd: Floats,
  inp: Floats,
  w: Floats | null,
  N: number,
  C: number,
  eps: number,
): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    let ms = 0;
    for (let c = 0; c < C; c++) ms += inp[o + c] * inp[o + c];
    const s = 1 / Math.sqrt(ms / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = inp[o + c] * s * (w ? w[c] : 1);
    rstd[r] = s; // cached for the backward pass
  }
}
/**
 * in the forward pass this was: y = x * rstd * w; so dw += dy * x * rstd, and with dnorm = dy * w:
 *   dx += rstd * (dnorm - norm * mean(dnorm * norm)),  norm = x * rstd
 */
export function rmsnormBackward(
  dinp: Floats,
  dw: Floats | null,
  dout: Floats,
  inp: Floats,
  w: Floats | null,
  rstd: Floats,
  N: number,
  C: number,
): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    const s = rstd[r];
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[o + c] * (w ? w[c] : 1) * inp[o + c] * s;
    dot /= C;
    for (let c = 0; c < C; c++) {
      const norm = inp[o + c] * s;
      const dy = dout[o + c];
      if (dw) dw[c] += dy * norm;
      dinp[o + c] += s * (dy * (w ? w[c] : 1) - norm * dot);
    }
  }
}
