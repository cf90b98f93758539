/**
 * Depthwise 2-D convolution, channels last, stride 1, zero padding that keeps the size ("same"; odd kernels):
 *   out[n, i, j, c] = bias[c] + sum_(u, v) w[u, v, c] x[n, i + u - ph, j + v - pw, c],   ph = (KH - 1) / 2
 * with x = 0 outside the H x W grid (PyTorch's Conv2d(C, C, K, padding=K // 2, groups=C), whose weight [C, 1, KH, KW]
 * is w transposed to [KH, KW, C]).
 */
type Floats = Float32Array;

export interface DepthwiseConvSizes {
  N: number;
  H: number;
  W: number;
  C: number;
  KH: number;
  KW: number;
}

export function depthwiseConv2dForward(
  out: Floats,
  x: Floats,
  w: Floats,
  bias: Floats | null,
  s: DepthwiseConvSizes,
): void {
  const { N, H, W, C, KH, KW } = s;
  const ph = (KH - 1) >> 1;
  const pw = (KW - 1) >> 1;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const o = ((n * H + i) * W + j) * C;
        for (let c = 0; c < C; c++) out[o + c] = bias ? bias[c] : 0;
        for (let u = 0; u < KH; u++) {
          const r = i + u - ph;
          if (r < 0 || r >= H) continue;
          for (let v = 0; v < KW; v++) {
            const q = j + v - pw;
            if (q < 0 || q >= W) continue;
            const xi = ((n * H + r) * W + q) * C;
            const wi = (u * KW + v) * C;
            for (let c = 0; c < C; c++) out[o + c] += w[wi + c] * x[xi + c];
          }
        }
      }
    }
  }
}

/** Accumulates dx, dw, dbias (each may be null when not needed) from dout. */
export function depthwiseConv2dBackward(
  dx: Floats | null,
  dw: Floats | null,
  dbias: Floats | null,
  dout: Floats,
  x: Floats,
  w: Floats,
  s: DepthwiseConvSizes,
): void {
  const { N, H, W, C, KH, KW } = s;
  const ph = (KH - 1) >> 1;
  const pw = (KW - 1) >> 1;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const o = ((n * H + i) * W + j) * C;
        if (dbias) for (let c = 0; c < C; c++) dbias[c] += dout[o + c];
        for (let u = 0; u < KH; u++) {
          const r = i + u - ph;
          if (r < 0 || r >= H) continue;
          for (let v = 0; v < KW; v++) {
            const q = j + v - pw;
            if (q < 0 || q >= W) continue;
            const xi = ((n * H + r) * W + q) * C;
            const wi = (u * KW + v) * C;
            for (let c = 0; c < C; c++) {
              const g = dout[o + c];
              if (dx) dx[xi + c] += w[wi + c] * g;
              if (dw) dw[wi + c] += x[xi + c] * g;
            }
          }
        }
      }
    }
  }
}
