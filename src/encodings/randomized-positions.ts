/**
 * Randomized Positional Encodings Boost Length Generalization of Transformers (Ruoss, Delétang, Genewein,
 * Grau-Moya, Csordás, Bennani, Legg, Veness, 2023), arXiv:2305.16843.
 *
 * For a sequence of n tokens, draw an n-subset of {0, 1, ..., L - 1} uniformly at random (without
 * replacement) and sort it ascending:
 *   ids = sort(S),  S ~ Uniform{ S ⊂ [0, L) : |S| = n },  L = maxPosition >= n
 * The ids keep the token order but spread over the whole range a test sequence may reach, so a model trained
 * on short sequences has already seen every position (and every gap up to L) by test time. Any encoding then
 * consumes the ids: sinusoidal/learned embeddings, RoPE angles, ALiBi distances.
 *
 * Official code (google-deepmind/randomized_positional_encodings, models/positional_encodings.py,
 * `noisy_fixed_positional_encodings`): `jrandom.choice(arange(noise_max_length), (n,), replace=False)` then
 * `sort`; `noise_max_length = 2048` in experiments/example.py. Test time, as read in the code: the NOISY_*
 * modules in models/transformer.py have no train/eval switch, and experiments/range_evaluation.py calls the
 * same `model.apply` with a fresh rng key per batch, so the official evaluation ALSO samples random ordered
 * positions (for a test length M <= L). Plain 0..n-1 ids at test time are therefore not the paper's protocol;
 * this file offers them as `mode: "sequential"` for ablations and deterministic debugging.
 *
 * Sampling: Robert Floyd's algorithm draws a uniform k-subset with exactly k calls to the Rng and O(k) memory,
 * whatever L is; for n > L / 2 we draw the (smaller) complement and emit the rest, so the cost is
 * O(min(n, L - n)) draws plus O(n log n) for the sort (O(L) = O(n) for the complement walk).
 */
import type { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, type PositionalEncoding, resolveParams } from "./types.js";

/** Rng.int accepts bounds up to 2^32, so L is capped there. */
export const MAX_RANDOMIZED_RANGE = 4294967296;

export type RandomizedPositionsMode = "sampled" | "sequential";
export const RANDOMIZED_POSITIONS_MODES: readonly RandomizedPositionsMode[] = ["sampled", "sequential"];

/** Throws unless length is an integer in [0, maxPosition], naming both in the message. */
function checkLength(length: number, maxPosition: number): void {
  if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > maxPosition) {
    throw new PosencConfigError(
      Number.isInteger(length) ? "out_of_range" : "invalid_type",
      "length",
      length,
      `an integer in [0, maxPosition = ${maxPosition}] (n distinct ids must fit in [0, maxPosition))`,
    );
  }
}

function checkRng(key: string, rng: unknown): Rng {
  if (typeof rng !== "object" || rng === null || typeof (rng as { int?: unknown }).int !== "function") {
    throw new PosencConfigError("invalid_type", key, rng, "a seeded Rng (src/util/rng.ts)");
  }
  return rng as Rng;
}

/**
 * A uniformly random k-subset of {0, ..., range - 1} by Floyd's algorithm (unsorted, as a Set).
 * For j = range - k .. range - 1: draw t uniform in [0, j]; insert t, or j if t is already in.
 * Each k-subset comes out with probability 1 / C(range, k) (induction on j).
 */
function floydSubset(k: number, range: number, rng: Rng): Set<number> {
  const chosen = new Set<number>();
  for (let j = range - k; j < range; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return chosen;
}

/**
 * n distinct integers drawn uniformly from [0, maxPosition) without replacement, sorted ascending
 * (the paper's randomized position ids). Exactly uniform over the C(maxPosition, n) subsets.
 *
 * @param length     n, an integer in [0, maxPosition]
 * @param maxPosition L (the official `noise_max_length`), an integer in [1, 2^32]
 * @param rng        the seeded Rng; consumes min(n, L - n) draws (plus rejection retries inside Rng.int)
 */
export function randomizedPositionIds(length: number, maxPosition: number, rng: Rng): Float64Array {
  checkNumber("maxPosition", maxPosition, { integer: true, min: 1, max: MAX_RANDOMIZED_RANGE });
  checkLength(length, maxPosition);
  checkRng("rng", rng);
  const ids = new Float64Array(length);
  if (length === 0) return ids;
  if (length <= maxPosition - length) {
    // Sparse case: draw the n ids themselves.
    let i = 0;
    for (const id of floydSubset(length, maxPosition, rng)) ids[i++] = id;
    return ids.sort();
  }
  // Dense case (n > L / 2): draw the L - n ids to leave out, then walk [0, L) once in order.
  const excluded = floydSubset(maxPosition - length, maxPosition, rng);
  let i = 0;
  for (let p = 0; p < maxPosition; p++) if (!excluded.has(p)) ids[i++] = p;
  return ids;
}

/** The ordinary ids 0, 1, ..., n - 1. */
export function sequentialPositionIds(length: number): Float64Array {
  checkNumber("length", length, { integer: true, min: 0 });
  const ids = new Float64Array(length);
  for (let i = 0; i < length; i++) ids[i] = i;
  return ids;
}

const RANDOMIZED_POSITIONS_PARAMS = {
  maxPositions: {
    type: "integer",
    description:
      "L: ids are drawn from [0, L) (the official noise_max_length, 2048 in their example). Must be >= the longest test sequence. Earlier name: maxPosition.",
    aliases: ["maxPosition"],
    default: 2048,
    min: 1,
    max: MAX_RANDOMIZED_RANGE,
  },
  mode: {
    type: "string",
    description:
      '"sampled": a sorted random n-subset of [0, L) on every call (the official code does this in training AND evaluation); "sequential": 0..n-1 (ablation / deterministic debugging).',
    default: "sampled",
    choices: RANDOMIZED_POSITIONS_MODES,
  },
} as const satisfies EncodingSpec["params"];

export const randomizedPositionsSpec = defineEncoding({
  id: "randomized-positions",
  name: "Randomized positions",
  family: "position-ids",
  paper: {
    title: "Randomized Positional Encodings Boost Length Generalization of Transformers",
    arxiv: "2305.16843",
    year: 2023,
  },
  formula:
    "ids = sort(S), S a uniform random n-subset of {0, ..., L-1} without replacement (L = maxPositions)",
  summary:
    "Replaces 0..n-1 with a sorted random subset of a much larger range, so positions met at test lengths are already in distribution during training.",
  slots: ["positionIds"],
  params: RANDOMIZED_POSITIONS_PARAMS,
  trainable: (params, dims, _rng, path): TrainableEncoding =>
    fixedTrainable(randomizedPositionsSpec, params, dims, path),
  create(params, path = "randomized-positions"): PositionalEncoding {
    const p = resolveParams(path, RANDOMIZED_POSITIONS_PARAMS, params);
    const maxPosition = p.maxPositions;
    const mode = p.mode as RandomizedPositionsMode;
    return {
      id: "randomized-positions",
      params: Object.freeze(p),
      positionIds(length, context) {
        checkLength(length, maxPosition);
        if (mode === "sequential") return sequentialPositionIds(length);
        if (context?.rng === undefined) {
          throw new PosencConfigError(
            "missing_key",
            "context.rng",
            undefined,
            'a seeded Rng (randomized-positions in mode "sampled" draws its ids from it)',
          );
        }
        return randomizedPositionIds(length, maxPosition, context.rng);
      },
    };
  },
});
