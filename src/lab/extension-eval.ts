/**
 * Bits per character of a RoPE checkpoint read at longer contexts with each context-extension method (issue 9
 * part 2): (a) training-free, the checkpoint's weights under the method's frequencies (extension.ts); (b) after a
 * short fine-tune from those weights with the method's frequencies, at the target length (or another: below).
 *
 * Fine-tune: the checkpoint's training config with train.length = T (the target), train.steps = the given steps,
 * batchSize = max(1, round(B0 L0 / T)) (the tokens per step of the original training), the same learning rate,
 * warmup fraction and schedule, seeded by the checkpoint's seed (its data stream, its "train" stream from step 0),
 * and a fresh AdamW. Every method gets the same steps and the same data.
 * Plain rope ("rope") is the baseline: the checkpoint as it is, and fine-tuned at T without rescaling.
 * finetuneLength = N fine-tunes on rows of N instead of T (batchSize max(1, round(B0 L0 / N))), the method
 * configured for T (its block): Giraffe's protocol (arXiv:2308.10882) fine-tunes each basis at the trained length
 * and then reads longer contexts. Methods whose frequencies depend on the sequence length apply that rule to the
 * rows of N as they do at every length: dynamic NTK and LongRoPE's short factors are the unscaled RoPE and the
 * short factors at N <= L0, and entropy-aware ABF scales no query below L0.
 *
 * Segmented fine-tune (finetuneSegments = n, "Training on Segmented Sequences", arXiv:2310.14633): rows of the
 * ORIGINAL length L0 and batch size, each n segments of a stretch of T characters keeping their position ids in
 * [0, T) (train.segments, src/tasks/text/segmented.ts): the same tokens per step as the full-length fine-tune, at
 * the attention cost of L0.
 */

import type { CheckpointSidecar } from "./checkpoint.js";
import { loadCheckpointInto } from "./checkpoint.js";
import type { EncodingChoice } from "./config.js";
import { type ExtensionOptions, labExtension, ropeOriginOf } from "./extension.js";
import { type LongropeSearchResult, longropeSearch } from "./longrope-search.js";
import type { LabModel } from "./model.js";
import {
  bitsPerChar,
  bitsPerCharByContext,
  type ContextBitsRow,
  type ContextGridOptions,
} from "./perplexity.js";
import { buildRunModel, train } from "./train.js";

/** One method's curve: bpc per context length, training-free (finetuneSteps 0) or after the fine-tune. */
export interface ExtensionCurve {
  /** "rope" (no rescaling) or a method of LAB_EXTENSION_METHODS. */
  method: string;
  target: number;
  finetuneSteps: number;
  /** Segments per row of a segmented fine-tune (absent: the fine-tune trains rows of T). */
  finetuneSegments?: number;
  /** Row length of a fine-tune on rows shorter or longer than the target (absent: rows of T). */
  finetuneLength?: number;
  /** A method's non-default parameters without a block (Giraffe's power or truncation length). */
  params?: Record<string, number>;
  /** The Hugging Face rope block (patch of config.json) of the method; null for plain rope and Giraffe's bases. */
  block: Record<string, unknown> | null;
  rows: ContextBitsRow[];
  /** Fine-tune only: its time and throughput. */
  finetuneSeconds?: number;
  tokensPerSecond?: number;
}

export interface ExtensionEvalOptions extends ExtensionOptions {
  /** Methods, "rope" for the unscaled baseline. */
  methods: readonly string[];
  target: number;
  /** Fine-tune steps at the target (0: training-free only). */
  finetuneSteps: number;
  /** Fine-tune on segmented rows of the trained length (see the file comment) instead of rows of T. */
  finetuneSegments?: number;
  /** Fine-tune on rows of this length instead of T (see the file comment). */
  finetuneLength?: number;
  /** The text to score and the grid (bitsPerCharByContext). */
  tokens: Int32Array;
  vocabSize: number;
  grid: ContextGridOptions;
  onCurve?: (curve: ExtensionCurve) => void;
}

/** The encoding a method reads the target with ("rope": the checkpoint's own). */
export function methodChoice(
  sidecar: CheckpointSidecar,
  method: string,
  target: number,
  options: ExtensionOptions,
): { choice: EncodingChoice; block: Record<string, unknown> | null; params?: Record<string, number> } {
  // "rope": the checkpoint as trained, any encoding (ALiBi's or NoPE's baseline too); the rest rescale plain RoPE.
  if (method === "rope") return { choice: sidecar.encoding, block: null };
  const { config } = sidecar;
  const headDim = config.model.dModel / config.model.numHeads;
  const origin = ropeOriginOf(sidecar.encoding, headDim, config.train.length.max);
  const ext = labExtension(origin, method, target, options);
  return {
    choice: ext.choice,
    block: ext.block ? ext.block.patch : null,
    ...(ext.params ? { params: ext.params } : {}),
  };
}

/**
 * The fine-tune config of a checkpoint for `steps` steps on rows of `length` (the target, or finetuneLength), or
 * segmented rows spanning it (see the file comment).
 */
export function finetuneConfig(sidecar: CheckpointSidecar, length: number, steps: number, segments?: number) {
  const { config } = sidecar;
  const t = config.train;
  if (segments !== undefined) {
    return {
      ...config,
      train: { ...t, steps, checkpointEvery: 0, segments: { span: length, count: segments } },
    };
  }
  const batchSize = Math.max(1, Math.round((t.batchSize * t.length.max) / length));
  return {
    ...config,
    train: { ...t, length: { min: length, max: length }, steps, batchSize, checkpointEvery: 0 },
  };
}

/** Every method's curve, training-free and (finetuneSteps > 0) fine-tuned; see the file comment. */
export async function evaluateExtensions(
  dir: string,
  sidecar: CheckpointSidecar,
  options: ExtensionEvalOptions,
): Promise<ExtensionCurve[]> {
  const { target, finetuneSteps, tokens, vocabSize, grid } = options;
  // Every method's encoding first: a bad method or factor file fails before any work.
  const choices = options.methods.map((method) => ({
    method,
    ...methodChoice(sidecar, method, target, options),
  }));
  const curves: ExtensionCurve[] = [];
  const score = (model: LabModel) => bitsPerCharByContext(model, tokens, vocabSize, grid);
  const emit = (curve: ExtensionCurve) => {
    curves.push(curve);
    options.onCurve?.(curve);
  };
  for (const { method, choice, block, params } of choices) {
    const named = { method, ...(params ? { params } : {}) };
    const run = { config: sidecar.config, encoding: choice, seed: sidecar.seed };
    const { model } = buildRunModel(run);
    loadCheckpointInto(dir, sidecar, model.parameters());
    emit({ ...named, target, finetuneSteps: 0, block, rows: score(model) });
    for (const p of model.parameters()) p.dispose();
    if (finetuneSteps > 0) {
      const outcome = await train(
        {
          config: finetuneConfig(
            sidecar,
            options.finetuneLength ?? target,
            finetuneSteps,
            options.finetuneSegments,
          ),
          encoding: choice,
          seed: sidecar.seed,
        },
        { initFrom: { dir, sidecar } },
      );
      emit({
        ...named,
        target,
        finetuneSteps,
        ...(options.finetuneSegments !== undefined ? { finetuneSegments: options.finetuneSegments } : {}),
        ...(options.finetuneLength !== undefined ? { finetuneLength: options.finetuneLength } : {}),
        block,
        rows: score(outcome.model),
        finetuneSeconds: outcome.trainSeconds,
        tokensPerSecond: outcome.tokensPerSecond,
      });
      for (const p of outcome.model.parameters()) p.dispose();
    }
  }
  return curves;
}

export interface LongropeSearchRun {
  target: number;
  evaluations: number;
  seed: number;
  /** Validation text and vocabulary; the score is bits per character at window = target (stride T/2). */
  tokens: Int32Array;
  vocabSize: number;
  maxChars: number;
  onEvaluation?: (index: number, score: number) => void;
}

/**
 * LongRoPE's search (longrope-search.ts) on a RoPE checkpoint: each candidate's long factors go through the same
 * Hugging Face longrope block as `--extend longrope` (short factors 1), scored training-free by validation bits
 * per character at the target length. One search per checkpoint, shared by every later evaluation of it.
 */
export function searchLongropeFactors(
  dir: string,
  sidecar: CheckpointSidecar,
  run: LongropeSearchRun,
): LongropeSearchResult & { target: number; trainedContext: number; checkpointStep: number } {
  const { config } = sidecar;
  const headDim = config.model.dModel / config.model.numHeads;
  const origin = ropeOriginOf(sidecar.encoding, headDim, config.train.length.max);
  const pairs = Math.floor((headDim * origin.partialRotaryFactor) / 2);
  const text = run.tokens.subarray(0, Math.min(run.tokens.length, run.maxChars + 1));
  const score = (longFactor: number[]) => {
    const ext = labExtension(origin, "longrope", run.target, {
      longrope: { longFactor, shortFactor: new Array(pairs).fill(1) },
    });
    const { model } = buildRunModel({ config, encoding: ext.choice, seed: sidecar.seed });
    loadCheckpointInto(dir, sidecar, model.parameters());
    const bits = bitsPerChar(model, text, run.vocabSize, { window: run.target }).bitsPerChar;
    for (const p of model.parameters()) p.dispose();
    return bits;
  };
  const result = longropeSearch({
    pairs,
    factor: run.target / origin.trainedContext,
    evaluations: run.evaluations,
    seed: run.seed,
    score,
    onEvaluation: (i, _v, s) => run.onEvaluation?.(i, s),
  });
  return {
    ...result,
    target: run.target,
    trainedContext: origin.trainedContext,
    checkpointStep: sidecar.step,
  };
}
