/**
 * Deterministic parameter initializers. The seeded Rng (../util/rng.ts) is the only source of randomness, and
 * values are drawn in row-major order, so the same seed gives bit-identical parameters everywhere.
 */
import type { Rng } from "../util/rng.js";
import { allocStorage } from "./storage.js";
import { Parameter, type Shape, shapeSize } from "./tensor.js";

function filled(shape: Shape, name: string, draw: () => number): Parameter {
  const storage = allocStorage(shapeSize(shape));
  for (let i = 0; i < storage.length; i++) storage[i] = draw();
  return new Parameter(storage, shape, name);
}

/** N(mean, std^2) entries. */
export function normalParameter(rng: Rng, shape: Shape, std: number, name = "", mean = 0): Parameter {
  return filled(shape, name, () => mean + std * rng.normal());
}

/** Uniform entries in [low, high). */
export function uniformParameter(rng: Rng, shape: Shape, low: number, high: number, name = ""): Parameter {
  return filled(shape, name, () => low + (high - low) * rng.next());
}

/** A constant parameter (e.g. ones for a norm's weight, zeros for a bias). */
export function constantParameter(shape: Shape, value: number, name = ""): Parameter {
  return filled(shape, name, () => value);
}

/** Fan-in and fan-out of a weight stored (in, out) (the layout `matmul(x, w)` uses); extra leading dims multiply. */
function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = shapeSize(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** Xavier/Glorot uniform (Glorot & Bengio 2010): U(-a, a), a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(rng: Rng, shape: Shape, name = "", gain = 1): Parameter {
  const { fanIn, fanOut } = fans(shape);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniformParameter(rng, shape, -a, a, name);
}

/** Kaiming/He normal (He et al. 2015, arXiv:1502.01852), fan-in mode: N(0, gain^2 / fanIn), gain sqrt(2) for ReLU. */
export function kaimingNormal(rng: Rng, shape: Shape, name = "", gain = Math.SQRT2): Parameter {
  const { fanIn } = fans(shape);
  return normalParameter(rng, shape, gain / Math.sqrt(fanIn), name);
}
