/**
 * A small transformer with pluggable positional encodings: causal decoder or bidirectional encoder, pre-norm
 * (LayerNorm), GELU MLP, untied output head, no dropout. Encodings plug in only through the hook slots of
 * src/encodings/trainable.ts: (a) embedding, (b) position ids, (c) q/k transform, (d) attention bias,
 * (e) contextual bias, (f) layer input, (g) values and attention output.
 *
 * API (everything a training loop needs):
 *   const model = createTransformer({ vocabSize: 20, encoding: { id: "rope" } }, new Rng(seed));
 *   model.parameters()                                   -> Parameter[] (token embedding, blocks, head, encodings)
 *   model.forward({ inputs, batchSize, seqLen, positionIds?, training, rng })
 *                                                        -> logits Tensor [B*T, vocabSize]
 *   model.loss({ ...forward input, targets, mask })      -> scalar Tensor: mean cross-entropy over mask = 1
 *   model.auxiliaryLoss()                                -> the encodings' auxiliary loss terms of the last
 *                                                           forward pass (training with gradients only), or null
 * `inputs`/`targets` are Int32Array [B*T] row-major, `mask` Uint8Array [B*T] (a TaskBatch fits directly, plus
 * `training` and `rng`); `positionIds` are task-supplied ids (coupled addition), used when no encoding maps ids
 * itself. `rng` feeds randomized position schemes: pass the data stream's Rng in training and a fixed-seed one in
 * evaluation. Call forward/loss inside `tidy` (the engine frees activations at its end).
 *
 * Forward, shapes in comments:
 *   ids = (b)                                             (B, T) float64
 *   x = tokenEmbedding[inputs] + (a)(ids)                 (B, T, D)
 *   x = block_l(x) for l = 0 .. L-1                       (B, T, D)  (see block.ts)
 *   logits = lnF(x) Wout + bout                           (B*T, V)
 */

import type { AuxiliaryLossInput, ModelDims } from "../encodings/trainable.js";
import {
  add,
  crossEntropy,
  embedding,
  isGradEnabled,
  layerNorm,
  normalParameter,
  type Parameter,
  reshape,
  type Tensor,
  tidy,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { Block, createLayerNorm, createLinear, type LayerNormParams, type Linear, linear } from "./block.js";
import { type ModelConfig, resolveModelConfig } from "./config.js";
import { createModelEncoding, type ModelEncoding } from "./encodings.js";

export interface ForwardInput {
  /** Token ids, row-major [batchSize, seqLen]. */
  inputs: Int32Array;
  batchSize: number;
  seqLen: number;
  /**
   * Task-supplied position ids [batchSize, seqLen, k] (k coordinates per position, as the model's encodings declare;
   * k = 1 is [batchSize, seqLen]); absent: 0..T-1 unless an encoding maps ids.
   */
  positionIds?: Float64Array;
  training: boolean;
  /** Randomness for position-id schemes (randomized positions). */
  rng: Rng;
  /** Real tokens of each row [batchSize] when rows are right-padded (position-id schemes draw for those only). */
  rowLengths?: Int32Array;
  /**
   * Task-supplied target-order positions [batchSize, seqLen] (-1 where undefined), read only by an encoding's
   * auxiliary loss (DPE's order loss; see TrainableEncoding.auxiliaryLoss).
   */
  targetOrder?: Float64Array;
}

export interface LossInput extends ForwardInput {
  targets: Int32Array;
  /** 1 where the target is scored (and trained on). */
  mask: Uint8Array;
}

export interface Transformer {
  readonly config: ModelConfig;
  readonly dims: ModelDims;
  parameters(): Parameter[];
  forward(input: ForwardInput): Tensor;
  loss(input: LossInput): Tensor;
  /** The position ids the last forward pass used, [B, T, k] (for inspection and tests). */
  readonly lastPositionIds: Float64Array | null;
  /**
   * The encodings' auxiliary loss terms (weighted, summed) for the last forward pass, to add to the task loss before
   * backward; null when no encoding adds one, and always null after an evaluation pass (training false) or a pass
   * under noGrad, so the terms are never computed there.
   */
  auxiliaryLoss(): Tensor | null;
}

class TransformerModel implements Transformer {
  readonly dims: ModelDims;
  readonly tokenEmbedding: Parameter;
  readonly blocks: Block[];
  readonly finalNorm: LayerNormParams;
  readonly head: Linear;
  readonly encoding: ModelEncoding;
  lastPositionIds: Float64Array | null = null;
  /** The last forward pass's ids and target order, when it trained with gradients on (else null). */
  private lastTraining: AuxiliaryLossInput | null = null;

  constructor(
    readonly config: ModelConfig,
    rng: Rng,
  ) {
    const { vocabSize, dModel, numHeads, numLayers, mlpRatio, causal, maxSeqLen } = config;
    this.dims = { dModel, numHeads, headDim: dModel / numHeads, numLayers, maxSeqLen, causal };
    // Draw order is part of determinism: embedding, blocks in order, head, then the encodings' parameters.
    this.tokenEmbedding = normalParameter(
      rng,
      [vocabSize, dModel],
      config.embeddingInitStd,
      "tokenEmbedding",
    );
    const shape = {
      dModel,
      numHeads,
      mlpHidden: Math.max(1, Math.round(mlpRatio * dModel)),
      causal,
      eps: config.layerNormEps,
    };
    this.blocks = Array.from({ length: numLayers }, (_, l) => new Block(rng, shape, l));
    this.finalNorm = createLayerNorm(dModel, "finalNorm");
    this.head = createLinear(rng, dModel, vocabSize, "head");
    this.encoding = createModelEncoding(config.encoding, this.dims, rng);
  }

  parameters(): Parameter[] {
    return [
      this.tokenEmbedding,
      ...this.blocks.flatMap((b) => b.parameters()),
      this.finalNorm.weight,
      this.finalNorm.bias,
      this.head.weight,
      this.head.bias,
      ...this.encoding.parameters(),
    ];
  }

  forward(input: ForwardInput): Tensor {
    const { inputs, batchSize: B, seqLen: T } = input;
    checkForwardInput(input, this.config.vocabSize, this.encoding.coordinates);
    const ids = this.encoding.positionIds({
      batchSize: B,
      seqLen: T,
      rng: input.rng,
      training: input.training,
      tokens: inputs,
      taskPositionIds: input.positionIds,
      ...(input.rowLengths ? { rowLengths: input.rowLengths } : {}),
    }); // (B, T, k), a fresh array per forward
    this.lastPositionIds = ids;
    this.lastTraining =
      input.training && isGradEnabled()
        ? {
            positionIds: ids,
            batchSize: B,
            seqLen: T,
            ...(input.targetOrder ? { targetOrder: input.targetOrder } : {}),
          }
        : null;
    let x = embedding(this.tokenEmbedding, inputs, [B, T]); // (B, T, D)
    const positional = this.encoding.embedding(ids, B, T); // (a): (B or 1, T, D)
    if (positional) x = add(x, positional);
    // Under noGrad (evaluation) each layer's activations are freed as soon as the next layer has its input
    // (except what an encoding carries to the next layer).
    const grad = isGradEnabled();
    const rows = this.realRows(input);
    for (const block of this.blocks) {
      const input = x;
      x = grad
        ? block.forward(x, this.encoding, ids, rows)
        : tidy(() => ({ out: block.forward(input, this.encoding, ids, rows), kept: this.encoding.carried() }))
            .out;
    }
    const h = layerNorm(x, this.finalNorm.weight, this.finalNorm.bias, this.config.layerNormEps);
    return linear(reshape(h, [B * T, this.dims.dModel]), this.head); // (B*T, V)
  }

  /**
   * The flat indices b * T + t of the real tokens (t < rowLengths[b]) when per-token work may skip the padding
   * (block.ts): a causal model, right-padded rows, encodings that mix positions only inside attention; null when
   * any of these fails or no row is padded.
   */
  private realRows(input: ForwardInput): Int32Array | null {
    const { rowLengths, batchSize: B, seqLen: T } = input;
    if (!rowLengths || !this.config.causal || !this.encoding.perTokenOutsideAttention) return null;
    let real = 0;
    for (let b = 0; b < B; b++) real += Math.max(0, Math.min(T, rowLengths[b]));
    if (real === B * T) return null;
    const rows = new Int32Array(real);
    let n = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < Math.max(0, Math.min(T, rowLengths[b])); t++) rows[n++] = b * T + t;
    }
    return rows;
  }

  auxiliaryLoss(): Tensor | null {
    return this.lastTraining && isGradEnabled() ? this.encoding.auxiliaryLoss(this.lastTraining) : null;
  }

  loss(input: LossInput): Tensor {
    const { targets, mask } = input;
    const n = input.batchSize * input.seqLen;
    if (targets.length !== n || mask.length !== n) {
      throw new RangeError(
        `loss: targets (${targets.length}) and mask (${mask.length}) must hold batchSize * seqLen = ${n} values`,
      );
    }
    // Unscored positions become ignored targets (-1): no loss, no gradient; the mean is over scored positions.
    const scored = new Int32Array(n);
    for (let i = 0; i < n; i++) scored[i] = mask[i] ? targets[i] : -1;
    return crossEntropy(this.forward(input), scored);
  }
}

function checkForwardInput(input: ForwardInput, vocabSize: number, coordinates: number): void {
  const { inputs, batchSize, seqLen, positionIds } = input;
  if (!Number.isInteger(batchSize) || batchSize < 1 || !Number.isInteger(seqLen) || seqLen < 1) {
    throw new RangeError(`forward: batchSize ${batchSize} and seqLen ${seqLen} must be integers >= 1`);
  }
  if (inputs.length !== batchSize * seqLen) {
    throw new RangeError(
      `forward: inputs hold ${inputs.length} tokens, expected batchSize * seqLen = ${batchSize} * ${seqLen}`,
    );
  }
  for (let i = 0; i < inputs.length; i++) {
    if (!(inputs[i] >= 0 && inputs[i] < vocabSize)) {
      throw new RangeError(
        `forward: token ${inputs[i]} at index ${i} is outside the vocabulary [0, ${vocabSize})`,
      );
    }
  }
  if (input.targetOrder && input.targetOrder.length !== batchSize * seqLen) {
    throw new RangeError(
      `forward: targetOrder holds ${input.targetOrder.length} values, expected batchSize * seqLen = ${batchSize * seqLen}`,
    );
  }
  if (positionIds && positionIds.length !== batchSize * seqLen * coordinates) {
    throw new RangeError(
      `forward: positionIds hold ${positionIds.length} values, expected batchSize * seqLen * coordinates = ${batchSize * seqLen * coordinates}`,
    );
  }
}

/** Builds a transformer from a (partial) config, validated; all initial values are drawn from `rng`. */
export function createTransformer(
  config: Partial<ModelConfig> & { vocabSize: number },
  rng: Rng,
): Transformer {
  return new TransformerModel(resolveModelConfig(config), rng);
}
