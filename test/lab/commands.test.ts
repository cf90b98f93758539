/**
 * The lab's CLI commands in-process (flags parsed as main.ts does), on a 1-layer, 8-wide transformer trained for a
 * few steps: output files, printed tables, resume, and one-line errors for bad input.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { benchCommand } from "../../src/cli/commands/bench.js";
import { DEMO_CONFIG } from "../../src/cli/commands/demo.js";
import { evalCommand } from "../../src/cli/commands/eval.js";
import { reportCommand } from "../../src/cli/commands/report.js";
import { trainCommand } from "../../src/cli/commands/train.js";
import { isInputError } from "../../src/cli/errors.js";
import { checkExperimentConfig, loadExperimentConfig, parseConfigText } from "../../src/lab/config-file.js";
import { readInputText } from "../../src/lab/files.js";
import { parseVisionConfig } from "../../src/lab/vision/config.js";
import { runCommand } from "../helpers/run-command.js";
import { TINY_EXPERIMENT } from "./tiny-model.js";

vi.setConfig({ testTimeout: 30_000 });

afterEach(() => vi.restoreAllMocks());

const scratch = mkdtempSync(join(tmpdir(), "posenc-lab-cli-"));
const tiny = TINY_EXPERIMENT;
const configPath = join(scratch, "tiny.json");
writeFileSync(configPath, JSON.stringify(tiny));

describe("posenc train / eval", () => {
  it("trains one run with checkpoints, prints the table, and eval reads the checkpoint back", async () => {
    const out = join(scratch, "train");
    const printed = await runCommand(
      trainCommand,
      "--config",
      configPath,
      "--encoding",
      "alibi",
      "--seed",
      "1",
      "--out",
      out,
    );
    expect(printed).toMatch(
      /^\| encoding \| seeds \| exact match, n = 1\.\.4 \(ID\) \| exact match, n = 5\.\.6 \(OOD\)/,
    );
    expect(printed).toMatch(/\n\| alibi \| 1 \| \d\.\d\d \| \d\.\d\d \|/);
    expect(readdirSync(out).sort()).toEqual(["checkpoint.json", "result.json", "weights-000006.safetensors"]);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    const evaluated = JSON.parse(await runCommand(evalCommand, "--checkpoint", out, "--json"));
    expect(evaluated).toEqual(result.rows); // same weights, same held-out stream
    const longer = await runCommand(
      evalCommand,
      "--checkpoint",
      out,
      "--test-length",
      "5..7",
      "--samples",
      "3",
    );
    expect(longer.split("\n")[0]).toBe("alibi seed 1, step 6, trained on 1..4 (* = outside)");
    expect(longer).toMatch(/\n {3}7 \* {2}/);
  });

  it("rejects an encoding the config does not have, naming the valid ones", async () => {
    await expect(runCommand(trainCommand, "--config", configPath, "--encoding", "fire")).rejects.toThrow(
      'posenc train: --encoding "fire" is not in the config: valid values are rope, alibi',
    );
  });
});

describe("posenc bench / report merge", () => {
  it("runs a grid from flags, shards it, and merges the shards into the same table", async () => {
    const flags = [
      "--task",
      "reverse",
      "--task-params",
      '{"vocabSize":4}',
      "--encodings",
      "rope,nope",
      "--train-length",
      "1..3",
      "--test-length",
      "1..5",
      "--seeds",
      "2",
      "--steps",
      "4",
      "--batch",
      "8",
      "--layers",
      "1",
      "--d-model",
      "8",
      "--heads",
      "2",
      "--samples",
      "3",
      "--parallel",
      "1",
    ];
    const whole = await runCommand(benchCommand, "length-gen", ...flags, "--out", join(scratch, "whole"));
    expect(whole).toContain("| rope | 2 |");
    expect(whole).toContain("| nope | 2 |");
    for (const name of ["results.json", "report.md", "report.html", "accuracy.svg", "token-accuracy.svg"]) {
      expect(existsSync(join(scratch, "whole", name))).toBe(true);
    }
    for (const i of [1, 2]) {
      await runCommand(benchCommand, ...flags, "--shard", `${i}/2`, "--out", join(scratch, `s${i}`));
    }
    const merged = await runCommand(
      reportCommand,
      "merge",
      join(scratch, "s2", "results.json"),
      join(scratch, "s1", "results.json"),
      "--out",
      join(scratch, "merged"),
    );
    const rows = (dir: string) => JSON.parse(readFileSync(join(scratch, dir, "results.json"), "utf8")).rows;
    expect(rows("merged")).toEqual(rows("whole"));
    const perLength = (dir: string) =>
      readFileSync(join(scratch, dir, "report.md"), "utf8").split("## Exact match per length")[1];
    expect(perLength("merged")).toBe(perLength("whole"));
    expect(merged).toContain("Merged 2 file(s), 4 runs.");
  });

  it("turns bad flags into one-line input errors", async () => {
    const bad = async (...argv: string[]) => {
      try {
        await runCommand(benchCommand, ...argv);
      } catch (error) {
        expect(isInputError(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error("expected an input error");
    };
    expect(
      await bad(
        "--task",
        "reverse",
        "--encodings",
        "rope",
        "--train-length",
        "1..3",
        "--test-length",
        "9..2",
      ),
    ).toBe(
      'posenc bench: --test-length must be a range "A..B" of integers with 1 <= A <= B, or one integer, received "9..2"',
    );
    expect(
      await bad(
        "--task",
        "reverse",
        "--encodings",
        "rotary",
        "--train-length",
        "1..3",
        "--test-length",
        "1..4",
      ),
    ).toMatch(/^Invalid encodings\[0\]\.id: expected one of /);
    expect(await bad("--config", configPath, "--steps", "3")).toBe(
      "posenc bench: --steps conflicts with --config (set it in the file)",
    );
    expect(await bad("--config", configPath, "--shard", "3/2")).toMatch(
      /^Invalid --shard: expected "i\/n" with 1 <= i <= n/,
    );
    expect(await bad("fancy-gen", "--config", configPath)).toBe(
      'posenc bench: unknown benchmark "fancy-gen": valid benchmarks are length-gen',
    );
  });
});

describe("configs shipped with the repository", () => {
  it("the demo and every experiment config validate", () => {
    expect(checkExperimentConfig(DEMO_CONFIG).name).toBe("demo");
    const root = resolve(import.meta.dirname, "../../experiments");
    const files = readdirSync(root, { recursive: true })
      .map(String)
      .filter((f) => /\.ya?ml$|config\.json$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const path = join(root, file);
      // vision.yaml: a resolution-extrapolation config (posenc vision).
      const load = file.endsWith("vision.yaml")
        ? () => parseVisionConfig(parseConfigText(path, readInputText("config file", path)))
        : () => loadExperimentConfig(path);
      expect(load).not.toThrow();
    }
  });
});
