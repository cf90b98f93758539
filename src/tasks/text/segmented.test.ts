import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { decodeChars, encodeChars } from "./char-lm.js";
import { segmentedBatch, segmentLayout } from "./segmented.js";

/** An Rng whose int(n) returns the scripted values in order (each checked to be in [0, n)). */
function scripted(values: number[]): Rng {
  const queue = [...values];
  return {
    int(n: number) {
      const v = queue.shift();
      if (v === undefined || v < 0 || v >= n) throw new Error(`scripted int(${n}): ${v}`);
      return v;
    },
  } as unknown as Rng;
}

const ALPHABET = encodeChars("abcdefghijklmnopqrstuvwxyz");

describe("segmented sequences (arXiv:2310.14633)", () => {
  it("a hand-computed row: L = 5 in a span of 12, 2 segments", () => {
    // Stretch start a = 3 (x_3 = "d"); lengths [3, 2]; free = 12 - 5 = 7, gaps drawn 5 then 1 -> sorted [1, 5];
    // starts s_0 = 1, s_1 = 5 + 3 = 8: offsets 1 2 3 | 8 9, inputs x_4 x_5 x_6 | x_11 x_12 = "efg" "lm",
    // targets the characters after them in the text, "fgh" "mn"; position ids the offsets.
    const batch = segmentedBatch(ALPHABET, scripted([3, 5, 1]), 1, 5, { span: 12, count: 2 });
    expect(decodeChars(batch.inputs)).toBe("efglm");
    expect(decodeChars(batch.targets)).toBe("fghmn");
    expect(Array.from(batch.positionIds!)).toEqual([1, 2, 3, 8, 9]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 1, 1, 1]);
    expect(batch).toMatchObject({ batchSize: 1, seqLen: 5, layout: "decoder" });
    // Uneven split: L = 7 in 3 segments -> lengths 3, 2, 2 (the remainder to the first).
    expect(segmentLayout(scripted([0, 0, 0]), 7, { span: 7, count: 3 })).toEqual({
      starts: [0, 3, 5],
      lengths: [3, 2, 2],
    });
  });

  it("segments are ordered, disjoint, inside [0, span), and total L; each token predicts its successor in the text", () => {
    const text = encodeChars(
      "The jury said it did find that many of Georgia's laws are outmoded. ".repeat(20),
    );
    const rng = new Rng(7);
    for (const [length, span, count] of [
      [16, 64, 4],
      [16, 16, 3],
      [9, 100, 9],
      [12, 48, 1],
    ] as const) {
      for (let trial = 0; trial < 50; trial++) {
        const { starts, lengths } = segmentLayout(rng, length, { span, count });
        expect(lengths.reduce((a, b) => a + b, 0)).toBe(length);
        expect(starts[0]).toBeGreaterThanOrEqual(0);
        for (let i = 1; i < count; i++)
          expect(starts[i]!).toBeGreaterThanOrEqual(starts[i - 1]! + lengths[i - 1]!);
        expect(starts[count - 1]! + lengths[count - 1]!).toBeLessThanOrEqual(span);
      }
      const batch = segmentedBatch(text, rng, 3, length, { span, count });
      for (let b = 0; b < 3; b++) {
        const ids = batch.positionIds!.subarray(b * length, (b + 1) * length);
        // Inside a segment (consecutive ids) a token's input is the previous token's target: one running text.
        for (let t = 0; t < length; t++) {
          expect(ids[t]!).toBeLessThan(span);
          if (t > 0 && ids[t] === ids[t - 1]! + 1)
            expect(batch.inputs[b * length + t]).toBe(batch.targets[b * length + t - 1]);
        }
      }
    }
  });

  it("one segment over a span of L is the plain window, ids 0..L-1", () => {
    const batch = segmentedBatch(ALPHABET, new Rng(3), 2, 6, { span: 6, count: 1 });
    for (let b = 0; b < 2; b++) {
      expect(Array.from(batch.positionIds!.subarray(b * 6, b * 6 + 6))).toEqual([0, 1, 2, 3, 4, 5]);
      const input = decodeChars(batch.inputs.subarray(b * 6, b * 6 + 6));
      expect(
        "abcdefghijklmnopqrstuvwxyz".includes(
          input + decodeChars(batch.targets.subarray(b * 6 + 5, b * 6 + 6)),
        ),
      ).toBe(true);
    }
  });

  it("refuses a count or span that cannot fit, naming the key", () => {
    expect(() => segmentLayout(new Rng(0), 5, { span: 12, count: 6 })).toThrow(/train\.segments\.count/);
    expect(() => segmentLayout(new Rng(0), 5, { span: 4, count: 2 })).toThrow(
      /train\.segments\.span.*>= the row length 5.*received 4/,
    );
    expect(() => segmentedBatch(ALPHABET, new Rng(0), 1, 5, { span: 26, count: 2 })).toThrow(
      /train\.segments\.span.*less than the text's 26 characters/,
    );
  });
});
