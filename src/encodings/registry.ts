/**
 * The registry: one line per method. `posenc list`, the docs page (docs/encodings.md) and config validation are
 * generated from it. Adding a method = one file in this folder, one line here, its tests.
 */

import { PosencConfigError } from "../util/validation.js";
import { abfSpec } from "./abf.js";
import { alibiSpec } from "./alibi.js";
import { bipeSpec } from "./bipe.js";
import { bipeAlibiSpec } from "./bipe-alibi.js";
import { copeSpec } from "./cope.js";
import { entropyAwareAbfSpec } from "./entropy-aware-abf.js";
import { fireSpec } from "./fire.js";
import { giraffePowerSpec, giraffeTruncatedSpec } from "./giraffe.js";
import { kerpleLogSpec, kerplePowerSpec } from "./kerple.js";
import { learnedAbsoluteSpec } from "./learned-absolute.js";
import { llama3RopeSpec } from "./llama3-rope.js";
import { longropeSpec } from "./longrope.js";
import { msPoeSpec } from "./ms-poe.js";
import { noisyAlibiSpec } from "./noisy-alibi.js";
import { nopeSpec } from "./nope.js";
import { ntkAwareSpec } from "./ntk-aware.js";
import { pRopeSpec } from "./p-rope.js";
import { pathSpec } from "./path.js";
import { positionCouplingSpec } from "./position-coupling.js";
import {
  randomizedAlibiSpec,
  randomizedLearnedSpec,
  randomizedRopeSpec,
  randomizedSinusoidalSpec,
  randomizedT5Spec,
} from "./randomized.js";
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
  nopeSpec,
  sinusoidalSpec,
  learnedAbsoluteSpec,
  // rotary
  ropeSpec,
  pRopeSpec,
  xposSpec,
  // context extension
  ropeLinearSpec,
  entropyAwareAbfSpec,
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
  noisyAlibiSpec,
  t5BiasSpec,
  kerpleLogSpec,
  kerplePowerSpec,
  fireSpec,
  copeSpec,
  pathSpec,
  // position-id schemes
  randomizedPositionsSpec,
  positionCouplingSpec,
  bipeSpec,
  bipeAlibiSpec,
  msPoeSpec,
  randomizedSinusoidalSpec,
  randomizedRopeSpec,
  randomizedLearnedSpec,
  randomizedT5Spec,
  randomizedAlibiSpec,
  // analysis
  ropeBaseBoundSpec,
];

/** Short names accepted wherever an id is (the lab's command line uses `t5`). */
export const encodingAliases: Readonly<Record<string, string>> = {
  t5: "t5-bias",
  // The earlier id of ALiBi at randomized ids (it is not the paper's noisy ALiBi, which is "noisy-alibi").
  "randomized-alibi": "alibi-at-randomized-ids",
  eabf: "entropy-aware-abf",
};

function describeAliases(): string {
  return Object.entries(encodingAliases)
    .map(([alias, target]) => `"${alias}" = "${target}"`)
    .join(", ");
}

/**
 * The spec registered under `id` (or an alias); an unknown id throws a PosencConfigError naming `path` (where the
 * id sits in the caller's config) and listing the valid ids.
 */
export function getEncoding(id: string, path = "encoding"): EncodingSpec {
  const resolved = Object.hasOwn(encodingAliases, id) ? encodingAliases[id] : id;
  const spec = encodingRegistry.find((s) => s.id === resolved);
  if (!spec) {
    throw new PosencConfigError(
      "invalid_value",
      path,
      id,
      `one of ${encodingRegistry.map((s) => `"${s.id}"`).join(", ")} (aliases: ${describeAliases()})`,
    );
  }
  return spec;
}

/** Builds the registered method `id` with `params` (validated by its schema). */
export function createEncoding(id: string, params?: Record<string, unknown>): PositionalEncoding {
  return getEncoding(id).create(params);
}
