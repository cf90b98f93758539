/**
 * The CLI as a newcomer first meets it: version, the task list beside the method list, aliases, tables with
 * column headers, help lines not cut, and the plan a long command prints before it starts.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { alibiCommand } from "../../src/cli/commands/alibi.js";
import { benchCommand } from "../../src/cli/commands/bench.js";
import { demoCommand } from "../../src/cli/commands/demo.js";
import { listCommand } from "../../src/cli/commands/list.js";
import { ropeCommand } from "../../src/cli/commands/rope.js";
import { tasksCommand } from "../../src/cli/commands/tasks.js";
import { TASK_REGISTRY } from "../../src/tasks/registry.js";

vi.setConfig({ testTimeout: 60_000 });

const root = resolve(import.meta.dirname, "../..");
const cli = join(root, "dist/cli/main.js");

function posenc(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", cwd: root });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("posenc --version, tasks, list", () => {
  it("prints the package version", () => {
    const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
    for (const flag of ["--version", "-v"])
      expect(posenc(flag)).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect(posenc("--help").stdout).toContain(`posenc ${version}:`);
  });

  it("lists every task of the registry with its parameters and paper, under column headers", () => {
    const result = posenc("tasks");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^id\s+level\s+parameters \(default\)\s+paper$/);
    expect(lines.slice(1, 1 + TASK_REGISTRY.length).map((l) => l.split(/\s+/)[0])).toEqual(
      TASK_REGISTRY.map((e) => e.id),
    );
    expect(result.stdout).toMatch(
      /\ncopy\s+synthetic\s+vocabSize=16\s+Kazemnejad et al\. 2023 \(arXiv:2305\.19466\)\n/,
    );
    expect(result.stdout).toMatch(
      /\naddition_coupled\s+synthetic\s+sameLength, maxPosition=64\s+Cho et al\. 2024/,
    );
    const json = JSON.parse(posenc("tasks", "--json").stdout) as {
      id: string;
      params: string[];
      paper: { arxiv: string };
    }[];
    expect(json.map((t) => t.id)).toEqual(TASK_REGISTRY.map((e) => e.id));
    expect(json.find((t) => t.id === "passkey")?.params).toEqual([
      "depth",
      "passkeyDigits",
      "fillerSymbols",
      "filler",
    ]);
  });

  it("shows aliases in the method list (t5 for t5-bias)", () => {
    const result = posenc("list");
    expect(result.stdout.split("\n")[0]).toMatch(/^id\s+alias\s+family\s+hooks\s+paper$/);
    expect(result.stdout).toMatch(/\nt5-bias\s+t5\s+attention-bias\s/);
    expect(result.stdout).toMatch(/\nrope\s+-\s+rotary\s/);
    const json = JSON.parse(posenc("list", "--json").stdout) as { id: string; aliases: string[] }[];
    expect(json.find((m) => m.id === "t5-bias")?.aliases).toEqual(["t5"]);
  });
});

describe("tables and help", () => {
  it("puts column headers on the rope and alibi tables", () => {
    const rope = posenc(
      "rope",
      "--config",
      "examples/llama-3.1-8b.config.json",
      "--positions",
      "0..1",
    ).stdout;
    expect(rope).toMatch(
      /\n\s*i\s+inv_freq\s+wavelength \(tokens\)\n\s*0\s+1\.0000000000e\+0\s+6\.2831853\n/,
    );
    expect(rope).toMatch(
      /\nposition\s+cos\/sin i=0\s+cos\/sin i=1\s+cos\/sin i=2\s+cos\/sin i=3\s+cos\/sin i=4\s+cos\/sin i=5\n/,
    );
    expect(rope).toMatch(/\n\s+1\s+0\.540302\/0\.841471\s/); // cos 1, sin 1 at position 1, frequency 1
    const alibi = posenc("alibi", "--heads", "2", "--length", "3").stdout.split("\n");
    expect(alibi.slice(0, 3)).toEqual(["head  slope", "   0  0.0625", "   1  0.00390625"]);
    expect(alibi.slice(5)).toEqual([
      "query\\key         0         1        2",
      "        0    0.0000    0.0000   0.0000",
      "        1   -0.0625    0.0000   0.0000",
      "        2   -0.1250   -0.0625   0.0000",
      "",
    ]);
  });

  it("shows every command's whole summary in the main help, wrapped, none cut", () => {
    const help = posenc("--help").stdout;
    const commands = [demoCommand, listCommand, tasksCommand, ropeCommand, alibiCommand, benchCommand];
    for (const summary of commands.map((c) => c.summary)) {
      const words = help.replace(/\s+/g, " ");
      expect(words).toContain(summary.replace(/\s+/g, " "));
    }
    for (const line of help.split("\n")) expect(line.length).toBeLessThanOrEqual(100);
    expect(posenc("tasks", "--help").stdout).toMatch(/Usage: posenc tasks \[--json\]/);
  });
});

describe("the plan of a long command", () => {
  it("bench --plan prints the runs and the estimated time from a short warm-up, then stops", () => {
    const out = join(mkdtempSync(join(tmpdir(), "posenc-plan-")), "never");
    const result = posenc(
      "bench",
      "--task",
      "copy",
      "--task-params",
      '{"vocabSize":4}',
      "--encodings",
      "rope,alibi",
      "--train-length",
      "1..4",
      "--test-length",
      "1..6",
      "--seeds",
      "3",
      "--steps",
      "2000000",
      "--layers",
      "1",
      "--d-model",
      "8",
      "--heads",
      "2",
      "--batch",
      "4",
      "--samples",
      "2",
      "--out",
      out,
      "--plan",
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const [plan, estimate] = result.stdout.trimEnd().split("\n");
    expect(plan).toBe(
      "Plan: 6 runs (2 encodings x 3 seeds), 2 side by side; 2000000 steps of 4 examples on lengths 1..4 each, then 2 test examples per length on 1..6.",
    );
    // Two million steps cannot take less than a few minutes, whatever the machine.
    expect(estimate).toMatch(
      /^Estimated time: about (\d+h\d\dm|\d+m\d\ds) on this machine at its current load \(warm-up: /,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("train prints its plan on stderr before the first step; stdout keeps only the results", () => {
    const dir = mkdtempSync(join(tmpdir(), "posenc-train-plan-"));
    const config = join(dir, "tiny.json");
    writeFileSync(
      config,
      JSON.stringify({
        name: "tiny",
        task: { id: "copy", params: { vocabSize: 4 } },
        model: { layers: 1, dModel: 8, heads: 2, mlpRatio: 1 },
        encodings: [{ id: "alibi" }],
        train: { length: "1..3", steps: 6, batchSize: 2, checkpointEvery: 0 },
        eval: { length: "1..4", samplesPerLength: 2 },
      }),
    );
    const result = posenc("train", "--config", config, "--out", join(dir, "run"));
    expect(result.code).toBe(0);
    expect(result.stderr.split("\n")[0]).toBe(
      "Plan: 1 run (1 encoding x 1 seed); 6 steps of 2 examples on lengths 1..3 each, then 2 test examples per length on 1..4.",
    );
    expect(result.stderr.split("\n")[1]).toMatch(/^Estimated time: about \d+s on this machine/);
    expect(result.stdout).not.toContain("Plan:");
    expect(result.stdout).toMatch(/^\| encoding \| seeds \|/);
  });
});
