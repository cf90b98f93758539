/**
 * Noisy ALiBi, from "Randomized Positional Encodings Boost Length Generalization of Transformers" (Ruoss, Delétang,
 * Genewein, Grau-Moya, Csordás, Bennani, Legg and Veness, 2023), arXiv:2305.16843: the paper's randomized ALiBi
 * (official code google-deepmind/randomized_positional_encodings @57bc5d0, models/positional_encodings.py,
 * `compute_noisy_alibi_encodings_biases`, NOISY_ALIBI). Not ALiBi read at randomized ids (that is
 * `alibi-at-randomized-ids`, this library's earlier `randomized-alibi`): here the DISTANCES are randomized.
 *
 * Per call (each attention layer of each forward pass, training and evaluation alike), draw n = max(Tq, Tk) - 1
 * distinct integers s_1 < ... < s_n from [1, L) (L = maxPositions, the official noise_max_length) and use s_d in
 * place of the distance d:
 *   bias[h, i, j] = m_h * b(j - i),   b(0) = 0,   b(+d) = -s_d (key after query),   b(-d) = -s_d + 0.5
 * with m_h ALiBi's slopes. The bias depends on i - j only; the 0.5 breaks the left/right symmetry because the
 * official model is NON-causal (an encoder; in a decoder the keys after the query are masked and only b(-d)
 * matters). With randomizeBothSides, the two sides draw their own samples (right: Tk - 1, then left: Tq - 1).
 * (When queries are fewer than keys, Tq < Tk, the official left side reads the far end of the draw:
 * b(-d) = -s_(n - Tq + 1 + d) + 0.5, n = Tk - 1; reproduced as written.)
 * The official code builds the row [_, left..., 0, right...] and relative-shifts it; b(j - i) is entry Tq + j - i.
 * Draws come from the step's seeded Rng (the model's position-id stream), so runs stay seeded and resumable; the
 * values differ from JAX's, the distribution is the same.
 */
import { type Tensor, tensor } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { alibiSlopes } from "./alibi.js";
import {
  MAX_RANDOMIZED_RANGE,
  randomizedPositionIds,
  sequentialPositionIds,
} from "./randomized-positions.js";
import { checkPositionIds, PerForward, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/** The row b(-(Tq - 1)) .. b(Tk - 1) of one draw: entry Tq - 1 + (j - i) is b(j - i). */
export interface NoisyAlibiRow {
  queryLength: number;
  keyLength: number;
  /** b(j - i) for j - i = -(Tq - 1) .. Tk - 1 (length Tq + Tk - 1). */
  values: Float64Array;
}

/** s_1 < ... < s_n: n distinct integers from [1, L), sorted. */
function sortedDistances(n: number, maxPositions: number, rng: Rng): Float64Array {
  const ids = randomizedPositionIds(n, maxPositions - 1, rng); // sorted distinct from [0, L - 1)
  for (let i = 0; i < ids.length; i++) ids[i] += 1;
  return ids;
}

/** One draw of the noisy distances for a Tq x Tk attention (the official sampling, both variants). */
export function sampleNoisyAlibiRow(
  queryLength: number,
  keyLength: number,
  maxPositions: number,
  rng: Rng,
  randomizeBothSides = false,
): NoisyAlibiRow {
  checkNumber("queryLength", queryLength, { integer: true, min: 1 });
  checkNumber("keyLength", keyLength, { integer: true, min: 1 });
  checkNumber("maxPositions", maxPositions, { integer: true, min: 2, max: MAX_RANDOMIZED_RANGE });
  const need = randomizeBothSides
    ? Math.max(queryLength, keyLength) - 1
    : Math.max(queryLength, keyLength) - 1;
  if (need > maxPositions - 1) {
    throw new PosencConfigError(
      "invalid_value",
      "maxPositions",
      maxPositions,
      `an integer > the longest sequence ${Math.max(queryLength, keyLength)} (distances are drawn from [1, maxPositions))`,
    );
  }
  const values = new Float64Array(queryLength + keyLength - 1);
  const zero = queryLength - 1;
  if (randomizeBothSides) {
    // right = -sort(R), left = sort(-L): distance d on either side is that side's d-th smallest draw.
    const right = sortedDistances(keyLength - 1, maxPositions, rng);
    const left = sortedDistances(queryLength - 1, maxPositions, rng);
    for (let d = 1; d < keyLength; d++) values[zero + d] = -right[d - 1]!;
    for (let d = 1; d < queryLength; d++) values[zero - d] = -left[d - 1]! + 0.5;
  } else {
    // One draw of n = max(Tq, Tk) - 1; right = its first Tk - 1, left = the reversed draw's first Tq - 1. For
    // Tq >= Tk (self-attention: Tq = Tk) left distance d is s_d; for Tq < Tk it is s_(n - Tq + 1 + d).
    const n = Math.max(queryLength, keyLength) - 1;
    const s = sortedDistances(n, maxPositions, rng);
    for (let d = 1; d < keyLength; d++) values[zero + d] = -s[d - 1]!;
    for (let d = 1; d < queryLength; d++) values[zero - d] = -s[n - queryLength + d]! + 0.5;
  }
  return { queryLength, keyLength, values };
}

/** Row-major [slopes.length, Tq, Tk] bias m_h * b(j - i) of one draw. */
export function noisyAlibiBias(slopes: ArrayLike<number>, row: NoisyAlibiRow): Float32Array {
  const { queryLength: Tq, keyLength: Tk, values } = row;
  const out = new Float32Array(slopes.length * Tq * Tk);
  for (let h = 0; h < slopes.length; h++) {
    const m = slopes[h]!;
    for (let i = 0; i < Tq; i++) {
      for (let j = 0; j < Tk; j++) out[(h * Tq + i) * Tk + j] = m * values[Tq - 1 + j - i]!;
    }
  }
  return out;
}

const NOISY_ALIBI_PARAMS = {
  maxPositions: {
    type: "integer",
    description:
      "L: distances are drawn from [1, L) (official noise_max_length; 2048 in their example). Must exceed the longest sequence.",
    default: 2048,
    min: 2,
    max: MAX_RANDOMIZED_RANGE,
  },
  randomizeBothSides: {
    type: "boolean",
    description:
      "false (official default): one draw for both sides (the left side offset by 0.5); true: each side draws its own distances.",
    default: false,
  },
  seed: {
    type: "integer",
    description:
      "Seed of the framework-free form's draws (one per attentionBias call). The trainable form draws from the model's seeded position-id stream instead.",
    default: 0,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

export const noisyAlibiSpec = defineEncoding({
  id: "noisy-alibi",
  name: "Noisy ALiBi (randomized distances)",
  family: "attention-bias",
  paper: {
    title: "Randomized Positional Encodings Boost Length Generalization of Transformers",
    arxiv: "2305.16843",
    year: 2023,
  },
  formula:
    "bias[h, i, j] = m_h b(j - i): b(0) = 0, b(d) = -s_d, b(-d) = -s_d + 0.5, s_1 < ... < s_n drawn from [1, L) per layer and call",
  summary:
    "ALiBi whose distances are a sorted random sample of a larger range, redrawn every call, so long distances are seen while training short (non-causal in the official code).",
  slots: ["positionIds", "attentionBias"],
  params: NOISY_ALIBI_PARAMS,
  create(params, path = "noisy-alibi") {
    const p = resolveParams(path, NOISY_ALIBI_PARAMS, params);
    const rng = new Rng(p.seed);
    return {
      id: "noisy-alibi",
      params: Object.freeze(p),
      // Plain ids: the randomness is in the distances, not in the ids.
      positionIds: (length) => sequentialPositionIds(length),
      // Only the lengths matter: the bias depends on i - j through the draw, not on the ids' values.
      attentionBias(queryPositions, keyPositions, numHeads) {
        const row = sampleNoisyAlibiRow(
          queryPositions.length,
          keyPositions.length,
          p.maxPositions,
          rng,
          p.randomizeBothSides,
        );
        return noisyAlibiBias(alibiSlopes(numHeads), row);
      },
    };
  },
  /**
   * Trainable form: hook (b) is where the model hands over the step's seeded Rng, so it returns the plain ids
   * 0..T-1 and draws one row per layer for this forward pass; hook (d) turns layer l's row into [H, T, T].
   */
  trainable(params, dims): TrainableEncoding {
    const slopes = alibiSlopes(dims.numHeads);
    let rows: NoisyAlibiRow[] = [];
    const perForward = Array.from({ length: dims.numLayers }, () => new PerForward<Tensor>());
    return {
      id: "noisy-alibi",
      parameters: () => [],
      positionIds({ batchSize, seqLen, rng }) {
        rows = Array.from({ length: dims.numLayers }, () =>
          sampleNoisyAlibiRow(seqLen, seqLen, params.maxPositions, rng, params.randomizeBothSides),
        );
        const ids = new Float64Array(batchSize * seqLen);
        for (let i = 0; i < ids.length; i++) ids[i] = i % seqLen;
        return ids;
      },
      attentionBias(ids, batchSize, seqLen, layer) {
        checkPositionIds("noisy-alibi", ids, batchSize, seqLen);
        const row = rows[layer];
        if (!row || row.queryLength !== seqLen) {
          throw new RangeError("noisy-alibi: attentionBias called before positionIds for this batch");
        }
        return perForward[layer]!.get(ids, () =>
          tensor(noisyAlibiBias(slopes, row), [dims.numHeads, seqLen, seqLen]),
        );
      },
    };
  },
});
