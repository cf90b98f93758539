import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import {
  additionCouplingGroups,
  coupledPositionIds,
  couplingPositionIdsForAddition,
  couplingStartRange,
  parseAdditionTokens,
  positionCouplingSpec,
  sampleCouplingStart,
} from "./position-coupling.js";

const PLUS = 10;
const EQUALS = 11;

/** Token ids of "a+b=c" with digits 0-9 as tokens 0-9; the answer string is used as given. */
function tokensOf(text: string): number[] {
  return [...text].map((ch) => (ch === "+" ? PLUS : ch === "=" ? EQUALS : Number(ch)));
}

/**
 * The official ids, restated from HanseulJo/position-coupling `AdditionDatasetWithCoupledPositions`
 * (two operands): end = start + L + 1; operand a -> end - len(a) .. end (its digits then '+'), operand b ->
 * end - len(b) .. end (its digits then '='); answer -> end - len(c) .. end - 1, reversed with the answer.
 */
function officialIds(a: number, b: number, c: number, start: number, reverse: boolean): number[] {
  const L = Math.max(a, b);
  const end = start + L + 1;
  const range = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, i) => lo + i);
  const labels = range(end - c, end);
  return [...range(end - a, end + 1), ...range(end - b, end + 1), ...(reverse ? labels.reverse() : labels)];
}

describe("coupledPositionIds", () => {
  it("adds the start to each group", () => {
    expect(Array.from(coupledPositionIds([0, 2, 2, 1], 5))).toEqual([5, 7, 7, 6]);
    expect(Array.from(coupledPositionIds([3]))).toEqual([4]);
  });

  it("rejects negative or fractional groups and a bad start, naming them", () => {
    expect(() => coupledPositionIds([0, -1])).toThrow("Invalid groups[1]: expected an integer >= 0");
    expect(() => coupledPositionIds([0.5])).toThrow(/groups\[0\]/);
    expect(() => coupledPositionIds([0], -1)).toThrow(/Invalid start/);
  });
});

describe("addition coupling", () => {
  it("reproduces the worked example 653+049=2070 (padded, reversed answer), start 1", () => {
    const ids = couplingPositionIdsForAddition({
      operandDigits: [3, 3],
      answerDigits: 4,
      reversedAnswer: true,
      start: 1,
    });
    //                      6  5  3  +  0  4  9  =  2  0  7  0
    expect(Array.from(ids)).toEqual([2, 3, 4, 5, 2, 3, 4, 5, 4, 3, 2, 1]);
  });

  it('couples "123+45=" by significance, not by offset (unpadded operands)', () => {
    const prompt = couplingPositionIdsForAddition({
      operandDigits: [3, 2],
      answerDigits: 0,
      reversedAnswer: true,
      start: 1,
    });
    //                         1  2  3  +  4  5  =
    expect(Array.from(prompt)).toEqual([2, 3, 4, 5, 3, 4, 5]);
    // 123 + 45 = 168, written reversed "861": units digit 8 shares id 4 with '3' and '5'.
    const full = couplingPositionIdsForAddition({
      operandDigits: [3, 2],
      answerDigits: 3,
      reversedAnswer: true,
      start: 7,
    });
    expect(Array.from(full)).toEqual([8, 9, 10, 11, 9, 10, 11, 10, 9, 8]);
  });

  it("places a non-reversed answer by significance too (0168 padded to L + 1 = 4 digits)", () => {
    const groups = additionCouplingGroups({ operandDigits: [3, 2], answerDigits: 4, reversedAnswer: false });
    expect(Array.from(groups)).toEqual([1, 2, 3, 4, 2, 3, 4, 0, 1, 2, 3]);
  });

  it("matches the official id formula for random operand and answer lengths and starts", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        fc.nat(),
        (a, b, start, reverse, answerSeed) => {
          const c = 1 + (answerSeed % (Math.max(a, b) + 1)); // 1 .. L + 1 answer digits
          const ids = couplingPositionIdsForAddition({
            operandDigits: [a, b],
            answerDigits: c,
            reversedAnswer: reverse,
            start,
          });
          expect(Array.from(ids)).toEqual(officialIds(a, b, c, start, reverse));
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it("gives a prefix of the sequence the prefix of the ids (safe for token-by-token decoding)", () => {
    // 907 + 95 = 1002: 4 = L + 1 answer digits, read reversed ("2001") or not ("1002"); same token count.
    for (const reversedAnswer of [true, false]) {
      const full = parseAdditionTokens(
        tokensOf("907+95=2001"),
        { plusToken: PLUS, equalsToken: EQUALS },
        reversedAnswer,
      );
      const fullIds = couplingPositionIdsForAddition({ ...full, start: 3 });
      for (let cut = 7; cut <= 11; cut++) {
        const tokens = tokensOf("907+95=2001").slice(0, cut);
        const layout = parseAdditionTokens(tokens, { plusToken: PLUS, equalsToken: EQUALS }, reversedAnswer);
        const ids = couplingPositionIdsForAddition({ ...layout, start: 3 });
        expect(Array.from(ids)).toEqual(Array.from(fullIds.subarray(0, cut)));
      }
    }
  });

  it("supports more than two operands with the same rule", () => {
    // 12 + 3 + 456 = 471, answer reversed "174":
    //                                 1  2  +  3  +  4  5  6  =  1  7  4
    const groups = additionCouplingGroups({
      operandDigits: [2, 1, 3],
      answerDigits: 3,
      reversedAnswer: true,
    });
    expect(Array.from(groups)).toEqual([2, 3, 4, 3, 4, 1, 2, 3, 4, 3, 2, 1]);
  });

  it("rejects impossible layouts, naming the argument", () => {
    expect(() =>
      additionCouplingGroups({ operandDigits: [2, 2], answerDigits: 4, reversedAnswer: true }),
    ).toThrow("Invalid answerDigits: expected an integer <= longest operand + 1 = 3");
    expect(() =>
      additionCouplingGroups({ operandDigits: [], answerDigits: 0, reversedAnswer: true }),
    ).toThrow(/Invalid operandDigits/);
    expect(() =>
      additionCouplingGroups({ operandDigits: [2, 0], answerDigits: 0, reversedAnswer: true }),
    ).toThrow(/Invalid operandDigits\[1\]/);
  });
});

describe("random start", () => {
  it("covers exactly [1, maxPosition - maxGroup] (official randint(1, max_position - L))", () => {
    expect(couplingStartRange(4, 20)).toEqual({ min: 1, max: 16 });
    const rng = new Rng(8);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(sampleCouplingStart(4, 20, rng));
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    // The largest id, start + maxGroup, never exceeds maxPosition.
    expect(Math.max(...seen) + 4).toBe(20);
  });

  it("rejects a table too small for the layout", () => {
    expect(() => couplingStartRange(4, 4)).toThrow(/Invalid maxPosition: expected an integer >= 5/);
  });
});

describe("positionCouplingSpec", () => {
  it("declares the registry line", () => {
    expect(positionCouplingSpec.id).toBe("position-coupling");
    expect(positionCouplingSpec.family).toBe("position-ids");
    expect(positionCouplingSpec.slots).toEqual(["positionIds"]);
    expect(positionCouplingSpec.paper.arxiv).toBe("2405.20671");
  });

  it("evaluation mode (randomStart false) starts at 1", () => {
    const encoding = positionCouplingSpec.create({ randomStart: false });
    const tokens = tokensOf("123+45=861");
    expect(Array.from(encoding.positionIds!(tokens.length, { tokens }))).toEqual([
      2, 3, 4, 5, 3, 4, 5, 4, 3, 2,
    ]);
  });

  it("training mode shifts all ids by one random start: same seed same ids, other seed other ids", () => {
    const encoding = positionCouplingSpec.create({ maxPosition: 40 });
    const tokens = tokensOf("653+049=2070");
    const a = encoding.positionIds!(tokens.length, { tokens, rng: new Rng(1) });
    const b = encoding.positionIds!(tokens.length, { tokens, rng: new Rng(1) });
    const c = encoding.positionIds!(tokens.length, { tokens, rng: new Rng(2) });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const base = [2, 3, 4, 5, 2, 3, 4, 5, 4, 3, 2, 1];
    for (const ids of [a, c]) {
      const shift = ids[0] - base[0];
      expect(Array.from(ids)).toEqual(base.map((v) => v + shift));
      expect(shift).toBeGreaterThanOrEqual(0);
      expect(Math.max(...ids)).toBeLessThanOrEqual(40);
    }
  });

  it("uses the configured token codes", () => {
    const encoding = positionCouplingSpec.create({ plusToken: 100, equalsToken: 101, randomStart: false });
    expect(Array.from(encoding.positionIds!(4, { tokens: [7, 100, 3, 101] }))).toEqual([2, 3, 2, 3]);
  });

  it("names what is wrong", () => {
    const encoding = positionCouplingSpec.create();
    const tokens = tokensOf("12+3=");
    expect(() => encoding.positionIds!(5, { tokens })).toThrow("Missing required key context.rng");
    expect(() => encoding.positionIds!(5)).toThrow("Missing required key context.tokens");
    expect(() => encoding.positionIds!(4, { tokens, rng: new Rng(0) })).toThrow(RangeError);
    expect(() => encoding.positionIds!(3, { tokens: tokensOf("12+"), rng: new Rng(0) })).toThrow(
      /Invalid context.tokens: expected a sequence containing the equals token 11/,
    );
    expect(() => encoding.positionIds!(3, { tokens: tokensOf("+1="), rng: new Rng(0) })).toThrow(
      /Invalid context.tokens\[0\]/,
    );
    expect(() => encoding.positionIds!(5, { tokens: tokensOf("1=2+3"), rng: new Rng(0) })).toThrow(
      /Invalid context.tokens\[3\]/,
    );
    const small = positionCouplingSpec.create({ maxPosition: 4 });
    expect(() => small.positionIds!(8, { tokens: tokensOf("123+456="), rng: new Rng(0) })).toThrow(
      /Invalid position-coupling.maxPosition: expected an integer >= longest operand \+ 2 = 5/,
    );
    expect(() => positionCouplingSpec.create({ plusToken: 11 })).toThrow(PosencConfigError);
    expect(() => positionCouplingSpec.create({ plusToken: 11 })).toThrow(/position-coupling.equalsToken/);
  });
});
