/**
 * Elementwise ops: unary maps, broadcast binary arithmetic (tensor or constant operands), where, broadcastTo.
 */
import { broadcastStrides, contiguousStrides, makePlan } from "../kernels/broadcast.js";
import type { BinaryName, UnaryName } from "../kernels/elementwise.js";
import { kernels } from "../kernels/index.js";
import { gradOrNull, inputGrad, record, type Shape, type Tensor, uninitialized } from "../tensor.js";
import { broadcastShapes } from "./shapes.js";

// ****** unary ops ******

function unary(name: UnaryName, x: Tensor): Tensor {
  const out = uninitialized(x.shape);
  kernels().unary[name].forward(out.data, x.data, x.size);
  return record(out, name, [x], (g) =>
    kernels().unary[name].backward(inputGrad(x), g, x.data, out.data, x.size),
  );
}

export const neg = (x: Tensor): Tensor => unary("neg", x);
export const exp = (x: Tensor): Tensor => unary("exp", x);
export const log = (x: Tensor): Tensor => unary("log", x);
export const sigmoid = (x: Tensor): Tensor => unary("sigmoid", x);
/** log(1 + e^x), computed stably. */
export const softplus = (x: Tensor): Tensor => unary("softplus", x);
export const tanh = (x: Tensor): Tensor => unary("tanh", x);
export const relu = (x: Tensor): Tensor => unary("relu", x);
/** GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2's form). */
export const gelu = (x: Tensor): Tensor => unary("gelu", x);
export const sin = (x: Tensor): Tensor => unary("sin", x);
export const cos = (x: Tensor): Tensor => unary("cos", x);
export const sqrt = (x: Tensor): Tensor => unary("sqrt", x);
export const abs = (x: Tensor): Tensor => unary("abs", x);
/** sin(x) sqrt(|x|): SPDER's damped sine activation (arXiv:2306.15242); derivative 0 at x = 0 (its limit). */
export const sinSqrtAbs = (x: Tensor): Tensor => unary("sinSqrtAbs", x);

/** x^p for a constant exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  const out = uninitialized(x.shape);
  kernels().powForward(out.data, x.data, p, x.size);
  return record(out, "pow", [x], (g) => kernels().powBackward(inputGrad(x), g, x.data, p, x.size));
}

/** scale * x + shift. */
export function affine(x: Tensor, scale: number, shift = 0): Tensor {
  const out = uninitialized(x.shape);
  kernels().affineForward(out.data, x.data, scale, shift, x.size);
  return record(out, "affine", [x], (g) => kernels().affineBackward(inputGrad(x), g, scale, x.size));
}

// ****** binary ops ******

export type Operand = Tensor | number;

function binary(op: BinaryName, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = uninitialized(shape);
  const plan = makePlan(shape, [
    contiguousStrides(shape),
    broadcastStrides(a.shape, shape),
    broadcastStrides(b.shape, shape),
  ]);
  kernels().binaryForward(op, out.data, a.data, b.data, plan);
  return record(out, op, [a, b], (g) =>
    kernels().binaryBackward(op, gradOrNull(a), gradOrNull(b), g, a.data, b.data, plan),
  );
}

function constantOperandError(op: string): never {
  throw new RangeError(`${op}: at least one operand must be a Tensor, received two numbers`);
}

/** a + b with broadcasting; either operand may be a number. */
export function add(a: Operand, b: Operand): Tensor {
  if (typeof a === "number") return typeof b === "number" ? constantOperandError("add") : affine(b, 1, a);
  if (typeof b === "number") return affine(a, 1, b);
  return binary("add", a, b);
}

/** a - b with broadcasting; either operand may be a number. */
export function sub(a: Operand, b: Operand): Tensor {
  if (typeof a === "number") return typeof b === "number" ? constantOperandError("sub") : affine(b, -1, a);
  if (typeof b === "number") return affine(a, 1, -b);
  return binary("sub", a, b);
}

/** a * b with broadcasting; either operand may be a number. */
export function mul(a: Operand, b: Operand): Tensor {
  if (typeof a === "number") return typeof b === "number" ? constantOperandError("mul") : affine(b, a);
  if (typeof b === "number") return affine(a, b);
  return binary("mul", a, b);
}

/** a / b with broadcasting; either operand may be a number. */
export function div(a: Operand, b: Operand): Tensor {
  if (typeof a === "number")
    return typeof b === "number" ? constantOperandError("div") : affine(pow(b, -1), a);
  if (typeof b === "number") return affine(a, 1 / b);
  return binary("div", a, b);
}

// ****** ternary and broadcast ******

/**
 * cond != 0 ? a : b, broadcasting all three. cond gets no gradient (it is a mask); a and b get the gradient
 * where they were chosen. Unlike a * cond + b * (1 - cond), an infinite or NaN value in the unchosen operand
 * does not leak into the result.
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, a.shape), b.shape);
  const out = uninitialized(shape);
  const plan = makePlan(shape, [
    contiguousStrides(shape),
    broadcastStrides(cond.shape, shape),
    broadcastStrides(a.shape, shape),
    broadcastStrides(b.shape, shape),
  ]);
  kernels().whereForward(out.data, cond.data, a.data, b.data, plan);
  return record(out, "where", [a, b], (g) =>
    kernels().whereBackward(gradOrNull(a), gradOrNull(b), g, cond.data, plan),
  );
}

/**
 * atan2(y, x) elementwise: the angle of (x, y) in (-pi, pi] (inputs of one shape). Gradients x / r^2 to y and
 * -y / r^2 to x, none at the origin.
 */
export function atan2(y: Tensor, x: Tensor): Tensor {
  if (y.shape.length !== x.shape.length || y.shape.some((d, i) => d !== x.shape[i])) {
    throw new RangeError(
      `atan2: y ${JSON.stringify(y.shape)} and x ${JSON.stringify(x.shape)} must have one shape`,
    );
  }
  const out = uninitialized(y.shape);
  kernels().atan2Forward(out.data, y.data, x.data, y.size);
  return record(out, "atan2", [y, x], (g) =>
    kernels().atan2Backward(gradOrNull(y), gradOrNull(x), g, y.data, x.data, y.size),
  );
}

/** x repeated along broadcast dims to `shape`; the gradient sums over them. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes("broadcastTo", x.shape, shape);
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    throw new RangeError(
      `broadcastTo: shape [${x.shape.join(", ")}] cannot broadcast to [${shape.join(", ")}]`,
    );
  }
  const out = uninitialized(shape);
  const plan = makePlan(shape, [contiguousStrides(shape), broadcastStrides(x.shape, shape)]);
  kernels().stridedCopy(out.data, x.data, plan);
  const back = makePlan(shape, [broadcastStrides(x.shape, shape), contiguousStrides(shape)]);
  return record(out, "broadcastTo", [x], (g) => kernels().stridedAdd(inputGrad(x), g, back));
}
