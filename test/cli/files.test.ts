/**
 * Bad files, folders and sizes through the built CLI (dist/cli/main.js), as a user meets them: exit code 2, one
 * line on stderr, no stack trace, no hang, files on disk unchanged. test/lab/bad-files.test.ts covers every kind
 * in-process; these are the cases that need a real process (a hang in /proc, another user's permissions).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { type CliResult, expectInputError, posenc as posencProcess, root } from "../helpers/cli-process.js";

vi.setConfig({ testTimeout: 60_000 });

/** `posenc ...args`, optionally as another user (root runs the not-writable case as "nobody"). */
function posenc(args: string[], options: { uid?: number; gid?: number } = {}): CliResult {
  if (Object.keys(options).length === 0) return posencProcess(...args);
  const result = spawnSync(process.execPath, [join(root, "dist/cli/main.js"), ...args], {
    encoding: "utf8",
    cwd: root,
    timeout: 30_000,
    ...options,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const scratch = mkdtempSync(join(tmpdir(), "posenc-cli-files-"));
chmodSync(scratch, 0o755); // other users may look in, not write
const tiny = {
  name: "tiny",
  task: { id: "reverse", params: { vocabSize: 4 } },
  model: { layers: 1, dModel: 8, heads: 2 },
  encodings: [{ id: "rope" }],
  train: { length: "1..3", steps: 3, batchSize: 4, checkpointEvery: 0 },
  eval: { length: "1..4", samplesPerLength: 2 },
};
function config(name: string, edit: (c: typeof tiny) => void = () => {}): string {
  const c = structuredClone(tiny);
  edit(c);
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(c));
  chmodSync(path, 0o644);
  return path;
}

describe("output folders through the CLI", () => {
  it("--out in /proc is refused at once (Node's recursive mkdir would spin there forever)", () => {
    expectInputError(
      posenc(["train", "--config", config("tiny.json"), "--out", "/proc/posenc/run"]),
      /^Invalid --out: expected a folder on an ordinary file system \(\/proc is on a proc file system\), received "\/proc\/posenc\/run"$/m,
    );
  });

  it("--out in a folder the user cannot write is refused before training", () => {
    const locked = join(scratch, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    // Root writes anywhere, so as root the command runs as the unprivileged user "nobody".
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    expectInputError(
      posenc(["train", "--config", config("tiny.json"), "--out", join(locked, "run")], asUser),
      /^Invalid --out: expected a writable folder \(.*locked: not writable\)/,
    );
    expect(existsSync(join(locked, "run"))).toBe(false);
  });
});

describe("files and sizes through the CLI", () => {
  it("a truncated checkpoint, a results.json with nulls, and steps: 1e12", () => {
    const run = join(scratch, "run");
    expect(posenc(["train", "--config", config("tiny.json"), "--out", run]).code).toBe(0);
    const weights = join(run, "weights-000003.safetensors");
    writeFileSync(weights, readFileSync(weights).subarray(0, 100));
    const before = readFileSync(weights);
    expectInputError(
      posenc(["eval", "--checkpoint", run]),
      /^Invalid .*weights-000003\.safetensors header length/,
    );
    expect(readFileSync(weights)).toEqual(before);

    const results = join(scratch, "results.json");
    const result = JSON.parse(readFileSync(join(run, "result.json"), "utf8"));
    const file = {
      format: "posenc-results/1",
      name: "tiny",
      config: JSON.parse(readFileSync(join(run, "checkpoint.json"), "utf8")).config,
      shards: [{ index: 1, count: 1 }],
      runs: [result.summary],
      rows: result.rows.map((r: Record<string, unknown>, i: number) =>
        i === 0 ? { ...r, sequenceAccuracy: null } : r,
      ),
    };
    writeFileSync(results, JSON.stringify(file));
    expectInputError(
      posenc(["report", "merge", "--out", join(scratch, "merged"), results]),
      /: rows\[0\]\.sequenceAccuracy: expected a number from 0 to 1, received null$/m,
    );
    expect(existsSync(join(scratch, "merged"))).toBe(false);

    const steps = config("steps.json", (c) => {
      c.train.steps = 1e12;
    });
    expectInputError(
      posenc(["train", "--config", steps, "--out", join(scratch, "never")]),
      /^Invalid train\.steps: expected sizes that fit/,
    );
    expect(existsSync(join(scratch, "never"))).toBe(false);
  });
});
