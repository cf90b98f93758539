/**
 * The numeric options of the public library functions: NaN, infinities, negatives, zero and values out of range
 * are refused with the one-line validation error naming the option, the value and what is valid, never computed
 * into NaN or Infinity. One table for every function, so a new option is checked the same way.
 */
import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import { alibiBias, alibiSlopes } from "./alibi.js";
import { pRopeRotatedPairs } from "./p-rope.js";
import { ropeCosSinTable, ropeInverseFrequencies } from "./rope.js";
import { sinusoidalEncoding, sinusoidalFrequencies } from "./sinusoidal.js";
import { t5BucketTable, t5RelativePositionBucket } from "./t5-bias.js";

const T5 = { bidirectional: true, numBuckets: 32, maxDistance: 128 };
const NON_FINITE = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

interface Case {
  name: string;
  call: (value: number) => unknown;
  /** A valid value: the call must succeed with it, so the failures are the option's. */
  valid: number;
  /** Invalid values beyond the non-finite ones, the first with its exact message. */
  invalid: number[];
  message: string;
}

const cases: Case[] = [
  {
    name: "alibiSlopes numHeads",
    call: (v) => alibiSlopes(v),
    valid: 12,
    invalid: [0, -1, 2.5, 65537],
    message: "Invalid numHeads: expected an integer >= 1 and <= 65536, received 0",
  },
  {
    name: "alibiBias queryOffset",
    call: (v) => alibiBias(2, 2, 2, { queryOffset: v }),
    valid: 2 ** 40,
    invalid: [1e308, -1, 0.5],
    message: "Invalid queryOffset: expected an integer >= 0 and <= 9007199254740991, received 1e+308",
  },
  {
    name: "t5 numBuckets",
    call: (v) => t5BucketTable(3, 3, { ...T5, numBuckets: v }),
    valid: 8,
    invalid: [3, -4, 31.5],
    message: "Invalid numBuckets: expected an integer >= 4, received 3",
  },
  {
    name: "t5 maxDistance",
    call: (v) => t5BucketTable(3, 3, { ...T5, maxDistance: v }),
    valid: 1e308,
    invalid: [8, 0, -1],
    message: "Invalid maxDistance: expected a finite number > 8, received 8",
  },
  {
    name: "t5 relativePosition",
    call: (v) => t5RelativePositionBucket(v, T5),
    valid: -5,
    invalid: [0.5],
    message: "Invalid relativePosition: expected an integer (key position - query position), received 0.5",
  },
  {
    name: "sinusoidal dModel",
    call: (v) => sinusoidalEncoding([0, 1], v),
    valid: 6,
    invalid: [0, 3, -2, 2.5],
    message: "Invalid dModel: expected an integer >= 2, received 0",
  },
  {
    name: "sinusoidal base",
    call: (v) => sinusoidalFrequencies(8, { base: v }),
    valid: 1e308,
    invalid: [1, 0, -10],
    message: "Invalid base: expected a finite number > 1, received 1",
  },
  {
    name: "ropeInverseFrequencies dim",
    call: (v) => ropeInverseFrequencies(v, 10000),
    valid: 0,
    invalid: [-1, 2.5],
    message: "Invalid dim: expected an integer >= 0, received -1",
  },
  {
    name: "ropeInverseFrequencies base",
    call: (v) => ropeInverseFrequencies(8, v),
    valid: 0.5,
    invalid: [0, -1],
    message: "Invalid base: expected a finite number > 0, received 0",
  },
  {
    name: "pRopeRotatedPairs p",
    call: (v) => pRopeRotatedPairs(8, v),
    valid: 0.25,
    invalid: [1.5, -0.5],
    message: "Invalid p: expected a finite number >= 0 and <= 1, received 1.5",
  },
  {
    name: "pRopeRotatedPairs dim",
    call: (v) => pRopeRotatedPairs(v, 0.5),
    valid: 0,
    invalid: [-2, 3.5],
    message: "Invalid dim: expected an integer >= 0, received -2",
  },
  {
    name: "ropeCosSinTable attentionFactor",
    call: (v) => ropeCosSinTable([1, 0.5], [0, 1], { attentionFactor: v }),
    valid: 3e38,
    invalid: [-1, 0, 1e308],
    message:
      "Invalid attentionFactor: expected a finite number > 0 and <= 3.4028234663852886e+38, received -1",
  },
];

function finiteEverywhere(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (ArrayBuffer.isView(value) || Array.isArray(value))
    return Array.from(value as ArrayLike<number>).every(finiteEverywhere);
  if (value && typeof value === "object") return Object.values(value).every(finiteEverywhere);
  return true;
}

describe("numeric options of the library functions", () => {
  for (const c of cases) {
    it(`${c.name}: refuses ${[...c.invalid, ...NON_FINITE].join(", ")} in one line`, () => {
      expect(finiteEverywhere(c.call(c.valid))).toBe(true);
      expect(() => c.call(c.invalid[0]!)).toThrow(c.message);
      for (const value of [...c.invalid, ...NON_FINITE]) {
        let thrown: unknown;
        try {
          c.call(value);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, `${c.name} = ${value}`).toBeInstanceOf(PosencConfigError);
        expect((thrown as Error).message).not.toContain("\n");
      }
    });
  }
});
