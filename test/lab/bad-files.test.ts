/**
 * Every bad file, folder and size a lab command can be pointed at: one line (what, the value, what is valid), exit
 * code 2, before Json work, and nothing on disk changed. The commands run in-process exactly as main.ts runs them
 * (flags parsed, input errors become one stderr line and code 2); test/cli/files.test.ts repeats a few through
 * the built CLI.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { benchCommand } from "../../src/cli/commands/bench.js";
import { demoCommand } from "../../src/cli/commands/demo.js";
import { docsCommand } from "../../src/cli/commands/docs.js";
import { evalCommand } from "../../src/cli/commands/eval.js";
import { reportCommand } from "../../src/cli/commands/report.js";
import { trainCommand } from "../../src/cli/commands/train.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/lab/safetensors.js";
import { runCommandAsMain } from "../helpers/run-command.js";

vi.setConfig({ testTimeout: 30_000 });

// biome-ignore lint/suspicious/noExplicitAny: the tests edit parsed JSON files freely, as a user's editor would.
type Json = any;

const posenc = runCommandAsMain;

/** Every file under `dir` (recursively) with its bytes; empty for a missing path. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(dir)) return files;
  if (!statSync(dir).isDirectory()) return new Map([[dir, readFileSync(dir, "hex")]]);
  for (const name of readdirSync(dir, { recursive: true }).map(String)) {
    const path = join(dir, name);
    if (statSync(path).isFile()) files.set(name, readFileSync(path, "hex"));
  }
  return files;
}

/** Exit 2, one stderr line matching `fragment` (nothing before it: no progress, no work), `paths` unchanged. */
async function expectRefused(
  result: Promise<{ code: number; stdout: string; stderr: string }>,
  fragment: RegExp,
  ...paths: string[]
): Promise<void> {
  const before = paths.map(snapshot);
  const { code, stdout, stderr } = await result;
  expect(stderr).toMatch(fragment);
  expect(code).toBe(2);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stdout).toBe("");
  for (const [i, path] of paths.entries()) expect(snapshot(path)).toEqual(before[i]);
}

const scratch = mkdtempSync(join(tmpdir(), "posenc-bad-files-"));
const tiny = {
  name: "tiny",
  task: { id: "reverse", params: { vocabSize: 4 } },
  model: { layers: 1, dModel: 8, heads: 2 },
  encodings: [{ id: "rope" }, { id: "alibi" }],
  train: { length: "1..3", steps: 4, batchSize: 4, checkpointEvery: 0 },
  eval: { length: "1..4", samplesPerLength: 2 },
  seeds: [0],
};
function configFile(name: string, changes: (c: typeof tiny) => unknown = (c) => c): string {
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(changes(structuredClone(tiny))));
  return path;
}
const configPath = configFile("tiny.json");
const trained = join(scratch, "trained");
const grid = join(scratch, "grid");
const aFile = join(scratch, "a-file");
writeFileSync(aFile, "not a folder\n");

/** A copy of the trained run's folder, changed by `edit` (which gets the folder's path). */
let copies = 0;
function brokenCheckpoint(edit: (dir: string) => void): string {
  const dir = join(scratch, `checkpoint-${copies++}`);
  cpSync(trained, dir, { recursive: true });
  edit(dir);
  return dir;
}
const weightsOf = (dir: string) => join(dir, "weights-000004.safetensors");
const sidecarOf = (dir: string) => join(dir, "checkpoint.json");
function editSidecar(dir: string, edit: (s: Record<string, unknown>) => void): void {
  const sidecar = JSON.parse(readFileSync(sidecarOf(dir), "utf8"));
  edit(sidecar);
  writeFileSync(sidecarOf(dir), JSON.stringify(sidecar));
}
/** Rewrites the weights with `edit` applied to their tensors, keeping the metadata (step, run fingerprint). */
function editTensors(
  dir: string,
  edit: (t: Map<string, { shape: readonly number[]; data: Float32Array }>) => void,
) {
  const file = decodeSafetensors(new Uint8Array(readFileSync(weightsOf(dir))));
  const tensors = new Map(
    [...file.tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data as Float32Array }]),
  );
  edit(tensors);
  writeFileSync(weightsOf(dir), encodeSafetensors(tensors, file.metadata));
}

beforeAll(async () => {
  expect((await posenc(trainCommand, "--config", configPath, "--out", trained)).code).toBe(0);
  const bench = await posenc(benchCommand, "--config", configPath, "--out", grid, "--parallel", "1");
  expect(bench.code).toBe(0);
});

describe("checkpoint weights (safetensors)", () => {
  const eval_ = (dir: string) => posenc(evalCommand, "--checkpoint", dir);
  it.each([
    [
      "truncated",
      (b: Buffer) => b.subarray(0, b.length - 20),
      /(data buffer|data_offsets): expected (exactly the \d+ bytes|offsets inside)/,
    ],
    ["empty", () => Buffer.alloc(0), /header length: expected an 8-byte header length first/],
    [
      "garbage",
      () => Buffer.from("garbage that is not safetensors at all"),
      /header length: expected at most/,
    ],
    [
      "header length beyond the file",
      (b: Buffer) => {
        const c = Buffer.from(b);
        c.writeBigUInt64LE(1n << 40n, 0);
        return c;
      },
      /header length: expected at most the \d+ bytes after it .*received 1099511627776$/m,
    ],
    [
      "unsupported dtype",
      (b: Buffer) => Buffer.from(b.toString("latin1").replace('"F32"', '"F16"'), "latin1"),
      /\.dtype: expected a supported dtype: one of "F32", "F64", "I32", "U8" .*received "F16"/,
    ],
  ])("%s: refused naming the file", async (_, change, fragment) => {
    const dir = brokenCheckpoint((d) => writeFileSync(weightsOf(d), change(readFileSync(weightsOf(d)))));
    await expectRefused(eval_(dir), new RegExp(`weights-000004\\.safetensors.*${fragment.source}`, "m"), dir);
  });

  it("a missing tensor, a tensor of another shape, and non-finite weights", async () => {
    const missing = brokenCheckpoint((d) =>
      editTensors(d, (t) => t.delete([...t.keys()].find((k) => k.startsWith("param."))!)),
    );
    await expectRefused(
      eval_(missing),
      /^Missing required key .*weights-000004\.safetensors: tensor "param\.000\.[^"]+": expected \[[\d, ]+\] F32, as the config in checkpoint\.json builds it/,
      missing,
    );
    const reshaped = brokenCheckpoint((d) =>
      editTensors(d, (t) => {
        const [name, tensor] = [...t].find(([k, v]) => k.startsWith("param.") && v.shape.length === 2)!;
        t.set(name, { shape: [tensor.data.length], data: tensor.data });
      }),
    );
    await expectRefused(
      eval_(reshaped),
      /^Invalid .*: tensor "param\.\d+\.[^"]+": expected \[\d+, \d+\] F32, .*received "\[\d+\] F32"$/m,
      reshaped,
    );
    const nan = brokenCheckpoint((d) =>
      editTensors(d, (t) => {
        const tensor = [...t].find(([k]) => k.startsWith("param."))![1];
        tensor.data[3] = Number.NaN;
      }),
    );
    await expectRefused(
      eval_(nan),
      /tensor "param\.000\.[^"]+"\[3\]: expected finite weights .*received NaN$/m,
      nan,
    );
  });
});

describe("checkpoint sidecar (checkpoint.json)", () => {
  const eval_ = (dir: string) => posenc(evalCommand, "--checkpoint", dir);
  it("invalid JSON and a missing key", async () => {
    const invalid = brokenCheckpoint((d) =>
      writeFileSync(sidecarOf(d), '{"format": "posenc-checkpoint/1", '),
    );
    await expectRefused(
      eval_(invalid),
      /^Invalid checkpoint sidecar: expected a file of valid JSON .*received ".*checkpoint\.json"$/m,
      invalid,
    );
    const missing = brokenCheckpoint((d) => editSidecar(d, (s) => delete s.step));
    await expectRefused(
      eval_(missing),
      /^Missing required key .*checkpoint\.json: step: expected an integer >= 0$/m,
      missing,
    );
  });

  it.each([
    [
      "seed",
      (s: Record<string, Json>) => {
        s.seed = 7;
      },
    ],
    [
      "heads",
      (s: Record<string, Json>) => {
        s.config.model.numHeads = 4;
      },
    ],
    [
      "encoding",
      (s: Record<string, Json>) => {
        // A run's config holds its own encoding only: name another one in both places.
        s.config.encodings = [{ id: "alibi", params: {} }];
        s.encoding = s.config.encodings[0];
      },
    ],
    [
      "shape (dModel)",
      (s: Record<string, Json>) => {
        s.config.model.dModel = 16;
      },
    ],
  ])("edited %s: the weights belong to another run", async (_, edit) => {
    const dir = brokenCheckpoint((d) => editSidecar(d, edit));
    await expectRefused(
      eval_(dir),
      /checkpoint\.json: config, encoding or seed: expected the run weights-000004\.safetensors was trained for \(the sidecar was edited\)/,
      dir,
    );
  });

  it("an encoding that is not the config's, and a step beyond the run", async () => {
    const other = brokenCheckpoint((d) =>
      editSidecar(d, (s) => {
        s.encoding = { id: "fire" };
      }),
    );
    await expectRefused(
      eval_(other),
      /checkpoint\.json: encoding: expected one of the config's encodings, received \{"id":"fire"\}/,
      other,
    );
    const step = brokenCheckpoint((d) =>
      editSidecar(d, (s) => {
        s.step = 99;
      }),
    );
    await expectRefused(eval_(step), /checkpoint\.json: (step|lossHistory)/, step);
  });

  it("a weights path that leaves the folder, by name or by symlink", async () => {
    const outside = join(scratch, "outside.safetensors");
    cpSync(weightsOf(trained), outside);
    const byName = brokenCheckpoint((d) =>
      editSidecar(d, (s) => {
        s.weights = "../outside.safetensors";
      }),
    );
    await expectRefused(
      eval_(byName),
      /checkpoint\.json: weights: expected a weights file in the checkpoint folder, "weights-NNNNNN\.safetensors", received "\.\.\/outside\.safetensors"$/m,
      byName,
    );
    const byLink = brokenCheckpoint((d) => {
      rmSync(weightsOf(d));
      symlinkSync(outside, weightsOf(d));
    });
    await expectRefused(
      eval_(byLink),
      /checkpoint\.json: weights: expected a weights file inside the checkpoint folder \(it links outside\)/,
      byLink,
    );
  });
});

describe("results.json read by report merge", () => {
  const merge = (file: string, out: string) => posenc(reportCommand, "merge", "--out", out, file);
  function results(name: string, edit: (r: Record<string, Json>) => void): string {
    const r = JSON.parse(readFileSync(join(grid, "results.json"), "utf8"));
    edit(r);
    const path = join(scratch, name);
    writeFileSync(path, typeof r === "string" ? r : JSON.stringify(r));
    return path;
  }
  it.each([
    [
      "a null accuracy",
      (r: Json) => {
        r.rows[0].sequenceAccuracy = null;
      },
      /: rows\[0\]\.sequenceAccuracy: expected a number from 0 to 1, received null$/m,
    ],
    [
      "garbage rows",
      (r: Json) => {
        r.rows = [1, "x"];
      },
      /: rows\[0\]: expected an object, received 1$/m,
    ],
    [
      "a missing value (row)",
      (r: Json) => {
        r.rows.splice(1, 1);
      },
      /^Missing required key .*: rows \(rope seed 0 length 2\): expected a row for every length of every run$/m,
    ],
    [
      "a missing key",
      (r: Json) => {
        delete r.rows[2].tokenAccuracy;
      },
      /^Missing required key .*: rows\[2\]\.tokenAccuracy: expected a number from 0 to 1$/m,
    ],
    [
      "a row of no run",
      (r: Json) => {
        r.rows[0].encoding = "fire";
      },
      /: rows\[0\]: expected a row of one of the file's runs, received "fire seed 0"$/m,
    ],
  ])("%s: refused, nothing written", async (name, edit, fragment) => {
    const out = join(scratch, `merged-${name.replace(/\W/g, "")}`);
    const file = results(`${name.replace(/\W/g, "")}.json`, edit);
    await expectRefused(merge(file, out), fragment, file, out);
    expect(existsSync(out)).toBe(false);
  });
  it("invalid JSON, a folder and a device instead of a file", async () => {
    const bad = join(scratch, "bad-results.json");
    writeFileSync(bad, "{ nope");
    await expectRefused(
      merge(bad, join(scratch, "m1")),
      /^Invalid results file: expected a file of valid JSON/,
      bad,
    );
    await expectRefused(
      merge(scratch, join(scratch, "m2")),
      /^Invalid results file: expected a readable file \(it is a directory\)/,
    );
    await expectRefused(
      merge("/dev/zero", join(scratch, "m3")),
      /^Invalid results file: expected a regular file/,
    );
  });
});

describe("output folders, checked before the first step", () => {
  it.each([
    ["is a file", aFile, /^Invalid --out: expected a folder \(it is a file\)/],
    ["lies under a file", join(aFile, "run"), /^Invalid --out: expected a folder \(.*a-file is a file\)/],
    [
      "lies in /proc",
      "/proc/posenc-test/run",
      /^Invalid --out: expected a folder on an ordinary file system \(\/proc is on a proc file system\)/,
    ],
    ["lies in /sys", "/sys/posenc-test", /^Invalid --out: expected a folder on an ordinary file system/],
  ])("--out that %s: train (checkpointEvery 0), bench, demo, report refuse it", async (_, out, fragment) => {
    await expectRefused(posenc(trainCommand, "--config", configPath, "--out", out), fragment, aFile);
    await expectRefused(posenc(benchCommand, "--config", configPath, "--out", out), fragment, aFile);
    await expectRefused(posenc(demoCommand, "--out", out), fragment, aFile);
    await expectRefused(
      posenc(reportCommand, "merge", "--out", out, join(grid, "results.json")),
      fragment,
      aFile,
    );
  });

  it("a grid whose job folder lies under a file is refused before the first job", async () => {
    const out = join(scratch, "runs-is-a-file");
    mkdirSync(out);
    writeFileSync(join(out, "runs"), "a file\n");
    await expectRefused(
      posenc(benchCommand, "--config", configPath, "--out", out, "--parallel", "1"),
      /^Invalid output folder: expected a folder \(.*runs-is-a-file\/runs is a file\), received ".*runs\/rope-s0"$/m,
      out,
    );
  });

  it("an empty --out (it would write into the current folder)", async () => {
    await expectRefused(
      posenc(trainCommand, "--config", configPath, "--out", ""),
      /^Invalid --out: expected a folder path \(not empty\), received ""$/m,
    );
  });

  it("--out that is not writable (a read-only folder for a user who is not root)", async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere: test/cli/files.test.ts runs this case as nobody
    const locked = join(scratch, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    await expectRefused(
      posenc(trainCommand, "--config", configPath, "--out", join(locked, "run")),
      /^Invalid --out: expected a writable folder/,
    );
  });

  it("docs --out: a folder or a special file system is refused", async () => {
    await expectRefused(
      posenc(docsCommand, "--out", scratch),
      /^Invalid --out: expected a file path \(it is a directory\)/,
    );
    await expectRefused(posenc(docsCommand, "--out", "/proc/encodings.md"), /proc file system/);
    await expectRefused(
      posenc(docsCommand, "--out", join(aFile, "x.md")),
      /^Invalid --out: expected a folder \(.*a-file is a file\), received ".*a-file\/x\.md"$/m,
      aFile,
    );
  });
});

describe("results already on disk", () => {
  it("train over a finished run of another config or encoding is refused; --force overwrites", async () => {
    const other = configFile("other.json", (c) => ({ ...c, name: "other", train: { ...c.train, steps: 3 } }));
    const message =
      /^Invalid output folder .*trained: expected a new folder, the same experiment with --resume, or --force to overwrite, received "a checkpoint of rope seed 0 of config \\"other\\"|received "a checkpoint of rope seed 0 of config/;
    await expectRefused(posenc(trainCommand, "--config", other, "--out", trained), message, trained);
    await expectRefused(
      posenc(trainCommand, "--config", other, "--out", trained, "--resume"),
      message,
      trained,
    );
    await expectRefused(
      posenc(trainCommand, "--config", configPath, "--encoding", "alibi", "--out", trained),
      /a checkpoint of rope seed 0, not alibi seed 0/,
      trained,
    );
    const copy = brokenCheckpoint(() => {});
    const forced = await posenc(trainCommand, "--config", other, "--out", copy, "--force");
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(sidecarOf(copy), "utf8")).config.name).toBe("other");
    expect(readdirSync(copy).sort()).toEqual([
      "checkpoint.json",
      "result.json",
      "weights-000003.safetensors",
    ]);
  });

  it("bench and report over another experiment's results are refused", async () => {
    const other = configFile("other-bench.json", (c) => ({ ...c, name: "other", seeds: [1] }));
    const refused =
      /^Invalid output folder .*grid: expected a new folder, the same experiment with --resume, or --force to overwrite, received "the results of another experiment \(\\"tiny\\"\)"$/m;
    await expectRefused(
      posenc(benchCommand, "--config", other, "--out", grid, "--parallel", "1"),
      refused,
      grid,
    );
    await expectRefused(posenc(benchCommand, "--config", other, "--out", grid, "--resume"), refused, grid);
    const otherResults = join(scratch, "other-results.json");
    const r = JSON.parse(readFileSync(join(grid, "results.json"), "utf8"));
    r.config.name = "renamed";
    r.name = "renamed";
    writeFileSync(otherResults, JSON.stringify(r));
    await expectRefused(
      posenc(reportCommand, "merge", "--out", grid, otherResults),
      /received "the results of another experiment/,
      grid,
    );
    const copy = join(scratch, "grid-forced");
    cpSync(grid, copy, { recursive: true });
    const forced = await posenc(benchCommand, "--config", other, "--out", copy, "--parallel", "1", "--force");
    expect(forced.code).toBe(0);
    expect(JSON.parse(readFileSync(join(copy, "results.json"), "utf8")).name).toBe("other");
  });
});

describe("sizes that cannot fit", () => {
  it.each([
    [
      "eval length 1..100000000",
      (c: Json) => {
        c.eval.length = "1..100000000";
      },
      /^Invalid eval\.length: expected sizes that fit: this needs about .* \(position tables for sequences of ~200000003 tokens\), the limit is .*, received "1\.\.100000000"$/m,
    ],
    [
      "train length 1..100000000",
      (c: Json) => {
        c.train.length = "1..100000000";
      },
      /^Invalid train\.length: expected sizes that fit: this needs about [\d.]+ EiB per training step/,
    ],
    [
      "steps 1e12",
      (c: Json) => {
        c.train.steps = 1e12;
      },
      /^Invalid train\.steps: expected sizes that fit: this needs about .*, received 1000000000000$/m,
    ],
    [
      "layers 64 x dModel 4096",
      (c: Json) => {
        c.model = { layers: 64, dModel: 4096, heads: 4 };
      },
      /^Invalid model: expected sizes that fit: this needs about 192 GiB for 1\.29e\+10 parameters/,
    ],
    [
      "batch 4096 at length 500",
      (c: Json) => {
        c.train.batchSize = 4096;
        c.train.length = "1..500";
        c.eval.length = "1..500";
      },
      /^Invalid train\.batchSize: expected sizes that fit: this needs about [\d.]+ GiB per training step \(sequences of ~1003 tokens, batch 4096\)/,
    ],
  ])("%s: refused before Json work", async (name, edit, fragment) => {
    const path = configFile(`${name.replace(/\W/g, "")}.json`, (c) => {
      edit(c);
      return c;
    });
    const out = join(scratch, `size-${name.replace(/\W/g, "")}`);
    await expectRefused(posenc(trainCommand, "--config", path, "--out", out), fragment);
    expect(existsSync(out)).toBe(false);
  });

  it("eval --test-length 1..100000000 on a checkpoint is refused, naming eval.length", async () => {
    await expectRefused(
      posenc(evalCommand, "--checkpoint", trained, "--test-length", "1..100000000"),
      /^Invalid eval\.length: expected sizes that fit/,
      trained,
    );
  });
});
