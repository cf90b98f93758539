/**
 * `--shard auto`: the shard of a Slurm job-array task or a Kubernetes Indexed Job pod, from the variables those
 * schedulers set (Slurm: sbatch(1) "OUTPUT ENVIRONMENT VARIABLES"; Kubernetes: the Job's Indexed completion mode),
 * and the grid jobs each shard then runs; bad or missing variables are one-line input errors.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { parseCommandArgs } from "../../src/cli/args.js";
import { benchCommand } from "../../src/cli/commands/bench.js";
import { isInputError } from "../../src/cli/errors.js";
import { checkExperimentConfig } from "../../src/lab/config-file.js";
import { gridJobs, shardJobs } from "../../src/lab/results.js";
import { shardFromScheduler, shardOfFlags } from "../../src/lab/scheduler-shard.js";

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The variables Slurm sets in task `id` of `sbatch --array=min-max[:step]`. */
function slurmTask(id: number, min: number, max: number, step = 1): Record<string, string> {
  const env: Record<string, string> = {
    SLURM_JOB_ID: "4242",
    SLURM_ARRAY_JOB_ID: "4242",
    SLURM_ARRAY_TASK_ID: String(id),
    SLURM_ARRAY_TASK_MIN: String(min),
    SLURM_ARRAY_TASK_MAX: String(max),
    SLURM_ARRAY_TASK_COUNT: String(Math.floor((max - min) / step) + 1),
  };
  if (step > 1) env.SLURM_ARRAY_TASK_STEP = String(step);
  return env;
}

describe("shardFromScheduler", () => {
  it("numbers Slurm array tasks from SLURM_ARRAY_TASK_MIN, whatever the array's first id and step", () => {
    for (const [min, max, step] of [
      [0, 3, 1],
      [1, 4, 1],
      [10, 13, 1],
      [0, 6, 2],
    ]) {
      const shards = [0, 1, 2, 3].map((k) => shardFromScheduler(slurmTask(min + k * step, min, max, step)));
      expect(shards).toEqual([1, 2, 3, 4].map((index) => ({ index, count: 4, source: "slurm" })));
    }
  });

  it("numbers Kubernetes completion indexes 0..n-1 as shards 1..n, with the count from --shards or POSENC_SHARD_COUNT", () => {
    expect(shardFromScheduler({ JOB_COMPLETION_INDEX: "0" }, 3)).toEqual({
      index: 1,
      count: 3,
      source: "kubernetes",
    });
    expect(shardFromScheduler({ JOB_COMPLETION_INDEX: "2", POSENC_SHARD_COUNT: "3" })).toEqual({
      index: 3,
      count: 3,
      source: "kubernetes",
    });
    expect(shardFromScheduler({ JOB_COMPLETION_INDEX: "1", POSENC_SHARD_COUNT: "3" }, 3).index).toBe(2);
  });

  it("every task of a 3-task array runs a disjoint part of the grid, and together all of it", () => {
    const config = checkExperimentConfig({
      name: "g",
      task: { id: "copy" },
      model: { layers: 1, dModel: 8, heads: 2 },
      encodings: [{ id: "nope" }, { id: "rope" }, { id: "alibi" }, { id: "t5" }],
      train: { length: "1..3", steps: 1 },
      eval: { length: "1..3" },
      seeds: [0, 1],
    });
    const jobs = gridJobs(config);
    const bySlurm = [7, 8, 9].map((id) => shardJobs(jobs, shardFromScheduler(slurmTask(id, 7, 9))));
    const byK8s = [0, 1, 2].map((i) =>
      shardJobs(jobs, shardFromScheduler({ JOB_COMPLETION_INDEX: String(i) }, 3)),
    );
    expect(byK8s).toEqual(bySlurm);
    expect(bySlurm.map((s) => s.map((j) => j.index))).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5],
    ]);
  });

  it("rejects missing, malformed, out-of-range and conflicting variables with one line naming them", () => {
    const cases: [Record<string, string>, number | undefined, string][] = [
      [{}, undefined, "--shard auto: no scheduler shard in the environment: expected SLURM_ARRAY_TASK_ID"],
      [{ SLURM_ARRAY_TASK_ID: "3" }, undefined, "Missing required key SLURM_ARRAY_TASK_MIN"],
      [
        { ...slurmTask(3, 0, 3), SLURM_ARRAY_TASK_COUNT: "two" },
        undefined,
        'Invalid SLURM_ARRAY_TASK_COUNT: expected an integer >= 1, received "two"',
      ],
      [
        { ...slurmTask(3, 0, 3), SLURM_ARRAY_TASK_ID: "-1" },
        undefined,
        'Invalid SLURM_ARRAY_TASK_ID: expected an integer >= 0, received "-1"',
      ],
      [{ ...slurmTask(3, 0, 3), SLURM_ARRAY_TASK_COUNT: "3" }, undefined, "Invalid SLURM_ARRAY_TASK_ID"],
      [slurmTask(3, 0, 6, 2), undefined, "Invalid SLURM_ARRAY_TASK_ID"],
      [slurmTask(2, 0, 3), 5, "Invalid --shards: expected SLURM_ARRAY_TASK_COUNT=4"],
      [{ JOB_COMPLETION_INDEX: "1" }, undefined, "Missing required key POSENC_SHARD_COUNT"],
      [
        { JOB_COMPLETION_INDEX: "3", POSENC_SHARD_COUNT: "3" },
        undefined,
        "Invalid JOB_COMPLETION_INDEX: expected an integer from 0 to 2",
      ],
      [
        { JOB_COMPLETION_INDEX: "1", POSENC_SHARD_COUNT: "0" },
        undefined,
        "Invalid POSENC_SHARD_COUNT: expected an integer >= 1",
      ],
      [
        { JOB_COMPLETION_INDEX: "1", POSENC_SHARD_COUNT: "3" },
        4,
        "Invalid --shards: expected POSENC_SHARD_COUNT=3",
      ],
      [
        { JOB_COMPLETION_INDEX: "1.5" },
        3,
        'Invalid JOB_COMPLETION_INDEX: expected an integer >= 0, received "1.5"',
      ],
      [
        { ...slurmTask(0, 0, 1), JOB_COMPLETION_INDEX: "0" },
        undefined,
        "--shard auto: both Slurm and Kubernetes",
      ],
    ];
    for (const [env, count, message] of cases) {
      let error: unknown;
      try {
        shardFromScheduler(env, count);
      } catch (e) {
        error = e;
      }
      expect(isInputError(error), JSON.stringify(env)).toBe(true);
      expect((error as Error).message.split("\n")).toHaveLength(1);
      expect((error as Error).message).toContain(message);
    }
  });

  it("reads the flags: i/n, auto, --shards only with auto", () => {
    expect(shardOfFlags(undefined, undefined, {})).toBeUndefined();
    expect(shardOfFlags("2/3", undefined, {})).toEqual({ index: 2, count: 3 });
    expect(shardOfFlags("auto", "2", { JOB_COMPLETION_INDEX: "1" })).toMatchObject({ index: 2, count: 2 });
    expect(() => shardOfFlags("2/3", "3", {})).toThrow(
      "Invalid --shards: expected --shards only together with --shard auto",
    );
    expect(() => shardOfFlags("auto", "0", { JOB_COMPLETION_INDEX: "0" })).toThrow(
      "Invalid --shards: expected an integer >= 1",
    );
    expect(() => shardOfFlags("automatic", undefined, {})).toThrow('or "auto", received "automatic"');
  });
});

describe("the scheduler files in docs/schedulers", () => {
  const dir = join(import.meta.dirname, "../../docs/schedulers");
  it("the Indexed Job gives POSENC_SHARD_COUNT = completions = parallelism and runs --shard auto", () => {
    const job = parse(readFileSync(join(dir, "k8s-indexed-job.yaml"), "utf8"));
    expect(job.spec.completionMode).toBe("Indexed");
    const container = job.spec.template.spec.containers[0];
    const count = container.env.find((e: { name: string }) => e.name === "POSENC_SHARD_COUNT").value;
    expect(Number(count)).toBe(job.spec.completions);
    expect(job.spec.parallelism).toBe(job.spec.completions);
    expect(container.args[0]).toContain("posenc bench --config /config/config.yaml --shard auto");
    const merge = parse(readFileSync(join(dir, "k8s-merge-job.yaml"), "utf8"));
    expect(merge.spec.template.spec.containers[0].args[0]).toContain("posenc report merge");
  });

  it("the sbatch script is an array job running --shard auto (submitted for real by npm run test:slurm)", () => {
    const script = readFileSync(join(dir, "slurm-grid.sbatch"), "utf8");
    expect(script).toMatch(/^#SBATCH --array=0-4$/m);
    expect(script).toMatch(/bench --config "\$CONFIG" --shard auto/);
  });
});

describe("posenc bench --shard auto", () => {
  const scratch = mkdtempSync(join(tmpdir(), "posenc-shard-auto-"));
  const flags = [
    "--task",
    "copy",
    "--task-params",
    '{"vocabSize":4}',
    "--encodings",
    "nope,rope",
    "--train-length",
    "1..3",
    "--test-length",
    "1..4",
    "--seeds",
    "2",
    "--steps",
    "2",
    "--batch",
    "4",
    "--layers",
    "1",
    "--d-model",
    "8",
    "--heads",
    "2",
    "--samples",
    "2",
    "--parallel",
    "1",
    "--shard",
    "auto",
  ];
  async function bench(
    env: Record<string, string>,
    ...extra: string[]
  ): Promise<{ shards: unknown; runs: string[] }> {
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const out = join(scratch, Object.values(env).join("-"));
    const { values, positionals } = parseCommandArgs(benchCommand, [...flags, ...extra, "--out", out]);
    await benchCommand.run(values, positionals);
    const file = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    return {
      shards: file.shards,
      runs: file.runs.map((r: { encoding: string; seed: number }) => `${r.encoding} ${r.seed}`),
    };
  }

  it("runs the jobs of the Slurm array task it is in (task 6 of --array=5-6 is shard 2/2)", async () => {
    vi.stubEnv("JOB_COMPLETION_INDEX", undefined);
    expect(await bench(slurmTask(6, 5, 6))).toEqual({
      shards: [{ index: 2, count: 2 }],
      runs: ["nope 1", "rope 1"],
    });
  });

  it("runs the jobs of the Kubernetes pod it is in, the count from --shards", async () => {
    vi.stubEnv("SLURM_ARRAY_TASK_ID", undefined);
    expect(await bench({ JOB_COMPLETION_INDEX: "0" }, "--shards", "2")).toEqual({
      shards: [{ index: 1, count: 2 }],
      runs: ["nope 0", "rope 0"],
    });
  });
});
