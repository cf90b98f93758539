/**
 * `--shard auto`: the shard i/n of a grid taken from the cluster scheduler that started this process, so one
 * job-array script runs a whole grid with one task per shard (docs/schedulers.md).
 *
 *   Slurm job array (`sbatch --array=A-B[:S]`): every task sees SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN,
 *     SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_STEP when S > 1). Shard index (1-based)
 *       i = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) / step + 1,   n = SLURM_ARRAY_TASK_COUNT
 *     so --array=0-3, --array=1-4 and --array=0-6:2 all give shards 1/4..4/4.
 *   Kubernetes Indexed Job (`completionMode: Indexed`): every pod sees JOB_COMPLETION_INDEX (0-based), and nothing
 *     with the count, so the count comes from `--shards N` or POSENC_SHARD_COUNT (set it to `completions`):
 *       i = JOB_COMPLETION_INDEX + 1,   n = --shards | POSENC_SHARD_COUNT
 *
 * Sharding itself is results.ts's: shard i/n runs the grid jobs j with j mod n = i - 1, and `posenc report merge`
 * joins the shards' results.json files into the unsharded grid's.
 *
 * Anything missing, non-integer, out of range or contradictory is a PosencConfigError naming the variable, the
 * value and what is valid (the CLI prints it as one line, exit 2), raised before any training starts.
 */
import { PosencConfigError } from "../util/validation.js";
import { parseShard } from "./results.js";

export interface Shard {
  index: number;
  count: number;
}

/** The shard and where it came from ("slurm" or "kubernetes"), for the progress line. */
export interface ScheduledShard extends Shard {
  source: "slurm" | "kubernetes";
}

/** The environment variables read here (process.env in the CLI; a plain object in tests). */
export type SchedulerEnvironment = Readonly<Record<string, string | undefined>>;

const SLURM_ID = "SLURM_ARRAY_TASK_ID";
const SLURM_MIN = "SLURM_ARRAY_TASK_MIN";
const SLURM_COUNT = "SLURM_ARRAY_TASK_COUNT";
const SLURM_STEP = "SLURM_ARRAY_TASK_STEP";
const K8S_INDEX = "JOB_COMPLETION_INDEX";
export const SHARD_COUNT_VARIABLE = "POSENC_SHARD_COUNT";

/** A non-negative decimal integer (no sign, no exponent, no blanks), or a one-line error naming `key`. */
function wholeNumber(key: string, text: string | undefined, min: number): number {
  const value = text !== undefined && /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(value >= min)) {
    if (text === undefined)
      throw new PosencConfigError("missing_key", key, undefined, `an integer >= ${min}`);
    throw new PosencConfigError("invalid_value", key, text, `an integer >= ${min}`);
  }
  return value;
}

function fromSlurm(env: SchedulerEnvironment, explicitCount: number | undefined): ScheduledShard {
  const what = "--shard auto under a Slurm job array";
  for (const name of [SLURM_MIN, SLURM_COUNT]) {
    if (env[name] === undefined) {
      throw new PosencConfigError(
        "missing_key",
        name,
        undefined,
        `${what}: the variable Slurm sets beside ${SLURM_ID} (submit with sbatch --array=A-B)`,
      );
    }
  }
  const id = wholeNumber(SLURM_ID, env[SLURM_ID], 0);
  const min = wholeNumber(SLURM_MIN, env[SLURM_MIN], 0);
  const count = wholeNumber(SLURM_COUNT, env[SLURM_COUNT], 1);
  const step = env[SLURM_STEP] === undefined ? 1 : wholeNumber(SLURM_STEP, env[SLURM_STEP], 1);
  const offset = id - min;
  if (offset < 0 || offset % step !== 0 || offset / step >= count) {
    throw new PosencConfigError(
      "invalid_value",
      SLURM_ID,
      env[SLURM_ID],
      `${what}: an evenly spaced range ${min}, ${min + step}, .., ${min + (count - 1) * step} (${SLURM_MIN}=${min}, ${SLURM_COUNT}=${count}, step ${step}); use --array=A-B or A-B:S, not a list`,
    );
  }
  if (explicitCount !== undefined && explicitCount !== count) {
    throw new PosencConfigError(
      "conflict",
      "--shards",
      explicitCount,
      `${SLURM_COUNT}=${count} (the array's size) or nothing`,
    );
  }
  return { index: offset / step + 1, count, source: "slurm" };
}

function fromKubernetes(env: SchedulerEnvironment, explicitCount: number | undefined): ScheduledShard {
  const index = wholeNumber(K8S_INDEX, env[K8S_INDEX], 0);
  const fromVariable = env[SHARD_COUNT_VARIABLE];
  let count: number;
  if (explicitCount !== undefined) {
    count = explicitCount;
    if (fromVariable !== undefined && wholeNumber(SHARD_COUNT_VARIABLE, fromVariable, 1) !== count) {
      throw new PosencConfigError(
        "conflict",
        "--shards",
        count,
        `${SHARD_COUNT_VARIABLE}=${fromVariable} or nothing`,
      );
    }
  } else if (fromVariable !== undefined) {
    count = wholeNumber(SHARD_COUNT_VARIABLE, fromVariable, 1);
  } else {
    throw new PosencConfigError(
      "missing_key",
      SHARD_COUNT_VARIABLE,
      undefined,
      `--shard auto in a Kubernetes Indexed Job (${K8S_INDEX}=${env[K8S_INDEX]}): the shard count, as --shards N or ${SHARD_COUNT_VARIABLE} set to the Job's completions (Kubernetes exports no count)`,
    );
  }
  if (index >= count) {
    throw new PosencConfigError(
      "out_of_range",
      K8S_INDEX,
      env[K8S_INDEX],
      `an integer from 0 to ${count - 1} (the shard count is ${count}; set completions = parallelism = the count)`,
    );
  }
  return { index: index + 1, count, source: "kubernetes" };
}

/**
 * The shard of this process under a Slurm job array or a Kubernetes Indexed Job (see the file comment).
 * `explicitCount` is `--shards N`, already parsed.
 */
export function shardFromScheduler(env: SchedulerEnvironment, explicitCount?: number): ScheduledShard {
  const slurm = env[SLURM_ID] !== undefined;
  const kubernetes = env[K8S_INDEX] !== undefined;
  if (slurm && kubernetes) {
    const both = `${SLURM_ID}=${env[SLURM_ID]} and ${K8S_INDEX}=${env[K8S_INDEX]}`;
    throw new PosencConfigError(
      "conflict",
      "--shard auto",
      both,
      "one scheduler's variables",
      `--shard auto: both Slurm and Kubernetes variables are set (${both}): pass --shard i/n instead`,
    );
  }
  if (slurm) return fromSlurm(env, explicitCount);
  if (kubernetes) return fromKubernetes(env, explicitCount);
  const expected = `${SLURM_ID} (a Slurm job array: sbatch --array=0-N) or ${K8S_INDEX} (a Kubernetes Indexed Job)`;
  throw new PosencConfigError(
    "missing_key",
    "--shard auto",
    undefined,
    expected,
    `--shard auto: no scheduler shard in the environment: expected ${expected}; elsewhere pass --shard i/n`,
  );
}

/**
 * The shard of the command line: `--shard i/n`, or `--shard auto` (from the scheduler; `--shards N` gives the count
 * where the scheduler exports none), or none. Throws a one-line PosencConfigError on any bad combination.
 */
export function shardOfFlags(
  shardFlag: string | undefined,
  shardsFlag: string | undefined,
  env: SchedulerEnvironment,
): Shard | ScheduledShard | undefined {
  if (shardsFlag !== undefined && shardFlag?.trim() !== "auto") {
    throw new PosencConfigError(
      "conflict",
      "--shards",
      shardsFlag,
      "--shards only together with --shard auto",
    );
  }
  if (shardFlag === undefined) return undefined;
  if (shardFlag.trim() !== "auto") {
    try {
      return parseShard(shardFlag);
    } catch {
      throw new PosencConfigError(
        "invalid_value",
        "--shard",
        shardFlag,
        '"i/n" with 1 <= i <= n (e.g. "2/4") or "auto"',
      );
    }
  }
  const count = shardsFlag === undefined ? undefined : wholeNumber("--shards", shardsFlag, 1);
  return shardFromScheduler(env, count);
}
