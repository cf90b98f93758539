import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reportCommand } from "../../src/cli/commands/report.js";
import { compareFigure, compareResults } from "../../src/lab/report/compare.js";
import type { ResultsFile } from "../../src/lab/results.js";
import { readResultsFile } from "../../src/lab/results-file.js";
import { runCommand } from "../helpers/run-command.js";

// A committed grid (copy-nope: 5 encodings x 3 seeds, trained 1..20, tested 1..40) as a valid results file.
const COPY_NOPE = "experiments/copy-nope/results.json";

describe("compareFigure: a difference of means against the seeds' spread (Welch's test, 5%)", () => {
  it("bound = t(0.975, nu) se with the Welch-Satterthwaite nu; textbook t quantiles", () => {
    // Equal spreads, 3 seeds a side: nu = 4, t = 2.776445 (t table); se = sqrt(2 x 0.01^2 / 3).
    const moved = compareFigure([0.1, 0.12, 0.11], [0.5, 0.52, 0.51]);
    expect(moved.bound).toBeCloseTo(2.776445 * Math.sqrt(0.0002 / 3), 6);
    expect([moved.within, moved.rule]).toEqual([false, null]);
    // One side without spread: nu = n_A - 1 = 2, t = 4.302653; se = 1/sqrt(3).
    const oneSided = compareFigure([0, 1, 2], [2.4, 2.4, 2.4]);
    expect(oneSided.bound).toBeCloseTo(4.302653 / Math.sqrt(3), 6);
    expect([oneSided.difference, oneSided.within]).toEqual([expect.closeTo(1.4, 12), true]);
    // Two seeds a side, equal spreads: nu = 2.
    expect(compareFigure([0.2, 0.4], [0.3, 0.5]).bound).toBeCloseTo(
      4.302653 * Math.sqrt(0.02 / 2 + 0.02 / 2),
      6,
    );
    // copy-nope's NoPE exact match at 21..25, committed against rerun: well within.
    const f = compareFigure([0.42, 0.3, 0.54], [0.4, 0.29, 0.51]);
    expect(f.difference).toBeCloseTo(-0.02, 12);
    expect([f.within, f.rule]).toEqual([true, "spread"]);
  });

  it("at the ceiling: no spread, so only the tolerance (default 0.01) keeps a tiny difference unchanged", () => {
    expect(compareFigure([1, 1, 1], [1, 1, 1])).toMatchObject({ bound: 0, within: true, rule: "spread" });
    expect(compareFigure([1, 1, 1], [0.995, 0.995, 0.995])).toMatchObject({
      within: true,
      rule: "tolerance",
    });
    expect(compareFigure([1, 1, 1], [0.98, 0.98, 0.98])).toMatchObject({ within: false, rule: null });
    expect(compareFigure([1, 1, 1], [0.995, 0.995, 0.995], 0)).toMatchObject({ within: false });
  });

  it("one seed on a side has no spread: not judged", () => {
    expect(compareFigure([0.5], [0.9, 0.8])).toMatchObject({ within: null, rule: null });
  });
});

describe("compareResults and posenc report compare", () => {
  const scratch = mkdtempSync(join(tmpdir(), "posenc-compare-"));
  const base = readResultsFile(COPY_NOPE);
  const write = (name: string, file: ResultsFile) => {
    const path = join(scratch, name);
    writeFileSync(path, JSON.stringify(file));
    return path;
  };

  it("a file against itself: every figure unchanged, difference 0", () => {
    const c = compareResults(base, base, { extraLengths: { min: 21, max: 25 } });
    // 5 encodings x 3 ranges (1..20, 21..40, 21..25) x 2 metrics.
    expect(c.figures).toHaveLength(30);
    expect(c.figures.every((f) => f.difference === 0 && f.within === true)).toBe(true);
    expect(c.figures.slice(0, 6).map((f) => [f.encoding, f.lengths, f.metric])).toEqual([
      ["nope", "1..20", "sequenceAccuracy"],
      ["nope", "1..20", "tokenAccuracy"],
      ["nope", "21..40", "sequenceAccuracy"],
      ["nope", "21..40", "tokenAccuracy"],
      ["nope", "21..25", "sequenceAccuracy"],
      ["nope", "21..25", "tokenAccuracy"],
    ]);
  });

  it("finds a moved figure: one encoding's beyond-training accuracy lowered by 0.3 on every seed", () => {
    const moved: ResultsFile = {
      ...base,
      rows: base.rows.map((r) =>
        r.encoding === "alibi" && r.length > 20
          ? {
              ...r,
              sequenceAccuracy: Math.max(0, r.sequenceAccuracy - 0.3),
              tokenAccuracy: r.tokenAccuracy - 0.3,
            }
          : r,
      ),
    };
    const c = compareResults(base, moved);
    const outside = c.figures.filter((f) => !f.within);
    expect(outside.map((f) => [f.encoding, f.lengths, f.metric])).toEqual([
      ["alibi", "21..40", "sequenceAccuracy"],
      ["alibi", "21..40", "tokenAccuracy"],
    ]);
    expect(outside[1]!.difference).toBeCloseTo(-0.3, 9);
  });

  it("prints Markdown or JSON; encodings of one side only are listed, not compared", async () => {
    const fewer: ResultsFile = {
      ...base,
      runs: base.runs.filter((r) => r.encoding !== "t5"),
      rows: base.rows.filter((r) => r.encoding !== "t5"),
    };
    const b = write("fewer.json", fewer);
    const md = await runCommand(reportCommand, "compare", COPY_NOPE, b);
    expect(md).toContain("| encoding | lengths | metric | A | B | B - A | bound | within spread |");
    expect(md).toContain(
      "| nope | 1..20 | exact match | 0.98 ± 0.01 (0.97/0.99/0.99) | 0.98 ± 0.01 (0.97/0.99/0.99) | +0.000 | 0.028 | yes |",
    );
    expect(md).toContain(
      "16 of 16 figures within the seed spread or the tolerance (0 by the tolerance only).",
    );
    expect(md).toContain("Only in A (not compared): t5.");
    const json = JSON.parse(
      await runCommand(reportCommand, "compare", COPY_NOPE, b, "--json", "--lengths", "21..25"),
    );
    expect(json.figures).toHaveLength(24);
    expect(json.onlyA).toEqual(["t5"]);
    expect(json.tolerance).toBe(0.01);
  });

  it("refuses bad input in one line, before any output", async () => {
    const otherTask = write("task.json", {
      ...base,
      config: { ...base.config, task: { ...base.config.task, id: "reverse_string" } },
      rows: base.rows.map((r) => ({ ...r, task: "reverse_string" })),
    });
    const corrupt = join(scratch, "corrupt.json");
    writeFileSync(corrupt, "{ not json");
    const refusals: [string[], RegExp][] = [
      [["compare", COPY_NOPE], /give exactly two results.json files \(A, then B\), received 1/],
      [
        ["compare", COPY_NOPE, otherTask],
        /task\.json: config\.task\.id: expected "copy" \(as in experiments\/copy-nope\/results\.json\), received "reverse_string"$/,
      ],
      [
        ["compare", COPY_NOPE, COPY_NOPE, "--lengths", "50..60"],
        /--lengths: expected lengths tested in both files, received "50\.\.60"/,
      ],
      [["compare", COPY_NOPE, COPY_NOPE, "--lengths", "9..3"], /--lengths must be/],
      [
        ["compare", COPY_NOPE, COPY_NOPE, "--tolerance", "-1"],
        /--tolerance must be a number from 0 to 1, received "-1"/,
      ],
      [["compare", COPY_NOPE, COPY_NOPE, "--out", scratch], /--out is not one of its flags/],
      [["compare", COPY_NOPE, corrupt], /corrupt\.json/],
      [["merge", COPY_NOPE, "--json", "--out", scratch], /--json is for 'report compare'/],
    ];
    for (const [args, message] of refusals) {
      await expect(runCommand(reportCommand, ...args)).rejects.toThrow(message);
    }
    // The committed file is untouched.
    expect(readFileSync(COPY_NOPE, "utf8")).toContain('"name": "copy-nope"');
  });
});
