import { describe, expect, it } from "vitest";
import { tensor } from "../engine/index.js";
import type { LabModel } from "./model.js";
import { bitsOfRow, bitsPerChar, bitsPerCharByContext, slidingWindows } from "./perplexity.js";

/**
 * A model with known probabilities over 2 symbols (a = 0, b = 1) that depend only on the position p inside the
 * window: p = 0 -> P(a) = P(b) = 1/2; p >= 1 -> P(a) = 3/4, P(b) = 1/4. It records every window it reads.
 */
function positionModel(): LabModel & { seen: number[][] } {
  const seen: number[][] = [];
  return {
    seen,
    parameters: () => [],
    forward(batch) {
      seen.push(Array.from(batch.inputs));
      const logits: number[] = [];
      for (let p = 0; p < batch.seqLen; p++) logits.push(p === 0 ? 0 : Math.log(3), 0);
      return tensor(logits, [batch.seqLen, 2]);
    },
  };
}

// Text "a a b a b": predictions x1 = a, x2 = b, x3 = a, x4 = b (M = 4).
const TEXT = Int32Array.from([0, 0, 1, 0, 1]);
const BIT_AT_P0 = 1; // -log2(1/2), either symbol
const A_LATER = -Math.log2(3 / 4); // 0.4150...
const B_LATER = 2; // -log2(1/4)

describe("sliding-window protocol", () => {
  it("plans windows by hand: first scores all, later ones the last S, a final window ends at the text's end", () => {
    // M = 10, T = 4, S = 3: windows at 0 (x1..x4), 3 (x5..x7), 6 (x8..x10).
    expect(slidingWindows(11, 4, 3)).toEqual([
      { start: 0, scoreFrom: 0 },
      { start: 3, scoreFrom: 1 },
      { start: 6, scoreFrom: 1 },
    ]);
    // M = 10, T = 4, S = 4: windows at 0 and 4 (x1..x8), then a final one at 6 scoring x9, x10.
    expect(slidingWindows(11, 4, 4)).toEqual([
      { start: 0, scoreFrom: 0 },
      { start: 4, scoreFrom: 0 },
      { start: 6, scoreFrom: 2 },
    ]);
    expect(slidingWindows(5, 4, 1)).toEqual([{ start: 0, scoreFrom: 0 }]);
  });

  it("scores every character exactly once, each past the first window with >= T-S+1 characters of context", () => {
    for (const [n, window, stride] of [
      [50, 7, 3],
      [50, 7, 7],
      [50, 7, 1],
      [64, 16, 5],
      [17, 16, 8],
      [100, 10, 4],
    ]) {
      const counts = new Array(n).fill(0);
      for (const [w, { start, scoreFrom }] of slidingWindows(n, window, stride).entries()) {
        expect(start + window).toBeLessThanOrEqual(n - 1);
        for (let p = scoreFrom; p < window; p++) {
          counts[start + p + 1]++;
          if (w > 0) expect(p + 1).toBeGreaterThanOrEqual(window - stride + 1);
        }
      }
      expect(counts).toEqual([0, ...new Array(n - 1).fill(1)]);
    }
  });

  it("rejects a window longer than the text and a stride outside 1..T", () => {
    expect(() => slidingWindows(5, 5, 1)).toThrow(/window.*4/);
    expect(() => slidingWindows(11, 4, 5)).toThrow(/stride/);
    expect(() => slidingWindows(11, 4, 0)).toThrow(/stride/);
  });
});

describe("bits per character (hand-checked)", () => {
  it("-log2 softmax of one row", () => {
    expect(bitsOfRow([Math.log(3), 0], 0, 2, 1)).toBeCloseTo(2, 14);
    expect(bitsOfRow([9, 9, 1000, 1000 + Math.log(3)], 2, 2, 0)).toBeCloseTo(2, 12);
  });

  it("T = 2, S = 1: x1 at p=0, then x2, x3, x4 each at p=1", () => {
    const model = positionModel();
    const r = bitsPerChar(model, TEXT, 2, { window: 2, stride: 1 });
    // windows [a a] (x1, x2), [a b] (x3 only), [b a] (x4 only)
    expect(model.seen).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
    ]);
    const bits = BIT_AT_P0 + B_LATER + A_LATER + B_LATER; // 5.41504
    expect(r).toMatchObject({ window: 2, stride: 1, windows: 3, chars: 4 });
    expect(r.bits).toBeCloseTo(bits, 6);
    expect(r.bitsPerChar).toBeCloseTo(bits / 4, 6);
  });

  it("T = 2, S = 2 (non-overlapping): x3 loses its context and costs a full bit", () => {
    const r = bitsPerChar(positionModel(), TEXT, 2, { window: 2, stride: 2 });
    expect(r.windows).toBe(2);
    expect(r.bits).toBeCloseTo(BIT_AT_P0 + B_LATER + BIT_AT_P0 + B_LATER, 6); // 6 bits, 1.5 bpc
    expect(r.bitsPerChar).toBeCloseTo(1.5, 6);
  });

  it("T = 3, S = 2: the final window ends at the text's end and scores x4 alone", () => {
    const model = positionModel();
    const r = bitsPerChar(model, TEXT, 2, { window: 3, stride: 2 });
    expect(model.seen).toEqual([
      [0, 0, 1],
      [0, 1, 0],
    ]);
    expect(r.bits).toBeCloseTo(BIT_AT_P0 + B_LATER + A_LATER + B_LATER, 6);
  });

  it("a grid scores the same characters at every context length", () => {
    const rows = bitsPerCharByContext(positionModel(), TEXT, 2, { contexts: [1, 2, 4], strideFraction: 0.5 });
    expect(rows.map((r) => r.chars)).toEqual([4, 4, 4]);
    expect(rows.map((r) => r.stride)).toEqual([1, 1, 2]);
    // T = 1: every prediction at p = 0 (4 bits); T = 4: x1 at p=0, x2..x4 at p >= 1.
    expect(rows[0].bits).toBeCloseTo(4, 6);
    expect(rows[2].bits).toBeCloseTo(BIT_AT_P0 + B_LATER + A_LATER + B_LATER, 6);
    expect(rows.every((r) => r.rssBytes > 0 && r.engineHeapBytes > 0)).toBe(true);
    const capped = bitsPerCharByContext(positionModel(), TEXT, 2, { contexts: [2], maxChars: 2 });
    expect(capped[0]).toMatchObject({ chars: 2 });
    expect(capped[0].bits).toBeCloseTo(BIT_AT_P0 + B_LATER, 6);
  });
});
