import { describe, expect, it } from "vitest";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { formatPlan, makespan, planRuns, type RunPlan } from "../../src/lab/plan.js";

const config = parseExperimentConfig({
  name: "plan",
  task: { id: "copy", params: { vocabSize: 4 } },
  model: { layers: 1, dModel: 8, heads: 2, mlpRatio: 1 },
  encodings: [{ id: "rope" }, { id: "alibi" }, { id: "nope" }],
  train: { length: "1..4", steps: 500, batchSize: 4 },
  eval: { length: "1..6", samplesPerLength: 4, batchSize: 2 },
  seeds: [0, 1],
});

describe("run plan", () => {
  it("schedules jobs in order, each to the first free worker (as runGrid does)", () => {
    expect(makespan([3, 1, 1, 1], 2)).toBe(3); // worker A: 3; worker B: 1 + 1 + 1
    expect(makespan([1, 1, 1], 2)).toBe(2);
    expect(makespan([2, 2, 2, 2], 1)).toBe(8);
    expect(makespan([2, 2], 8)).toBe(2);
    expect(makespan([], 2)).toBe(0);
  });

  it("measures every encoding once and estimates the grid from steps x seconds per step plus evaluation", async () => {
    const plan = await planRuns(config, { parallel: 2, warmupSteps: 2 });
    expect(plan.runs).toBe(6);
    expect(plan.encodings).toBe(3);
    expect(plan.seeds).toBe(2);
    expect(plan.costs.map((c) => c.label)).toEqual(["rope", "alibi", "nope"]);
    for (const c of plan.costs) {
      expect(c.secondsPerStep).toBeGreaterThan(0);
      expect(c.evalSeconds).toBeGreaterThan(0);
    }
    // Jobs in grid order (encoding-major: rope s0, rope s1, alibi s0, ...) on two workers.
    const durations = [0, 0, 1, 1, 2, 2].map(
      (e) => 500 * plan.costs[e].secondsPerStep + plan.costs[e].evalSeconds,
    );
    expect(plan.estimatedSeconds).toBeCloseTo(makespan(durations, 2), 9);
    // A shard plans only its jobs.
    const shard = await planRuns(config, { parallel: 1, shard: { index: 2, count: 3 }, warmupSteps: 1 });
    expect(shard.runs).toBe(2);
  });

  it("prints the runs, their schedule, the sizes and the estimate", () => {
    const plan: RunPlan = {
      runs: 6,
      encodings: 3,
      seeds: 2,
      parallel: 2,
      steps: 500,
      costs: [
        { label: "rope", secondsPerStep: 0.021, evalSeconds: 1 },
        { label: "alibi", secondsPerStep: 0.025, evalSeconds: 1 },
      ],
      estimatedSeconds: 3725,
      warmupSeconds: 1.6,
    };
    expect(formatPlan(config, plan).split("\n")).toEqual([
      "Plan: 6 runs (3 encodings x 2 seeds), 2 side by side; 500 steps of 4 examples on lengths 1..4 each, then 4 test examples per length on 1..6.",
      "Estimated time: about 1h02m on this machine at its current load (warm-up: 0.021-0.025 s per training step, 2s to measure).",
    ]);
    expect(formatPlan(config, { ...plan, runs: 1, encodings: 1, seeds: 1, parallel: 1 })).toMatch(
      /^Plan: 1 run \(1 encoding x 1 seed\); 500 steps/,
    );
  });
});
