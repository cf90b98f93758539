/** `posenc fields` end to end on the built CLI: a tiny run with its files, --resume, and one-line input errors. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";

vi.setConfig({ testTimeout: 60_000 });

const root = resolve(import.meta.dirname, "../..");
const cli = join(root, "dist/cli/main.js");
if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'npm run build' (npm test does it first)`);
const scratch = mkdtempSync(join(tmpdir(), "posenc-fields-"));

function posenc(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, "fields", ...args], { encoding: "utf8", cwd: root });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectInputError(r: ReturnType<typeof posenc>, fragment: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr).toMatch(fragment);
}

describe("posenc fields", () => {
  it("fits, writes the table, pictures and report, and resumes a finished folder without retraining", () => {
    const out = join(scratch, "sdf");
    const args = [
      "--task",
      "sdf2d",
      "--encodings",
      "relu,neuda",
      "--steps",
      "3",
      "--size",
      "32",
      "--hidden",
      "8",
      "--out",
      out,
    ];
    const first = posenc(...args);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/\| neuda \| \d+ \| 1 \| /);
    for (const f of [
      "report.html",
      "results.json",
      "results.md",
      "target-level-set.png",
      "neuda/seed-0/level-set.png",
    ]) {
      expect(existsSync(join(out, f))).toBe(true);
    }
    expectInputError(posenc(...args), /--out.*--resume/);
    const again = posenc(...args, "--resume");
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/step/);
    expect(first.stdout).toContain(readFileSync(join(out, "results.md"), "utf8"));
    expect(again.stdout).toContain(readFileSync(join(out, "results.md"), "utf8"));
  });

  it("rejects bad input with one line and exit 2", () => {
    expectInputError(posenc(), /missing --task/);
    expectInputError(posenc("--task", "video"), /--task must be one of image, sdf2d, sdf3d/);
    expectInputError(posenc("--task", "image", "--encodings", "relu,hash"), /"hash"; valid methods are/);
    expectInputError(posenc("--task", "image", "--steps", "0"), /--steps must be an integer from 1/);
    expectInputError(posenc("--config", join(scratch, "missing.json")), /cannot read the file/);
    const bad = join(scratch, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ task: "sdf3d", methods: [{ name: "x", preset: "neuda", options: { levels: 99 } }] }),
    );
    expectInputError(
      posenc("--config", bad, "--steps", "1", "--out", join(scratch, "bad-out")),
      /neuda.levels/,
    );
  });
});
