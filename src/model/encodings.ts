/**
 * The positional encodings of one model: registry ids resolved to trainable forms, combined into one object with
 * the hooks (see src/encodings/trainable.ts), at most one encoding per hook slot.
 *
 * Model-owned parameters: each spec declares the ones the model determines (`spec.modelParams(dims)`: head size for
 * the RoPE family, table rows for learned absolute, bidirectional buckets for T5, the causal/symmetric variant of
 * ALiBi, Kerple and FIRE). They are filled when the config leaves them out; given explicitly, they must agree.
 */

import { getEncoding } from "../encodings/registry.js";
import {
  type ModelDims,
  type PositionIdsInput,
  TRAINABLE_HOOKS,
  type TrainableEncoding,
  type TrainableHook,
} from "../encodings/trainable.js";
import { type ParamSpec, resolveParams } from "../encodings/types.js";
import { add, type Parameter, type Tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import type { EncodingChoice } from "./config.js";

/** The model's encodings, hooks combined. Every hook is total: a slot nobody fills is the identity / nothing. */
export interface ModelEncoding {
  /** The registry ids in use (aliases resolved). */
  readonly ids: readonly string[];
  parameters(): Parameter[];
  /** (b) [B, T] ids: the (b) hook's, else the task's, else 0..T-1 per example. Always a fresh array. */
  positionIds(input: PositionIdsInput): Float64Array;
  /** (a) null when no encoding adds an embedding. */
  embedding(ids: Float64Array, batchSize: number, seqLen: number): Tensor | null;
  /** (c) identity when no encoding transforms q and k. */
  transformQK(q: Tensor, k: Tensor, ids: Float64Array, layer: number): { q: Tensor; k: Tensor };
  /** (d) + (e), null when neither is used. */
  attentionBias(q: Tensor, k: Tensor, ids: Float64Array, layer: number): Tensor | null;
}

/** Resolves one choice to its trainable form (unknown ids and methods without a trainable form are named). */
export function createTrainableEncoding(
  choice: EncodingChoice,
  dims: ModelDims,
  rng: Rng,
  path = "model.encoding",
): TrainableEncoding {
  const spec = getEncoding(choice.id, `${path}.id`);
  if (!spec.trainable) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.id`,
      choice.id,
      `an encoding with a trainable form; "${spec.id}" is ${spec.family === "analysis" ? "analysis only" : "framework-free only"} (see docs/encodings.md)`,
    );
  }
  // The model fills the parameters it owns (spec.modelParams) where the config leaves them out; a value given
  // explicitly is the method's to check against the model (a rotary head size must match, for example).
  const paramsPath = `${path}.params`;
  const params = resolveParams(paramsPath, spec.params, {
    ...spec.modelParams?.(dims),
    ...(choice.params ?? {}),
  });
  return spec.trainable(params, dims, rng, paramsPath);
}

/**
 * Builds and combines the encodings; two encodings using one hook slot are rejected naming both. `path` is where the
 * choices sit in the caller's config (errors name `${path}.params.base`, or `${path}[1].params.base` for a list).
 */
export function createModelEncoding(
  choices: EncodingChoice | readonly EncodingChoice[],
  dims: ModelDims,
  rng: Rng,
  path = "model.encoding",
): ModelEncoding {
  const list = Array.isArray(choices) ? choices : [choices as EncodingChoice];
  const encodings = list.map((c, i) =>
    createTrainableEncoding(c, dims, rng, Array.isArray(choices) ? `${path}[${i}]` : path),
  );
  const owner = new Map<TrainableHook, TrainableEncoding>();
  for (const encoding of encodings) {
    for (const hook of TRAINABLE_HOOKS) {
      if (encoding[hook] === undefined) continue;
      const other = owner.get(hook);
      if (other) {
        throw new PosencConfigError(
          "conflict",
          path,
          list.map((c) => c.id),
          `at most one encoding per hook slot`,
          `${other.id} and ${encoding.id} both use ${hook}; choose one`,
        );
      }
      owner.set(hook, encoding);
    }
  }
  const positionIds = owner.get("positionIds");
  const embedding = owner.get("embedding");
  const transform = owner.get("transformQK");
  const bias = owner.get("attentionBias");
  const contextual = owner.get("contextualBias");
  return {
    ids: encodings.map((e) => e.id),
    parameters: () => encodings.flatMap((e) => e.parameters()),
    positionIds(input) {
      const { batchSize, seqLen } = input;
      let ids: Float64Array;
      if (positionIds?.positionIds) ids = Float64Array.from(positionIds.positionIds(input));
      else if (input.taskPositionIds) ids = Float64Array.from(input.taskPositionIds);
      else {
        ids = new Float64Array(batchSize * seqLen);
        for (let i = 0; i < ids.length; i++) ids[i] = i % seqLen;
      }
      if (ids.length !== batchSize * seqLen) {
        throw new RangeError(
          `position ids: ${ids.length} values for batchSize * seqLen = ${batchSize} * ${seqLen}`,
        );
      }
      return ids;
    },
    embedding: (ids, batchSize, seqLen) => embedding?.embedding?.(ids, batchSize, seqLen) ?? null,
    transformQK: (q, k, ids, layer) => transform?.transformQK?.(q, k, ids, layer) ?? { q, k },
    attentionBias(q, k, ids, layer) {
      const [batchSize, , seqLen] = q.shape;
      const fixed = bias?.attentionBias?.(ids, batchSize, seqLen, layer) ?? null;
      const fromContent = contextual?.contextualBias?.(q, k, layer) ?? null;
      if (fixed && fromContent) return add(fixed, fromContent);
      return fixed ?? fromContent;
    },
  };
}
