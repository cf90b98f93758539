/**
 * Gradient checking in float64.
 *
 * Method: the whole check runs under `withFloat64Storage`, so every tensor, saved buffer and gradient is a
 * Float64Array and every kernel is the TypeScript reference (which is written over indexing only and therefore
 * computes in float64 there). For a fixed random projection R of the output, L(x) = sum(R * f(x)):
 *   analytic:  backward seeded with R gives dL/dx for every input
 *   numeric:   (L(x + h e_i) - L(x - h e_i)) / 2h   for every input element i, with h = 1e-5
 * In float64 the central difference has truncation error O(h^2) ~ 1e-10 and rounding error ~ 1e-16 / h ~ 1e-11
 * (for O(1) values), so a relative tolerance of 1e-5 separates a wrong gradient rule from noise by many orders of
 * magnitude, which a float32 check (h ~ 1e-2, tolerance ~ 1e-2) cannot. Float32 behaviour is covered separately by
 * comparing the float32 forward against the float64 one.
 */
import { Rng } from "../../util/rng.js";
import { withFloat64Storage } from "../storage.js";
import { noGrad, type Shape, type Tensor, tensor, tidy } from "../tensor.js";

export interface GradInput {
  shape: Shape;
  values: ArrayLike<number>;
  /** Default true. */
  requiresGrad?: boolean;
}

export interface GradCheckResult {
  /** Worst |analytic - numeric| / (atol + rtol * max(|analytic|, |numeric|)); <= 1 passes. */
  worstRatio: number;
  /** Description of the worst element, for failure messages. */
  worst: string;
  /** The float64 forward output, for value checks. */
  output: number[];
}

export interface GradCheckOptions {
  h?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

/** Random N(0, 1) values from a seed: inputs for property tests. */
export function randomValues(seed: number, count: number, scale = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => scale * rng.normal());
}

/** A gradCheck input of `shape` filled with seeded N(0, 1) values, each passed through `map` (default: as drawn). */
export function randomInput(shape: number[], seed: number, map: (v: number) => number = (v) => v): GradInput {
  const size = shape.reduce((p, d) => p * d, 1);
  return { shape, values: randomValues(seed, size).map(map) };
}

/** Checks the gradients of `fn` with respect to every input that requires one. */
export function gradCheck(
  fn: (inputs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  options: GradCheckOptions = {},
): GradCheckResult {
  const h = options.h ?? 1e-5;
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-7;
  return withFloat64Storage(() =>
    tidy(() => {
      const leaves = inputs.map((inp) => tensor(inp.values, inp.shape, inp.requiresGrad ?? true));
      const out = fn(leaves);
      const output = Array.from(out.data);
      const rng = new Rng(options.seed ?? 1234);
      const projection = Float64Array.from({ length: out.size }, () =>
        rng.normal(),
      ) as unknown as Float32Array;
      const objective = (): number =>
        tidy(() => {
          const y = noGrad(() => fn(leaves));
          let s = 0;
          for (let i = 0; i < y.size; i++) s += projection[i] * y.data[i];
          return s;
        });
      out.backward(projection);
      let worstRatio = 0;
      let worst = "no input requires a gradient";
      leaves.forEach((leaf, index) => {
        if (!leaf.requiresGrad) return;
        const analytic = leaf.grad ? Array.from(leaf.grad) : new Array<number>(leaf.size).fill(0);
        for (let i = 0; i < leaf.size; i++) {
          const original = leaf.data[i];
          leaf.data[i] = original + h;
          const plus = objective();
          leaf.data[i] = original - h;
          const minus = objective();
          leaf.data[i] = original;
          const numeric = (plus - minus) / (2 * h);
          const ratio =
            Math.abs(analytic[i] - numeric) /
            (atol + rtol * Math.max(Math.abs(analytic[i]), Math.abs(numeric)));
          if (!(ratio <= worstRatio)) {
            worstRatio = Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio;
            worst = `input ${index} [${leaf.shape.join(", ")}] element ${i}: analytic ${analytic[i]}, numeric ${numeric}`;
          }
        }
      });
      return { worstRatio, worst, output };
    }),
  );
}

/**
 * Runs two implementations of the same function in float64 on the same inputs and returns the largest absolute
 * difference of their outputs and of their input gradients (under the same random output projection). Used to
 * hold fused ops to compositions of primitive ops.
 */
export function compareFunctions(
  fused: (inputs: Tensor[]) => Tensor,
  composed: (inputs: Tensor[]) => Tensor,
  inputs: readonly GradInput[],
  seed = 99,
): { outputDiff: number; gradDiff: number } {
  const run = (fn: (inputs: Tensor[]) => Tensor) =>
    withFloat64Storage(() =>
      tidy(() => {
        const leaves = inputs.map((inp) => tensor(inp.values, inp.shape, inp.requiresGrad ?? true));
        const out = fn(leaves);
        const rng = new Rng(seed);
        out.backward(Float64Array.from({ length: out.size }, () => rng.normal()) as unknown as Float32Array);
        return {
          output: Array.from(out.data),
          grads: leaves.map((l) => (l.grad ? Array.from(l.grad) : [])),
        };
      }),
    );
  const a = run(fused);
  const b = run(composed);
  if (a.output.length !== b.output.length) {
    throw new RangeError(`compareFunctions: outputs have ${a.output.length} and ${b.output.length} elements`);
  }
  // Math.max propagates NaN, which is reported as Infinity below.
  let outputDiff = 0;
  for (let i = 0; i < a.output.length; i++)
    outputDiff = Math.max(outputDiff, Math.abs(a.output[i] - b.output[i]));
  let gradDiff = 0;
  for (let j = 0; j < a.grads.length; j++) {
    for (let i = 0; i < a.grads[j].length; i++) {
      gradDiff = Math.max(gradDiff, Math.abs(a.grads[j][i] - (b.grads[j][i] ?? 0)));
    }
  }
  return {
    outputDiff: Number.isNaN(outputDiff) ? Infinity : outputDiff,
    gradDiff: Number.isNaN(gradDiff) ? Infinity : gradDiff,
  };
}
