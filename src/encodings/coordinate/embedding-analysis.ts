/**
 * The two measures of "Rethinking Positional Encoding" (Zheng et al., arXiv:2107.02561), on plain arrays:
 *   stable rank           srank(A) = sum_i s_i^2 / s_max^2 = ||A||_F^2 / ||A||_2^2   (the notebooks' srank_func)
 *   distance preservation the mean inner product <psi(v_i), psi(v_i + k h)> of points k grid steps apart, as a
 *                         function of the distance k h (an embedding preserves distance when this decays
 *                         smoothly and monotonically with k h)
 * A is row-major [rows, cols] (one embedded point per row).
 */

/** sigma_max^2 of A by power iteration on the smaller Gram matrix (A A^T or A^T A). */
export function largestSquaredSingularValue(a: ArrayLike<number>, rows: number, cols: number): number {
  const n = Math.min(rows, cols);
  const gram = new Float64Array(n * n);
  const byRows = rows <= cols; // Gram over rows: (A A^T)[i, j] = sum_c A[i, c] A[j, c]
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      if (byRows) for (let c = 0; c < cols; c++) s += a[i * cols + c] * a[j * cols + c];
      else for (let r = 0; r < rows; r++) s += a[r * cols + i] * a[r * cols + j];
      gram[i * n + j] = s;
      gram[j * n + i] = s;
    }
  }
  let v = new Float64Array(n).fill(1 / Math.sqrt(n));
  let lambda = 0;
  for (let iter = 0; iter < 500; iter++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += gram[i * n + j] * v[j];
      w[i] = s;
    }
    const norm = Math.hypot(...w);
    if (norm === 0) return 0;
    for (let i = 0; i < n; i++) w[i] /= norm;
    const converged = Math.abs(norm - lambda) <= 1e-12 * norm;
    lambda = norm;
    v = w;
    if (converged) break;
  }
  return lambda;
}

/** ||A||_F^2 / sigma_max(A)^2: between 1 (rank one) and min(rows, cols) (orthogonal rows of equal norm). */
export function stableRank(a: ArrayLike<number>, rows: number, cols: number): number {
  let frobenius = 0;
  for (let i = 0; i < rows * cols; i++) frobenius += a[i] * a[i];
  const top = largestSquaredSingularValue(a, rows, cols);
  return top === 0 ? 0 : frobenius / top;
}

/**
 * For embeddings of points on a uniform grid (row i = psi(v_0 + i h)), the mean of <psi_i, psi_{i+k}> over i, for
 * k = 0..maxLag, divided by the k = 0 value (so the curve starts at 1).
 */
export function innerProductByDistance(
  a: ArrayLike<number>,
  rows: number,
  cols: number,
  maxLag: number,
): number[] {
  const curve: number[] = [];
  for (let k = 0; k <= Math.min(maxLag, rows - 1); k++) {
    let total = 0;
    for (let i = 0; i + k < rows; i++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += a[i * cols + c] * a[(i + k) * cols + c];
      total += s;
    }
    curve.push(total / (rows - k));
  }
  return curve.map((v) => v / curve[0]);
}
