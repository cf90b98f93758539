/** The literal examples of the task doc comments (DeepMind's docstrings and the calibration's formats). */
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { bigEndianBits, fromLittleEndian, integerSqrt, littleEndianBits } from "./cs/binary.js";
import { bucketSorted } from "./cs/bucket-sort.js";
import { POP, PUSH0, PUSH1, runStackActions } from "./dcf/stack-manipulation.js";
import { buildVocabulary, formatBatch } from "./format.js";
import { createTask } from "./registry.js";
import { cycleFinalState } from "./regular/cycle-navigation.js";
import { evenPairsClass } from "./regular/even-pairs.js";
import { evaluateModularExpression } from "./regular/modular-arithmetic.js";
import { parityClass } from "./regular/parity-check.js";
import { coupledAdditionIds, EQUALS, PLUS, reversedSumDigits } from "./synthetic/addition.js";

const bits = (s: string) => s.split("").map(Number);

describe("regular tasks", () => {
  it("even_pairs, parity_check, cycle_navigation", () => {
    expect(evenPairsClass(bits("0101001"))).toBe(1);
    expect(evenPairsClass(bits("001110"))).toBe(0);
    expect(parityClass(bits("1010100"))).toBe(1);
    expect(parityClass(bits("01111"))).toBe(0);
    expect(cycleFinalState([2, 0, 1, 0, 0])).toBe(3); // 1 -1 0 -1 -1 -> -2 -> 3
    expect(cycleFinalState([2, 2, 2, 0])).toBe(2); // 1 1 1 -1 -> 2
  });

  it("modular_arithmetic evaluates with * before + and - (mod 5)", () => {
    expect(evaluateModularExpression([1, 2, 3], ["+", "*"], 5)).toBe(2);
    expect(evaluateModularExpression([1, 1, 1], ["-", "-"], 5)).toBe(4);
    expect(evaluateModularExpression([0, 1, 4, 3, 2], ["*", "+", "*", "-"], 5)).toBe(0);
    expect(evaluateModularExpression([2, 3, 4], ["-", "*"], 5)).toBe(0); // 2 - 12 = -10
  });
});

describe("context-free and context-sensitive tasks", () => {
  it("stack_manipulation replays the docstring's actions", () => {
    expect(runStackActions([0, 1, 1, 0], [PUSH1, POP, POP])).toEqual([1, 1, 0]);
    expect(runStackActions([1, 1, 0], [POP, POP, POP])).toEqual([]);
    expect(runStackActions([1], [POP, POP, PUSH0])).toEqual([0]);
  });

  it("binary helpers: little-endian operands, minimal sums and products", () => {
    expect(littleEndianBits(4n, 3)).toEqual(bits("001"));
    expect(littleEndianBits(22n, 5)).toEqual(bits("01101"));
    expect(littleEndianBits(26n, 0)).toEqual(bits("01011")); // 4 + 22
    expect(littleEndianBits(41n, 0)).toEqual(bits("100101")); // 9 + 32
    expect(littleEndianBits(88n, 0)).toEqual(bits("0001101")); // 4 * 22
    expect(littleEndianBits(288n, 0)).toEqual(bits("000001001")); // 9 * 32
    expect(littleEndianBits(0n, 0)).toEqual([0]);
    expect(fromLittleEndian(bits("000001"))).toBe(32n);
    expect(bigEndianBits(37n, 6)).toEqual(bits("100101"));
  });

  it("integerSqrt is floor(sqrt): the docstring, exhaustive small values, and 2^100 + 5", () => {
    expect(integerSqrt(37n)).toBe(6n);
    expect(integerSqrt(7n)).toBe(2n);
    for (let x = 0; x <= 3000; x++) expect(integerSqrt(BigInt(x))).toBe(BigInt(Math.floor(Math.sqrt(x))));
    expect(integerSqrt((1n << 100n) + 5n)).toBe(1n << 50n);
    expect(integerSqrt((1n << 100n) - 1n)).toBe((1n << 50n) - 1n);
  });

  it("bucket sort, and the degenerate lengths kept from the official code", () => {
    expect(bucketSorted(bits("10204112"), 5)).toEqual(bits("00111224"));
    const rng = new Rng(1);
    expect(createTask("binary_addition").sampleExample(rng, 1)).toEqual({ input: [0], output: [0] });
    expect(createTask("binary_multiplication").sampleExample(rng, 1)).toEqual({ input: [0], output: [] });
    expect(createTask("missing_duplicate_string").sampleExample(rng, 1)).toEqual({ input: [1], output: [1] });
    expect(createTask("solve_equation").sampleExample(rng, 2)).toEqual({ input: [0, 0], output: [0] });
  });

  it("odds_first puts 0-based odd indices first (the official code)", () => {
    const task = createTask("odds_first");
    for (let seed = 0; seed < 5; seed++) {
      const { input, output } = task.sampleExample(new Rng(seed), 8);
      expect(output).toEqual([1, 3, 5, 7, 0, 2, 4, 6].map((i) => input[i]));
    }
  });
});

describe("addition with position coupling (the calibration's format)", () => {
  const coupled = createTask("addition_coupled");
  // "0".."9" = 0..9, "+" = 10, "=" = 11, PAD 12, BOS 13, SEP 14, EOS 15.
  const vocab = buildVocabulary(coupled.symbols);

  it("237 + 82 -> 237+082= 9130 with the hand-computed coupled ids", () => {
    expect(reversedSumDigits([2, 3, 7], [8, 2], 4)).toEqual([9, 1, 3, 0]);
    //             <bos> 2  3  7  +  0  8  2  =  9  1  3  0 <eos>
    expect(coupledAdditionIds(3, 0)).toEqual([0, 3, 2, 1, 0, 3, 2, 1, 1, 2, 3, 4, 5, 6]);
    expect(coupledAdditionIds(3, 5)).toEqual([0, 8, 7, 6, 0, 8, 7, 6, 6, 7, 8, 9, 10, 11]);
    const example = {
      input: [2, 3, 7, PLUS, 0, 8, 2, EQUALS],
      output: [9, 1, 3, 0],
      decoderPositionIds: coupledAdditionIds(3, 5),
    };
    const batch = formatBatch(coupled, [example], Int32Array.from([3]));
    expect(vocab.decode(batch.inputs)).toBe("<bos> 2 3 7 + 0 8 2 = 9 1 3 0 <eos>");
    expect(Array.from(batch.positionIds!)).toEqual([0, 8, 7, 6, 0, 8, 7, 6, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(batch.mask)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
  });

  it("samples offsets s in {0..64 - L - 4}, ids within the 64-row table, padding at id 0", () => {
    const rng = new Rng(9);
    const offsets = new Set<number>();
    for (const n of [1, 3, 10, 20, 60]) {
      const batch = coupled.sample(rng, 64, n);
      for (let b = 0; b < batch.batchSize; b++) {
        const row = (a: ArrayLike<number>) => Array.from(a).slice(b * batch.seqLen, (b + 1) * batch.seqLen);
        const tokens = row(batch.inputs);
        const ids = row(batch.positionIds!);
        const length = tokens.indexOf(vocab.eos) + 1;
        const L = (length - 5) / 3;
        const s = ids[tokens.indexOf(EQUALS)] - 1;
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(64 - L - 4);
        offsets.add(s);
        expect(ids.slice(0, length)).toEqual(coupledAdditionIds(L, s));
        expect(Math.max(...ids)).toBeLessThanOrEqual(63);
        expect(ids.slice(length).every((id) => id === 0)).toBe(true);
      }
    }
    expect(offsets.has(0)).toBe(true);
    // One-digit operands: s covers exactly {0..59} (64 - 1 - 4 = 59).
    const oneDigit = coupled.sample(new Rng(4), 1000, 1);
    const seen = new Set<number>();
    for (let b = 0; b < 1000; b++) seen.add(oneDigit.positionIds![b * oneDigit.seqLen + 1] - 1);
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, s) => s));
  });

  it("plain addition has no position ids; sameLength fixes both operands to n digits", () => {
    const plain = createTask("addition", { sameLength: true });
    const batch = plain.sample(new Rng(3), 4, 5);
    expect(batch.positionIds).toBeUndefined();
    expect(batch.seqLen).toBe(3 * 5 + 5);
    expect(createTask("addition").lengthMeaning).toMatch(/maximum/);
  });
});

describe("synthetic retrieval tasks", () => {
  it("passkey puts the needle after round(depth * n) fillers", () => {
    const task = createTask("passkey", { depth: 0.5, passkeyDigits: 3, fillerSymbols: 3 });
    const { input, output } = task.sampleExample(new Rng(0), 6);
    const names = input.map((s) => task.symbols[s]);
    expect(names.slice(0, 4)).toEqual(["f0", "f1", "f2", "KEY"]);
    expect(names.slice(4, 7)).toEqual(output.map((s) => task.symbols[s]));
    expect(names.slice(7)).toEqual(["f0", "f1", "f2", "ASK"]);
    const first = createTask("passkey", { depth: 0 }).sampleExample(new Rng(0), 10);
    const last = createTask("passkey", { depth: 1 }).sampleExample(new Rng(0), 10);
    expect(first.input[0]).toBe(18); // KEY = 10 digits + 8 fillers
    expect(last.input[10]).toBe(18);
  });
});
