/**
 * The resolution-extrapolation path: config validation (one line naming the key), a tiny grid end to end
 * (runs, results.json, reports), determinism, resume and the output-folder guard.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseVisionConfig, visionModelConfig } from "../../src/lab/vision/config.js";
import { renderVisionMarkdown, writeVisionReports } from "../../src/lab/vision/report.js";
import { runVisionGrid } from "../../src/lab/vision/run.js";
import { PosencConfigError } from "../../src/util/validation.js";

const TINY = {
  name: "tiny",
  task: { id: "spatial_relation", params: { patchSize: 2 } },
  model: { numLayers: 1, dModel: 8, numHeads: 2, mlpRatio: 2 },
  encodings: [{ id: "rope-2d" }, { id: "learned-2d" }],
  train: { grid: 2, steps: 3, batchSize: 4 },
  eval: { grids: [2, 3], samples: 6, batchSize: 4 },
  seeds: [0, 1],
};

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "posenc-vision-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("vision config", () => {
  it("fills the defaults and accepts the tiny grid", () => {
    const config = parseVisionConfig(TINY);
    expect(config.train.lr).toBe(1e-3);
    expect(config.eval.grids).toEqual([2, 3]);
  });

  it.each([
    [{ ...TINY, extra: 1 }, /extra/],
    [{ ...TINY, eval: { grids: [2, 1] } }, /eval\.grids\[1\]/],
    [{ ...TINY, task: { id: "mnist" } }, /task\.id.*shapes/],
    [{ ...TINY, task: { id: "shapes", params: { size: 2 } } }, /task\.params.*size/],
    [{ ...TINY, encodings: [{ id: "rope-2d" }, { id: "rope-2d" }] }, /distinct/],
    [{ ...TINY, model: { ...TINY.model, dModel: 12, numHeads: 2 } }, /encodings\[0\].*multiple of 4/],
  ])("refuses bad input in one line (%#)", (input, pattern) => {
    let error: unknown;
    try {
      parseVisionConfig(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PosencConfigError);
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).not.toContain("\n");
  });
});

describe("vision grid", () => {
  it("runs every (encoding, seed), writes results and reports; the same config gives the same numbers", () => {
    const config = parseVisionConfig(TINY);
    const out = tempDir();
    const results = runVisionGrid(config, out, { resume: false });
    expect(results.runs.map((r) => `${r.encoding} s${r.seed}`)).toEqual([
      "rope-2d s0",
      "rope-2d s1",
      "learned-2d s0",
      "learned-2d s1",
    ]);
    expect(results.rows).toHaveLength(8);
    for (const run of results.runs) expect(run.trainCpuSeconds).toBeGreaterThan(0); // CPU time of the steps
    expect(renderVisionMarkdown(results)).toContain("| train s | train CPU s | tok/s |");
    for (const row of results.rows) expect(row.accuracy * 6).toBe(Math.round(row.accuracy * 6));
    expect(writeVisionReports(out, results)).toEqual([
      "report.md",
      "accuracy.svg",
      "attention.svg",
      "report.html",
    ]);
    // Attention pictures: first seed of each encoding, at the training grid (2) and the largest (3), 1 layer.
    expect(results.attention!.map((a) => `${a.encoding} s${a.seed} ${a.grid} q${a.query}`)).toEqual([
      "rope-2d s0 2 q3",
      "rope-2d s0 3 q4",
      "learned-2d s0 2 q3",
      "learned-2d s0 3 q4",
    ]);
    for (const a of results.attention!) {
      expect(a.heads).toHaveLength(2);
      for (const row of a.heads) {
        expect(row).toHaveLength(a.grid * a.grid);
        expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 5);
      }
    }
    const pictures = readFileSync(join(out, "attention.svg"), "utf8");
    expect(pictures.match(/stroke="#e69f00"/g)).toHaveLength(4 * 2); // the query cell, in every head's picture
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("what each head attends to");
    const svg = readFileSync(join(out, "accuracy.svg"), "utf8");
    expect(svg).toContain("grid side");
    expect(svg).toContain("training grid");
    expect(renderVisionMarkdown(results)).toContain("| encoding | seeds | 2x2 | 3x3 * |");
    const again = runVisionGrid(config, tempDir(), { resume: false });
    expect(again.rows).toEqual(results.rows);
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).rows).toEqual(results.rows);
  });

  it("video methods get their own ids from the lab (vrope: 4 coordinates, hope-video: scaled t), deterministically", () => {
    const config = parseVisionConfig({
      ...TINY,
      task: { id: "frame_order", params: { frames: 2, patchSize: 1 } },
      encodings: [{ id: "mrope" }, { id: "vrope" }, { id: "hope-video" }],
      seeds: [0],
    });
    expect([0, 1, 2].map((i) => visionModelConfig(config, i).idCoordinates)).toEqual([3, 4, 3]);
    expect(config.eval.temporalScale).toBe(1);
    const results = runVisionGrid(config, tempDir(), { resume: false });
    expect(results.rows.map((r) => `${r.encoding} ${r.grid}`)).toEqual([
      "mrope 2",
      "mrope 3",
      "vrope 2",
      "vrope 3",
      "hope-video 2",
      "hope-video 3",
    ]);
    expect(runVisionGrid(config, tempDir(), { resume: false }).rows).toEqual(results.rows);
    // Pictures of a clip: the query is the centre cell of the middle frame (frame 1 of 2), maps cover every frame.
    const hope = results.attention!.filter((a) => a.encoding === "hope-video");
    expect(hope.map((a) => [a.grid, a.frames, a.query, a.heads[0]!.length])).toEqual([
      [2, 2, 7, 8],
      [3, 2, 13, 18],
    ]);
    expect(() =>
      parseVisionConfig({ ...TINY, encodings: [{ stack: [{ id: "vrope" }, { id: "hope-video" }] }] }),
    ).toThrow(/encodings\[0\].*different id layouts/);
  });

  it("refuses a non-empty folder without resume; resume reads finished runs back, and checks them", () => {
    const config = parseVisionConfig({ ...TINY, seeds: [0] });
    const out = tempDir();
    const first = runVisionGrid(config, out, { resume: false });
    expect(() => runVisionGrid(config, out, { resume: false })).toThrow(/--resume/);
    const file = join(out, "runs", "rope-2d-s0.json");
    const saved = JSON.parse(readFileSync(file, "utf8"));
    saved.rows[0].accuracy = 0.5; // a finished run is read, not retrained
    writeFileSync(file, JSON.stringify(saved));
    const resumed = runVisionGrid(config, out, { resume: true });
    expect(resumed.rows[0]!.accuracy).toBe(0.5);
    expect(resumed.attention).toEqual(first.attention);
    expect(first.rows[0]!.accuracy).not.toBe(Number.NaN);
    saved.rows[0].grid = 7;
    writeFileSync(file, JSON.stringify(saved));
    expect(() => runVisionGrid(config, out, { resume: true })).toThrow(/rope-2d seed 0 at grids 2, 3/);
  });
});
