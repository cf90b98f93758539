/** `posenc fields` end to end on the built CLI: a tiny run with its files, --resume, and one-line input errors. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { expectInputError, posenc, scratchFolder } from "../helpers/cli-process.js";

vi.setConfig({ testTimeout: 60_000 });

const scratch = scratchFolder("posenc-fields-");
const fields = (...args: string[]) => posenc("fields", ...args);

describe("posenc fields", () => {
  it("fits, writes the table, pictures and report, and resumes a finished folder without retraining", () => {
    const out = join(scratch.dir, "sdf");
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
    const first = fields(...args);
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
    expectInputError(fields(...args), /--out.*--resume/);
    const again = fields(...args, "--resume");
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/step/);
    expect(first.stdout).toContain(readFileSync(join(out, "results.md"), "utf8"));
    expect(again.stdout).toContain(readFileSync(join(out, "results.md"), "utf8"));
  });

  it("rejects bad input with one line and exit 2", () => {
    expectInputError(fields(), /missing --task/);
    expectInputError(fields("--task", "video"), /--task must be one of image, sdf2d, sdf3d/);
    expectInputError(fields("--task", "image", "--encodings", "relu,hash"), /"hash"; valid methods are/);
    expectInputError(fields("--task", "image", "--steps", "0"), /--steps must be an integer from 1/);
    expectInputError(fields("--config", join(scratch.dir, "missing.json")), /cannot read the file/);
    const bad = scratch.file(
      "bad.json",
      JSON.stringify({ task: "sdf3d", methods: [{ name: "x", preset: "neuda", options: { levels: 99 } }] }),
    );
    expectInputError(
      fields("--config", bad, "--steps", "1", "--out", join(scratch.dir, "bad-out")),
      /neuda.levels/,
    );
  });
});
