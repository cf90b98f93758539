/**
 * Fused linear layer: y = x W + b for x (..., K), W (K, N), b (N) (or no bias), as one matmul that starts from the
 * bias rows (accumulate) instead of a matmul followed by a broadcast add (which allocates and walks a second
 * output, and whose backward reduces the bias gradient through a general broadcast plan).
 * Gradients: dx += g W^T, dW += x^T g, db += column sums of g, with the rows of x folded into one product.
 */
import { kernels } from "../kernels/index.js";
import { formatShape, inputGrad, record, type Tensor, uninitialized } from "../tensor.js";

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const describe = () =>
    `x ${formatShape(x.shape)}, weight ${formatShape(weight.shape)}${bias ? `, bias ${formatShape(bias.shape)}` : ""}`;
  if (x.rank < 1 || weight.rank !== 2 || x.shape[x.rank - 1] !== weight.shape[0]) {
    throw new RangeError(`linear: expected x (..., K), weight (K, N): ${describe()}`);
  }
  const K = weight.shape[0];
  const N = weight.shape[1];
  if (bias && (bias.rank !== 1 || bias.size !== N)) {
    throw new RangeError(`linear: bias must have shape [${N}]: ${describe()}`);
  }
  const R = x.size / Math.max(K, 1);
  const out = uninitialized([...x.shape.slice(0, -1), N]);
  const k = kernels();
  if (bias) k.fillRows(out.data, bias.data, R, N);
  const shape = (
    m: number,
    n: number,
    kk: number,
    transA: boolean,
    transB: boolean,
    accumulate: boolean,
  ) => ({
    batch: 1,
    m,
    n,
    k: kk,
    transA,
    transB,
    aBatchStride: 0,
    bBatchStride: 0,
    cBatchStride: 0,
    accumulate,
  });
  k.matmul(x.data, weight.data, out.data, shape(R, N, K, false, false, bias !== null));
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, "linear", inputs, (g) => {
    const kk = kernels();
    // dx (R x K) += g (R x N) W^T;  dW (K x N) += x^T (K x R) g (R x N);  db += sum over rows of g
    if (x.requiresGrad) kk.matmul(g, weight.data, inputGrad(x), shape(R, K, N, false, true, true));
    if (weight.requiresGrad) kk.matmul(x.data, g, inputGrad(weight), shape(K, N, R, true, false, true));
    if (bias?.requiresGrad) kk.sumRows(inputGrad(bias), g, R, N);
  });
}
