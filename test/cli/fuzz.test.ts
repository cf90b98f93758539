/**
 * The CLI's last line of defence (main.ts's `internal error`) is unreachable from bad input: random command lines
 * for every command (known and unknown flags, negative, huge and non-numeric values, ranges, missing files, random
 * file contents for --config and the other file flags) end in exit code 0, or 2 with ONE line on stderr, never a
 * stack trace. The CLI runs in-process (program.ts). Training and evaluation are the only work that takes long:
 * they are replaced by a stub that records that the command got past its checks, which counts as accepted.
 * POSENC_FUZZ_RUNS and POSENC_FUZZ_SEED run a longer or another search locally (CI: 250 runs per command, fixed seeds).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { commands } from "../../src/cli/program.js";
import { argvFor, type FuzzFiles, OWNED_ELSEWHERE } from "../helpers/argv-fuzz.js";
import { fileContent } from "../helpers/fuzz-files.js";
import { runCli } from "../helpers/run-command.js";
import { TINY_EXPERIMENT } from "../lab/tiny-model.js";

const { WorkStarted } = vi.hoisted(() => ({
  WorkStarted: class WorkStarted extends Error {
    override readonly name = "WorkStarted";
  },
}));
vi.mock("../../src/lab/sweep.js", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  runGrid: () => Promise.reject(new WorkStarted("runGrid")),
}));
vi.mock("../../src/lab/job.js", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  runJob: () => Promise.reject(new WorkStarted("runJob")),
}));
vi.mock("../../src/lab/plan.js", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  planRuns: () => Promise.reject(new WorkStarted("planRuns")),
}));
vi.mock("../../src/fields/run.js", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  runFields: () => {
    throw new WorkStarted("runFields");
  },
}));
vi.mock("../../src/lab/evaluate.js", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  evaluate: () => {
    throw new WorkStarted("evaluate");
  },
}));

vi.setConfig({ testTimeout: 120_000 });

const root = resolve(import.meta.dirname, "../..");
const scratch = mkdtempSync(join(tmpdir(), "posenc-fuzz-"));
let previousCwd = "";

/** Fixed files every run can point at; random-content files are written per run. */
function fixedFiles(): FuzzFiles {
  const dir = (name: string) => {
    const path = join(scratch, name);
    mkdirSync(path, { recursive: true });
    return path;
  };
  const file = (name: string, content: string) => {
    const path = join(scratch, name);
    writeFileSync(path, content);
    return path;
  };
  const garbageCheckpoint = dir("garbage-checkpoint");
  writeFileSync(join(garbageCheckpoint, "checkpoint.json"), '{"format": "posenc-checkpoint/1", "step": -1}');
  const badJsonCheckpoint = dir("bad-json-checkpoint");
  writeFileSync(join(badJsonCheckpoint, "checkpoint.json"), "{ nope");
  return {
    paths: [
      // Copies: a fuzzed output flag may point at any of these paths, and the repository is never written.
      file("llama.json", readFileSync(join(root, "examples/llama-3.1-8b.config.json"), "utf8")),
      file("qwen2-yarn.json", readFileSync(join(root, "examples/qwen2-yarn.config.json"), "utf8")),
      file("tiny.json", JSON.stringify(TINY_EXPERIMENT)),
      file(
        "tiny.yaml",
        "name: tiny-yaml\ntask: { id: reverse }\nencodings: [{ id: nope }]\ntrain: { length: 1..3, steps: 2 }\neval: { length: 4 }\n",
      ),
      file("empty.json", ""),
      file("null.json", "null"),
      file("text.txt", "hello"),
      join(scratch, "missing.json"),
      join(scratch, "missing-dir", "nested", "file.json"),
      dir("empty-dir"),
      ...(OWNED_ELSEWHERE.sidecarContents ? [] : [garbageCheckpoint, badJsonCheckpoint]),
    ],
    scratch,
    tinyExperiment: TINY_EXPERIMENT,
  };
}

interface Outcome {
  code: number | "work";
  stdout: string;
  stderr: string;
}

/** The CLI in-process; the work stub's rejection counts as accepted ("work"), any other as main.ts's line. */
async function runFuzzed(argv: string[]): Promise<Outcome> {
  const outcome = await runCli(argv);
  if (outcome.code !== undefined) return { ...outcome, code: outcome.code };
  if (outcome.rejected instanceof WorkStarted) return { ...outcome, code: "work" };
  const error = outcome.rejected as Error;
  return {
    ...outcome,
    code: 1,
    stderr: `${outcome.stderr}posenc: internal error: ${error?.stack ?? error}\n`,
  };
}

/** The contract: exit 0 (or the stubbed work reached), or exit 2 with exactly one line on stderr. */
function checkOutcome(argv: readonly string[], outcome: Outcome): void {
  const shown = JSON.stringify(argv);
  expect(outcome.stderr, shown).not.toContain("internal error");
  expect(outcome.stderr, shown).not.toMatch(/\n\s+at /);
  expect([0, 2, "work"], `${shown}: ${outcome.stderr}`).toContain(outcome.code);
  if (outcome.code === 2) {
    const lines = outcome.stderr.split("\n").filter((line) => line && !line.startsWith("warning: "));
    expect(lines, shown).toHaveLength(1);
    expect(outcome.stderr.endsWith("\n"), shown).toBe(true);
  }
}

beforeAll(() => {
  previousCwd = process.cwd();
  // Default output folders (runs/, results/, posenc-demo) land in the scratch folder, never in the repository.
  process.chdir(scratch);
});
afterAll(() => process.chdir(previousCwd));

describe("fuzzed command lines", () => {
  const files = fixedFiles();
  for (const command of commands) {
    it(`posenc ${command.name}: exit 0, or 2 with one line; never an internal error`, async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(argvFor(command, files), fileContent(files, command.name), async (argv, content) => {
          // The per-run random file: what a --config, --inputs or --checkpoint may point at.
          const path = join(scratch, `random-${run++}.${content.ext}`);
          if (content.ext === "dir") {
            mkdirSync(path);
            writeFileSync(join(path, "checkpoint.json"), content.text);
          } else writeFileSync(path, content.text);
          const resolved = argv.map((token) => token.replaceAll("@RANDOM_FILE@", path));
          checkOutcome(resolved, await runFuzzed([command.name, ...resolved]));
        }),
        {
          numRuns: Number(process.env.POSENC_FUZZ_RUNS ?? 250),
          seed: Number(process.env.POSENC_FUZZ_SEED ?? 20261202) + command.name.length,
        },
      );
    });
  }

  it("unknown commands and bare words", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 12 }), { maxLength: 4 }), async (argv) => {
        checkOutcome(argv, await runFuzzed(argv));
      }),
      { numRuns: 100, seed: 8 },
    );
  });
});
