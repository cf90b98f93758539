/**
 * The trainable form of a positional encoding: the five hooks of the transformer in src/model/, over engine tensors,
 * so gradients flow into an encoding's own parameters (learned absolute table, T5 bucket values, FIRE's MLP, CoPE...).
 *
 * An EncodingSpec with a `trainable` factory can be used by the model by its registry id. The model calls, per batch:
 *   ids   = positionIds?.(...)           (b) position ids, default 0..T-1 for every example
 *   x     = tokens + embedding?.(ids)    (a)
 *   per layer: q, k = transformQK?.(q, k, ids)   (c)
 *              bias = attentionBias?.(ids) + contextualBias?.(q, k)   (d), (e)
 * Shapes: B batch, T sequence length, H heads, Dh head dim, D model dim. Position ids are per example, row-major
 * [B, T] (float64: fractional and very large ids are allowed).
 */
import type { Parameter, Tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";

export interface ModelDims {
  dModel: number;
  numHeads: number;
  headDim: number;
  numLayers: number;
  /** Longest sequence the model may be run on (sizes learned tables; evaluation may exceed training lengths). */
  maxSeqLen: number;
  causal: boolean;
}

export interface PositionIdsInput {
  batchSize: number;
  seqLen: number;
  /** The seeded stream for randomized schemes. */
  rng: Rng;
  training: boolean;
  /** Token ids [B, T], for content-dependent schemes. */
  tokens?: Int32Array;
  /** Ids supplied by the task (e.g. coupled addition), [B, T]. */
  taskPositionIds?: Float64Array;
}

export interface TrainableEncoding {
  readonly id: string;
  /** Learned parameters this encoding owns (empty for fixed encodings). */
  parameters(): Parameter[];
  /** (b) Position ids [B, T]. */
  positionIds?(input: PositionIdsInput): Float64Array;
  /** (a) Added to the token embeddings: returns [B, T, D]. */
  embedding?(positionIds: Float64Array, batchSize: number, seqLen: number): Tensor;
  /** (c) Transform q and k, each [B, H, T, Dh], at layer `layer`. */
  transformQK?(q: Tensor, k: Tensor, positionIds: Float64Array, layer: number): { q: Tensor; k: Tensor };
  /** (d) Additive attention-logit bias broadcastable to [B, H, T, T]. */
  attentionBias?(positionIds: Float64Array, batchSize: number, seqLen: number, layer: number): Tensor;
  /** (e) Contextual bias from q and k (CoPE): [B, H, T, T]. */
  contextualBias?(q: Tensor, k: Tensor, layer: number): Tensor;
}

/** Builds the trainable form from validated params; `rng` initializes learned parameters deterministically. */
export type TrainableFactory = (params: Record<string, unknown>, dims: ModelDims, rng: Rng) => TrainableEncoding;
