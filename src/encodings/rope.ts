/**
 * RoFormer: Enhanced Transformer with Rotary Position Embedding (Su et al., 2021), arXiv:2104.09864.
 *
 * Channel pair i of a query/key at position m is rotated by the angle m * theta_i, with
 *   theta_i = base^(-2i/d),  i = 0 .. d/2 - 1   (d = rotary dimension, base = 10000 in the paper)
 * so that <R(m) q, R(n) k> depends on q, k and m - n only.
 */

/**
 * Inverse frequencies theta_i = base^(-2i/d) for i = 0 .. d/2 - 1, the `inv_freq` of Hugging Face transformers.
 * Computed in float64 (HF computes them in float32; the two agree to about 1e-7 relative).
 */
export function ropeInverseFrequencies(dim: number, base = 10000): Float64Array {
  const half = Math.floor(dim / 2);
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / base ** ((2 * i) / dim);
  return invFreq;
}
