/**
 * Exact scores of a fitted field, on plain arrays.
 *   PSNR  10 log10(peak^2 / MSE) over every value (peak 1 for images in [0, 1]); Infinity for a perfect fit
 *   SSIM  Wang, Bovik, Sheikh and Simoncelli, "Image Quality Assessment: From Error Visibility to Structural
 *         Similarity" (IEEE TIP 2004): 11 x 11 Gaussian window with sigma 1.5, C1 = (0.01 L)^2, C2 = (0.03 L)^2,
 *         L = 1, over the windows that fit inside the image (the paper's MATLAB 'valid' filtering), averaged over
 *         windows and channels
 *   IoU   |A and B| / |A or B| of two occupancy masks (inside = SDF < 0), optionally restricted to a region
 *   Chamfer  the symmetric mean nearest-neighbour distance between two point sets:
 *         (mean_p min_q |p - q| + mean_q min_p |q - p|) / 2
 * Zero level sets are sampled as the points where the SDF changes sign along a grid edge, by linear
 * interpolation between the edge's two samples (`zeroCrossings`, any dimension).
 */

export function psnr(a: ArrayLike<number>, b: ArrayLike<number>, peak = 1): number {
  if (a.length !== b.length) throw new RangeError(`psnr: ${a.length} and ${b.length} values`);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((peak * peak) / mse);
}

/** The normalised 1-D Gaussian of the SSIM window. */
function gaussianWindow(size: number, sigma: number): number[] {
  const half = (size - 1) / 2;
  const w = Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const total = w.reduce((s, v) => s + v, 0);
  return w.map((v) => v / total);
}

/** SSIM of two images stored [height, width, channels] row-major with values in [0, 1]. */
export function ssim(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
): number {
  const size = 11;
  if (height < size || width < size)
    throw new RangeError(`ssim: image ${height} x ${width} is smaller than the 11 x 11 window`);
  if (a.length !== height * width * channels || b.length !== a.length) {
    throw new RangeError(
      `ssim: expected ${height * width * channels} values, received ${a.length} and ${b.length}`,
    );
  }
  const g = gaussianWindow(size, 1.5);
  const c1 = 0.01 ** 2;
  const c2 = 0.03 ** 2;
  let total = 0;
  let count = 0;
  for (let ch = 0; ch < channels; ch++) {
    for (let y = 0; y + size <= height; y++) {
      for (let x = 0; x + size <= width; x++) {
        let ma = 0;
        let mb = 0;
        let aa = 0;
        let bb = 0;
        let ab = 0;
        for (let i = 0; i < size; i++) {
          for (let j = 0; j < size; j++) {
            const w = g[i] * g[j];
            const k = ((y + i) * width + (x + j)) * channels + ch;
            const va = a[k];
            const vb = b[k];
            ma += w * va;
            mb += w * vb;
            aa += w * va * va;
            bb += w * vb * vb;
            ab += w * va * vb;
          }
        }
        const va = aa - ma * ma;
        const vb = bb - mb * mb;
        const cov = ab - ma * mb;
        total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
        count++;
      }
    }
  }
  return total / count;
}

/** IoU of the masks a < 0 and b < 0 (SDF samples), over the cells where `region` is true (default: all). */
export function iou(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  region?: ArrayLike<boolean | number>,
): number {
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    if (region && !region[i]) continue;
    const inA = a[i] < 0;
    const inB = b[i] < 0;
    if (inA && inB) both++;
    if (inA || inB) either++;
  }
  return either === 0 ? 1 : both / either;
}

/**
 * The zero crossings of samples on a regular grid: `dims` [n_0, ..., n_{d-1}] points per axis (row-major, last
 * axis fastest) covering [lo, hi]^d; returns the crossing points, flat [x_0, ..., x_{d-1}, ...] in the same
 * coordinate order as the axes.
 */
export function zeroCrossings(
  values: ArrayLike<number>,
  dims: readonly number[],
  lo: number,
  hi: number,
): number[] {
  const d = dims.length;
  const strides = dims.map((_, j) => dims.slice(j + 1).reduce((p, n) => p * n, 1));
  const out: number[] = [];
  const index = new Array<number>(d).fill(0);
  for (let flat = 0; flat < values.length; flat++) {
    let rest = flat;
    for (let j = 0; j < d; j++) {
      index[j] = Math.floor(rest / strides[j]);
      rest -= index[j] * strides[j];
    }
    const v = values[flat];
    for (let axis = 0; axis < d; axis++) {
      if (index[axis] + 1 >= dims[axis]) continue;
      const w = values[flat + strides[axis]];
      if (v < 0 === w < 0) continue;
      const t = v / (v - w);
      for (let j = 0; j < d; j++) {
        const step = (hi - lo) / (dims[j] - 1);
        out.push(lo + (index[j] + (j === axis ? t : 0)) * step);
      }
    }
  }
  return out;
}

/** Mean over points of p of the distance to the nearest point of q (both flat, dimension d); brute force. */
function meanNearest(p: readonly number[], q: readonly number[], d: number): number {
  const np = p.length / d;
  const nq = q.length / d;
  if (np === 0) return 0;
  if (nq === 0) return Number.POSITIVE_INFINITY;
  let best = 0;
  for (let i = 0; i < np; i++) {
    let min = Number.POSITIVE_INFINITY;
    for (let k = 0; k < nq; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (p[i * d + j] - q[k * d + j]) ** 2;
      if (s < min) min = s;
    }
    best += Math.sqrt(min);
  }
  return best / np;
}

/** Symmetric Chamfer distance (mean of both directed means). Infinity when exactly one set is empty. */
export function chamfer(p: readonly number[], q: readonly number[], d: number): number {
  if (p.length === 0 && q.length === 0) return 0;
  return (meanNearest(p, q, d) + meanNearest(q, p, d)) / 2;
}
