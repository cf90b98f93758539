/**
 * V2PE: Improving Multimodal Long-Context Capability of Vision-Language Models with Variable Visual Position
 * Encoding (Ge et al., 2024), arXiv:2412.09616.
 *
 * Ordinary tokens advance the position by 1; tokens of a "compressed" run (the visual tokens of one image in the
 * paper) advance it by a smaller increment delta, so a long run occupies few positions:
 *   id_0 = 0;  id_t = id_{t-1} + 1        for an ordinary token t, or the first token after a run
 *                                          (which starts at ceil(last id of the run) + 1)
 *          id_t = id_{t-1} + delta        for the k-th token of a compressed run (k = 1..n: last + k * delta)
 * In the official code (OpenGVLab/V2PE, mirror NipElement/V2PE, internvl/model/internvl_chat/
 * modeling_internvl_chat.py, `get_rope_pos_id`): the image's tokens sit between <img> and </img>, delta =
 * stride / num_image_token (256 tokens per tile), the run's ids are linspace(last, last + delta * n, n + 1)[1:] with
 * `last` the id of <img>, and the text after the image resumes at ceil(last visual id) + 1. `v2pe_fix` (evaluation)
 * uses one stride; `v2pe_rnd` (training) draws the stride per image from {1, 2, 4, ..., 256}, i.e. delta from
 * {1/256, ..., 1}. The ids feed 1-D RoPE unchanged (fractional angles).
 *
 * Here a compressed run is a maximal run of `compressedTokens` (the task says which token ids are the "image").
 * Worked example, compressed token 9, delta = 0.25:
 *   token:  1  2  9     9    9     9  9     3  4
 *   id:     0  1  1.25  1.5  1.75  2  2.25  4  5      (ceil(2.25) + 1 = 4)
 *
 * Hook (b): the ids feed a consumer in the same stack (rope reads fractional ids). In training with mode "random"
 * each run draws its delta from `trainIncrements`; at evaluation the fixed `increment` is used, as the official
 * evaluation does.
 */
import { PosencConfigError } from "../util/validation.js";
import { checkTokenIdList, sequenceTokens } from "./token-ids.js";
import { fixedTrainable, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type PositionalEncoding,
  type PositionIdContext,
  resolveParams,
} from "./types.js";

/** The official training strides {1, ..., 256} over 256 tokens per tile: delta in {1/256, ..., 1}. */
export const V2PE_OFFICIAL_INCREMENTS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256].map(
  (s) => s / 256,
);

/**
 * V2PE ids of a token sequence: +1 per ordinary token, +delta per token of a compressed run (one delta per run,
 * from `deltaOfRun(runIndex)`), and ceil(last) + 1 for the first token after a run.
 */
export function v2peIds(
  tokens: ArrayLike<number>,
  compressed: ReadonlySet<number>,
  deltaOfRun: (run: number) => number,
): Float64Array {
  const ids = new Float64Array(tokens.length);
  let last = -1; // the id before the first token: token 0 gets 0
  let run = -1;
  let inRun = false;
  let delta = 1;
  for (let t = 0; t < tokens.length; t++) {
    const isCompressed = compressed.has(tokens[t]);
    if (isCompressed && !inRun) delta = deltaOfRun(++run);
    if (isCompressed) {
      // The official code starts a run from the id of the token before it (<img>); a run at t = 0 starts at -1.
      last += delta;
    } else {
      last = inRun ? Math.ceil(last) + 1 : last + 1;
    }
    inRun = isCompressed;
    ids[t] = last;
  }
  return ids;
}

const V2PE_MODES = ["fixed", "random"] as const;

const V2PE_PARAMS = {
  compressedTokens: {
    type: "number[]",
    description:
      "Token ids whose maximal runs advance the position by delta per token (the paper's visual tokens). Empty: ids 0..n-1.",
    default: [],
  },
  increment: {
    type: "number",
    description:
      "delta of every run in mode fixed and at evaluation (official v2pe_fix: rope_pos_id_stride / 256).",
    default: 0.25,
    min: 0,
    exclusiveMin: true,
    max: 1,
  },
  mode: {
    type: "string",
    description:
      '"random" (official v2pe_rnd): in training each run draws delta from trainIncrements (evaluation uses increment); "fixed": always increment.',
    default: "random",
    choices: V2PE_MODES,
  },
  trainIncrements: {
    type: "number[]",
    description: "The deltas a run draws from in mode random (official: {1, 2, 4, ..., 256} / 256).",
    default: V2PE_OFFICIAL_INCREMENTS,
  },
} as const satisfies EncodingSpec["params"];

function createV2pe(params: Record<string, unknown> | undefined, path = "v2pe"): PositionalEncoding {
  const p = resolveParams(path, V2PE_PARAMS, params);
  checkTokenIdList(path, "compressedTokens", p.compressedTokens);
  if (p.mode === "random" && p.trainIncrements.length === 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.trainIncrements`,
      [],
      "a non-empty list in mode random",
    );
  }
  p.trainIncrements.forEach((d, i) => {
    if (!(d > 0 && d <= 1)) {
      throw new PosencConfigError("out_of_range", `${path}.trainIncrements[${i}]`, d, "a number in (0, 1]");
    }
  });
  const compressed = new Set(p.compressedTokens);
  return {
    id: "v2pe",
    params: Object.freeze(p),
    positionIds(length: number, context?: PositionIdContext) {
      const tokens = sequenceTokens(length, context, "V2PE compresses runs of compressedTokens");
      if (p.mode === "fixed") return v2peIds(tokens, compressed, () => p.increment);
      const rng = context?.rng;
      if (!rng) {
        throw new PosencConfigError(
          "missing_key",
          "context.rng",
          undefined,
          "a seeded Rng (v2pe mode random)",
        );
      }
      return v2peIds(tokens, compressed, () => p.trainIncrements[rng.int(p.trainIncrements.length)]!);
    },
  };
}

export const v2peSpec = defineEncoding({
  id: "v2pe",
  name: "V2PE (variable position increments)",
  family: "position-ids",
  paper: {
    title:
      "V2PE: Improving Multimodal Long-Context Capability of Vision-Language Models with Variable Visual Position Encoding",
    arxiv: "2412.09616",
    year: 2024,
  },
  formula:
    "id_t = id_{t-1} + 1 (ordinary token), + delta (token of a compressed run), ceil(last run id) + 1 after a run; delta ~ U{1/256..1} per run in training",
  summary:
    "Visual (compressed) tokens advance the position by a fraction, so long runs use few positions and the context stays inside the trained range.",
  slots: ["positionIds"],
  params: V2PE_PARAMS,
  create: createV2pe,
  trainable(params, dims, _rng, path): TrainableEncoding {
    // Training draws per-run deltas (mode random); evaluation always uses the fixed increment, as the official code.
    const train = fixedTrainable(v2peSpec, params, dims, path).positionIds!;
    const evaluate = fixedTrainable(v2peSpec, { ...params, mode: "fixed" }, dims, path).positionIds!;
    return {
      id: "v2pe",
      parameters: () => [],
      positionIds: (input) => (input.training ? train(input) : evaluate(input)),
    };
  },
});
