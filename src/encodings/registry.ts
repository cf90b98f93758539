/**
 * The registry: one line per method. `posenc list`, the docs page (docs/encodings.md) and config validation are
 * generated from it. Adding a method = one file in this folder, one line here, its tests.
 */

import { PosencConfigError } from "../util/validation.js";
import { abfSpec } from "./abf.js";
import { alibiSpec } from "./alibi.js";
import { bipeSpec } from "./bipe.js";
import { giraffePowerSpec, giraffeTruncatedSpec } from "./giraffe.js";
import { kerpleLogSpec, kerplePowerSpec } from "./kerple.js";
import { llama3RopeSpec } from "./llama3-rope.js";
import { longropeSpec } from "./longrope.js";
import { msPoeSpec } from "./ms-poe.js";
import { ntkAwareSpec } from "./ntk-aware.js";
import { pRopeSpec } from "./p-rope.js";
import { positionCouplingSpec } from "./position-coupling.js";
import { randomizedPositionsSpec } from "./randomized-positions.js";
import { ropeSpec } from "./rope.js";
import { ropeBaseBoundSpec } from "./rope-base-bound.js";
import { ropeDynamicNtkSpec } from "./rope-dynamic-ntk.js";
import { ropeLinearSpec } from "./rope-linear.js";
import { sinusoidalSpec } from "./sinusoidal.js";
import { t5BiasSpec } from "./t5-bias.js";
import type { EncodingSpec, PositionalEncoding } from "./types.js";
import { xposSpec } from "./xpos.js";
import { yarnSpec } from "./yarn.js";

export const encodingRegistry: readonly EncodingSpec[] = [
  // absolute
  sinusoidalSpec,
  // rotary
  ropeSpec,
  pRopeSpec,
  xposSpec,
  // context extension
  ropeLinearSpec,
  ntkAwareSpec,
  ropeDynamicNtkSpec,
  yarnSpec,
  longropeSpec,
  llama3RopeSpec,
  abfSpec,
  giraffePowerSpec,
  giraffeTruncatedSpec,
  // attention biases
  alibiSpec,
  t5BiasSpec,
  kerpleLogSpec,
  kerplePowerSpec,
  // position-id schemes
  randomizedPositionsSpec,
  positionCouplingSpec,
  bipeSpec,
  msPoeSpec,
  // analysis
  ropeBaseBoundSpec,
];

/** The spec registered under `id`; an unknown id throws a PosencConfigError listing the valid ids. */
export function getEncoding(id: string): EncodingSpec {
  const spec = encodingRegistry.find((s) => s.id === id);
  if (!spec) {
    throw new PosencConfigError(
      "invalid_value",
      "encoding",
      id,
      `one of ${encodingRegistry.map((s) => `"${s.id}"`).join(", ")}`,
    );
  }
  return spec;
}

/** Builds the registered method `id` with `params` (validated by its schema). */
export function createEncoding(id: string, params?: Record<string, unknown>): PositionalEncoding {
  return getEncoding(id).create(params);
}
