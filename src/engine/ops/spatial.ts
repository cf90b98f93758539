/**
 * Ops for multi-dimensional position methods: a depthwise 2-D convolution over a channels-last grid (CPVT's
 * position encoding generator) and the matrix exponential of small square blocks (ComRoPE's rotations). Kernels in
 * ../kernels/conv.ts and ../kernels/expm.ts.
 */
import { kernels } from "../kernels/index.js";
import { formatShape, gradOrNull, inputGrad, record, type Tensor, uninitialized } from "../tensor.js";

/**
 * Depthwise 2-D convolution of x [N, H, W, C] with weight [KH, KW, C] (odd sizes) and optional bias [C], stride 1,
 * zero padding keeping H x W: out[n, i, j, c] = bias[c] + sum_(u, v) w[u, v, c] x[n, i + u - KH//2, j + v - KW//2, c].
 */
export function depthwiseConv2d(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const describe = () =>
    `x ${formatShape(x.shape)}, weight ${formatShape(weight.shape)}${bias ? `, bias ${formatShape(bias.shape)}` : ""}`;
  if (x.rank !== 4 || weight.rank !== 3) {
    throw new RangeError(`depthwiseConv2d: needs x [N, H, W, C] and weight [KH, KW, C]: ${describe()}`);
  }
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const [KH, KW, CW] = weight.shape as [number, number, number];
  if (CW !== C || KH % 2 === 0 || KW % 2 === 0 || (bias && (bias.rank !== 1 || bias.shape[0] !== C))) {
    throw new RangeError(
      `depthwiseConv2d: weight must be [KH, KW, C] with odd KH, KW and bias [C], C = ${C}: ${describe()}`,
    );
  }
  const sizes = { N, H, W, C, KH, KW };
  const out = uninitialized(x.shape);
  kernels().depthwiseConv2dForward(out.data, x.data, weight.data, bias?.data ?? null, sizes);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, "depthwiseConv2d", inputs, (g) =>
    kernels().depthwiseConv2dBackward(
      gradOrNull(x),
      gradOrNull(weight),
      bias ? gradOrNull(bias) : null,
      g,
      x.data,
      weight.data,
      sizes,
    ),
  );
}

/** exp(x) of each n x n matrix of x [..., n, n] (scaling and squaring; exact gradients via the Frechet derivative). */
export function matrixExp(x: Tensor): Tensor {
  const n = x.shape[x.rank - 1]!;
  if (x.rank < 2 || x.shape[x.rank - 2] !== n) {
    throw new RangeError(`matrixExp: needs square matrices [..., n, n], received ${formatShape(x.shape)}`);
  }
  const N = n === 0 ? 0 : x.size / (n * n);
  const out = uninitialized(x.shape);
  kernels().matrixExpForward(out.data, x.data, N, n);
  return record(out, "matrixExp", [x], (g) => kernels().matrixExpBackward(inputGrad(x), g, x.data, N, n));
}
