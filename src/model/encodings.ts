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
  type AuxiliaryLossInput,
  type ModelDims,
  type PositionIdsInput,
  TRAINABLE_HOOKS,
  type TrainableEncoding,
  type TrainableHook,
} from "../encodings/trainable.js";
import { type EncodingSpec, resolveParams } from "../encodings/types.js";
import { add, type Parameter, type Tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import type { EncodingChoice } from "./config.js";

/** The model's encodings, hooks combined. Every hook is total: a slot nobody fills is the identity / nothing. */
export interface ModelEncoding {
  /** The registry ids in use (aliases resolved). */
  readonly ids: readonly string[];
  /**
   * Coordinates per position id, k: ids are [B, T, k] row-major (k = 1: [B, T], the default and fast path). The
   * largest any encoding declares (spec.positionCoordinates); every encoding reading ids must declare the same.
   */
  readonly coordinates: number;
  parameters(): Parameter[];
  /**
   * (b) [B, T, k] ids: the (b) hook's, else the task's, else 0..T-1 per example in coordinate 0 (the others 0).
   * Always a fresh array.
   */
  positionIds(input: PositionIdsInput): Float64Array;
  /** (a) null when no encoding adds an embedding. */
  embedding(ids: Float64Array, batchSize: number, seqLen: number): Tensor | null;
  /** (c) identity when no encoding transforms q and k. */
  transformQK(q: Tensor, k: Tensor, ids: Float64Array, layer: number): { q: Tensor; k: Tensor };
  /**
   * (d) + (e): the layer's q, k (after (c)), the additive logit bias (null when none) and, when a content-aware
   * encoding computes them, the scores replacing scale * q k^T.
   */
  attentionTerms(
    x: Tensor,
    q: Tensor,
    k: Tensor,
    ids: Float64Array,
    layer: number,
  ): { q: Tensor; k: Tensor; bias: Tensor | null; scores: Tensor | null };
  /** (f) the block's input x [B, T, D]; identity when no encoding fills the slot. */
  layerInput(x: Tensor, ids: Float64Array, layer: number): Tensor;
  /** (g) values v [B, H, T, Dh] before attention; identity when unused. */
  transformValues(v: Tensor, ids: Float64Array, layer: number): Tensor;
  /** (g) attention output o [B, H, T, Dh] before the heads are merged; identity when unused. */
  transformOutput(o: Tensor, ids: Float64Array, layer: number): Tensor;
  /** Tensors the encodings carry to the next layer (kept when a layer's other tensors are freed). */
  carried(): Tensor[];
  /** The sum of the encodings' auxiliary training-loss terms for that forward pass; null when none adds one. */
  auxiliaryLoss(input: AuxiliaryLossInput): Tensor | null;
  /**
   * True when no encoding fills a hook that could mix positions outside the (causal) attention: layerInput,
   * contentAttention, transformValues, transformOutput. Then a right-padded causal batch's real tokens never see
   * its padding, and the model may skip the padding rows in per-token work (block.ts, `realRows`).
   */
  readonly perTokenOutsideAttention: boolean;
}

/**
 * k of the model's position ids: the largest positionCoordinates any encoding declares (default 1; "nope" reads
 * none). Encodings declaring different counts cannot share ids: a conflict naming both.
 */
function positionCoordinates(list: readonly EncodingChoice[], path: string, lookup: SpecLookup): number {
  const declared = list.map((c, i) => {
    const spec = lookup(c.id, `${path}[${i}].id`);
    return { id: spec.id, k: spec.positionCoordinates ?? 1 };
  });
  const k = Math.max(1, ...declared.map((d) => d.k));
  const other = declared.find((d) => d.k !== k && d.id !== "nope");
  if (other) {
    throw new PosencConfigError(
      "conflict",
      path,
      list.map((c) => c.id),
      `encodings that read the same number of position coordinates`,
      `${other.id} reads ${other.k} coordinate(s) per position, ${declared.find((d) => d.k === k)!.id} reads ${k}; they cannot share position ids`,
    );
  }
  return k;
}

/** Finds a spec by id (the registry; tests pass their own to try an encoding before it is registered). */
export type SpecLookup = (id: string, path: string) => EncodingSpec;

/** Resolves one choice to its trainable form (unknown ids and methods without a trainable form are named). */
export function createTrainableEncoding(
  choice: EncodingChoice,
  dims: ModelDims,
  rng: Rng,
  path = "model.encoding",
  lookup: SpecLookup = getEncoding,
): TrainableEncoding {
  const spec = lookup(choice.id, `${path}.id`);
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
  lookup: SpecLookup = getEncoding,
): ModelEncoding {
  const list = Array.isArray(choices) ? choices : [choices as EncodingChoice];
  const encodings = list.map((c, i) =>
    createTrainableEncoding(c, dims, rng, Array.isArray(choices) ? `${path}[${i}]` : path, lookup),
  );
  const coordinates = positionCoordinates(list, path, lookup);
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
  const content = owner.get("contentAttention");
  const input = owner.get("layerInput");
  const values = owner.get("transformValues");
  const output = owner.get("transformOutput");
  return {
    ids: encodings.map((e) => e.id),
    coordinates,
    parameters: () => encodings.flatMap((e) => e.parameters()),
    positionIds(input) {
      const { batchSize, seqLen } = input;
      const k = coordinates;
      let ids: Float64Array;
      if (positionIds?.positionIds) ids = Float64Array.from(positionIds.positionIds(input));
      else if (input.taskPositionIds) ids = Float64Array.from(input.taskPositionIds);
      else {
        ids = new Float64Array(batchSize * seqLen * k);
        for (let i = 0; i < batchSize * seqLen; i++) ids[i * k] = i % seqLen;
      }
      if (ids.length !== batchSize * seqLen * k) {
        throw new RangeError(
          `position ids: ${ids.length} values for batchSize * seqLen * coordinates = ${batchSize} * ${seqLen} * ${k}`,
        );
      }
      return ids;
    },
    embedding: (ids, batchSize, seqLen) => embedding?.embedding?.(ids, batchSize, seqLen) ?? null,
    transformQK: (q, k, ids, layer) => transform?.transformQK?.(q, k, ids, layer) ?? { q, k },
    attentionTerms(x, q, k, ids, layer) {
      const [batchSize, , seqLen] = q.shape;
      const fixed = bias?.attentionBias?.(ids, batchSize, seqLen, layer) ?? null;
      const out = content?.contentAttention?.({ x, q, k, positionIds: ids, layer }) ?? {};
      const fromContent = out.bias ?? null;
      return {
        q: out.q ?? q,
        k: out.k ?? k,
        bias: fixed && fromContent ? add(fixed, fromContent) : (fixed ?? fromContent),
        scores: out.scores ?? null,
      };
    },
    layerInput: (x, ids, layer) => input?.layerInput?.(x, ids, layer) ?? x,
    transformValues: (v, ids, layer) => values?.transformValues?.(v, ids, layer) ?? v,
    transformOutput: (o, ids, layer) => output?.transformOutput?.(o, ids, layer) ?? o,
    carried: () => encodings.flatMap((e) => e.carried?.() ?? []),
    auxiliaryLoss(input) {
      const terms = encodings.flatMap((e) => e.auxiliaryLoss?.(input) ?? []);
      return terms.length === 0 ? null : terms.reduce((a, b) => add(a, b));
    },
    perTokenOutsideAttention: !content && !input && !values && !output,
  };
}
