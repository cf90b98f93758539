/**
 * Coordinate encodings for neural fields: maps from points x in [-1, 1]^d (d = 2 or 3) to feature vectors that a
 * coordinate MLP (src/fields/mlp.ts) turns into colours or signed distances. Each method is one file in this
 * folder (paper, arXiv id and formula first), registered once in ./registry.ts.
 *
 * Every encoder is built from engine ops, so gradients reach its own parameters (learnable frequencies, NeuDA's
 * anchors) and, where the formula is differentiable, the input points.
 *
 * Beside the types: the option checks every spec's `create` uses (defaults, unknown keys and ranges, one clear
 * error each).
 */
import type { Parameter, Tensor } from "../../engine/index.js";
import type { Rng } from "../../util/rng.js";
import { checkNumber, type NumberRule, PosencConfigError } from "../../util/validation.js";

/** Option values of a coordinate encoding (numbers, or a choice such as a basis family). */
export type CoordinateOptions = Record<string, number | string>;

export interface CoordinateEncoder {
  readonly id: string;
  /** d: the dimension of the points (2 or 3). */
  readonly inputDim: number;
  /** Features per point. */
  readonly outputDim: number;
  /** Trainable parameters (empty for fixed encodings). */
  readonly parameters: readonly Parameter[];
  /** The options after defaults and validation. */
  readonly options: Readonly<CoordinateOptions>;
  /** x [N, d] -> features [N, outputDim]. */
  encode(x: Tensor): Tensor;
  /**
   * Progressive encodings (PINs) only: the features of each frequency band separately, coarse first; their
   * concatenation is `encode(x)`.
   */
  encodeLevels?(x: Tensor): Tensor[];
}

export interface CoordinateEncodingSpec {
  id: string;
  /** Paper title, authors, year, arXiv id. */
  citation: string;
  /** The formula in one line, for `posenc list` and the docs. */
  formula: string;
  /** Option names with their defaults and what they mean. */
  defaults: Readonly<Record<string, { value: number | string; description: string }>>;
  /** Builds an encoder for points of dimension `inputDim`; randomness (frequencies) comes from `rng`. */
  create(inputDim: number, rng: Rng, options?: CoordinateOptions): CoordinateEncoder;
}

/** Options merged over the spec's defaults; an unknown option name is an error naming the valid ones. */
export function resolveOptions(
  spec: CoordinateEncodingSpec,
  given: CoordinateOptions = {},
): CoordinateOptions {
  const out: CoordinateOptions = {};
  for (const [key, entry] of Object.entries(spec.defaults)) out[key] = entry.value;
  for (const [key, value] of Object.entries(given)) {
    if (!(key in spec.defaults)) {
      throw new PosencConfigError(
        "invalid_value",
        `${spec.id} option`,
        key,
        `one of ${Object.keys(spec.defaults).join(", ") || "(no options)"}`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** A numeric option checked against `rule` (the error names the encoding and the option). */
export function numberOption(id: string, options: CoordinateOptions, key: string, rule: NumberRule): number {
  return checkNumber(`${id}.${key}`, options[key], rule);
}

/** The input dimension must be 2 or 3 (images and planar shapes, volumes). */
export function checkInputDim(id: string, inputDim: number): void {
  if (inputDim !== 2 && inputDim !== 3) {
    throw new PosencConfigError("out_of_range", `${id} input dimension`, inputDim, "2 or 3");
  }
}
