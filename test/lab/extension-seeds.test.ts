import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reportCommand } from "../../src/cli/commands/report.js";
import { curveName, readExtensionFile, summarizeExtensions } from "../../src/lab/report/extension-seeds.js";
import { runCommand } from "../helpers/run-command.js";

const row = (window: number, bitsPerChar: number) => ({
  window,
  stride: window / 2,
  windows: 3,
  chars: 100,
  bits: bitsPerChar * 100,
  bitsPerChar,
  rssBytes: 1,
  engineHeapBytes: 1,
  seconds: 0.1,
});
const curve = (method: string, finetuneSteps: number, values: [number, number]) => ({
  method,
  target: 32,
  finetuneSteps,
  block: method === "rope" ? null : { rope_scaling: { rope_type: "linear", factor: 2 } },
  rows: [row(16, values[0]), row(32, values[1])],
  ...(finetuneSteps ? { finetuneSeconds: 2, tokensPerSecond: 1000 } : {}),
});
const file = (encoding: string, seed: number, curves: unknown[], extra: Record<string, unknown> = {}) => ({
  format: "posenc-extension/1",
  checkpoint: `runs/${encoding}-s${seed}`,
  encoding,
  seed,
  trainedContext: 16,
  split: "test",
  cpuSeconds: 10,
  curves,
  ...extra,
});

function write(dir: string, name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe("posenc report extension: curves over seeds", () => {
  const dir = mkdtempSync(join(tmpdir(), "posenc-ext-seeds-"));
  const paths = [
    write(
      dir,
      "r0.json",
      file("rope", 0, [curve("rope", 0, [2, 4]), curve("pi", 0, [2.5, 3]), curve("pi", 10, [2.2, 2.4])]),
    ),
    write(
      dir,
      "r1.json",
      file("rope", 1, [curve("rope", 0, [2.2, 5]), curve("pi", 0, [2.7, 3.2]), curve("pi", 10, [2.0, 2.2])]),
    ),
    // A second fine-tune length of seed 0 repeats its training-free curves: kept once.
    write(dir, "r0b.json", file("rope", 0, [curve("pi", 0, [9, 9]), curve("pi", 20, [2.1, 2.3])])),
    write(dir, "a0.json", file("alibi", 0, [curve("rope", 0, [2.1, 2.1])])),
    // A segmented fine-tune is its own family.
    write(dir, "r0s.json", file("rope", 0, [{ ...curve("pi", 10, [2.3, 2.5]), finetuneSegments: 4 }])),
  ];

  it("mean and sample standard deviation per curve and context; the baseline named by its encoding", () => {
    const summary = summarizeExtensions(paths.map((path) => ({ path, file: readExtensionFile(path) })));
    const byName = Object.fromEntries(summary.curves.map((c) => [c.name, c]));
    expect(Object.keys(byName)).toEqual([
      "rope",
      "pi",
      "pi +10 steps",
      "pi +20 steps",
      "pi +10 steps (4 segments)",
      "alibi",
    ]);
    expect(byName.pi!.seeds).toEqual([0, 1]);
    const at32 = byName.rope!.points[1]!.stat;
    expect(at32.mean).toBeCloseTo(4.5, 12);
    expect(at32.std).toBeCloseTo(Math.SQRT1_2, 12); // values 4 and 5: sd = sqrt(((-.5)^2 + .5^2) / 1)
    expect(byName.pi!.points[0]!.stat.values).toEqual([2.5, 2.7]); // seed 0's first pi curve, not the repeat
    expect(byName["pi +20 steps"]!.points[1]!.stat.values).toEqual([2.3]);
    expect(summary.cpuSeconds).toBe(50);
  });

  it("writes Markdown, SVG (context and steps) and HTML; refuses mixed setups and bad files in one line", async () => {
    const out = join(dir, "report");
    const printed = await runCommand(reportCommand, "extension", "--out", out, "--title", "toy", ...paths);
    expect(printed).toContain("| rope | 2 | 2.100 ± 0.141 | 4.500 ± 0.707 |");
    expect(printed).toContain("| alibi | 1 | 2.100 | 2.100 |");
    const md = readFileSync(join(out, "extension-seeds.md"), "utf8");
    expect(md).toContain("| pi +10 steps | 2.200 / 2.000 | 2.400 / 2.200 |");
    // Context chart: every training-free curve and each family's longest fine-tune.
    const svg = readFileSync(join(out, "extension-seeds.svg"), "utf8");
    expect(svg.match(/class="curve"/g)).toHaveLength(5);
    expect(svg).toContain('data-curve="pi +20 steps"');
    expect(svg).not.toContain('data-curve="pi +10 steps"');
    // Steps chart: pi (0, 10, 20 steps) and pi with 4 segments (0, 10).
    const steps = readFileSync(join(out, "extension-steps.svg"), "utf8");
    expect(steps.match(/class="curve"/g)).toHaveLength(2);
    expect(steps).toContain('data-curve="pi (4 segments)"');
    expect(readFileSync(join(out, "extension-seeds.html"), "utf8")).not.toMatch(/<script|src="http/);
    await expect(runCommand(reportCommand, "extension", "--out", out, ...paths)).rejects.toThrow(
      /holds such a report; pass --force/,
    );
    const other = write(dir, "x.json", file("rope", 2, [curve("rope", 0, [1, 1])], { trainedContext: 8 }));
    await expect(
      runCommand(reportCommand, "extension", "--out", join(dir, "r2"), paths[0]!, other),
    ).rejects.toThrow(/Invalid .*x\.json: trainedContext: expected 16, received 8/);
    const bad = write(dir, "bad.json", file("rope", 0, [curve("rope", 0, [1, -1])]));
    await expect(runCommand(reportCommand, "extension", "--out", join(dir, "r3"), bad)).rejects.toThrow(
      /Invalid .*bad\.json: curves\[0\]\.rows\[1\]\.bits: expected a finite number >= 0, received -100/,
    );
  });
});

describe("curve names: where and how a curve was fine-tuned", () => {
  it("names the rows' length of a fine-tune on rows other than the target, and segments", () => {
    expect(curveName("rope", { method: "rope", finetuneSteps: 0 })).toBe("rope");
    expect(curveName("alibi", { method: "rope", finetuneSteps: 25 })).toBe("alibi +25 steps");
    expect(curveName("rope", { method: "giraffe-truncated", finetuneSteps: 100, finetuneLength: 64 })).toBe(
      "giraffe-truncated +100 steps at 64",
    );
    expect(curveName("rope", { method: "pi", finetuneSteps: 50, finetuneSegments: 4 })).toBe(
      "pi +50 steps (4 segments)",
    );
    // A file with finetuneLength reads back; a bad one is refused by key.
    const dir = mkdtempSync(join(tmpdir(), "posenc-ext-length-"));
    const good = { ...curve("pi", 10, [2, 3]), finetuneLength: 16 };
    expect(readExtensionFile(write(dir, "g.json", file("rope", 0, [good]))).curves[0]!.finetuneLength).toBe(
      16,
    );
    expect(() =>
      readExtensionFile(write(dir, "b.json", file("rope", 0, [{ ...good, finetuneLength: 0 }]))),
    ).toThrow(/curves\.0\.finetuneLength|curves\[0\]\.finetuneLength/);
  });
});

describe("reports over seeds keep apart what was read or fine-tuned differently", () => {
  it("a fine-tune on rows of another length and a method's non-default parameters are their own curves and lines", async () => {
    const { stepsLines, contextLines } = await import("../../src/lab/report/extension-charts.js");
    const dir = mkdtempSync(join(tmpdir(), "posenc-ext-families-"));
    const paths = [0, 1].map((seed) =>
      write(
        dir,
        `s${seed}.json`,
        file("rope", seed, [
          curve("giraffe-truncated", 0, [2.6, 2.9]),
          curve("giraffe-truncated", 10, [2.5, 2.6]),
          { ...curve("giraffe-truncated", 10, [2.4, 2.5]), finetuneLength: 16 },
          { ...curve("giraffe-power", 0, [2.7, 3.0]), params: { power: 1 } },
          curve("giraffe-power", 0, [2.65, 3.1]),
        ]),
      ),
    );
    const summary = summarizeExtensions(paths.map((path) => ({ path, file: readExtensionFile(path) })));
    expect(summary.curves.map((c) => [c.name, c.seeds.length])).toEqual([
      ["giraffe-truncated", 2],
      ["giraffe-truncated +10 steps", 2],
      ["giraffe-truncated +10 steps at 16", 2],
      ["giraffe-power (power 1)", 2],
      ["giraffe-power", 2],
    ]);
    // Steps chart at the target (32): one line per fine-tune family, each from the same training-free point.
    expect(stepsLines(summary, 32).map((l) => [l.name, l.points.map((p) => [p.x, p.stat.mean])])).toEqual([
      [
        "giraffe-truncated",
        [
          [0, 2.9],
          [10, 2.6],
        ],
      ],
      [
        "giraffe-truncated at 16",
        [
          [0, 2.9],
          [10, 2.5],
        ],
      ],
    ]);
    // Context chart: both fine-tunes drawn (each its family's longest), the two power settings apart.
    expect(contextLines(summary).map((l) => l.name)).toEqual(summary.curves.map((c) => c.name));
    // A bad parameter value is refused by key.
    const bad = write(
      dir,
      "bad.json",
      file("rope", 2, [{ ...curve("giraffe-power", 0, [1, 1]), params: { power: "1" } }]),
    );
    expect(() => readExtensionFile(bad)).toThrow(/curves\.0\.params|curves\[0\]\.params/);
  });
});
