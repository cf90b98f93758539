import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkIntegerRange, describeIntegerRange, formatIntegerRange, parseIntegerRange } from "./range.js";

describe("parseIntegerRange", () => {
  it("reads A..B and a single integer N as N..N, with whitespace around the parts", () => {
    expect(parseIntegerRange("1..20")).toEqual({ min: 1, max: 20 });
    expect(parseIntegerRange("7")).toEqual({ min: 7, max: 7 });
    expect(parseIntegerRange(" 3 .. 5 ")).toEqual({ min: 3, max: 5 });
    expect(parseIntegerRange("\t0..0\n")).toEqual({ min: 0, max: 0 });
    expect(parseIntegerRange("-3..-1")).toEqual({ min: -3, max: -1 });
    expect(parseIntegerRange("007..010")).toEqual({ min: 7, max: 10 });
  });

  it("rejects B < A, non-integers, other separators, empty parts and unsafe integers", () => {
    for (const bad of [
      "5..2",
      "1.5..3",
      "1..2.5",
      "1e3",
      "1-20",
      "1...20",
      "1..",
      "..5",
      "",
      " ",
      "a..b",
      "+1..2",
      "1..2..3",
      "NaN",
      "Infinity",
      "0x10",
      "1 2",
      "9007199254740992",
      "1..99999999999999999999",
    ]) {
      expect(parseIntegerRange(bad), bad).toBeUndefined();
    }
  });

  it("applies the rule's bounds and the count limit", () => {
    expect(parseIntegerRange("0..3", { min: 1 })).toBeUndefined();
    expect(parseIntegerRange("1..3", { min: 1 })).toEqual({ min: 1, max: 3 });
    expect(parseIntegerRange("1..11", { max: 10 })).toBeUndefined();
    expect(parseIntegerRange("1..10", { max: 10 })).toEqual({ min: 1, max: 10 });
    expect(parseIntegerRange("0..4096", { min: 0, maxCount: 4096 })).toBeUndefined();
    expect(parseIntegerRange("0..4095", { min: 0, maxCount: 4096 })).toEqual({ min: 0, max: 4095 });
  });

  it("checks numbers the same way as text", () => {
    expect(checkIntegerRange(2, 3, { min: 1 })).toEqual({ min: 2, max: 3 });
    for (const [a, b] of [
      [3, 2],
      [1.5, 2],
      [Number.NaN, 2],
      [1, Number.POSITIVE_INFINITY],
      ["1", 2],
      [0, 2],
    ] as const) {
      expect(checkIntegerRange(a, b, { min: 1 })).toBeUndefined();
    }
  });

  it("round-trips with formatIntegerRange for every valid range", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.nat(1e6), (min, span) => {
        const range = { min, max: min + span };
        expect(parseIntegerRange(formatIntegerRange(range))).toEqual(range);
      }),
    );
  });

  it("says what is valid in words", () => {
    expect(describeIntegerRange({ min: 1 })).toBe(
      'a range "A..B" of integers with 1 <= A <= B, or one integer',
    );
    expect(describeIntegerRange({ min: 0, max: 9, maxCount: 4 })).toBe(
      'a range "A..B" of integers with 0 <= A <= B <= 9 spanning at most 4 values, or one integer',
    );
  });
});
