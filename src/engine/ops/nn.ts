/**
 * Fused neural-network ops with hand-written backward kernels: softmax, log-softmax, cross-entropy (with an
 * ignore index), LayerNorm, RMSNorm, and the pair rotation used for rotary-style q/k transforms.
 */
import { kernels } from "../kernels/index.js";
import type { PairLayout } from "../kernels/rotate.js";
import { allocStorage } from "../storage.js";
import { empty, formatShape, gradOrNull, inputGrad, record, type Tensor, uninitialized } from "../tensor.js";
import { normalizeAxis, product } from "./shapes.js";

function rowsOf(op: string, x: Tensor): { N: number; C: number } {
  if (x.rank < 1) throw new RangeError(`${op}: needs rank >= 1, received shape ${formatShape(x.shape)}`);
  const C = x.shape[x.rank - 1];
  return { N: x.size / Math.max(C, 1), C };
}

/** softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const { N, C } = rowsOf("softmax", x);
  const out = uninitialized(x.shape);
  kernels().softmaxForward(out.data, x.data, N, C);
  return record(out, "softmax", [x], (g) => kernels().softmaxBackward(inputGrad(x), g, out.data, N, C));
}

/** log(softmax(x)) over the last axis, computed stably. */
export function logSoftmax(x: Tensor): Tensor {
  const { N, C } = rowsOf("logSoftmax", x);
  const out = uninitialized(x.shape);
  kernels().logSoftmaxForward(out.data, x.data, N, C);
  return record(out, "logSoftmax", [x], (g) => kernels().logSoftmaxBackward(inputGrad(x), g, out.data, N, C));
}

export interface CrossEntropyOptions {
  /** Targets equal to this are ignored (no loss, no gradient). Default -1 (any negative target is ignored). */
  ignoreIndex?: number;
}

/**
 * Mean cross-entropy of logits (..., V) against integer targets (one per row), over the rows whose target is not
 * ignored: loss = (1 / count) sum_r [lse(logits_r) - logits_r[t_r]]. Returns a scalar tensor (shape []);
 * 0 when every row is ignored.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, options: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -1;
  const { N, C: V } = rowsOf("crossEntropy", logits);
  if (targets.length !== N) {
    throw new RangeError(
      `crossEntropy: ${targets.length} targets for logits ${formatShape(logits.shape)} (${N} rows of ${V})`,
    );
  }
  // Internal targets: -1 marks an ignored row.
  const t = new Int32Array(N);
  let count = 0;
  for (let r = 0; r < N; r++) {
    const v = targets[r];
    if (v === ignoreIndex || v < 0) {
      t[r] = -1;
      continue;
    }
    if (!Number.isInteger(v) || v >= V) {
      throw new RangeError(`crossEntropy: target ${v} at row ${r} is out of range for ${V} classes`);
    }
    t[r] = v;
    count++;
  }
  const losses = allocStorage(N);
  const probs = allocStorage(N * V);
  const k = kernels();
  k.crossEntropyForward(losses, probs, logits.data, t, N, V);
  let total = 0;
  for (let r = 0; r < N; r++) total += losses[r];
  const out = empty([]);
  out.data[0] = count > 0 ? total / count : 0;
  // dloss_r = g / count for counted rows; the kernel skips ignored rows.
  return record(
    out,
    "crossEntropy",
    [logits],
    (g) => {
      const scale = count > 0 ? g[0] / count : 0;
      losses.fill(scale);
      kernels().crossEntropyBackward(inputGrad(logits), losses, probs, t, N, V);
    },
    [losses, probs],
  );
}

function checkAffine(op: string, name: string, p: Tensor | null, C: number, x: Tensor): void {
  if (p && (p.rank !== 1 || p.shape[0] !== C)) {
    throw new RangeError(
      `${op}: ${name} has shape ${formatShape(p.shape)}, expected [${C}] for x ${formatShape(x.shape)}`,
    );
  }
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. weight/bias may be null. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const { N, C } = rowsOf("layerNorm", x);
  checkAffine("layerNorm", "weight", weight, C, x);
  checkAffine("layerNorm", "bias", bias, C, x);
  const out = uninitialized(x.shape);
  const mean = allocStorage(N);
  const rstd = allocStorage(N);
  kernels().layernormForward(
    out.data,
    mean,
    rstd,
    x.data,
    weight?.data ?? null,
    bias?.data ?? null,
    N,
    C,
    eps,
  );
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(
    out,
    "layerNorm",
    inputs,
    (g) =>
      kernels().layernormBackward(
        inputGrad(x),
        weight ? gradOrNull(weight) : null,
        bias ? gradOrNull(bias) : null,
        g,
        x.data,
        weight?.data ?? null,
        mean,
        rstd,
        N,
        C,
      ),
    [mean, rstd],
  );
}

/** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * weight. weight may be null. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor {
  const { N, C } = rowsOf("rmsNorm", x);
  checkAffine("rmsNorm", "weight", weight, C, x);
  const out = uninitialized(x.shape);
  const rstd = allocStorage(N);
  kernels().rmsnormForward(out.data, rstd, x.data, weight?.data ?? null, N, C, eps);
  return record(
    out,
    "rmsNorm",
    weight ? [x, weight] : [x],
    (g) =>
      kernels().rmsnormBackward(
        inputGrad(x),
        weight ? gradOrNull(weight) : null,
        g,
        x.data,
        weight?.data ?? null,
        rstd,
        N,
        C,
      ),
    [rstd],
  );
}

export interface RotatePairsOptions {
  /** Which channels form pair p: (2p, 2p+1) "interleaved", or (p, p + P) "half". Default "half". */
  layout?: PairLayout;
  /** The axis the table rows run along (default -2: x is (..., T, D)). */
  axis?: number;
}

/**
 * Rotates channel pairs of x (..., D) by per-row angles given as tables cos, sin of shape (T, P), 2P <= D:
 *   (x1, x2) -> (x1 cos - x2 sin, x1 sin + x2 cos);  channels >= 2P pass through.
 * Row t of the tables applies to index t of `axis`. The tables are constants (no gradient).
 */
export function rotatePairs(x: Tensor, cos: Tensor, sin: Tensor, options: RotatePairsOptions = {}): Tensor {
  const layout = options.layout ?? "half";
  const axis = normalizeAxis("rotatePairs", options.axis ?? -2, x.shape);
  const D = x.shape[x.rank - 1];
  if (axis === x.rank - 1)
    throw new RangeError(`rotatePairs: axis must not be the channel axis (shape ${formatShape(x.shape)})`);
  const T = x.shape[axis];
  if (
    cos.rank !== 2 ||
    sin.rank !== 2 ||
    cos.shape[0] !== T ||
    sin.shape[0] !== T ||
    cos.shape[1] !== sin.shape[1]
  ) {
    throw new RangeError(
      `rotatePairs: tables cos ${formatShape(cos.shape)} and sin ${formatShape(sin.shape)} must both be [${T}, P] ` +
        `for x ${formatShape(x.shape)} along axis ${axis}`,
    );
  }
  const pairs = cos.shape[1];
  if (2 * pairs > D) {
    throw new RangeError(
      `rotatePairs: ${pairs} pairs need ${2 * pairs} channels, x ${formatShape(x.shape)} has ${D}`,
    );
  }
  const sizes = {
    outer: product(x.shape, 0, axis),
    T,
    inner: product(x.shape, axis + 1, x.rank - 1),
    D,
    pairs,
    layout,
  };
  const out = uninitialized(x.shape);
  kernels().rotatePairsForward(out.data, x.data, cos.data, sin.data, sizes);
  return record(out, "rotatePairs", [x], (g) =>
    kernels().rotatePairsBackward(inputGrad(x), g, cos.data, sin.data, sizes),
  );
}
