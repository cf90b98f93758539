/**
 * Rotation of channel pairs by per-row angles, given as cos/sin tables:
 *   (x1, x2) -> (x1 cos - x2 sin, x1 sin + x2 cos)
 * x is viewed as [outer, T, inner, D]; row t of the tables (each T x P, P = number of pairs) rotates x[:, t, :, :].
 * Pair p is channels (2p, 2p + 1) in the "interleaved" layout and (p, p + P) in the "half" layout; channels at or
 * past 2P pass through unchanged.
 */
type Floats = Float32Array;

export type PairLayout = "interleaved" | "half";

export interface RotateSizes {
  outer: number;
  T: number;
  inner: number;
  D: number;
  /** Number of rotated pairs P (2P <= D). */
  pairs: number;
  layout: PairLayout;
}

export function rotatePairsForward(out: Floats, x: Floats, cos: Floats, sin: Floats, s: RotateSizes): void {
  const { outer, T, inner, D, pairs, layout } = s;
  const second = layout === "half" ? pairs : 1;
  const step = layout === "half" ? 1 : 2;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < T; t++) {
      const tab = t * pairs;
      for (let n = 0; n < inner; n++) {
        const row = ((o * T + t) * inner + n) * D;
        for (let p = 0; p < pairs; p++) {
          const i1 = row + p * step,
            i2 = i1 + second;
          const c = cos[tab + p],
            sn = sin[tab + p];
          const x1 = x[i1],
            x2 = x[i2];
          out[i1] = x1 * c - x2 * sn;
          out[i2] = x1 * sn + x2 * c;
        }
        for (let d = 2 * pairs; d < D; d++) out[row + d] = x[row + d];
      }
    }
  }
}
/** The rotation's transpose: dx1 += dy1 cos + dy2 sin, dx2 += -dy1 sin + dy2 cos. */
export function rotatePairsBackward(
  dx: Floats,
  dout: Floats,
  cos: Floats,
  sin: Floats,
  s: RotateSizes,
): void {
  const { outer, T, inner, D, pairs, layout } = s;
  const second = layout === "half" ? pairs : 1;
  const step = layout === "half" ? 1 : 2;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < T; t++) {
      const tab = t * pairs;
      for (let n = 0; n < inner; n++) {
        const row = ((o * T + t) * inner + n) * D;
        for (let p = 0; p < pairs; p++) {
          const i1 = row + p * step,
            i2 = i1 + second;
          const c = cos[tab + p],
            sn = sin[tab + p];
          const g1 = dout[i1],
            g2 = dout[i2];
          dx[i1] += g1 * c + g2 * sn;
          dx[i2] += -g1 * sn + g2 * c;
        }
        for (let d = 2 * pairs; d < D; d++) dx[row + d] += dout[row + d];
      }
    }
  }
}
