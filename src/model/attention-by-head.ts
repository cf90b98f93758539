/**
 * Attention for evaluation at long contexts: one (batch row, head) slice at a time when no gradient is recorded.
 *
 * The fused op (engine/ops/attention.ts) fills a score matrix att (B*H, T, T) for all rows and heads at once; in
 * training backward needs it, under `noGrad` it is freed as soon as the op returns. Evaluation at T = 16 x the
 * training length therefore peaks at B*H*T*T floats per attention call (H = 4, T = 2048: 64 MiB). Here, under
 * `noGrad`, each head h of each row b runs the same fused op on q[b, h], k[b, h], v[b, h] (and the bias slab it
 * reads) inside its own tidy, so at most one T x T matrix of scores is alive at a time (plus, for a bias encoding,
 * one copied T x T bias slab, and the encoding's own (rows, H, T, T) bias, built once per forward pass).
 * Each output row is computed by the same kernel from the same numbers in the same order: the results are equal
 * bit for bit (test: attention-by-head.test.ts). With a gradient recorded this is the fused op unchanged.
 */
import {
  type AttentionOptions,
  attention,
  concat,
  isGradEnabled,
  slice,
  type Tensor,
  tidy,
} from "../engine/index.js";

/** softmax(scale q k^T + bias [causal]) v for q, k, v (B, H, T, Dh); bias broadcastable to (B, H, T, T). */
export function attentionByHead(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  if (isGradEnabled() || q.rank !== 4) return attention(q, k, v, options);
  const [B, H] = q.shape;
  if (B * H === 1) return attention(q, k, v, options);
  const { bias, ...rest } = options;
  const biasSlab = (b: number, h: number): Tensor | undefined => {
    if (!bias) return undefined;
    // Broadcast dims of 1 read index 0; a bias of rank < 4 has no batch (and maybe no head) axis.
    let slab = bias;
    const lead = bias.rank - 2; // leading dims of the bias (0..2)
    if (lead === 2) slab = slice(slab, 0, bias.shape[0] === 1 ? 0 : b, (bias.shape[0] === 1 ? 0 : b) + 1);
    if (lead >= 1) {
      const axis = lead - 1;
      const at = slab.shape[axis] === 1 ? 0 : h;
      slab = slice(slab, axis, at, at + 1);
    }
    return slab;
  };
  const rows: Tensor[] = [];
  for (let b = 0; b < B; b++) {
    const heads: Tensor[] = [];
    for (let h = 0; h < H; h++) {
      heads.push(
        tidy(() => {
          const one = (x: Tensor) => slice(slice(x, 0, b, b + 1), 1, h, h + 1); // (1, 1, T, Dh)
          const slab = biasSlab(b, h);
          return attention(one(q), one(k), one(v), slab ? { ...rest, bias: slab } : rest);
        }),
      );
    }
    rows.push(tidy(() => concat(heads, 1)));
    for (const head of heads) head.dispose();
  }
  const out = tidy(() => concat(rows, 0));
  for (const row of rows) row.dispose();
  return out;
}
