import { describe, expect, it } from "vitest";
import { tensor } from "../engine/index.js";
import { buildVocabulary } from "../tasks/format.js";
import { CHAR_SYMBOLS, decodeChars, encodeChars } from "../tasks/text/char-lm.js";
import { NEEDLE_PREFIX } from "../tasks/text/passkey-haystack.js";
import type { LabModel } from "./model.js";
import { evaluatePasskeyGrid, passkeyCellSeed } from "./retrieval.js";

const VOCAB = buildVocabulary(CHAR_SYMBOLS).size;
const TEXT = encodeChars(
  "It recommended that Fulton legislators act to have these laws studied and revised to the end of modernizing and improving them.\n".repeat(
    8,
  ),
);

/**
 * A stub model that reads the targets it is given (an oracle): where `knows(window)` holds it answers every position
 * with the target, else with the next symbol, as one-hot logits (argmax exactly that symbol). It records every window.
 */
function oracle(knows: (window: string) => boolean): LabModel & { rows: string[] } {
  const rows: string[] = [];
  return {
    rows,
    parameters: () => [],
    forward(batch) {
      const window = decodeChars(batch.inputs);
      rows.push(window);
      const shift = knows(window) ? 0 : 1;
      const logits = new Float64Array(batch.seqLen * VOCAB);
      for (let t = 0; t < batch.seqLen; t++) logits[t * VOCAB + ((batch.targets[t] + shift) % VOCAB)] = 1;
      return tensor(logits, [batch.seqLen, VOCAB]);
    },
  };
}

const perfect = () => oracle(() => true);
const never = () => oracle(() => false);
/** Right iff the needle starts in the first half of the window: the "lost in the second half" stub. */
const firstHalf = () => oracle((window) => window.indexOf(NEEDLE_PREFIX) < window.length / 2);

describe("passkey grid evaluation", () => {
  const options = { contexts: [100, 160], depths: [0, 0.5, 1], perCell: 4, seed: 3 };

  it("gives 1.0 everywhere for a model that answers perfectly and 0.0 for one that never does", () => {
    const good = evaluatePasskeyGrid(perfect(), TEXT, VOCAB, options);
    expect(good.cells.map((c) => [c.context, c.depth, c.accuracy, c.digitAccuracy])).toEqual([
      [100, 0, 1, 1],
      [100, 0.5, 1, 1],
      [100, 1, 1, 1],
      [160, 0, 1, 1],
      [160, 0.5, 1, 1],
      [160, 1, 1, 1],
    ]);
    const bad = evaluatePasskeyGrid(never(), TEXT, VOCAB, options);
    expect(bad.cells.every((c) => c.accuracy === 0 && c.correct === 0 && c.examples === 4)).toBe(true);
    expect(bad.cells.every((c) => c.digitAccuracy === 0)).toBe(true);
  });

  it("maps a depth-dependent model to the matching picture", () => {
    const grid = evaluatePasskeyGrid(firstHalf(), TEXT, VOCAB, {
      ...options,
      contexts: [400, 800],
      depths: [0, 0.25, 0.75, 1],
    });
    expect(grid.cells.map((c) => c.accuracy)).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
  });

  it("feeds one example of context T per forward pass, needle at the cell's depth, the same for every model", () => {
    const a = perfect();
    const b = never();
    evaluatePasskeyGrid(a, TEXT, VOCAB, { ...options, contexts: [120], depths: [0] });
    evaluatePasskeyGrid(b, TEXT, VOCAB, { ...options, contexts: [120], depths: [0] });
    expect(a.rows).toHaveLength(4);
    expect(a.rows).toEqual(b.rows);
    for (const row of a.rows) {
      expect(row).toHaveLength(120);
      expect(row.startsWith(NEEDLE_PREFIX)).toBe(true);
    }
  });

  it("draws a cell's examples from (seed, context, depth) only: a larger grid leaves the cell unchanged", () => {
    const small = perfect();
    const large = perfect();
    evaluatePasskeyGrid(small, TEXT, VOCAB, { ...options, contexts: [160], depths: [0.5] });
    evaluatePasskeyGrid(large, TEXT, VOCAB, options);
    expect(large.rows.slice(4 * 4, 5 * 4)).toEqual(small.rows);
    expect(passkeyCellSeed(3, 160, 0.5)).not.toBe(passkeyCellSeed(4, 160, 0.5));
  });

  it("rejects a bad grid before calling the model", () => {
    const m = perfect();
    expect(() => evaluatePasskeyGrid(m, TEXT, VOCAB, { ...options, contexts: [50] })).toThrow(
      /contexts\[0\].*80/,
    );
    expect(() => evaluatePasskeyGrid(m, TEXT, VOCAB, { ...options, depths: [0, 1.5] })).toThrow(
      /depths\[1\]/,
    );
    expect(() => evaluatePasskeyGrid(m, TEXT, VOCAB, { ...options, perCell: 0 })).toThrow(/perCell/);
    expect(m.rows).toHaveLength(0);
  });
});
