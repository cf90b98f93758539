/**
 * Randomized positional encodings: sinusoidal, RoPE, learned absolute, T5 and ALiBi fed with randomized position
 * ids, from "Randomized Positional Encodings Boost Length Generalization of Transformers" (Ruoss, Delétang,
 * Genewein, Grau-Moya, Csordás, Bennani, Legg and Veness, 2023), arXiv:2305.16843.
 *
 *   ids = sort(S),  S ~ Uniform{ S ⊂ [0, L) : |S| = T }        (randomized-positions.ts, `randomizedPositionIds`)
 *   then the base encoding reads ids instead of 0 .. T-1:
 *     randomized-sinusoidal   x_t += PE(ids_t)              randomized-rope     rotate by ids_t * theta_i
 *     randomized-learned      x_t += P[ids_t], P: L rows    randomized-t5       bias = table[bucket(ids_j - ids_i)]
 *     alibi-at-randomized-ids bias = -m_h (ids_i - ids_j)     (not the paper's noisy ALiBi: see noisy-alibi.ts)
 * A model trained on short sequences has then seen every position (and gap) up to L by the time it is tested on
 * long ones. Evaluation samples ids too: the official evaluation applies the same noisy modules with a fresh key per
 * batch (see randomized-positions.ts); `mode: "sequential"` gives plain 0..T-1 for ablations. L is `maxPositions`
 * (official noise_max_length 2048; the PyTorch calibration used 256).
 *
 * Each variant's parameters are its base encoding's plus `maxPositions` (earlier name `maxPosition`) and `mode`;
 * a learned table gets exactly maxPositions rows (the same key: the number of positions ids are drawn from).
 */
import { alibiSpec } from "./alibi.js";
import { learnedAbsoluteSpec } from "./learned-absolute.js";
import { randomizedPositionsSpec } from "./randomized-positions.js";
import { ropeSpec } from "./rope.js";
import { sinusoidalSpec } from "./sinusoidal.js";
import { t5BiasSpec } from "./t5-bias.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { type EncodingSpec, type ParamSchema, type PositionalEncoding, resolveParams } from "./types.js";

/** The id scheme's keys; maxPositions is shared with a learned table (its rows are the id range L). */
const OWN_KEYS = ["maxPositions", "mode"] as const;

/** Base params (own keys removed; a learned table sized to maxPositions) and the id scheme's params. */
function splitParams(base: EncodingSpec, p: Record<string, unknown>) {
  const baseParams: Record<string, unknown> = {};
  for (const key of Object.keys(base.params)) if (key in p) baseParams[key] = p[key];
  return { baseParams, idParams: { maxPositions: p.maxPositions, mode: p.mode } };
}

function randomizedSpec(base: EncodingSpec, id: string, name: string): EncodingSpec {
  const baseSchema: Record<string, ParamSchema[string]> = { ...base.params };
  delete baseSchema.maxPositions;
  const params: ParamSchema = {
    ...baseSchema,
    maxPositions: randomizedPositionsSpec.params.maxPositions,
    mode: randomizedPositionsSpec.params.mode,
  };
  for (const key of OWN_KEYS) {
    if (key in base.params && key !== "maxPositions")
      throw new RangeError(`${id}: base parameter ${key} clashes with the id scheme's`);
  }
  const spec: EncodingSpec = {
    id,
    name,
    family: "position-ids",
    paper: randomizedPositionsSpec.paper,
    formula: `${base.id} at ids = sort(T distinct draws from [0, maxPosition)), drawn at training and evaluation`,
    summary: `${base.name} read at randomized ordered position ids, so positions up to maxPositions are all seen in training.`,
    slots: ["positionIds", ...base.slots],
    params,
    // The base's model-owned parameters, except the learned table's size (maxPositions is the id range).
    modelParams(dims) {
      const owned = { ...base.modelParams?.(dims) };
      delete owned.maxPositions;
      return owned;
    },
    create(given, path = id): PositionalEncoding {
      const p = resolveParams(path, params, given);
      const { baseParams, idParams } = splitParams(base, p);
      const encoding = base.create(baseParams, path);
      const ids = randomizedPositionsSpec.create(idParams);
      return { ...encoding, id, params: Object.freeze(p), positionIds: ids.positionIds };
    },
    trainable(p, dims, rng, path = id): TrainableEncoding {
      const { baseParams, idParams } = splitParams(base, p);
      if (!base.trainable) throw new RangeError(`${id}: ${base.id} has no trainable form`);
      const encoding = base.trainable(resolveParams(path, base.params, baseParams), dims, rng, path);
      const ids = fixedTrainable(randomizedPositionsSpec, idParams, dims);
      return { ...encoding, id, positionIds: ids.positionIds };
    },
  };
  return spec;
}

export const randomizedSinusoidalSpec = randomizedSpec(
  sinusoidalSpec,
  "randomized-sinusoidal",
  "Randomized sinusoidal",
);
export const randomizedRopeSpec = randomizedSpec(ropeSpec, "randomized-rope", "Randomized RoPE");
export const randomizedLearnedSpec = randomizedSpec(
  learnedAbsoluteSpec,
  "randomized-learned",
  "Randomized learned absolute",
);
export const randomizedT5Spec = randomizedSpec(t5BiasSpec, "randomized-t5", "Randomized T5 bias");
/**
 * ALiBi read at randomized ids: this library's own combination, NOT the paper's noisy ALiBi (./noisy-alibi.ts,
 * which randomizes the distances, depends on i - j only and is non-causal). Registered before under
 * `randomized-alibi`, which stays an alias so old configs keep their meaning.
 */
export const randomizedAlibiSpec = randomizedSpec(
  alibiSpec,
  "alibi-at-randomized-ids",
  "ALiBi at randomized ids",
);
