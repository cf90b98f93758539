import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { PRESS_2022 } from "../papers.js";
import { createTask } from "../registry.js";
import { defineTask } from "../task.js";
import { decodeChars, encodeChars } from "./char-lm.js";
import {
  minPasskeyContext,
  NEEDLE_PREFIX,
  NEEDLE_SUFFIX,
  PASSKEY_QUERY,
  passkeyBatch,
  passkeyExample,
  passkeyMixTask,
} from "./passkey-haystack.js";

// Filler text without digits or the needle's words, so the needle and answer can be located unambiguously.
const TEXT = encodeChars(
  "The jury further said in term-end presentments that the City Executive Committee, which had over-all charge of the election, deserves the praise and thanks of the City of Atlanta for the manner in which the election was conducted.\n".repeat(
    4,
  ),
);
const toy = { id: "toy_passkey", level: "text" as const, paper: PRESS_2022, description: "toy" };

describe("passkey example in a haystack of text", () => {
  it("puts the needle after round(depth * n) filler characters and asks for the key at the end", () => {
    const context = 200;
    const n = context + 1 - (NEEDLE_PREFIX.length + 5 + NEEDLE_SUFFIX.length + PASSKEY_QUERY.length + 5);
    for (const depth of [0, 0.25, 0.5, 1]) {
      const ex = passkeyExample(new Rng(7), TEXT, context, { depth });
      const text = decodeChars(ex.sequence);
      expect(ex.sequence).toHaveLength(context + 1);
      expect(ex.filler).toBe(n);
      expect(ex.before).toBe(Math.round(depth * n));
      expect(text.indexOf(`${NEEDLE_PREFIX}${ex.passkey}${NEEDLE_SUFFIX}`)).toBe(ex.before);
      expect(text.endsWith(`${PASSKEY_QUERY}${ex.passkey}`)).toBe(true);
      expect(ex.passkey).toMatch(/^\d{5}$/);
      // The filler is a contiguous piece of the text, cut at the needle.
      const filler =
        text.slice(0, ex.before) +
        text.slice(ex.before + NEEDLE_PREFIX.length + 5 + NEEDLE_SUFFIX.length, -PASSKEY_QUERY.length - 5);
      expect(filler).toHaveLength(n);
      expect(decodeChars(TEXT)).toContain(filler);
    }
  });

  it("is deterministic given the seed and varies with it", () => {
    const a = passkeyExample(new Rng(3), TEXT, 150);
    expect(passkeyExample(new Rng(3), TEXT, 150)).toEqual(a);
    const keys = new Set(Array.from({ length: 20 }, (_, s) => passkeyExample(new Rng(s), TEXT, 150).passkey));
    expect(keys.size).toBeGreaterThan(15);
  });

  it("needs room for needle, query and answer", () => {
    expect(minPasskeyContext(5)).toBe(
      NEEDLE_PREFIX.length + NEEDLE_SUFFIX.length + PASSKEY_QUERY.length + 10 - 1,
    );
    expect(passkeyExample(new Rng(1), TEXT, minPasskeyContext(5)).filler).toBe(0);
    expect(() => passkeyExample(new Rng(1), TEXT, minPasskeyContext(5) - 1)).toThrow(
      /at least 80 characters/,
    );
  });

  it("evaluation batches score exactly the k answer positions, whose targets are the key", () => {
    const rng = new Rng(11);
    const batch = passkeyBatch(rng, TEXT, 3, 120, { digits: 4, depth: 0.5 });
    const replay = new Rng(11);
    for (let b = 0; b < 3; b++) {
      const ex = passkeyExample(replay, TEXT, 120, { digits: 4, depth: 0.5 });
      const row = (a: ArrayLike<number>) => Array.from(a).slice(b * 120, (b + 1) * 120);
      expect(row(batch.inputs)).toEqual(Array.from(ex.sequence.subarray(0, 120)));
      expect(row(batch.targets)).toEqual(Array.from(ex.sequence.subarray(1)));
      const scored = row(batch.mask).flatMap((m, t) => (m ? [t] : []));
      expect(scored).toEqual([116, 117, 118, 119]);
      expect(decodeChars(scored.map((t) => row(batch.targets)[t]))).toBe(ex.passkey);
    }
  });
});

describe("training mix of LM windows and passkey examples", () => {
  const isPasskeyRow = (batch: { inputs: Int32Array; seqLen: number }, b: number) =>
    decodeChars(batch.inputs.subarray(b * batch.seqLen, (b + 1) * batch.seqLen)).includes("pass key");

  it("honours passkeyFraction within a binomial bound (4 sigma) over many rows", () => {
    for (const fraction of [0.1, 0.5]) {
      const task = defineTask(passkeyMixTask(toy, TEXT, { passkeyFraction: fraction }));
      const rng = new Rng(2024);
      const rows = 2000;
      let hits = 0;
      for (let i = 0; i < rows / 50; i++) {
        const batch = task.sample(rng, 50, 100);
        for (let b = 0; b < 50; b++) hits += isPasskeyRow(batch, b) ? 1 : 0;
      }
      const sigma = Math.sqrt(rows * fraction * (1 - fraction));
      expect(Math.abs(hits - rows * fraction)).toBeLessThan(4 * sigma);
    }
  });

  it("fraction 0 is plain text, 1 all passkeys; every position is a loss position; deterministic", () => {
    const none = defineTask(passkeyMixTask(toy, TEXT, { passkeyFraction: 0 })).sample(new Rng(1), 20, 100);
    const all = defineTask(passkeyMixTask(toy, TEXT, { passkeyFraction: 1 })).sample(new Rng(1), 20, 100);
    for (let b = 0; b < 20; b++) {
      expect(isPasskeyRow(none, b)).toBe(false);
      expect(isPasskeyRow(all, b)).toBe(true);
    }
    expect(all.mask.every((m) => m === 1)).toBe(true);
    // targets are the inputs shifted by one
    expect(Array.from(all.targets.subarray(0, 99))).toEqual(Array.from(all.inputs.subarray(1, 100)));
    const task = defineTask(passkeyMixTask(toy, TEXT, { passkeyFraction: 0.3 }));
    expect(task.sample(new Rng(9), 8, { min: 90, max: 110 })).toEqual(
      task.sample(new Rng(9), 8, { min: 90, max: 110 }),
    );
  });

  it('passkeyLoss "answer" scores only the k answer digits of passkey rows and every character of LM rows', () => {
    const params = { passkeyFraction: 0.5, passkeyDigits: 4 } as const;
    const all = defineTask(passkeyMixTask(toy, TEXT, params)).sample(new Rng(4), 40, { min: 90, max: 110 });
    const task = defineTask(passkeyMixTask(toy, TEXT, { ...params, passkeyLoss: "answer" }));
    const answer = task.sample(new Rng(4), 40, { min: 90, max: 110 });
    // Same rows (the option changes only the mask), padded to the longest row.
    expect(answer.inputs).toEqual(all.inputs);
    expect(answer.targets).toEqual(all.targets);
    const T = answer.seqLen;
    let passkeyRows = 0;
    for (let b = 0; b < 40; b++) {
      const len = answer.lengths[b];
      const scored = Array.from(answer.mask.subarray(b * T, (b + 1) * T)).flatMap((m, t) => (m ? [t] : []));
      if (isPasskeyRow(answer, b)) {
        passkeyRows++;
        expect(scored).toEqual([len - 4, len - 3, len - 2, len - 1]);
        const key = decodeChars(scored.map((t) => answer.targets[b * T + t]));
        expect(decodeChars(answer.inputs.subarray(b * T, b * T + len))).toContain(`pass key is ${key}.`);
      } else {
        expect(scored).toEqual(Array.from({ length: len }, (_, t) => t));
      }
    }
    expect(passkeyRows).toBeGreaterThan(10);
    expect(passkeyRows).toBeLessThan(30);
  });

  it("rejects bad parameters and too-short contexts", () => {
    expect(() => passkeyMixTask(toy, TEXT, { passkeyFraction: 1.5 })).toThrow(/passkeyFraction/);
    // @ts-expect-error: an unknown loss choice
    expect(() => passkeyMixTask(toy, TEXT, { passkeyLoss: "digits" })).toThrow(
      /passkeyLoss.*"all", "answer"/,
    );
    expect(() => passkeyMixTask(toy, TEXT, { passkeyDigits: 0 })).toThrow(/passkeyDigits/);
    const task = defineTask(passkeyMixTask(toy, TEXT));
    expect(() => task.sample(new Rng(1), 2, 50)).toThrow(/length/);
    expect(() => task.sample(new Rng(1), 2, 100, "encoder")).toThrow(/decoder/);
  });

  it("is registered as brown_passkey over the Brown Corpus split", () => {
    const task = createTask("brown_passkey", { split: "validation", passkeyFraction: 1 });
    expect(task.level).toBe("text");
    const batch = task.sample(new Rng(5), 2, 256);
    expect(isPasskeyRow(batch, 0)).toBe(true);
    expect(() => createTask("brown_passkey", { fraction: 0.2 })).toThrow(/passkeyFraction/);
  });
});
