/**
 * `posenc report passkey` (src/lab/report/passkey-seeds.ts): hand-built grid files of two encodings and two seeds,
 * summarized per cell as mean ± sample sd over seeds; mixed grids, repeats and malformed files refused in one line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reportCommand } from "../../src/cli/commands/report.js";
import {
  PASSKEY_FORMAT,
  type PasskeyFile,
  readPasskeyFile,
  renderPasskeyMarkdown,
  summarizePasskeyGrids,
} from "../../src/lab/report/passkey-seeds.js";
import { runCommand } from "../helpers/run-command.js";

/** A file of one (encoding, seed): contexts [96, 192] x depths [0, 1], accuracies given row-major (of 4). */
function gridFile(encoding: string, seed: number, correct: number[]): PasskeyFile {
  const contexts = [96, 192];
  const depths = [0, 1];
  return {
    format: PASSKEY_FORMAT,
    checkpoint: `runs/${encoding}-s${seed}`,
    encoding,
    step: 100,
    trainedContext: 96,
    split: "validation",
    contexts,
    depths,
    perCell: 4,
    digits: 5,
    seed,
    cells: contexts.flatMap((context, r) =>
      depths.map((depth, c) => {
        const k = correct[r * 2 + c]!;
        return { context, depth, examples: 4, correct: k, accuracy: k / 4, digitAccuracy: (k + 1) / 5 };
      }),
    ),
  };
}

describe("passkey grids over seeds", () => {
  const files = [
    gridFile("rope", 1, [4, 2, 0, 1]),
    gridFile("rope", 0, [4, 4, 1, 0]),
    gridFile("alibi", 0, [3, 3, 3, 3]),
  ].map((file, i) => ({ path: `f${i}.json`, file }));

  it("gives mean and sample sd per cell, seeds in order, encodings as first met", () => {
    const summary = summarizePasskeyGrids(files);
    expect(summary.encodings.map((e) => [e.encoding, e.seeds])).toEqual([
      ["rope", [0, 1]],
      ["alibi", [0]],
    ]);
    const rope = summary.encodings[0]!.cells;
    expect(rope.map((c) => c.accuracy.values)).toEqual([
      [1, 1],
      [1, 0.5],
      [0.25, 0],
      [0, 0.25],
    ]);
    expect(rope[1]!.accuracy.mean).toBe(0.75);
    // sd of {1, 0.5} with n - 1: sqrt(2 * 0.25^2 / 1) = 0.35355...
    expect(rope[1]!.accuracy.std).toBeCloseTo(Math.SQRT2 * 0.25, 12);
    expect(Number.isNaN(summary.encodings[1]!.cells[0]!.accuracy.std)).toBe(true);
    const md = renderPasskeyMarkdown(summary);
    expect(md).toContain("| 96 | 1.00 ± 0.00 (1.00 1.00) | 0.75 ± 0.35 (1.00 0.50) |");
    expect(md).toContain("| 192 * | 0.13 ± 0.18 (0.25 0.00) | 0.13 ± 0.18 (0.00 0.25) |");
    expect(md).toContain("| 96 | 0.75 (0.75) | 0.75 (0.75) |");
  });

  it("refuses grids that differ, and an (encoding, seed) given twice", () => {
    const other = { ...gridFile("nope", 0, [0, 0, 0, 0]), perCell: 8 };
    expect(() => summarizePasskeyGrids([...files, { path: "x.json", file: other }])).toThrow(
      /x\.json: perCell: expected 4, as in f0\.json, received "8"/,
    );
    expect(() => summarizePasskeyGrids([...files, { path: "y.json", file: files[1]!.file }])).toThrow(
      /y\.json: seed.*rope seed 0 is given twice/,
    );
  });

  it("reads files back validated, and the CLI writes the report (tables, one heatmap per encoding, HTML)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "posenc-passkey-seeds-"));
    const paths = files.map(({ file }, i) => {
      const path = join(dir, `g${i}.json`);
      writeFileSync(path, JSON.stringify(file));
      return path;
    });
    expect(readPasskeyFile(paths[0]!)).toEqual(files[0]!.file);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ ...files[0]!.file, cells: files[0]!.file.cells.slice(1) }));
    expect(() => readPasskeyFile(bad)).toThrow(
      /bad\.json: cells: expected 4 \(contexts x depths\), received "3 cells"/,
    );
    const swapped = { ...files[0]!.file, cells: [...files[0]!.file.cells].reverse() };
    writeFileSync(bad, JSON.stringify(swapped));
    expect(() => readPasskeyFile(bad)).toThrow(/cells\[0\].*row-major/);
    writeFileSync(bad, JSON.stringify({ ...files[0]!.file, format: "other" }));
    expect(() => readPasskeyFile(bad)).toThrow(/bad\.json: format/);

    const out = join(dir, "report");
    const printed = await runCommand(reportCommand, "passkey", "--out", out, "--title", "Toy", ...paths);
    expect(printed).toContain("passkey-rope.svg, passkey-alibi.svg, passkey-seeds.html");
    const svg = readFileSync(join(out, "passkey-rope.svg"), "utf8");
    expect(svg).toContain("Toy: rope");
    expect(svg).toContain("mean of 2 seeds (0, 1)");
    expect(svg.match(/class="cell"/g)).toHaveLength(4);
    expect(svg).toContain('data-accuracy="0.75"');
    const html = readFileSync(join(out, "passkey-seeds.html"), "utf8");
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain("<h2>alibi</h2>");
    const json = JSON.parse(readFileSync(join(out, "passkey-seeds.json"), "utf8"));
    expect(json.format).toBe("posenc-passkey-seeds/1");
    await expect(runCommand(reportCommand, "passkey", "--out", out, ...paths)).rejects.toThrow(/--force/);
  });
});
