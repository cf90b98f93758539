/**
 * Not a method: what "Context-aware Biases for Length Extrapolation" (Cable, arXiv:2503.08067) and "Context-aware
 * Rotary Position Embedding" (CARoPE, arXiv:2507.23083) both compute from the layer input (each method in
 * its own file with its paper): one logit per token and head,
 *   z_(t, h) = w_h . x_t + c_h        x [T, D] (or [B, T, D]), W [D, H] (x @ W, as nn.Linear stores W^T), c [H]
 * (Cable turns it into a slope softplus(z), CARoPE into a base frequency 1 / (1 + softplus(z))), and the per-layer
 * parameter lookup the content-aware encodings share.
 */
import { add, matmul, permute, reshape, type Tensor } from "../engine/index.js";

/** softplus(z) = log(1 + e^z) in float64, exact to rounding for large z. */
export const softplusOf = (z: number): number => (z > 30 ? z : Math.log1p(Math.exp(z)));

/** z [H, T] (head-major) over plain arrays for one example. `owner` names the caller in errors. */
export function tokenHeadLogits(
  owner: string,
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  c: ArrayLike<number>,
  seqLen: number,
): Float64Array {
  const H = c.length;
  const D = x.length / seqLen;
  if (!Number.isInteger(D) || weight.length !== D * H) {
    throw new RangeError(
      `${owner}: x must be [T, D] and weight [D, H = ${H}], received ${x.length} and ${weight.length} values`,
    );
  }
  const z = new Float64Array(H * seqLen);
  for (let h = 0; h < H; h++) {
    for (let t = 0; t < seqLen; t++) {
      let v = c[h]!;
      for (let d = 0; d < D; d++) v += x[t * D + d]! * weight[d * H + h]!;
      z[h * seqLen + t] = v;
    }
  }
  return z;
}

/** z [B, H, T] through engine ops from x [B, T, D]. */
export function tokenHeadLogitsTensor(x: Tensor, weight: Tensor, c: Tensor): Tensor {
  const [B, T, D] = x.shape as [number, number, number];
  const H = c.shape[0]!;
  return permute(reshape(add(matmul(reshape(x, [B * T, D]), weight), c), [B, T, H]), [0, 2, 1]);
}

/** The parameters of `layer` (a programming error when the model asks for a layer it was not built with). */
export function layerEntry<P>(owner: string, perLayer: readonly P[], layer: number): P {
  const entry = perLayer[layer];
  if (entry === undefined)
    throw new RangeError(`${owner}: layer ${layer} is not in 0..${perLayer.length - 1}`);
  return entry;
}
