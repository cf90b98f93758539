import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { readSidecar } from "../../src/lab/checkpoint.js";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { useSingleThreadKernels } from "../../src/lab/runtime.js";
import { type RunSpec, train } from "../../src/lab/train.js";
import { modelFactory } from "./tiny-model.js";

vi.setConfig({ testTimeout: 30_000 });
useSingleThreadKernels();

const rawConfig = (steps: number, checkpointEvery: number) => ({
  task: { id: "reverse_string", params: { vocabSize: 8 } },
  encodings: [{ id: "rope" }],
  train: { length: "1..8", steps, batchSize: 16, checkpointEvery, lr: 0.05 },
  eval: { length: "1..10", samplesPerLength: 4 },
  seeds: [3],
});

function runOf(steps: number, checkpointEvery: number): RunSpec {
  const config = parseExperimentConfig(rawConfig(steps, checkpointEvery));
  return { config, encoding: config.encodings[0], seed: 3 };
}

/** Every parameter's float32 bits. */
function bits(outcome: Awaited<ReturnType<typeof train>>): number[][] {
  return outcome.model.parameters().map((p) => Array.from(new Uint32Array(p.data.slice().buffer)));
}

describe("checkpoints and --resume", () => {
  it("a run stopped between checkpoints and resumed equals the uninterrupted run, bit for bit", async () => {
    const run = runOf(40, 6);
    const whole = await train(run, { modelFactory });
    const dir = mkdtempSync(join(tmpdir(), "posenc-resume-"));
    const first = await train(run, { modelFactory, checkpointDir: dir, stopAfter: 23 });
    expect(first.step).toBe(23);
    // The last checkpoint is at step 18: steps 18..22 are lost and must be redone identically.
    expect(readSidecar(dir)?.step).toBe(18);
    expect(readdirSync(dir).sort()).toEqual(["checkpoint.json", "weights-000018.safetensors"]);
    const resumed = await train(run, { modelFactory, checkpointDir: dir, resume: true });
    expect(resumed.startStep).toBe(18);
    expect(resumed.lossHistory).toHaveLength(40);
    expect(resumed.lossHistory).toEqual(whole.lossHistory);
    expect(bits(resumed)).toEqual(bits(whole));
    expect(readSidecar(dir)?.step).toBe(40);
    // The loss went down: the test trains something.
    expect(whole.lossHistory[39]).toBeLessThan(whole.lossHistory[0]);
  });

  it("resumes the real transformer bit-identically, learned and randomized encodings included", async () => {
    const config = parseExperimentConfig({
      task: { id: "reverse", params: { vocabSize: 4 } },
      model: { layers: 1, dModel: 8, heads: 2 },
      encodings: [
        { id: "randomized-rope", params: { maxPosition: 64 } },
        { id: "t5" },
        { id: "fire" },
        { id: "cope" },
      ],
      train: { length: "1..5", steps: 14, batchSize: 8, lr: 0.01, checkpointEvery: 4 },
      eval: { length: "1..6" },
    });
    for (const encoding of config.encodings) {
      const run: RunSpec = { config, encoding, seed: 5 };
      const whole = await train(run);
      const dir = mkdtempSync(join(tmpdir(), "posenc-resume-"));
      await train(run, { checkpointDir: dir, stopAfter: 10 });
      const resumed = await train(run, { checkpointDir: dir, resume: true });
      expect(resumed.startStep).toBe(8);
      expect(resumed.lossHistory).toEqual(whole.lossHistory);
      expect(bits(resumed)).toEqual(bits(whole));
    }
  });

  it("refuses to resume a checkpoint of another run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "posenc-resume-"));
    await train(runOf(12, 6), { modelFactory, checkpointDir: dir, stopAfter: 6 });
    await expect(train(runOf(13, 6), { modelFactory, checkpointDir: dir, resume: true })).rejects.toThrow(
      /^Invalid --resume: expected a checkpoint of the same config, encoding and seed/,
    );
  });

  it("survives kill -9 at arbitrary moments: the resumed run ends bit-identical", async () => {
    const steps = 1500;
    const raw = rawConfig(steps, 5);
    const run = runOf(steps, 5);
    const dir = mkdtempSync(join(tmpdir(), "posenc-kill-"));
    const child = resolve(import.meta.dirname, "train-child.ts");
    const killedAt: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = readSidecar(dir)?.step ?? 0;
      const proc: ChildProcess = spawn(
        process.execPath,
        ["--import", "tsx", child, dir, JSON.stringify(raw)],
        {
          stdio: "ignore",
        },
      );
      // Wait for at least one new checkpoint, then a little more, then kill -9 wherever it is.
      const deadline = Date.now() + 15_000;
      while ((readSidecar(dir)?.step ?? 0) <= before && Date.now() < deadline && proc.exitCode === null) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 37 + attempt * 41));
      expect(proc.exitCode).toBeNull(); // still running: the kill lands mid-run
      proc.kill("SIGKILL");
      await new Promise((r) => proc.once("exit", r));
      killedAt.push(readSidecar(dir)?.step ?? 0);
    }
    expect(killedAt[2]).toBeGreaterThan(0);
    expect(killedAt[2]).toBeLessThan(steps);
    // Leftover temporary files from a kill during a write are harmless; the sidecar names a complete file.
    const sidecar = readSidecar(dir);
    expect(sidecar && existsSync(join(dir, sidecar.weights))).toBe(true);
    // What a kill during a write leaves: a partial temporary file (never read: the sidecar names real files).
    writeFileSync(join(dir, ".weights-000123.safetensors.999999.tmp"), "partial");
    const resumed = await train(run, { modelFactory, checkpointDir: dir, resume: true });
    const whole = await train(run, { modelFactory });
    expect(resumed.startStep).toBe(killedAt[2]);
    expect(resumed.lossHistory).toEqual(whole.lossHistory);
    expect(bits(resumed)).toEqual(bits(whole));
    const final = JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8"));
    expect(final.step).toBe(steps);
    // The final save removed older weights and any temporary file a kill left behind.
    expect(readdirSync(dir).sort()).toEqual(["checkpoint.json", `weights-00${steps}.safetensors`]);
  });
});
