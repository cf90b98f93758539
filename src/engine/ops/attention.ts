/**
 * Fused scaled dot-product attention with a hand-written backward (kernel: ../kernels/attention.ts).
 * q/k transforms (rotations and the like) are ordinary differentiable ops applied by the caller before this op.
 */
import { kernels } from "../kernels/index.js";
import { allocStorageUninitialized } from "../storage.js";
import { formatShape, gradOrNull, record, type Tensor, uninitialized } from "../tensor.js";
import { broadcastTo } from "./elementwise.js";
import { broadcastShapes, product } from "./shapes.js";

export interface AttentionOptions {
  /** Mask keys after the query (aligned at the end when Tq < Tk). */
  causal: boolean;
  /**
   * Additive bias on the pre-softmax scores, shape broadcastable to (..., Tq, Tk), e.g. (heads, Tq, Tk) for a
   * learned per-head bias. It receives a gradient when it requires one.
   */
  bias?: Tensor;
  /** Score scale; default 1 / sqrt(D). */
  scale?: number;
}

/**
 * softmax(scale * q k^T + bias [, causal mask]) v for q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv) with equal
 * leading dims; returns (..., Tq, Dv).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const describe = () => `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`;
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank) {
    throw new RangeError(`attention: q, k and v need the same rank >= 2: ${describe()}`);
  }
  const lead = q.shape.slice(0, -2);
  const Tq = q.shape[q.rank - 2];
  const D = q.shape[q.rank - 1];
  const Tk = k.shape[k.rank - 2];
  const Dv = v.shape[v.rank - 1];
  const sameLead = (t: Tensor) => t.shape.slice(0, -2).every((d, i) => d === lead[i]);
  if (!sameLead(k) || !sameLead(v) || k.shape[k.rank - 1] !== D || v.shape[v.rank - 2] !== Tk) {
    throw new RangeError(
      `attention: expected q (..., Tq, D), k (..., Tk, D), v (..., Tk, Dv): ${describe()}`,
    );
  }
  const BH = product(lead);
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const sizes = { BH, Tq, Tk, D, Dv, scale, causal: options.causal };

  // The bias: expand its last two dims to (Tq, Tk) (a differentiable broadcast) and address leading dims through
  // per-slice offsets, so a (heads, Tq, Tk) bias is shared across the batch without copying.
  let bias = options.bias ?? null;
  let biasOffsets: Int32Array | null = null;
  if (bias) {
    const full = broadcastShapes("attention bias", bias.shape, [...lead, Tq, Tk]);
    if (full.length !== lead.length + 2 || full.some((d, i) => d !== [...lead, Tq, Tk][i])) {
      throw new RangeError(
        `attention: bias ${formatShape(bias.shape)} does not broadcast to scores ${formatShape([...lead, Tq, Tk])}`,
      );
    }
    if (bias.rank < 2 || bias.shape[bias.rank - 2] !== Tq || bias.shape[bias.rank - 1] !== Tk) {
      const biasLead = bias.rank >= 2 ? bias.shape.slice(0, -2) : [];
      bias = broadcastTo(bias, [...biasLead, Tq, Tk]);
    }
    const biasLead = bias.shape.slice(0, -2);
    const offset = lead.length - biasLead.length;
    biasOffsets = new Int32Array(BH);
    for (let bh = 0; bh < BH; bh++) {
      // Unravel bh over `lead`, then ravel over biasLead with broadcast (dims of 1 read index 0).
      let rest = bh;
      let slab = 0;
      let stride = 1;
      for (let d = lead.length - 1; d >= 0; d--) {
        const idx = rest % lead[d];
        rest = Math.floor(rest / lead[d]);
        const bd = d - offset;
        if (bd >= 0) {
          if (biasLead[bd] !== 1) slab += idx * stride;
          stride *= biasLead[bd];
        }
      }
      biasOffsets[bh] = slab * Tq * Tk;
    }
  }

  const out = uninitialized([...lead, Tq, Dv]);
  const att = allocStorageUninitialized(BH * Tq * Tk); // the kernels write every entry (masked ones as 0)
  kernels().attentionForward(out.data, att, q.data, k.data, v.data, bias?.data ?? null, biasOffsets, sizes);
  const inputs = bias ? [q, k, v, bias] : [q, k, v];
  const biasT = bias;
  return record(
    out,
    "attention",
    inputs,
    (g) =>
      kernels().attentionBackward(
        gradOrNull(q),
        gradOrNull(k),
        gradOrNull(v),
        biasT ? gradOrNull(biasT) : null,
        g,
        att,
        q.data,
        k.data,
        v.data,
        biasOffsets,
        sizes,
      ),
    [att],
  );
}
