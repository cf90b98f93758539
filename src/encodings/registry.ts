/**
 * The registry: one line per method. `posenc list`, the docs page (docs/encodings.md) and config validation are
 * generated from it. Adding a method = one file in this folder, one line here, its tests.
 */

import { PosencConfigError } from "../util/validation.js";
import { abfSpec } from "./abf.js";
import { alibiSpec } from "./alibi.js";
import { bamSpec } from "./bam.js";
import { bipeSpec } from "./bipe.js";
import { bipeAlibiSpec } from "./bipe-alibi.js";
import { cableSpec } from "./cable.js";
import { caropeSpec } from "./carope.js";
import { complexFormerSpec } from "./complexformer.js";
import { comropeSpec } from "./comrope.js";
import { copeSpec } from "./cope.js";
import { copeComplexSpec } from "./cope-complex.js";
import { copeRelativeSpec, copeSeparateGateKeysSpec } from "./cope-variants.js";
import { cpeSpec } from "./cpe.js";
import { dopeSpec } from "./dope.js";
import { dpeSpec } from "./dpe.js";
import { entropyAwareAbfSpec } from "./entropy-aware-abf.js";
import { extendedMindSpec } from "./extended-mind.js";
import { fireSpec } from "./fire.js";
import { giraffePowerSpec, giraffeTruncatedSpec } from "./giraffe.js";
import { gpeSpec } from "./gpe.js";
import { grapeSpec } from "./grape.js";
import { gtaSpec } from "./gta.js";
import { hopeHyperbolicSpec } from "./hope-hyperbolic.js";
import { hopeVideoSpec } from "./hope-video.js";
import { irpeSpec } from "./irpe.js";
import { kerpleLogSpec, kerplePowerSpec } from "./kerple.js";
import { ldpeSpec } from "./ldpe.js";
import { learnableFourier2dSpec } from "./learnable-fourier.js";
import { learned2dSpec } from "./learned-2d.js";
import { learnedAbsoluteSpec } from "./learned-absolute.js";
import { llama3RopeSpec } from "./llama3-rope.js";
import { longropeSpec } from "./longrope.js";
import { loopeSpec } from "./loope.js";
import { mhropeSpec } from "./mhrope.js";
import { mropeSpec } from "./mrope.js";
import { mropeInterleaveSpec } from "./mrope-interleave.js";
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
import { relativeKeyQuerySpec } from "./relative-key-query.js";
import { ropeSpec } from "./rope.js";
import { rope2dSpec } from "./rope-2d.js";
import { ropeBaseBoundSpec } from "./rope-base-bound.js";
import { ropeDynamicNtkSpec } from "./rope-dynamic-ntk.js";
import { ropeLinearSpec } from "./rope-linear.js";
import { ropePlusPlusSpec } from "./rope-plus-plus.js";
import { sandwichSpec } from "./sandwich.js";
import { selectiveRopeSpec } from "./selective-rope.js";
import { seqpeSpec } from "./seqpe.js";
import { sigmaGptSpec } from "./sigma-gpt.js";
import { sinusoidalSpec } from "./sinusoidal.js";
import { t5BiasSpec } from "./t5-bias.js";
import { tapeSpec } from "./tape.js";
import { twoDTpeSpec } from "./two-d-tpe.js";
import type { EncodingSpec, PositionalEncoding } from "./types.js";
import { v2peSpec } from "./v2pe.js";
import { vropeSpec } from "./vrope.js";
import { xposSpec } from "./xpos.js";
import { yarnSpec } from "./yarn.js";

export const encodingRegistry: readonly EncodingSpec[] = [
  // absolute
  nopeSpec,
  sinusoidalSpec,
  learnedAbsoluteSpec,
  sigmaGptSpec,
  ldpeSpec,
  seqpeSpec,
  copeComplexSpec,
  dpeSpec,
  // rotary
  ropeSpec,
  pRopeSpec,
  xposSpec,
  ropePlusPlusSpec,
  grapeSpec,
  complexFormerSpec,
  hopeHyperbolicSpec,
  // multimodal rotary: position ids (t, h, w)
  mropeSpec,
  mropeInterleaveSpec,
  mhropeSpec,
  hopeVideoSpec,
  vropeSpec,
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
  dopeSpec,
  // attention biases
  alibiSpec,
  noisyAlibiSpec,
  t5BiasSpec,
  kerpleLogSpec,
  kerplePowerSpec,
  fireSpec,
  bamSpec,
  sandwichSpec,
  relativeKeyQuerySpec,
  copeSpec,
  pathSpec,
  // data-dependent
  cableSpec,
  caropeSpec,
  selectiveRopeSpec,
  tapeSpec,
  copeSeparateGateKeysSpec,
  copeRelativeSpec,
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
  v2peSpec,
  gpeSpec,
  extendedMindSpec,
  // multi-dimensional (2-D positions: ids [B, T, 2] = (row, column))
  rope2dSpec,
  learned2dSpec,
  cpeSpec,
  learnableFourier2dSpec,
  irpeSpec,
  comropeSpec,
  gtaSpec,
  twoDTpeSpec,
  loopeSpec,
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
