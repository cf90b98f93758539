import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { buildVocabulary } from "../format.js";
import { PRESS_2022 } from "../papers.js";
import { defineTask } from "../task.js";
import { CHAR_SYMBOLS, charLanguageModelTask, decodeChars, encodeChars } from "./char-lm.js";

const TEXT = "The jury said it did find that many of Georgia's laws are outmoded.\nNo, it wasn't!\n";
const task = defineTask(
  charLanguageModelTask(
    { id: "toy_chars", level: "text", paper: PRESS_2022, description: "toy" },
    encodeChars(TEXT),
  ),
);

describe("character alphabet", () => {
  it('is "\\n" then printable ASCII, id = code - 31, and round-trips', () => {
    expect(CHAR_SYMBOLS).toHaveLength(96);
    expect(Array.from(encodeChars("\n A~"))).toEqual([0, 1, 65 - 31, 126 - 31]);
    expect(decodeChars(encodeChars(TEXT))).toBe(TEXT);
  });

  it("rejects a character outside it, naming its index", () => {
    expect(() => encodeChars("ok\tno", "doc")).toThrow(/doc\[2\].*printable ASCII.*"\\t"/);
    expect(() => encodeChars("café")).toThrow(/text\[3\]/);
  });
});

describe("character language-modelling task", () => {
  it("draws windows of the text: targets are the inputs shifted by one, every position scored", () => {
    const batch = task.sample(new Rng(1), 5, 12);
    expect(batch).toMatchObject({ batchSize: 5, seqLen: 12, layout: "decoder" });
    for (let b = 0; b < 5; b++) {
      const inputs = decodeChars(batch.inputs.subarray(b * 12, (b + 1) * 12));
      const targets = decodeChars(batch.targets.subarray(b * 12, (b + 1) * 12));
      const start = TEXT.indexOf(inputs + targets[11]);
      expect(start).toBeGreaterThanOrEqual(0);
      expect(targets).toBe(TEXT.slice(start + 1, start + 13));
    }
    expect(Array.from(batch.mask).every((m) => m === 1)).toBe(true);
    expect(Array.from(batch.tokenCounts ?? [])).toEqual([12, 12, 12, 12, 12]);
  });

  it("reaches both ends of the text and no further (start uniform in 0..N-length-1)", () => {
    const length = TEXT.length - 3; // three possible starts
    const batch = task.sample(new Rng(2), 60, length);
    const starts = new Set<number>();
    for (let b = 0; b < 60; b++)
      starts.add(TEXT.indexOf(decodeChars(batch.inputs.subarray(b * length, (b + 1) * length))));
    expect([...starts].sort()).toEqual([0, 1, 2]);
    expect(() => task.sample(new Rng(2), 1, TEXT.length)).toThrow(/length.*<= 82, received 83/);
  });

  it("pads rows of a length range on the right, unscored", () => {
    const pad = buildVocabulary(CHAR_SYMBOLS).pad;
    const batch = task.sample(new Rng(3), 40, { min: 2, max: 6 });
    expect(batch.seqLen).toBe(6);
    for (let b = 0; b < 40; b++) {
      const n = batch.lengths[b];
      const mask = Array.from(batch.mask.subarray(b * 6, (b + 1) * 6));
      expect(mask).toEqual([...Array(n).fill(1), ...Array(6 - n).fill(0)]);
      expect(batch.inputs[b * 6 + 5]).toBe(n === 6 ? batch.inputs[b * 6 + 5] : pad);
    }
  });

  it("is deterministic per seed and rejects the encoder layout", () => {
    expect(task.sample(new Rng(4), 3, 9).inputs).toEqual(task.sample(new Rng(4), 3, 9).inputs);
    expect(task.sample(new Rng(5), 3, 9).inputs).not.toEqual(task.sample(new Rng(4), 3, 9).inputs);
    expect(() => task.sample(new Rng(4), 3, 9, "encoder")).toThrow(/layout.*decoder/);
  });
});
