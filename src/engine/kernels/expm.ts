/**
 * Matrix exponential of N small square matrices [N, n, n] (rotation blocks of ComRoPE/GTA-style encodings).
 *
 * Forward: scaling and squaring with a Taylor series, exp(M) = (T_18(M / 2^s))^(2^s), s chosen so that
 * ||M / 2^s||_1 <= 1/2: the truncation error of 18 terms is then below 0.5^19 / 19! ~ 1e-23 relative, under float64
 * rounding (Higham, "The scaling and squaring method for the matrix exponential revisited", 2005, uses Pade
 * approximants for speed; a Taylor series is as accurate at these sizes and simpler).
 * Backward: the adjoint of the Frechet derivative, dM = L_exp(M^T, G), read off the top-right block of
 * exp([[M^T, G], [0, M^T]]) (Mathias 1996; what PyTorch's matrix_exp backward computes).
 */
type Floats = Float32Array | Float64Array;

const TAYLOR_TERMS = 18;

function matmulSmall(out: Float64Array, a: Float64Array, b: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += a[i * n + k]! * b[k * n + j]!;
      out[i * n + j] = acc;
    }
  }
}

/** exp(m) of one n x n matrix, in float64. */
export function expmSmall(m: Float64Array, n: number): Float64Array {
  let norm = 0;
  for (let j = 0; j < n; j++) {
    let col = 0;
    for (let i = 0; i < n; i++) col += Math.abs(m[i * n + j]!);
    norm = Math.max(norm, col);
  }
  const s = norm > 0.5 ? Math.ceil(Math.log2(norm / 0.5)) : 0;
  const scale = 2 ** -s;
  const a = m.map((v) => v * scale);
  // Horner: T = I + A (I + A/2 (I + A/3 (...))).
  let acc = new Float64Array(n * n);
  for (let i = 0; i < n; i++) acc[i * n + i] = 1;
  let tmp = new Float64Array(n * n);
  for (let k = TAYLOR_TERMS; k >= 1; k--) {
    matmulSmall(tmp, a, acc, n);
    for (let i = 0; i < n * n; i++) tmp[i] = tmp[i]! / k;
    for (let i = 0; i < n; i++) tmp[i * n + i] = tmp[i * n + i]! + 1;
    [acc, tmp] = [tmp, acc];
  }
  for (let r = 0; r < s; r++) {
    matmulSmall(tmp, acc, acc, n);
    [acc, tmp] = [tmp, acc];
  }
  return acc;
}

export function matrixExpForward(out: Floats, x: Floats, N: number, n: number): void {
  const m = new Float64Array(n * n);
  for (let b = 0; b < N; b++) {
    for (let i = 0; i < n * n; i++) m[i] = x[b * n * n + i]!;
    out.set(expmSmall(m, n), b * n * n);
  }
}

/** dx += L_exp(x^T, dout) per matrix. */
export function matrixExpBackward(dx: Floats, dout: Floats, x: Floats, N: number, n: number): void {
  const n2 = 2 * n;
  const big = new Float64Array(n2 * n2);
  for (let b = 0; b < N; b++) {
    big.fill(0);
    const o = b * n * n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const xt = x[o + j * n + i]!;
        big[i * n2 + j] = xt; // top-left: M^T
        big[(n + i) * n2 + n + j] = xt; // bottom-right: M^T
        big[i * n2 + n + j] = dout[o + i * n + j]!; // top-right: G
      }
    }
    const e = expmSmall(big, n2);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dx[o + i * n + j] += e[i * n2 + n + j]!;
  }
}
