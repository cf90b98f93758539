/**
 * The building block of every Fourier-type coordinate encoding: project the points with a frequency matrix,
 * then take sines and cosines ("Fourier Features Let Networks Learn High Frequency Functions in Low Dimensional
 * Domains", Tancik et al. 2020, arXiv:2006.10739).
 *   z = scale * (v B),  v [N, d], B [d, m]          features [sin z, cos z] or [cos z, sin z]  ([N, 2m])
 * B may be a constant tensor (NeRF's powers of two, Tancik's Gaussian draws) or a Parameter (learnable Fourier
 * features), so one helper serves all three.
 */
import { concat, cos, matmul, mul, sin, type Tensor } from "../../engine/index.js";

export function sinCosFeatures(v: Tensor, frequencies: Tensor, scale: number, cosFirst = false): Tensor {
  const z = scale === 1 ? matmul(v, frequencies) : mul(matmul(v, frequencies), scale);
  return cosFirst ? concat([cos(z), sin(z)], 1) : concat([sin(z), cos(z)], 1);
}
