/**
 * The plan of a long command (bench, demo, train), printed before any training: how many runs, how they are
 * scheduled, and an estimate of the wall time from a short measured warm-up.
 *
 * Warm-up: for each encoding of the grid, build its model (seed of the first job) and time `warmupSteps` training
 * steps after one untimed step (the first step allocates every buffer), then one evaluation forward pass at the
 * longest test length. Single-threaded kernels, as every grid job runs. Then, per job,
 *
 *   trainSeconds = steps * secondsPerStep
 *   evalSeconds  = sum over test lengths n of ceil(samples / evalBatch) * forwardSeconds(longest) * T(n) / T(longest)
 *
 * (T = sequence length; linear in T, an upper bound for the attention part that is quadratic.) The grid's wall
 * time is the makespan of the jobs handed in order to `parallel` workers, each to the first free one, as
 * `runGrid` does. The estimate assumes the machine stays as loaded as during the warm-up.
 */
import { noGrad, tidy } from "../engine/index.js";
import { type ExperimentConfig, encodingLabel, evalTaskOf, formatLengthRange } from "./config.js";
import { formatDuration } from "./progress.js";
import { type GridJob, gridJobs, shardJobs } from "./results.js";
import { useSingleThreadKernels } from "./runtime.js";
import { STREAM, streamRng } from "./seeds.js";
import { train } from "./train.js";

/** The measured cost of one encoding's job. */
export interface EncodingCost {
  label: string;
  /** Seconds per training step (mean of the timed warm-up steps). */
  secondsPerStep: number;
  /** Estimated seconds of the held-out evaluation. */
  evalSeconds: number;
}

export interface RunPlan {
  /** Jobs this command runs (the shard's, when sharded). */
  runs: number;
  encodings: number;
  seeds: number;
  parallel: number;
  steps: number;
  costs: EncodingCost[];
  /** Estimated wall time of all runs, seconds. */
  estimatedSeconds: number;
  /** Wall time the warm-up took, seconds. */
  warmupSeconds: number;
}

export interface PlanOptions {
  shard?: { index: number; count: number };
  parallel?: number;
  /** Timed training steps per encoding (after one untimed step). Default 3. */
  warmupSteps?: number;
  /** Only these jobs (e.g. `posenc train` runs one); default every job of the (sharded) grid. */
  jobs?: GridJob[];
}

/** Sequence length of one example of `length` in the eval task (decoder or encoder layout). */
function evalSeqLen(config: ExperimentConfig, length: number): number {
  const task = evalTaskOf(config);
  return task.sample(streamRng(0, STREAM.eval, length), 1, length, config.task.layout).seqLen;
}

/** Measures one encoding: training seconds per step and the estimated evaluation seconds. */
async function measureEncoding(
  config: ExperimentConfig,
  encodingIndex: number,
  seed: number,
  warmupSteps: number,
): Promise<EncodingCost> {
  const encoding = config.encodings[encodingIndex];
  const times: number[] = [];
  const outcome = await train(
    { config, encoding, seed },
    { stopAfter: 1 + warmupSteps, onProgress: (e) => times.push(e.elapsedSeconds) },
  );
  const timed = times.length > 1 ? times[times.length - 1] - times[0] : times[0];
  const secondsPerStep = timed / Math.max(times.length - 1, 1);

  const { min, max } = config.eval.length;
  const batchSize = Math.min(config.eval.batchSize, config.eval.samplesPerLength);
  const rng = streamRng(seed, STREAM.eval, max);
  const task = evalTaskOf(config);
  const forward = () =>
    tidy(() =>
      noGrad(() => {
        const batch = task.sample(rng, batchSize, max, config.task.layout);
        outcome.model.forward(batch, { rng, training: false }).data;
      }),
    );
  forward(); // allocates
  const began = performance.now();
  forward();
  const forwardSeconds = (performance.now() - began) / 1000;
  for (const p of outcome.model.parameters()) p.dispose();

  const longest = evalSeqLen(config, max);
  const batches = Math.ceil(config.eval.samplesPerLength / batchSize);
  let evalSeconds = 0;
  for (let n = min; n <= max; n++)
    evalSeconds += (batches * forwardSeconds * evalSeqLen(config, n)) / longest;
  return { label: encodingLabel(encoding), secondsPerStep, evalSeconds };
}

/** Wall time of `durations` handed in order to `parallel` workers, each job to the first free worker. */
export function makespan(durations: number[], parallel: number): number {
  const free = new Array<number>(Math.max(1, Math.min(parallel, durations.length))).fill(0);
  for (const d of durations) {
    const i = free.indexOf(Math.min(...free));
    free[i] += d;
  }
  return Math.max(0, ...free);
}

/** Measures a warm-up of every encoding of the grid and estimates the wall time of its runs. */
export async function planRuns(config: ExperimentConfig, options: PlanOptions = {}): Promise<RunPlan> {
  const began = performance.now();
  useSingleThreadKernels();
  const jobs = options.jobs ?? shardJobs(gridJobs(config), options.shard ?? { index: 1, count: 1 });
  const parallel = Math.max(1, Math.floor(options.parallel ?? 1));
  const warmupSteps = Math.max(1, Math.floor(options.warmupSteps ?? 3));
  const costs = new Map<number, EncodingCost>();
  for (const job of jobs) {
    if (costs.has(job.encodingIndex)) continue;
    costs.set(job.encodingIndex, await measureEncoding(config, job.encodingIndex, job.seed, warmupSteps));
  }
  const steps = config.train.steps;
  const durations = jobs.map((job) => {
    const cost = costs.get(job.encodingIndex) as EncodingCost;
    return steps * cost.secondsPerStep + cost.evalSeconds;
  });
  return {
    runs: jobs.length,
    encodings: new Set(jobs.map((j) => j.encodingIndex)).size,
    seeds: new Set(jobs.map((j) => j.seed)).size,
    parallel: Math.min(parallel, Math.max(jobs.length, 1)),
    steps,
    costs: [...costs.values()],
    estimatedSeconds: makespan(durations, parallel),
    warmupSeconds: (performance.now() - began) / 1000,
  };
}

/**
 * The plan as the commands print it:
 *
 *   Plan: 4 runs (4 encodings x 1 seed), 2 side by side; 1000 steps of 32 examples on lengths 1..8 each, then
 *   32 test examples per length on 1..16.
 *   Estimated time: about 1m10s (measured warm-up of 3 steps per encoding: 0.021-0.025 s/step; took 2s).
 */
export function formatPlan(config: ExperimentConfig, plan: RunPlan): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const t = config.train;
  const perStep = plan.costs.map((c) => c.secondsPerStep);
  const low = Math.min(...perStep);
  const high = Math.max(...perStep);
  const rate =
    low.toPrecision(2) === high.toPrecision(2)
      ? low.toPrecision(2)
      : `${low.toPrecision(2)}-${high.toPrecision(2)}`;
  const schedule =
    plan.runs === 1 ? "" : plan.parallel > 1 ? `, ${plan.parallel} side by side` : ", one after another";
  return [
    `Plan: ${plural(plan.runs, "run")} (${plural(plan.encodings, "encoding")} x ${plural(plan.seeds, "seed")})${schedule}; ${t.steps} steps of ${t.batchSize} examples on lengths ${formatLengthRange(t.length)} each, then ${config.eval.samplesPerLength} test examples per length on ${formatLengthRange(config.eval.length)}.`,
    `Estimated time: about ${formatDuration(plan.estimatedSeconds)} on this machine at its current load (warm-up: ${rate} s per training step, ${formatDuration(plan.warmupSeconds)} to measure).`,
  ].join("\n");
}
