/**
 * Head split and merge for attention, each one copy (kernels: ../kernels/heads.ts):
 *   splitHeads(x (B, T, P * H * Dh), P, H) -> P tensors (B, H, T, Dh): part p, head h reads columns
 *     (p H + h) Dh ... (p H + h + 1) Dh - 1 of each row (a fused q/k/v projection gives P = 3)
 *   mergeHeads(y (B, H, T, Dh)) -> (B, T, H * Dh), the inverse of a one-part split.
 * Same values as slice + reshape + permute([0, 2, 1, 3]) (and permute + reshape for the merge), in one pass.
 */

import type { HeadsSizes } from "../kernels/heads.js";
import { kernels } from "../kernels/index.js";
import { formatShape, inputGrad, record, type Tensor, uninitialized } from "../tensor.js";

/** Splits the last axis of x (B, T, parts * heads * Dh) into `parts` tensors of shape (B, H, T, Dh). */
export function splitHeads(x: Tensor, parts: number, heads: number): Tensor[] {
  if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(heads) || heads < 1) {
    throw new RangeError(
      `splitHeads: parts and heads must be integers >= 1, got parts ${parts}, heads ${heads}`,
    );
  }
  if (x.rank !== 3 || x.shape[2] % (parts * heads) !== 0) {
    throw new RangeError(
      `splitHeads: x must be (B, T, parts * heads * Dh) with parts ${parts}, heads ${heads}; got ${formatShape(x.shape)}`,
    );
  }
  const [B, T, width] = x.shape;
  const Dh = width / (parts * heads);
  const outs: Tensor[] = [];
  for (let p = 0; p < parts; p++) {
    const sizes: HeadsSizes = { B, T, H: heads, Dh, rowStride: width, offset: p * heads * Dh };
    const out = uninitialized([B, heads, T, Dh]);
    kernels().headsToSlabs(out.data, x.data, sizes, false);
    outs.push(record(out, "splitHeads", [x], (g) => kernels().slabsToHeads(inputGrad(x), g, sizes, true)));
  }
  return outs;
}

/** (B, H, T, Dh) -> (B, T, H * Dh): heads side by side in each token's row. */
export function mergeHeads(y: Tensor): Tensor {
  if (y.rank !== 4) throw new RangeError(`mergeHeads: y must be (B, H, T, Dh), got ${formatShape(y.shape)}`);
  const [B, H, T, Dh] = y.shape;
  const sizes: HeadsSizes = { B, T, H, Dh, rowStride: H * Dh, offset: 0 };
  const out = uninitialized([B, T, H * Dh]);
  kernels().slabsToHeads(out.data, y.data, sizes, false);
  return record(out, "mergeHeads", [y], (g) => kernels().headsToSlabs(inputGrad(y), g, sizes, true));
}
