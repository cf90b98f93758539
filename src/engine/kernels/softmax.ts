/**
 * Softmax, log-softmax and cross-entropy over the last axis of an [N, C] view. Each forward is directly above its
 * backward; backward kernels accumulate (+=).
 */
type Floats = Float32Array;

/** out[r] = softmax(inp[r]) for each of N rows of C values; max-subtracted so exp never overflows. */
export function softmaxForward(out: Floats, inp: Floats, N: number, C: number): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) if (inp[o + c] > max) max = inp[o + c];
    if (max === Number.NEGATIVE_INFINITY) max = 0; // a fully masked row: every exp is 0 (output NaN, as PyTorch)
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(inp[o + c] - max);
      out[o + c] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let c = 0; c < C; c++) out[o + c] *= inv;
  }
}
/** in the forward pass this was: y = softmax(x); so dx = y * (dy - sum(y * dy)). */
export function softmaxBackward(dinp: Floats, dout: Floats, out: Floats, N: number, C: number): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += out[o + c] * dout[o + c];
    for (let c = 0; c < C; c++) dinp[o + c] += out[o + c] * (dout[o + c] - dot);
  }
}

/** out[r] = inp[r] - logsumexp(inp[r]). */
export function logSoftmaxForward(out: Floats, inp: Floats, N: number, C: number): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) if (inp[o + c] > max) max = inp[o + c];
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(inp[o + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < C; c++) out[o + c] = inp[o + c] - lse;
  }
}
/** in the forward pass this was: y = x - lse(x); so dx = dy - softmax(x) * sum(dy), softmax(x) = exp(y). */
export function logSoftmaxBackward(dinp: Floats, dout: Floats, out: Floats, N: number, C: number): void {
  for (let r = 0; r < N; r++) {
    const o = r * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += dout[o + c];
    for (let c = 0; c < C; c++) dinp[o + c] += dout[o + c] - Math.exp(out[o + c]) * sum;
  }
}

/**
 * Per-row cross-entropy: losses[r] = -log softmax(logits[r])[targets[r]], and 0 where targets[r] < 0 (ignored).
 * probs (N x V) caches the softmax for the backward pass.
 */
export function crossEntropyForward(
  losses: Floats,
  probs: Floats,
  logits: Floats,
  targets: Int32Array,
  N: number,
  V: number,
): void {
  softmaxForward(probs, logits, N, V);
  for (let r = 0; r < N; r++) {
    const t = targets[r];
    if (t < 0) {
      losses[r] = 0;
      continue;
    }
    // -log p computed from the logits (log-sum-exp) rather than from probs, so a tiny p does not become -log 0.
    const o = r * V;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < V; c++) if (logits[o + c] > max) max = logits[o + c];
    let sum = 0;
    for (let c = 0; c < V; c++) sum += Math.exp(logits[o + c] - max);
    losses[r] = max + Math.log(sum) - logits[o + t];
  }
}
/** in the forward pass this was: loss_r = lse(logits_r) - logits_r[t]; so dlogits_r += dloss_r (p_r - onehot(t)). */
export function crossEntropyBackward(
  dlogits: Floats,
  dlosses: Floats,
  probs: Floats,
  targets: Int32Array,
  N: number,
  V: number,
): void {
  for (let r = 0; r < N; r++) {
    const t = targets[r];
    if (t < 0) continue;
    const o = r * V;
    const g = dlosses[r];
    for (let c = 0; c < V; c++) dlogits[o + c] += g * probs[o + c];
    dlogits[o + t] -= g;
  }
}
