/**
 * Reductions over axes (sum, mean, max, with keepdim) and the prefix sum (cumsum).
 */
import { contiguousStrides, makePlan } from "../kernels/broadcast.js";
import { kernels } from "../kernels/index.js";
import { empty, inputGrad, record, type Tensor } from "../tensor.js";
import { normalizeAxes, normalizeAxis, product } from "./shapes.js";

export type Axes = number | readonly number[];

/** Output shape with reduced axes kept as 1, the final shape, and the plan [x, out (0 on reduced axes)]. */
function reduction(op: string, x: Tensor, axes: Axes | undefined, keepdim: boolean) {
  const list = normalizeAxes(op, axes, x.shape);
  const keptShape = x.shape.map((d, i) => (list.includes(i) ? 1 : d));
  const shape = keepdim ? keptShape : x.shape.filter((_, i) => !list.includes(i));
  const plan = makePlan(x.shape, [contiguousStrides(x.shape), contiguousStrides(keptShape)]);
  const count = product(list.map((a) => x.shape[a]));
  return { shape, plan, count };
}

/** Sum over `axes` (default: all). */
export function sum(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const { shape, plan } = reduction("sum", x, axes, keepdim);
  const out = empty(shape);
  kernels().sumForward(out.data, x.data, plan);
  return record(out, "sum", [x], (g) => kernels().sumBackward(inputGrad(x), g, 1, plan));
}

/** Mean over `axes` (default: all). */
export function mean(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const { shape, plan, count } = reduction("mean", x, axes, keepdim);
  const out = empty(shape);
  const k = kernels();
  k.sumForward(out.data, x.data, plan);
  k.scaleInPlace(out.data, 1 / count, out.size);
  return record(out, "mean", [x], (g) => kernels().sumBackward(inputGrad(x), g, 1 / count, plan));
}

/** Max over `axes` (default: all); the gradient goes to the first maximal element. */
export function max(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const { shape, plan } = reduction("max", x, axes, keepdim);
  if (x.size === 0)
    throw new RangeError(`max: cannot reduce an empty tensor of shape [${x.shape.join(", ")}]`);
  const out = empty(shape);
  const argmax = new Int32Array(out.size);
  kernels().maxForward(out.data, argmax, x.data, plan);
  return record(out, "max", [x], (g) => kernels().maxBackward(inputGrad(x), g, argmax, out.size));
}

/** Inclusive prefix sum along `axis`; with `reverse`, sums from the end (out[t] = sum over s >= t). */
export function cumsum(x: Tensor, axis: number, reverse = false): Tensor {
  const a = normalizeAxis("cumsum", axis, x.shape);
  const outer = product(x.shape, 0, a);
  const n = x.shape[a];
  const inner = product(x.shape, a + 1);
  const out = empty(x.shape);
  kernels().cumsumForward(out.data, x.data, outer, n, inner, reverse);
  return record(out, "cumsum", [x], (g) =>
    kernels().cumsumBackward(inputGrad(x), g, outer, n, inner, reverse),
  );
}
