/**
 * A ViT-style encoder over image patches ("An Image is Worth 16x16 Words", Dosovitskiy et al. 2020,
 * arXiv:2010.11929), built from the transformer's own blocks (block.ts), bidirectional:
 *
 *   x      = patches W_patch + b_patch                  (B, T, D)  linear embedding of each patch's pixels
 *   x     += (a)(ids)                                   position ids (B, T, k) from the task: (row, col) per patch
 *                                                        (k = 2) or (frame, row, col) (k = 3), row-major
 *   x      = block_l(x) for l = 0 .. L-1                (B, T, D)  non-causal; (c)-(g) slots as in the transformer
 *   pooled = mean_t lnF(x)                              (B, D)     mean pooling, no CLS token
 *   logits = pooled W_head + b_head                     (B, C)
 *
 * Any registered encoding plugs in through the same hook slots as in the transformer. Mean pooling rather than a
 * CLS token: every token then has a position on the grid (a CLS token has none, and rotary or table methods would
 * each need their own rule for it; rope-vit leaves it unrotated). The model is built for a training grid
 * (`grid`, ModelDims.grid: 2-D tables size themselves from it) and runs on any grid the ids describe.
 * Init as the transformer (PyTorch nn.Linear defaults).
 */
import type { ModelDims } from "../encodings/trainable.js";
import {
  add,
  crossEntropy,
  layerNorm,
  mean,
  type Parameter,
  reshape,
  type Tensor,
  tensor,
} from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import { checkKnownKeys, checkNumber, checkObject, PosencConfigError } from "../util/validation.js";
import { Block, createLayerNorm, createLinear, type LayerNormParams, type Linear, linear } from "./block.js";
import { type EncodingChoice, resolveModelConfig } from "./config.js";
import { createModelEncoding, type ModelEncoding } from "./encodings.js";

export interface VisionConfig {
  /** Values per patch (patch side^2 * channels): the input width of the patch embedding. */
  patchDim: number;
  numClasses: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  mlpRatio: number;
  layerNormEps: number;
  /** The grid trained on: (rows, cols) or (frames, rows, cols). */
  grid: number[];
  /** Most patches per example the model may see (training or test grids). */
  maxSeqLen: number;
  /**
   * Coordinates per position id the caller feeds (default grid.length): more when a method defines its own ids
   * for the grid (VRoPE's four; the lab builds them, src/tasks/vision/position-layouts.ts).
   */
  idCoordinates: number;
  encoding: EncodingChoice | EncodingChoice[];
}

export interface VisionInput {
  /** Patch values, row-major [batchSize, seqLen, patchDim]. */
  patches: Float32Array;
  batchSize: number;
  seqLen: number;
  /** Position ids [batchSize, seqLen, k], k = config.idCoordinates: (row, col) or (frame, row, col) of each patch. */
  positionIds: Float64Array;
  training: boolean;
  rng: Rng;
}

export interface VisionTransformer {
  readonly config: VisionConfig;
  readonly dims: ModelDims;
  readonly encoding: ModelEncoding;
  parameters(): Parameter[];
  /** Logits [batchSize, numClasses]. */
  forward(input: VisionInput): Tensor;
  /** Mean cross-entropy over the batch's labels [batchSize]. */
  loss(input: VisionInput & { labels: Int32Array }): Tensor;
  /** The attention probabilities (B, H, T, T) of block `layer` on this input (for pictures; use under noGrad). */
  attentionWeights(input: VisionInput, layer: number): Tensor;
}

/** Validates a partial vision config (unknown keys rejected; the transformer's shape keys and defaults). */
export function resolveVisionConfig(config: unknown, path = "model"): VisionConfig {
  const given = checkObject(path, config);
  const own = ["patchDim", "numClasses", "grid", "idCoordinates"];
  checkKnownKeys(path, given, [
    ...own,
    "dModel",
    "numHeads",
    "numLayers",
    "mlpRatio",
    "layerNormEps",
    "maxSeqLen",
    "encoding",
  ]);
  const patchDim = checkNumber(`${path}.patchDim`, given.patchDim, { integer: true, min: 1 });
  const numClasses = checkNumber(`${path}.numClasses`, given.numClasses, { integer: true, min: 2 });
  const grid = given.grid;
  if (
    !Array.isArray(grid) ||
    grid.length < 2 ||
    grid.length > 3 ||
    !grid.every((g) => Number.isInteger(g) && g >= 1)
  ) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.grid`,
      grid,
      "2 or 3 integers >= 1: (rows, cols) or (frames, rows, cols)",
    );
  }
  const cells = grid.reduce((p: number, g: number) => p * g, 1);
  const idCoordinates = checkNumber(`${path}.idCoordinates`, given.idCoordinates ?? grid.length, {
    integer: true,
    min: grid.length,
    max: 8,
  });
  const rest = Object.fromEntries(Object.entries(given).filter(([k]) => !own.includes(k)));
  const base = resolveModelConfig({ vocabSize: 1, causal: false, maxSeqLen: cells, ...rest }, path);
  return {
    patchDim,
    numClasses,
    dModel: base.dModel,
    numHeads: base.numHeads,
    numLayers: base.numLayers,
    mlpRatio: base.mlpRatio,
    layerNormEps: base.layerNormEps,
    grid: [...grid],
    maxSeqLen: Math.max(base.maxSeqLen, cells),
    idCoordinates,
    encoding: base.encoding,
  };
}

class VisionModel implements VisionTransformer {
  readonly dims: ModelDims;
  readonly patchEmbedding: Linear;
  readonly blocks: Block[];
  readonly finalNorm: LayerNormParams;
  readonly head: Linear;
  readonly encoding: ModelEncoding;

  constructor(
    readonly config: VisionConfig,
    rng: Rng,
  ) {
    const { dModel, numHeads, numLayers, mlpRatio, maxSeqLen, grid } = config;
    this.dims = { dModel, numHeads, headDim: dModel / numHeads, numLayers, maxSeqLen, causal: false, grid };
    // Draw order is part of determinism: patch embedding, blocks, head, then the encodings' parameters.
    this.patchEmbedding = createLinear(rng, config.patchDim, dModel, "patchEmbedding");
    const shape = {
      dModel,
      numHeads,
      mlpHidden: Math.max(1, Math.round(mlpRatio * dModel)),
      causal: false,
      eps: config.layerNormEps,
    };
    this.blocks = Array.from({ length: numLayers }, (_, l) => new Block(rng, shape, l));
    this.finalNorm = createLayerNorm(dModel, "finalNorm");
    this.head = createLinear(rng, dModel, config.numClasses, "head");
    this.encoding = createModelEncoding(config.encoding, this.dims, rng);
    const fed = config.idCoordinates;
    if (this.encoding.coordinates !== 1 && this.encoding.coordinates > fed) {
      throw new PosencConfigError(
        "conflict",
        "model.encoding",
        this.encoding.ids,
        `encodings reading at most ${fed} coordinates (the ids')`,
        `the encodings read ${this.encoding.coordinates} coordinates per position, the ids have ${fed}`,
      );
    }
  }

  parameters(): Parameter[] {
    const lin = (l: Linear) => [l.weight, l.bias];
    return [
      ...lin(this.patchEmbedding),
      ...this.blocks.flatMap((b) => b.parameters()),
      this.finalNorm.weight,
      this.finalNorm.bias,
      ...lin(this.head),
      ...this.encoding.parameters(),
    ];
  }

  forward(input: VisionInput): Tensor {
    const { ids, x: embedded } = this.embed(input);
    let x = embedded;
    for (const block of this.blocks) x = block.forward(x, this.encoding, ids);
    const h = layerNorm(x, this.finalNorm.weight, this.finalNorm.bias, this.config.layerNormEps);
    return linear(mean(h, [1]), this.head); // (B, D) -> (B, C)
  }

  attentionWeights(input: VisionInput, layer: number): Tensor {
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.blocks.length)) {
      throw new RangeError(`vision attentionWeights: layer ${layer}, expected 0..${this.blocks.length - 1}`);
    }
    const { ids, x: embedded } = this.embed(input);
    let x = embedded;
    for (const block of this.blocks.slice(0, layer)) x = block.forward(x, this.encoding, ids);
    return this.blocks[layer]!.attentionWeights(x, this.encoding, ids);
  }

  /** Checks the input; the ids the encodings read and the block input x (B, T, D) (patch embedding + (a)). */
  private embed(input: VisionInput): { ids: Float64Array; x: Tensor } {
    const { batchSize: B, seqLen: T, patches } = input;
    const { patchDim, dModel: D } = this.config;
    const k = this.config.idCoordinates;
    if (
      !(Number.isInteger(B) && B >= 1 && Number.isInteger(T) && T >= 1) ||
      patches.length !== B * T * patchDim
    ) {
      throw new RangeError(
        `vision forward: patches hold ${patches.length} values, expected ${B} * ${T} * ${patchDim}`,
      );
    }
    if (input.positionIds.length !== B * T * k) {
      throw new RangeError(
        `vision forward: ${input.positionIds.length} position ids, expected ${B} * ${T} * ${k}`,
      );
    }
    // Ids as the encodings read them: all k coordinates; the last c of them for c-coordinate methods on a grid of
    // more (a 2-D method on video sees (h, w) and not t); the flat patch index for 1-coordinate methods (a 1-D
    // encoding on a raster scan: a sequence baseline).
    const c = this.encoding.coordinates;
    const ids = this.encoding.positionIds({
      batchSize: B,
      seqLen: T,
      rng: input.rng,
      training: input.training,
      taskPositionIds:
        c === k ? input.positionIds : c === 1 ? rasterIds(B, T) : lastCoordinates(input.positionIds, k, c),
    });
    let x = reshape(linear(tensor(patches, [B * T, patchDim]), this.patchEmbedding), [B, T, D]);
    const positional = this.encoding.embedding(ids, B, T); // (a)
    if (positional) x = add(x, positional);
    return { ids, x };
  }

  loss(input: VisionInput & { labels: Int32Array }): Tensor {
    if (input.labels.length !== input.batchSize) {
      throw new RangeError(`vision loss: ${input.labels.length} labels for batch ${input.batchSize}`);
    }
    return crossEntropy(this.forward(input), input.labels);
  }
}

/** 0..T-1 per example: the raster order of the patches (row-major), for encodings that read one coordinate. */
function rasterIds(batchSize: number, seqLen: number): Float64Array {
  return Float64Array.from({ length: batchSize * seqLen }, (_, i) => i % seqLen);
}

/** The last c of the k coordinates of every position: [N, k] -> [N, c]. */
function lastCoordinates(ids: Float64Array, k: number, c: number): Float64Array {
  const n = ids.length / k;
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) out.set(ids.subarray(i * k + k - c, (i + 1) * k), i * c);
  return out;
}

/** Builds the patch encoder from a (partial) config, validated; initial values drawn from `rng`. */
export function createVisionTransformer(config: Record<string, unknown>, rng: Rng): VisionTransformer {
  return new VisionModel(resolveVisionConfig(config), rng);
}
