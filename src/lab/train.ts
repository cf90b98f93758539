/**
 * Training one run (one encoding, one seed) of an experiment config. The loop reads top to bottom like nanoGPT:
 *
 *   for step = start .. steps-1:
 *     rng    = Rng(seed, "train", step)                 fresh examples every step, reproducible from (seed, step)
 *     batch  = task.sample(rng, batchSize, train.length), right-padded to a fixed length (batching.ts), or the
 *              step's share of a length-sorted window of batches (train.bucketWindow, batching.ts)
 *     loss   = crossEntropy(model(batch), answer tokens + EOS only)   (batchLoss: or a weighted group's share)
 *              (+ the model's auxiliary terms, e.g. DPE's weighted order loss; loss history keeps the first part)
 *     backward; clip the global grad norm; AdamW step at lr = learningRateAt(step)   (warmup, then cosine)
 *     every checkpointEvery steps: checkpoint (weights + AdamW moments + loss history), atomically
 *
 * All tensors of a step live inside one engine `tidy`. Because the data stream and the model's randomness are
 * derived from (seed, step) and the optimizer state is saved exactly, a run killed at any moment and resumed
 * from its last checkpoint ends with the same weights and loss curve, bit for bit, as an uninterrupted run.
 *
 * Tokens/s counts the non-pad input tokens per second of training (the calibration's definition).
 */
import {
  AdamW,
  add,
  clipGradNorm,
  crossEntropy,
  learningRateAt,
  mul,
  type Parameter,
  type Tensor,
  tidy,
} from "../engine/index.js";
import { buildVocabulary } from "../tasks/format.js";
import { createTask } from "../tasks/registry.js";
import { scoreBatch } from "../tasks/score.js";
import type { Task, TaskBatch } from "../tasks/types.js";
import { PosencConfigError } from "../util/validation.js";
import { trainingBatches } from "./batching.js";
import { type CheckpointSidecar, loadCheckpointInto, readSidecar, saveCheckpoint } from "./checkpoint.js";
import { type EncodingChoice, type ExperimentConfig, encodingLabel, scheduleOf } from "./config.js";
import { defaultModelFactory, type LabModel, type ModelFactory, maxSequenceLength } from "./model.js";
import { type ProgressEvent, processMemory } from "./progress.js";
import { STREAM, streamRng } from "./seeds.js";
import { withTrainingIds } from "./task-ids.js";

/** One run of a grid: the config, one of its encodings and one of its seeds. */
export interface RunSpec {
  config: ExperimentConfig;
  encoding: EncodingChoice;
  seed: number;
}

export interface TrainOptions {
  /** Folder for checkpoints (none written when absent). */
  checkpointDir?: string;
  /** Continue from the checkpoint in checkpointDir, if there is one. */
  resume?: boolean;
  modelFactory?: ModelFactory;
  onProgress?: (event: ProgressEvent) => void;
  /** Stop (as if killed) after this many completed steps; for tests. */
  stopAfter?: number;
  /**
   * Start from another run's weights (a fine-tune: context extension at a longer length), with a fresh optimizer;
   * a checkpoint of this run in checkpointDir (resume) takes precedence.
   */
  initFrom?: { dir: string; sidecar: CheckpointSidecar };
}

export interface TrainOutcome {
  model: LabModel;
  task: Task;
  /** Loss of every step 0..steps-1 (including the steps done before a resume). */
  lossHistory: number[];
  /** Step this process started at (0, or the resumed checkpoint's step). */
  startStep: number;
  /** Steps completed. */
  step: number;
  tokensSeen: number;
  trainSeconds: number;
  tokensPerSecond: number;
}

/** The run's name in progress lines and reports: "rope s0". */
export function runLabel(run: RunSpec): string {
  return `${encodingLabel(run.encoding)} s${run.seed}`;
}

/** Targets with every unscored position set to -1 (ignored by crossEntropy). */
export function scoredTargets(batch: TaskBatch): Int32Array {
  const out = new Int32Array(batch.targets.length);
  for (let i = 0; i < out.length; i++) out[i] = batch.mask[i] ? batch.targets[i] : -1;
  return out;
}

/**
 * The training loss of a batch: the mean cross-entropy over its scored positions, or with a weighted group
 * (TaskBatch.weightedGroup) (1 - w) mean over the rest + w mean over the group, each part dropping out when empty.
 */
export function batchLoss(logits: Tensor, batch: TaskBatch): Tensor {
  const targets = scoredTargets(batch);
  if (!batch.weightedGroup) return crossEntropy(logits, targets);
  const { mask: group, weight } = batch.weightedGroup;
  const rest = targets.slice();
  const inGroup = new Int32Array(targets.length).fill(-1);
  let groupCount = 0;
  let restCount = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] < 0) continue;
    if (group[i]) {
      inGroup[i] = targets[i];
      rest[i] = -1;
      groupCount++;
    } else restCount++;
  }
  if (groupCount === 0) return crossEntropy(logits, rest);
  if (restCount === 0) return crossEntropy(logits, inGroup);
  return add(mul(crossEntropy(logits, rest), 1 - weight), mul(crossEntropy(logits, inGroup), weight));
}

/** Row-wise argmax of logits [rows, vocab]. */
export function argmaxRows(logits: Float32Array, vocab: number): Int32Array {
  const rows = logits.length / vocab;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = logits[r * vocab];
    for (let c = 1; c < vocab; c++) {
      const v = logits[r * vocab + c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/**
 * Input tokens that predict something (a non-pad target), as the PyTorch calibration counts them: every real token
 * but the final EOS, whose target is padding.
 */
export function countTokens(batch: TaskBatch, pad: number): number {
  let n = 0;
  for (let i = 0; i < batch.targets.length; i++) if (batch.targets[i] !== pad) n++;
  return n;
}

/** Builds the model of a run, initialized from (seed, "init"). */
export function buildRunModel(
  run: RunSpec,
  factory: ModelFactory = defaultModelFactory,
): { model: LabModel; task: Task } {
  const { config } = run;
  const task = createTask(config.task.id, config.task.params);
  const vocab = buildVocabulary(task.symbols, config.task.layout);
  const maxSeqLen = maxSequenceLength(config);
  const model = factory(
    {
      model: config.model,
      encoding: run.encoding,
      vocabSize: vocab.size,
      maxSeqLen,
      layout: config.task.layout,
    },
    streamRng(run.seed, STREAM.init),
  );
  return { model, task };
}

function sameRun(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Trains one run; see the file comment. */
export async function train(run: RunSpec, options: TrainOptions = {}): Promise<TrainOutcome> {
  const { config, seed } = run;
  const t = config.train;
  const { model, task } = buildRunModel(run, options.modelFactory);
  const pad = buildVocabulary(task.symbols, config.task.layout).pad;
  const vocabSize = buildVocabulary(task.symbols, config.task.layout).size;
  const params: Parameter[] = model.parameters();
  const optimizer = new AdamW(params, {
    lr: t.lr,
    beta1: t.beta1,
    beta2: t.beta2,
    eps: t.eps,
    weightDecay: t.weightDecay,
  });
  const schedule = scheduleOf(t);
  const batchAt = trainingBatches(task, config, seed, pad);

  let startStep = 0;
  let lossHistory: number[] = [];
  let tokensSeen = 0;
  let priorSeconds = 0;
  const dir = options.checkpointDir;
  if (options.initFrom) loadCheckpointInto(options.initFrom.dir, options.initFrom.sidecar, params);
  if (dir && options.resume) {
    const sidecar = readSidecar(dir);
    if (sidecar) {
      if (
        !sameRun(sidecar.config, config) ||
        !sameRun(sidecar.encoding, run.encoding) ||
        sidecar.seed !== seed
      ) {
        throw new PosencConfigError(
          "conflict",
          "--resume",
          dir,
          `a checkpoint of the same config, encoding and seed (it holds ${encodingLabel(sidecar.encoding)} seed ${sidecar.seed}${sameRun(sidecar.config, config) ? "" : " of another config"})`,
        );
      }
      loadCheckpointInto(dir, sidecar, params, optimizer);
      startStep = sidecar.step;
      lossHistory = sidecar.lossHistory.slice(0, startStep);
      tokensSeen = sidecar.tokensSeen;
      priorSeconds = sidecar.trainSeconds;
    }
  }

  const label = runLabel(run);
  const began = performance.now();
  let seconds = 0; // training time of this process, checkpoint writes excluded
  const checkpoint = (step: number): void => {
    if (!dir) return;
    saveCheckpoint(dir, params, optimizer, {
      step,
      config,
      encoding: run.encoding,
      seed,
      lossHistory,
      tokensSeen,
      trainSeconds: priorSeconds + seconds,
    });
  };
  const stopAt = Math.min(t.steps, options.stopAfter ?? t.steps);
  for (let step = startStep; step < stopAt; step++) {
    const stepBegan = performance.now();
    const rng = streamRng(seed, STREAM.train, step);
    const { loss, auxiliaryLoss, accuracy, tokens } = tidy(() => {
      const { batch: sampled, lossScale } = batchAt(step, rng);
      const batch = withTrainingIds(sampled, config, seed, step);
      optimizer.zeroGrad();
      const logits = model.forward(batch, { rng, training: true });
      const lossTensor = batchLoss(logits, batch);
      const scaled = lossScale === 1 ? lossTensor : mul(lossTensor, lossScale);
      // An encoding's own objective (weighted by its params) joins the task loss; lossScale, which evens the
      // weight of scored tokens across length buckets, applies to the cross-entropy only.
      const aux = model.auxiliaryLoss?.() ?? null;
      (aux ? add(scaled, aux) : scaled).backward();
      clipGradNorm(params, t.gradClip);
      optimizer.step(learningRateAt(step, schedule));
      const score = scoreBatch(batch, argmaxRows(logits.data, vocabSize));
      return {
        loss: lossTensor.item(),
        auxiliaryLoss: aux ? aux.item() : undefined,
        // A text window is never all right: text tasks show next-token accuracy instead.
        accuracy: task.level === "text" ? score.tokenAccuracy : score.sequenceAccuracy,
        tokens: countTokens(batch, pad),
      };
    });
    lossHistory.push(loss);
    tokensSeen += tokens;
    seconds += (performance.now() - stepBegan) / 1000;
    const done = step + 1;
    if (dir && t.checkpointEvery > 0 && done % t.checkpointEvery === 0 && done < t.steps) checkpoint(done);
    options.onProgress?.({
      label,
      step: done,
      steps: t.steps,
      loss,
      ...(auxiliaryLoss !== undefined ? { auxiliaryLoss } : {}),
      accuracy,
      tokensPerSecond: tokensSeen / Math.max(priorSeconds + seconds, 1e-9),
      elapsedSeconds: (performance.now() - began) / 1000,
      startStep,
      memory: processMemory(),
    });
    // Let timers and IPC progress messages through between steps.
    if (done % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  if (stopAt === t.steps && startStep < t.steps) checkpoint(t.steps);
  const trainSeconds = priorSeconds + seconds;
  optimizer.dispose();
  return {
    model,
    task,
    lossHistory,
    startStep,
    step: stopAt,
    tokensSeen,
    trainSeconds,
    tokensPerSecond: trainSeconds > 0 ? tokensSeen / trainSeconds : 0,
  };
}
