/**
 * The fields tasks scored with perfect and known predictors, the coordinate MLP's initialisations, training that
 * lowers the loss, and a resumed run that is bit-identical to an uninterrupted one.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getCoordinateEncoding } from "../encodings/coordinate/registry.js";
import { initEngineSync } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { generateImage, pixelCoordinates } from "./images.js";
import { methodPreset } from "./methods.js";
import { CoordinateMlp } from "./mlp.js";
import { planFromConfig } from "./plan-file.js";
import { resultsTable, summarize } from "./report.js";
import { runFields } from "./run.js";
import { SCENE_2D, SCENE_3D } from "./shapes.js";
import { heldOutSplit, imageTask, type Predictor, sdfTask } from "./tasks.js";
import { clockSeconds, trainField } from "./train.js";

initEngineSync({ kernels: "reference" });

describe("tasks score known predictors exactly", () => {
  it("image: the target itself scores PSNR Infinity and SSIM 1; batches are all pixels or a seeded subset", () => {
    const task = imageTask(16, "square");
    const target = generateImage("square", 16, 16).pixels;
    const perfect: Predictor = (_p, n) => target.slice(0, n * 3);
    const evaluation = task.evaluate(perfect, true);
    expect(evaluation.metrics.psnr).toBe(Number.POSITIVE_INFINITY);
    expect(evaluation.metrics.ssim).toBeCloseTo(1, 12);
    expect(evaluation.files.map((f) => f.name)).toEqual(["reconstruction.png"]);
    const black: Predictor = (_p, n) => new Float64Array(n * 3);
    expect(task.evaluate(black, false).metrics.psnr).toBeCloseTo(10 * Math.log10(4), 10);
    expect(task.batch(new Rng(1), 1e6).n).toBe(256);
    const a = task.batch(new Rng(3), 10);
    expect(task.batch(new Rng(3), 10)).toEqual(a);
    // Each sampled target is the pixel at the sampled coordinate.
    const coords = pixelCoordinates(16, 16);
    for (let i = 0; i < 10; i++) {
      const p = [...coords.keys()]
        .filter((k) => k % 2 === 0)
        .findIndex((k) => coords[k] === a.x[2 * i] && coords[k + 1] === a.x[2 * i + 1]);
      expect(Array.from(a.y.subarray(3 * i, 3 * i + 3))).toEqual(
        Array.from(target.subarray(3 * p, 3 * p + 3)),
      );
    }
  });

  it("image, held out: trains on the even-row even-column quarter and scores PSNR on the other pixels", () => {
    const split = heldOutSplit(4);
    expect(split.train).toEqual([0, 2, 8, 10]);
    expect(split.test).toHaveLength(12);
    const task = imageTask(16, "square", true);
    const target = generateImage("square", 16, 16).pixels;
    const coords = pixelCoordinates(16, 16);
    // Every training batch holds only training pixels: the full batch is the 64 of the quarter.
    const all = task.batch(new Rng(1), 1e6);
    expect(all.n).toBe(64);
    const quarter = heldOutSplit(16).train;
    expect(Array.from(all.x)).toEqual(quarter.flatMap((p) => [coords[2 * p], coords[2 * p + 1]]));
    const sampled = task.batch(new Rng(2), 50);
    const allowed = new Set(quarter.map((p) => `${coords[2 * p]},${coords[2 * p + 1]}`));
    for (let i = 0; i < 50; i++)
      expect(allowed.has(`${sampled.x[2 * i]},${sampled.x[2 * i + 1]}`)).toBe(true);
    // A predictor right on the training pixels and black elsewhere: train PSNR Infinity, held-out PSNR that of
    // black against the held-out pixels (the square's white pixels there: 48 of the 192, all channels).
    const memorise: Predictor = (_p, n) => {
      const out = new Float64Array(n * 3);
      for (const p of quarter) out.set(target.subarray(3 * p, 3 * p + 3), 3 * p);
      return out;
    };
    const m = task.evaluate(memorise, false).metrics;
    expect(m.trainPsnr).toBe(Number.POSITIVE_INFINITY);
    const test = heldOutSplit(16).test;
    const white = test.filter((p) => target[3 * p] === 1).length;
    expect(white).toBe(48);
    expect(m.psnr).toBeCloseTo(10 * Math.log10(test.length / white), 10);
    expect(task.quickScore(memorise)).toBeCloseTo(m.psnr, 12);
    expect(() => planFromConfig({ task: "sdf2d", methods: ["relu"], heldOut: true })).toThrow(/heldOut/);
    expect(() => planFromConfig({ task: "image", methods: ["relu"], heldOut: "yes" })).toThrow(/heldOut/);
    expect(planFromConfig({ task: "image", methods: ["relu"], heldOut: true }).heldOut).toBe(true);
  });

  it("sdf2d: the exact SDF scores IoU 1 and Chamfer 0 (thin parts too); a shrunken field scores worse", () => {
    const task = sdfTask(2, 96);
    const exact: Predictor = (points, n) =>
      Float64Array.from({ length: n }, (_, i) => SCENE_2D.sdf([points[2 * i], points[2 * i + 1]]));
    const m = task.evaluate(exact, true).metrics;
    expect(m).toEqual({ iou: 1, thinIou: 1, chamfer: 0, thinChamfer: 0 });
    const eroded: Predictor = (points, n) => exact(points, n).map((v) => v + 0.02);
    const e = task.evaluate(eroded, false).metrics;
    expect(e.iou).toBeLessThan(0.95);
    expect(e.thinIou).toBeLessThan(e.iou); // thin parts lose most when the surface moves 0.02
    expect(e.chamfer).toBeGreaterThan(0.015);
    const batch = task.batch(new Rng(2), 8);
    for (let i = 0; i < 8; i++) expect(batch.y[i]).toBe(SCENE_2D.sdf([batch.x[2 * i], batch.x[2 * i + 1]]));
  });

  it("sdf3d: the exact SDF scores IoU 1 and Chamfer 0, and writes PLY, OBJ and a render", () => {
    const task = sdfTask(3, 20);
    const exact: Predictor = (p, n) =>
      Float64Array.from({ length: n }, (_, i) => SCENE_3D.sdf([p[3 * i], p[3 * i + 1], p[3 * i + 2]]));
    const evaluation = task.evaluate(exact, true);
    expect(evaluation.metrics.iou).toBe(1);
    expect(evaluation.metrics.chamfer).toBe(0);
    expect(evaluation.files.map((f) => f.name)).toEqual(["mesh.ply", "mesh.obj", "render.png"]);
  }, 60_000); // a 20^3 grid, Chamfer and a render: seconds on a loaded machine
});

describe("CoordinateMlp", () => {
  const encoder = () => getCoordinateEncoding("identity").create(2, new Rng(0));
  it("SIREN/SPDER init: first layer U(-1/n, 1/n), later layers U(-sqrt(6/n)/30, sqrt(6/n)/30)", () => {
    for (const activation of ["siren", "spder"] as const) {
      const mlp = new CoordinateMlp(
        encoder(),
        { hidden: 32, layers: 2, activation, architecture: "plain", outputs: 3 },
        new Rng(1),
      );
      const [w0, , w1, , wo] = mlp.parameters;
      expect(Math.max(...w0.toArray().map(Math.abs))).toBeLessThanOrEqual(1 / 2);
      expect(Math.max(...w0.toArray().map(Math.abs))).toBeGreaterThan(0.4);
      const bound = Math.sqrt(6 / 32) / 30;
      for (const w of [w1, wo]) {
        expect(Math.max(...w.toArray().map(Math.abs))).toBeLessThanOrEqual(bound);
        expect(Math.max(...w.toArray().map(Math.abs))).toBeGreaterThan(0.8 * bound);
      }
      expect(mlp.parameterCount).toBe(2 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3);
    }
  });

  it("progressive (PINs) needs a banded encoder, sums one head per band, and counts every parameter", () => {
    expect(
      () =>
        new CoordinateMlp(
          encoder(),
          { hidden: 8, layers: 1, activation: "relu", architecture: "progressive", outputs: 1 },
          new Rng(0),
        ),
    ).toThrow(/pins/);
    const pins = getCoordinateEncoding("pins").create(2, new Rng(0), { levels: 3, features: 4 });
    const mlp = new CoordinateMlp(
      pins,
      { hidden: 8, layers: 1, activation: "relu", architecture: "progressive", outputs: 1 },
      new Rng(0),
    );
    // block 0: 8 -> 8; blocks 1, 2: 8 + 8 -> 8; three heads 8 -> 1.
    expect(mlp.parameterCount).toBe(8 * 8 + 8 + 2 * (16 * 8 + 8) + 3 * (8 + 1));
  });
});

describe("training", () => {
  const spec = (steps: number) => ({
    task: imageTask(16, "square"),
    method: methodPreset("image", "gaussian-fourier", 16, 2),
    seed: 4,
    steps,
    batch: 64,
    evalEvery: 5,
    checkpointEvery: 4,
  });

  it("lowers the loss, and a run killed after a checkpoint resumes bit-identically", () => {
    const whole = trainField(spec(10), mkdtempSync(join(tmpdir(), "fields-a-"))).result;
    expect(whole.lossHistory[9]).toBeLessThan(whole.lossHistory[0]);
    const dir = mkdtempSync(join(tmpdir(), "fields-b-"));
    expect(() =>
      trainField(spec(10), dir, {
        onStep: (step) => {
          if (step === 6) throw new Error("killed");
        },
      }),
    ).toThrow("killed");
    expect(JSON.parse(readFileSync(join(dir, "checkpoint.json"), "utf8")).step).toBe(4);
    const resumed = trainField(spec(10), dir).result;
    expect(resumed.lossHistory).toEqual(whole.lossHistory);
    expect(resumed.metrics).toEqual(whole.metrics);
    expect(readdirSync(dir).filter((f) => f.endsWith(".safetensors"))).toEqual([
      "weights-000010.safetensors",
    ]);
    expect(() => trainField({ ...spec(10), seed: 5 }, dir)).toThrow(/a different or damaged run/);
  });

  it("runs a plan over methods and seeds, refuses a used folder without --resume, and reports mean +- std", () => {
    const plan = planFromConfig({
      task: "image",
      size: 16,
      methods: ["relu", { name: "rff-small", preset: "gaussian-fourier", options: { features: 8 } }],
      seeds: 2,
      steps: 3,
      batch: 32,
      hidden: 8,
      layers: 1,
    });
    expect(plan.methods[1].options).toEqual({ features: 8, sigma: 10 });
    const out = join(mkdtempSync(join(tmpdir(), "fields-c-")), "run");
    const results = runFields(plan, out, { resume: false });
    expect(results).toHaveLength(4);
    expect(() => runFields(plan, out, { resume: false })).toThrow(/--resume/);
    expect(runFields(plan, out, { resume: true }).map((r) => r.metrics)).toEqual(
      results.map((r) => r.metrics),
    );
    expect(() => runFields({ ...plan, steps: 4 }, out, { resume: true })).toThrow(/different plan/);
    const rows = summarize(results);
    const psnrs = results.filter((r) => r.method.name === "relu").map((r) => r.metrics.psnr);
    expect(rows[0].metrics.psnr.mean).toBeCloseTo((psnrs[0] + psnrs[1]) / 2, 12);
    expect(rows[0].metrics.psnr.std).toBeCloseTo(Math.abs(psnrs[0] - psnrs[1]) / Math.SQRT2, 12);
    expect(resultsTable(results)).toContain("| rff-small |");
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("data:image/png;base64,");
    expect(html).toContain("<svg");
    expect(() => planFromConfig({ task: "image", methods: ["relu"], steps: 0 })).toThrow(/steps/);
    expect(() => planFromConfig({ task: "image", methods: ["relu"], colour: 1 })).toThrow(/colour/);
    expect(() => planFromConfig({ task: "image", methods: ["relu", "relu"] })).toThrow(/unique method names/);
  });

  it("shards split the runs of one folder; the last shard writes the tables, equal to an unsharded run", () => {
    const plan = planFromConfig({
      task: "image",
      size: 16,
      methods: ["relu", "frequency"],
      seeds: 2,
      steps: 2,
      batch: 16,
      hidden: 4,
      layers: 1,
    });
    const out = join(mkdtempSync(join(tmpdir(), "fields-s-")), "run");
    const first = runFields(plan, out, { resume: true, shard: { index: 1, count: 2 } });
    // Training goes seed by seed (relu/0, frequency/0, relu/1, frequency/1); shard 1 of 2 takes every other run.
    expect(first.map((r) => `${r.method.name}/${r.seed}`)).toEqual(["relu/0", "relu/1"]);
    expect(readdirSync(out)).not.toContain("results.md");
    const second = runFields(plan, out, { resume: true, shard: { index: 2, count: 2 } });
    expect(second).toHaveLength(4);
    expect(readdirSync(out)).toContain("results.md");
    const whole = runFields(plan, join(mkdtempSync(join(tmpdir(), "fields-w-")), "run"), { resume: false });
    expect(second.map((r) => r.metrics)).toEqual(whole.map((r) => r.metrics));
  });

  it("the cpu clock counts this process's CPU seconds; a cpu budget stops the run; a bad clock is refused", () => {
    const before = clockSeconds("cpu");
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += Math.sqrt(i);
    expect(x).toBeGreaterThan(0);
    const used = clockSeconds("cpu") - before;
    expect(used).toBeGreaterThan(0);
    const plan = planFromConfig({
      task: "image",
      size: 16,
      methods: ["relu"],
      steps: 1_000_000,
      budgetSeconds: 0.05,
      clock: "cpu",
      batch: 16,
      hidden: 4,
      layers: 1,
    });
    expect(plan.clock).toBe("cpu");
    const [r] = runFields(plan, join(mkdtempSync(join(tmpdir(), "fields-b-")), "run"), { resume: false });
    expect(r.trainSeconds).toBeGreaterThanOrEqual(0.05);
    expect(r.steps).toBeLessThan(1_000_000);
    expect(r.curve[r.curve.length - 1].seconds).toBe(r.trainSeconds);
    expect(() => planFromConfig({ task: "image", methods: ["relu"], clock: "gpu" })).toThrow(/clock/);
  });
});
