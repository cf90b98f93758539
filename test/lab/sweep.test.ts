import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { loadModelFactory } from "../../src/lab/job.js";
import { renderLengthTable } from "../../src/lab/report/markdown.js";
import { gridJobs, mergeResults, parseShard, type ResultsFile, shardJobs } from "../../src/lab/results.js";
import { runGrid } from "../../src/lab/sweep.js";
import { train } from "../../src/lab/train.js";

vi.setConfig({ testTimeout: 30_000 });

const modelModule = resolve(import.meta.dirname, "tiny-model.ts");
const config = parseExperimentConfig({
  name: "grid",
  task: { id: "reverse_string", params: { vocabSize: 8 } },
  encodings: [
    { id: "rope" },
    { id: "alibi" },
    { label: "rr", stack: [{ id: "randomized-positions" }, { id: "rope" }] },
  ],
  train: { length: "1..6", steps: 25, batchSize: 16, lr: 0.05, checkpointEvery: 10 },
  eval: { length: "1..9", samplesPerLength: 6 },
  seeds: [0, 1],
});

/** Everything but the wall-clock fields. */
function numbers(file: ResultsFile) {
  return {
    rows: file.rows,
    runs: file.runs.map(({ trainSeconds: _t, tokensPerSecond: _s, ...rest }) => rest),
  };
}

describe("benchmark grid", () => {
  it("enumerates jobs in config order and splits them into disjoint shards that cover the grid", () => {
    const jobs = gridJobs(config);
    expect(jobs.map((j) => `${j.encodingIndex}:${j.seed}`)).toEqual([
      "0:0",
      "0:1",
      "1:0",
      "1:1",
      "2:0",
      "2:1",
    ]);
    const shards = [1, 2, 3, 4].map((i) => shardJobs(jobs, { index: i, count: 4 }).map((j) => j.index));
    expect(shards).toEqual([[0, 4], [1, 5], [2], [3]]);
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    for (const bad of ["0/2", "3/2", "1/0", "a/b", "1"])
      expect(() => parseShard(bad)).toThrow(/^Invalid --shard/);
  });

  it("shards run apart (one of them in two child processes) and merged equal the unsharded grid", async () => {
    const base = mkdtempSync(join(tmpdir(), "posenc-grid-"));
    const whole = await runGrid(config, { outDir: join(base, "whole"), modelModule });
    expect(whole.rows).toHaveLength(6 * 9);
    const shardFiles: ResultsFile[] = [];
    for (const index of [1, 2]) {
      const outDir = join(base, `shard${index}`);
      shardFiles.push(
        await runGrid(config, {
          outDir,
          shard: { index, count: 2 },
          modelModule,
          parallel: index === 2 ? 2 : 1,
        }),
      );
      expect(JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")).shards).toEqual([
        { index, count: 2 },
      ]);
    }
    expect(shardFiles[0].runs.map((r) => `${r.encoding} ${r.seed}`)).toEqual(["rope 0", "alibi 0", "rr 0"]);
    const merged = mergeResults([shardFiles[1], shardFiles[0]]);
    expect(numbers(merged)).toEqual(numbers(whole));
    expect(merged.shards).toEqual([
      { index: 1, count: 2 },
      { index: 2, count: 2 },
    ]);
    expect(renderLengthTable(merged)).toBe(renderLengthTable(whole));
    for (const name of ["results.json", "report.md", "report.html", "accuracy.svg", "token-accuracy.svg"]) {
      expect(existsSync(join(base, "whole", name))).toBe(true);
    }
    expect(() => mergeResults([shardFiles[0], shardFiles[0]])).toThrow(
      /^Invalid results\[1\]: expected each run in one file only/,
    );
    expect(() =>
      mergeResults([shardFiles[0], { ...shardFiles[1], config: { ...config, name: "other" } }]),
    ).toThrow(/^Invalid results\[1\]\.config: expected the same config as results\[0\]/);
  });

  it("resumes a grid: finished jobs are read back, not retrained", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "posenc-grid-"));
    const small = { ...config, encodings: config.encodings.slice(0, 1), seeds: [0] };
    const first = await runGrid(small, { outDir, modelModule });
    const events: string[] = [];
    const again = await runGrid(small, {
      outDir,
      modelModule,
      resume: true,
      onEvent: (e) => events.push(e.type),
    });
    expect(events).toEqual(["start", "done"]); // no progress events: nothing was trained
    expect(again).toEqual(first);
  });

  it("extends a grid by appending an encoding: only the new jobs train, the earlier ones are read back", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "posenc-grid-"));
    const before = { ...config, encodings: config.encodings.slice(0, 1) };
    const first = await runGrid(before, { outDir, modelModule, shard: { index: 1, count: 2 } });
    const after = { ...config, encodings: config.encodings.slice(0, 2) };
    const trained = new Set<string>();
    const grown = await runGrid(after, {
      outDir,
      modelModule,
      shard: { index: 1, count: 2 },
      resume: true,
      onEvent: (e) => {
        if (e.type === "progress") trained.add(`${e.job.encodingIndex}:${e.job.seed}`);
      },
    });
    expect([...trained]).toEqual(["1:0"]); // alibi seed 0; rope seed 0 was read back
    expect(grown.rows.filter((r) => r.encoding === "rope")).toEqual(first.rows);
    expect(grown.config).toEqual(after);
    // Any other change is another experiment: refused before any work.
    await expect(
      runGrid({ ...after, seeds: [0] }, { outDir, modelModule, shard: { index: 1, count: 2 }, resume: true }),
    ).rejects.toThrow(/the results of another experiment/);
  });

  it("resumes a job folder whose checkpoint holds the whole grid's config (written before jobs had their own)", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "posenc-grid-"));
    const two = { ...config, encodings: config.encodings.slice(0, 2), seeds: [0] };
    const modelFactory = await loadModelFactory(modelModule);
    // Stopped at step 10 of 25 (checkpointEvery 10) under the whole grid's config, as the lab wrote them before.
    const jobDir = join(outDir, "runs", "rope-s0");
    await train(
      { config: two, encoding: two.encodings[0], seed: 0 },
      { checkpointDir: jobDir, modelFactory, stopAfter: 10 },
    );
    const steps = new Set<number>();
    const resumed = await runGrid(two, {
      outDir,
      modelModule,
      resume: true,
      onEvent: (e) => {
        if (e.type === "progress" && e.job.encodingIndex === 0) steps.add(e.event.step);
      },
    });
    expect(Math.min(...steps)).toBeGreaterThan(10); // continued from its checkpoint
    const fresh = await runGrid(two, { outDir: mkdtempSync(join(tmpdir(), "posenc-grid-")), modelModule });
    expect(numbers(resumed)).toEqual(numbers(fresh));
  });
});
