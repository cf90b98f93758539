import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { crossEntropy, noGrad, tidy } from "../../src/engine/index.js";
import {
  BUCKET_PAD_MULTIPLE,
  bucketWindow,
  padBatch,
  trainingBatches,
  trainingPadLength,
} from "../../src/lab/batching.js";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { useSingleThreadKernels } from "../../src/lab/runtime.js";
import { STREAM, streamRng } from "../../src/lab/seeds.js";
import { buildRunModel, type RunSpec, scoredTargets, train } from "../../src/lab/train.js";
import { buildVocabulary } from "../../src/tasks/format.js";
import { createTask } from "../../src/tasks/registry.js";
import type { TaskBatch } from "../../src/tasks/types.js";
import { Rng } from "../../src/util/rng.js";
import { modelFactory } from "./tiny-model.js";

useSingleThreadKernels();

describe("right-padding of decoder batches", () => {
  it("pads rows with PAD, unscored, and keeps task position ids row by row", () => {
    const task = createTask("addition_coupled");
    const batch = task.sample(new Rng(1), 3, { min: 1, max: 3 });
    const pad = buildVocabulary(task.symbols).pad;
    const padded = padBatch(batch, batch.seqLen + 5, pad);
    expect(padded.seqLen).toBe(batch.seqLen + 5);
    for (let b = 0; b < 3; b++) {
      const row = (a: ArrayLike<number>, T: number) => Array.from(a).slice(b * T, (b + 1) * T);
      expect(row(padded.inputs, padded.seqLen)).toEqual([
        ...row(batch.inputs, batch.seqLen),
        ...Array(5).fill(pad),
      ]);
      expect(row(padded.mask, padded.seqLen)).toEqual([...row(batch.mask, batch.seqLen), 0, 0, 0, 0, 0]);
      expect(row(padded.positionIds as Float64Array, padded.seqLen)).toEqual([
        ...row(batch.positionIds as Float64Array, batch.seqLen),
        0,
        0,
        0,
        0,
        0,
      ]);
    }
    expect(padBatch(batch, batch.seqLen - 1, pad)).toBe(batch);
    expect(trainingPadLength(createTask("reverse", { vocabSize: 4 }), "decoder", { min: 1, max: 7 })).toBe(
      2 * 7 + 3,
    );
  });

  it("changes no logit at a real position of a causal transformer (padding is on the right)", () => {
    const config = parseExperimentConfig({
      task: { id: "reverse", params: { vocabSize: 4 } },
      model: { layers: 1, dModel: 8, heads: 2 },
      encodings: [{ id: "alibi" }],
      train: { length: "1..6", steps: 1 },
      eval: { length: "1..6" },
    });
    const { model, task } = buildRunModel({ config, encoding: config.encodings[0], seed: 0 });
    const batch = task.sample(new Rng(2), 4, { min: 1, max: 6 });
    const padded = padBatch(batch, batch.seqLen + 7, buildVocabulary(task.symbols).pad);
    const run = (b: typeof batch) =>
      tidy(() => noGrad(() => Array.from(model.forward(b, { rng: new Rng(0), training: false }).data)));
    const plain = run(batch);
    const wide = run(padded);
    const V = plain.length / (batch.batchSize * batch.seqLen);
    for (let b = 0; b < batch.batchSize; b++) {
      for (let t = 0; t < batch.seqLen; t++) {
        const at = (rows: number[], T: number) => rows.slice((b * T + t) * V, (b * T + t + 1) * V);
        const expected = at(plain, batch.seqLen);
        const got = at(wide, padded.seqLen);
        for (let i = 0; i < V; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
      }
    }
  });
});

/** Row b of a decoder batch as its real tokens and their masks/ids: what identifies an example. */
function rowKeys(batch: TaskBatch): string[] {
  const keys: string[] = [];
  for (let b = 0; b < batch.batchSize; b++) {
    const n = (batch.tokenCounts as Int32Array)[b];
    const at = (a: Int32Array | Uint8Array | Float64Array) =>
      Array.from(a.subarray(b * batch.seqLen, b * batch.seqLen + n));
    keys.push(
      JSON.stringify([
        batch.lengths[b],
        at(batch.inputs),
        at(batch.targets),
        at(batch.mask),
        batch.positionIds ? at(batch.positionIds) : 0,
      ]),
    );
  }
  return keys;
}

function padFraction(batches: TaskBatch[]): number {
  let real = 0;
  let total = 0;
  for (const b of batches) {
    total += b.batchSize * b.seqLen;
    for (const n of b.tokenCounts as Int32Array) real += n;
  }
  return 1 - real / total;
}

describe("length-bucketed training batches (train.bucketWindow)", () => {
  const copy = createTask("copy", { vocabSize: 16 });
  const pad = buildVocabulary(copy.symbols).pad;
  const spec = { batchSize: 64, length: { min: 1, max: 20 }, bucketWindow: 8 };
  const padTo = trainingPadLength(copy, "decoder", spec.length);

  it("trains exactly the window's K*B examples, sorted by length into K batches in a seeded order", () => {
    const window = bucketWindow(copy, spec, 3, 7, pad, padTo);
    expect(window).toHaveLength(8);
    const drawn = copy.sample(streamRng(7, STREAM.bucket, 3), 8 * 64, spec.length);
    expect(window.flatMap((w) => rowKeys(w.batch)).sort()).toEqual(rowKeys(drawn).sort());
    // Sorted: the batches' token-count ranges do not overlap, and each is padded to its longest row rounded up.
    const ranges = window
      .map((w) => Array.from(w.batch.tokenCounts as Int32Array))
      .map((c) => [Math.min(...c), Math.max(...c)])
      .sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < 8; k++) expect(ranges[k][0]).toBeGreaterThanOrEqual(ranges[k - 1][1]);
    for (const { batch } of window) {
      const longest = Math.max(...(batch.tokenCounts as Int32Array));
      expect(batch.seqLen).toBe(
        Math.min(Math.ceil(longest / BUCKET_PAD_MULTIPLE) * BUCKET_PAD_MULTIPLE, padTo),
      );
      expect(batch.batchSize).toBe(64);
    }
    // Not ordered short to long (no curriculum inside the window).
    const firsts = window.map((w) => (w.batch.tokenCounts as Int32Array)[0]);
    expect(firsts).not.toEqual([...firsts].sort((a, b) => a - b));
    // Same (seed, window): the same batches; another window: others.
    expect(bucketWindow(copy, spec, 3, 7, pad, padTo)).toEqual(window);
    expect(rowKeys(bucketWindow(copy, spec, 4, 7, pad, padTo)[0].batch)).not.toEqual(
      rowKeys(window[0].batch),
    );
  });

  it("cuts the padding of copy 1..20 at batch 64 from 45% to 19%", () => {
    const plain = Array.from({ length: 16 }, (_, s) =>
      padBatch(copy.sample(streamRng(1, STREAM.train, s), 64, spec.length), padTo, pad),
    );
    const bucketed = [0, 1].flatMap((w) => bucketWindow(copy, spec, w, 1, pad, padTo).map((x) => x.batch));
    expect(padFraction(plain)).toBeGreaterThan(0.43);
    expect(padFraction(plain)).toBeLessThan(0.47);
    expect(padFraction(bucketed)).toBeCloseTo(0.19, 2);
  });

  it("weights every scored token of a window as an unbucketed batch does on average (loss scales)", () => {
    const config = parseExperimentConfig({
      task: { id: "copy", params: { vocabSize: 16 } },
      model: { layers: 1, dModel: 8, heads: 2 },
      encodings: [{ id: "nope" }],
      train: { length: "1..20", steps: 1, batchSize: 16, bucketWindow: 4 },
      eval: { length: "1..4" },
    });
    const { model } = buildRunModel({ config, encoding: config.encodings[0], seed: 0 });
    const window = bucketWindow(copy, config.train, 0, 2, pad, padTo);
    const all = copy.sample(streamRng(2, STREAM.bucket, 0), 4 * 16, config.train.length);
    const meanLoss = (batch: TaskBatch) =>
      tidy(() =>
        noGrad(() =>
          crossEntropy(
            model.forward(batch, { rng: new Rng(0), training: false }),
            scoredTargets(batch),
          ).item(),
        ),
      );
    // sum_j scale_j * mean_j = K * (mean over every scored token of the window)
    const weighted = window.reduce((acc, w) => acc + w.lossScale * meanLoss(w.batch), 0);
    expect(weighted).toBeCloseTo(4 * meanLoss(all), 4);
    expect(window.reduce((a, w) => a + w.lossScale, 0)).toBeCloseTo(4, 12);
    expect(Math.min(...window.map((w) => w.lossScale))).toBeLessThan(0.5);
  });

  it("a bucketed run stopped mid-window and resumed equals the uninterrupted run, bit for bit", async () => {
    const config = parseExperimentConfig({
      task: { id: "reverse_string", params: { vocabSize: 8 } },
      encodings: [{ id: "rope" }],
      train: { length: "1..8", steps: 30, batchSize: 16, checkpointEvery: 7, lr: 0.05, bucketWindow: 4 },
      eval: { length: "1..10", samplesPerLength: 4 },
      seeds: [3],
    });
    const run: RunSpec = { config, encoding: config.encodings[0], seed: 3 };
    const bits = (o: Awaited<ReturnType<typeof train>>) =>
      o.model.parameters().map((p) => Array.from(new Uint32Array(p.data.slice().buffer)));
    const whole = await train(run, { modelFactory });
    const dir = mkdtempSync(join(tmpdir(), "posenc-bucket-resume-"));
    await train(run, { modelFactory, checkpointDir: dir, stopAfter: 17 });
    const resumed = await train(run, { modelFactory, checkpointDir: dir, resume: true });
    expect(resumed.startStep).toBe(14); // inside window 3 (steps 12..15)
    expect(resumed.lossHistory).toEqual(whole.lossHistory);
    expect(bits(resumed)).toEqual(bits(whole));
    expect(whole.lossHistory[29]).toBeLessThan(whole.lossHistory[0]);
    // And it trains on other batches than the unbucketed run.
    const plain = await train(
      { ...run, config: { ...config, train: { ...config.train, bucketWindow: undefined } } },
      { modelFactory },
    );
    expect(plain.lossHistory).not.toEqual(whole.lossHistory);
  });

  it("is refused for the encoder layout, whose batches hold one length each", () => {
    const task = createTask("reverse", { vocabSize: 4 });
    const config = parseExperimentConfig({
      task: { id: "reverse", params: { vocabSize: 4 }, layout: "encoder" },
      encodings: [{ id: "nope" }],
      train: { length: "1..6", steps: 1, bucketWindow: 4 },
      eval: { length: "1..6" },
    });
    expect(() => trainingBatches(task, config, 0, 0)).toThrow(
      "Invalid train.bucketWindow: expected 1 or nothing for the encoder layout",
    );
  });
});

describe("segmented training batches (train.segments, arXiv:2310.14633)", () => {
  const base = {
    task: { id: "brown_chars" },
    model: { layers: 1, dModel: 8, heads: 2 },
    encodings: [{ id: "rope" }],
    train: { length: 16, steps: 2, batchSize: 3, segments: { span: 64, count: 4 } },
    eval: { length: 16, taskParams: { split: "validation" } },
  };

  it("rows of L tokens with ids in [0, span) that the model rotates by: a shift of every id changes no logit", () => {
    const config = parseExperimentConfig(base);
    const run: RunSpec = { config, encoding: config.encodings[0]!, seed: 0 };
    const { model, task } = buildRunModel(run);
    const pad = buildVocabulary(task.symbols).pad;
    const { batch } = trainingBatches(task, config, 0, pad)(0, streamRng(0, STREAM.train, 0));
    expect(batch.seqLen).toBe(16);
    const ids = Array.from(batch.positionIds!);
    expect(Math.max(...ids)).toBeLessThan(64);
    expect(ids.some((id, t) => t % 16 > 0 && id > ids[t - 1]! + 1)).toBe(true); // gaps between segments
    const logits = (positionIds?: Float64Array) =>
      tidy(() =>
        noGrad(() =>
          Array.from(
            model.forward(positionIds ? { ...batch, positionIds } : { ...batch, positionIds: undefined }, {
              rng: new Rng(0),
              training: false,
            }).data,
          ),
        ),
      );
    const segmented = logits(batch.positionIds);
    const shifted = logits(batch.positionIds!.map((id) => id + 5));
    expect(Math.max(...segmented.map((v, i) => Math.abs(v - shifted[i]!)))).toBeLessThan(1e-4);
    const contiguous = logits();
    expect(contiguous.some((v, i) => Math.abs(v - segmented[i]!) > 1e-3)).toBe(true);
  });

  it("trains, and refuses what it cannot do, naming the key", async () => {
    const config = parseExperimentConfig(base);
    const outcome = await train({ config, encoding: config.encodings[0]!, seed: 0 });
    expect(outcome.lossHistory).toHaveLength(2);
    expect(outcome.lossHistory.every(Number.isFinite)).toBe(true);
    const bad =
      (
        train: Record<string, unknown>,
        task: Record<string, unknown> = base.task,
        evalSection: object = base.eval,
      ) =>
      () =>
        parseExperimentConfig({ ...base, task, eval: evalSection, train: { ...base.train, ...train } });
    expect(bad({}, { id: "reverse", params: { vocabSize: 4 } }, { length: 16 })).toThrow(
      /Invalid train\.segments: .*a text task/,
    );
    expect(bad({ length: "8..16" })).toThrow(/Invalid train\.length: .*one length with train\.segments/);
    expect(bad({ segments: { span: 64, count: 17 } })).toThrow(/Invalid train\.segments\.count/);
    expect(bad({ segments: { span: 8, count: 2 } })).toThrow(
      /Invalid train\.segments\.span: .*>= the row length 16/,
    );
    expect(bad({ segments: { span: 64, count: 2, gap: 1 } })).toThrow(/train\.segments/);
  });
});
