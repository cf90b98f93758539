/**
 * Fused scaled dot-product attention over BH independent (batch, head) slices, with an optional additive bias:
 *   pre[i, j] = scale * q_i . k_j + bias[i, j]     (j masked out when causal and j > i + Tk - Tq)
 *   att[i, :] = softmax(pre[i, :]) over the unmasked j
 *   out_i     = sum_j att[i, j] v_j
 * Causal masking aligns the last query with the last key, so Tq < Tk means the queries are the final Tq positions.
 *
 * Shapes: q (BH, Tq, D), k (BH, Tk, D), v (BH, Tk, Dv), out (BH, Tq, Dv), att (BH, Tq, Tk) saved for backward.
 * bias: slabs of (Tq, Tk); slice bh reads the slab starting at biasOffsets[bh] (so one slab can serve every batch
 * item, as a learned per-head bias does). Masked entries of att are exactly 0.
 */
type Floats = Float32Array;

export interface AttentionSizes {
  BH: number;
  Tq: number;
  Tk: number;
  D: number;
  Dv: number;
  scale: number;
  causal: boolean;
}

export function attentionForward(
  out: Floats,
  att: Floats,
  q: Floats,
  k: Floats,
  v: Floats,
  bias: Floats | null,
  biasOffsets: Int32Array | null,
  sizes: AttentionSizes,
): void {
  const { BH, Tq, Tk, D, Dv, scale, causal } = sizes;
  const shift = Tk - Tq;
  for (let bh = 0; bh < BH; bh++) {
    const qBh = bh * Tq * D,
      kBh = bh * Tk * D,
      vBh = bh * Tk * Dv;
    const biasBh = bias && biasOffsets ? biasOffsets[bh] : -1;
    for (let i = 0; i < Tq; i++) {
      const qI = qBh + i * D;
      const attI = (bh * Tq + i) * Tk;
      // Keys 0..end-1 are visible; with more queries than keys the first rows may see none (end clamps to 0,
      // the row of att and of out is 0).
      const end = causal ? Math.max(0, Math.min(Tk, i + shift + 1)) : Tk;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < end; j++) {
        const kJ = kBh + j * D;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[qI + d] * k[kJ + d];
        let pre = scale * dot;
        if (biasBh >= 0) pre += bias![biasBh + i * Tk + j];
        att[attI + j] = pre;
        if (pre > max) max = pre;
      }
      let sum = 0;
      for (let j = 0; j < end; j++) {
        const e = Math.exp(att[attI + j] - max);
        att[attI + j] = e;
        sum += e;
      }
      const inv = end > 0 ? 1 / sum : 0;
      for (let j = 0; j < end; j++) att[attI + j] *= inv;
      for (let j = end; j < Tk; j++) att[attI + j] = 0;
      const outI = (bh * Tq + i) * Dv;
      for (let d = 0; d < Dv; d++) out[outI + d] = 0;
      for (let j = 0; j < end; j++) {
        const a = att[attI + j];
        const vJ = vBh + j * Dv;
        for (let d = 0; d < Dv; d++) out[outI + d] += a * v[vJ + d];
      }
    }
  }
}

/** Gradients of attentionForward; dq, dk, dv, dbias may be null when not needed. All accumulate (+=). */
export function attentionBackward(
  dq: Floats | null,
  dk: Floats | null,
  dv: Floats | null,
  dbias: Floats | null,
  dout: Floats,
  att: Floats,
  q: Floats,
  k: Floats,
  v: Floats,
  biasOffsets: Int32Array | null,
  sizes: AttentionSizes,
): void {
  const { BH, Tq, Tk, D, Dv, scale, causal } = sizes;
  const shift = Tk - Tq;
  const datt = new Float64Array(Tk);
  for (let bh = 0; bh < BH; bh++) {
    const qBh = bh * Tq * D,
      kBh = bh * Tk * D,
      vBh = bh * Tk * Dv;
    const biasBh = dbias && biasOffsets ? biasOffsets[bh] : -1;
    for (let i = 0; i < Tq; i++) {
      const qI = qBh + i * D;
      const attI = (bh * Tq + i) * Tk;
      const outI = (bh * Tq + i) * Dv;
      const end = causal ? Math.max(0, Math.min(Tk, i + shift + 1)) : Tk;
      // in the forward pass this was: out_i += att[i, j] v_j
      // so now we have: datt[i, j] = dout_i . v_j; dv_j += att[i, j] dout_i
      let dot = 0;
      for (let j = 0; j < end; j++) {
        const vJ = vBh + j * Dv;
        const a = att[attI + j];
        let s = 0;
        for (let d = 0; d < Dv; d++) s += dout[outI + d] * v[vJ + d];
        if (dv) for (let d = 0; d < Dv; d++) dv[vJ + d] += a * dout[outI + d];
        datt[j] = s;
        dot += a * s;
      }
      // att = softmax(pre): dpre = att * (datt - sum(att * datt));
      // pre = scale * q_i . k_j + bias: dq_i += scale dpre k_j, dk_j += scale dpre q_i, dbias += dpre
      for (let j = 0; j < end; j++) {
        const dpre = att[attI + j] * (datt[j] - dot);
        if (biasBh >= 0) dbias![biasBh + i * Tk + j] += dpre;
        const kJ = kBh + j * D;
        const g = scale * dpre;
        if (dq) for (let d = 0; d < D; d++) dq[qI + d] += g * k[kJ + d];
        if (dk) for (let d = 0; d < D; d++) dk[kJ + d] += g * q[qI + d];
      }
    }
  }
}
