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
  uninitialized,
} from "../engine/index.js";

/** Largest score block (floats) one attention call fills under noGrad: 1 Mi floats, 4 MiB. */
export const QUERY_BLOCK_FLOATS = 2 ** 20;

/** softmax(scale q k^T + bias [causal]) v for q, k, v (B, H, T, Dh); bias broadcastable to (B, H, T, T). */
export function attentionByHead(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionOptions,
  blockFloats = QUERY_BLOCK_FLOATS,
): Tensor {
  if (isGradEnabled() || q.rank !== 4) return attention(q, k, v, options);
  const [B, H] = q.shape;
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
  // Query rows per call: scores of at most QUERY_BLOCK_FLOATS floats (the engine's allocator reuses a freed block
  // for any smaller request, so one large score block left free would be taken by the next layer's activations).
  const T = q.shape[2]!;
  const Dh = v.shape[3]!;
  const Tk = k.shape[2]!;
  const rowsPerCall = Math.max(1, Math.min(T, Math.floor(blockFloats / Tk)));
  const rows: Tensor[] = [];
  for (let b = 0; b < B; b++) {
    const heads: Tensor[] = [];
    for (let h = 0; h < H; h++) {
      heads.push(
        tidy(() => {
          const one = (x: Tensor) => slice(slice(x, 0, b, b + 1), 1, h, h + 1); // (1, 1, T, Dh)
          const [qh, kh, vh] = [one(q), one(k), one(v)];
          const slab = biasSlab(b, h);
          const blocks: Tensor[] = [];
          // The allocator gives a request the smallest free block large enough. Each block's output outlives its
          // call; without free blocks of its size it would take the previous block's freed scores, and every
          // block's scores would then come from fresh memory. Free blocks of the outputs' size first.
          const count = Math.ceil(T / rowsPerCall);
          if (count > 1)
            for (const t of Array.from({ length: count }, () => uninitialized([rowsPerCall, Dh])))
              t.dispose();
          // Last block first: it has the most keys, and its freed scores serve every smaller block after it.
          for (let i0 = Math.floor((T - 1) / rowsPerCall) * rowsPerCall; i0 >= 0; i0 -= rowsPerCall) {
            const i1 = Math.min(T, i0 + rowsPerCall);
            // Causal with Tq = Tk: queries i0..i1-1 see keys 0..i1-1 at most (the op aligns the last query with
            // the last key); without the mask every key.
            const end = rest.causal && T === Tk ? i1 : Tk;
            // Its own tidy: the copies of this block are freed before the next block's, which they then fit.
            const part = tidy(() => {
              const rowBias = slab ? slice(slice(slab, -2, i0, i1), -1, 0, end) : undefined;
              return attention(
                slice(qh, 2, i0, i1),
                slice(kh, 2, 0, end),
                slice(vh, 2, 0, end),
                rowBias ? { ...rest, bias: rowBias } : rest,
              );
            });
            blocks.unshift(part);
          }
          return blocks.length === 1 ? blocks[0]! : concat(blocks, 2);
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
