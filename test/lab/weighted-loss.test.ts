/**
 * The weighted part of the training loss (TaskBatch.weightedGroup, train.ts batchLoss) and its one producer,
 * brown_passkey's answerWeight: values and gradients against a float64 reference, the group's rows kept by the
 * batching, and which positions the task puts in the group.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/engine/index.js";
import { padBatch } from "../../src/lab/batching.js";
import { batchLoss } from "../../src/lab/train.js";
import { createTask } from "../../src/tasks/registry.js";
import { decodeChars } from "../../src/tasks/text/char-lm.js";
import type { TaskBatch } from "../../src/tasks/types.js";
import { Rng } from "../../src/util/rng.js";

/** Cross-entropy of one row in float64: lse(z) - z_t. */
function rowLoss(z: ArrayLike<number>, t: number): number {
  const max = Math.max(...Array.from(z));
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += Math.exp(z[c] - max);
  return max + Math.log(sum) - z[t];
}

describe("batchLoss: (1 - w) mean CE over the rest + w mean CE over the weighted group", () => {
  const rows = 6;
  const vocab = 5;
  const rng = new Rng(3);
  const logits = Array.from({ length: rows * vocab }, () => rng.next() * 4 - 2);
  const targets = Int32Array.from([1, 4, 0, 2, 3, 1]);
  const mask = Uint8Array.from([1, 1, 0, 1, 1, 1]); // row 2 unscored
  const group = Uint8Array.from([0, 0, 1, 0, 1, 1]); // row 2 in the group but unscored: ignored
  const batch = (weightedGroup?: TaskBatch["weightedGroup"]): TaskBatch => ({
    inputs: new Int32Array(rows),
    targets,
    mask,
    batchSize: 1,
    seqLen: rows,
    lengths: Int32Array.from([rows]),
    layout: "decoder",
    ...(weightedGroup ? { weightedGroup } : {}),
  });
  const z = (r: number) => logits.slice(r * vocab, (r + 1) * vocab);
  const mean = (rs: number[]) => rs.reduce((a, r) => a + rowLoss(z(r), targets[r]), 0) / rs.length;

  it("equals the float64 reference, and the plain mean without a group", () => {
    const w = 0.7;
    const expected = (1 - w) * mean([0, 1, 3]) + w * mean([4, 5]);
    const loss = batchLoss(tensor(logits, [rows, vocab]), batch({ mask: group, weight: w }));
    expect(loss.item()).toBeCloseTo(expected, 5);
    const plain = batchLoss(tensor(logits, [rows, vocab]), batch());
    expect(plain.item()).toBeCloseTo(mean([0, 1, 3, 4, 5]), 5);
  });

  it("gives a group row w / |G| (softmax - onehot) and a rest row (1 - w) / |S| of it", () => {
    const w = 0.25;
    const x = tensor(logits, [rows, vocab], true);
    batchLoss(x, batch({ mask: group, weight: w })).backward();
    const grad = x.grad as Float32Array;
    for (const [r, scale] of [
      [4, w / 2],
      [0, (1 - w) / 3],
      [2, 0],
    ] as const) {
      const zr = z(r);
      const max = Math.max(...zr);
      const sum = zr.reduce((a, v) => a + Math.exp(v - max), 0);
      for (let c = 0; c < vocab; c++) {
        const p = Math.exp(zr[c] - max) / sum;
        expect(grad[r * vocab + c]).toBeCloseTo(scale * (p - (c === targets[r] ? 1 : 0)), 6);
      }
    }
  });

  it("drops an empty part: an all-group or group-free batch is the plain mean", () => {
    const none = batchLoss(tensor(logits, [rows, vocab]), batch({ mask: new Uint8Array(rows), weight: 0.9 }));
    expect(none.item()).toBeCloseTo(mean([0, 1, 3, 4, 5]), 5);
    const all = batchLoss(
      tensor(logits, [rows, vocab]),
      batch({ mask: new Uint8Array(rows).fill(1), weight: 0.1 }),
    );
    expect(all.item()).toBeCloseTo(mean([0, 1, 3, 4, 5]), 5);
  });
});

describe("brown_passkey answerWeight", () => {
  const isPasskeyRow = (batch: TaskBatch, b: number) =>
    decodeChars(batch.inputs.subarray(b * batch.seqLen, (b + 1) * batch.seqLen)).includes("pass key is");

  it("puts exactly the k answer digits of passkey rows in the group, with the weight given", () => {
    const params = { split: "validation", passkeyFraction: 0.5, passkeyDigits: 5 };
    const batch = createTask("brown_passkey", { ...params, answerWeight: 0.4 }).sample(new Rng(8), 24, 120);
    const plain = createTask("brown_passkey", params).sample(new Rng(8), 24, 120);
    expect(plain.weightedGroup).toBeUndefined();
    expect(batch.inputs).toEqual(plain.inputs);
    expect(batch.mask).toEqual(plain.mask); // every position still scored ("all")
    expect(batch.weightedGroup?.weight).toBe(0.4);
    const group = batch.weightedGroup?.mask as Uint8Array;
    let passkeyRows = 0;
    for (let b = 0; b < 24; b++) {
      const inGroup = Array.from(group.subarray(b * 120, (b + 1) * 120)).flatMap((m, t) => (m ? [t] : []));
      if (isPasskeyRow(batch, b)) {
        passkeyRows++;
        expect(inGroup).toEqual([115, 116, 117, 118, 119]);
        expect(decodeChars(inGroup.map((t) => batch.targets[b * 120 + t]))).toMatch(/^\d{5}$/);
      } else expect(inGroup).toEqual([]);
    }
    expect(passkeyRows).toBeGreaterThan(4);
    // Padding (train.ts pads to a fixed length) keeps each row's group.
    const padded = padBatch(batch, 128, 0);
    for (let b = 0; b < 24; b++) {
      expect(Array.from(padded.weightedGroup?.mask.subarray(b * 128, b * 128 + 120) ?? [])).toEqual(
        Array.from(group.subarray(b * 120, (b + 1) * 120)),
      );
    }
  });

  it("refuses a weight outside (0, 1), naming the key", () => {
    for (const answerWeight of [0, 1, -0.5, 2]) {
      expect(() => createTask("brown_passkey", { answerWeight })).toThrow(/brown_passkey\.answerWeight/);
    }
  });
});
