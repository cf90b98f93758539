/**
 * Not a method: shared math of the content-dependent rotary methods, "Context-aware Rotary Position
 * Embedding" (CARoPE, arXiv:2507.23083) and "Selective Rotary Position Embedding" (arXiv:2511.17388), each in
 * its own file with its paper. Shared math: rotation angles that are a cumulative sum over positions of
 * per-token increments computed from the layer input,
 *   phi_(t, p) = sum_(s <= t) omega_(s, p)        (RoPE: omega_(s, p) = theta_p for every token, phi = (t + 1) theta_p)
 * and the rotation of q and k by those angles in the half layout (pair p = channels (p, p + P)):
 *   (x1, x2) -> (x1 cos phi - x2 sin phi, x1 sin phi + x2 cos phi).
 * Between a query at i and a key at j the score then depends on phi_i - phi_j = sum_(j < s <= i) omega_s: a relative
 * position measured in content time. Unlike the engine's `rotatePairs` (constant tables), the angles here carry
 * gradients, so every op is a differentiable engine op (cos, sin, slice, concat, mul).
 */
import { add, concat, cos, mul, sin, slice, sub, type Tensor } from "../engine/index.js";

/**
 * Rotates channel pairs (p, p + P) of x [..., T, Dh] by `angles` [..., T, P] (broadcastable; 2P <= Dh, channels
 * 2P .. Dh - 1 pass through), with gradients into x and the angles.
 */
export function rotateHalfByAngles(x: Tensor, angles: Tensor): Tensor {
  const Dh = x.shape[x.rank - 1]!;
  const P = angles.shape[angles.rank - 1]!;
  if (2 * P > Dh) {
    throw new RangeError(`rotateHalfByAngles: ${P} pairs need 2P <= head size ${Dh}`);
  }
  const c = cos(angles);
  const s = sin(angles);
  const x1 = slice(x, -1, 0, P);
  const x2 = slice(x, -1, P, 2 * P);
  const parts = [sub(mul(x1, c), mul(x2, s)), add(mul(x1, s), mul(x2, c))];
  if (2 * P < Dh) parts.push(slice(x, -1, 2 * P, Dh));
  return concat(parts, -1);
}

/**
 * The same rotation over plain arrays, in place: x row-major [T, Dh] of one head, angles [T, P]. The float64
 * reference the tensor form is tested against.
 */
export function rotateHalfRows(
  x: Float64Array,
  angles: ArrayLike<number>,
  seqLen: number,
  headDim: number,
): void {
  const P = angles.length / seqLen;
  for (let t = 0; t < seqLen; t++) {
    for (let p = 0; p < P; p++) {
      const a = angles[t * P + p]!;
      const x1 = x[t * headDim + p]!;
      const x2 = x[t * headDim + p + P]!;
      x[t * headDim + p] = x1 * Math.cos(a) - x2 * Math.sin(a);
      x[t * headDim + p + P] = x1 * Math.sin(a) + x2 * Math.cos(a);
    }
  }
}
