/**
 * The one parser of inclusive integer ranges `A..B`, shared by the CLI's flags (`--positions 0..3`,
 * `--test-length 1..40`) and the lab's configs (`train.length: "1..20"`).
 *
 * Rules (tested in range.test.ts):
 *   - `A..B` or a single integer `N` (meaning N..N), decimal digits with an optional leading minus;
 *   - whitespace is allowed around the numbers and the `..`, nowhere else matters;
 *   - A and B are safe integers, A <= B, and both within the rule's [min, max];
 *   - at most `maxCount` values (B - A + 1) when the rule sets it.
 * Anything else is not a range: the parser returns undefined and the caller throws its own one-line error with
 * `describeIntegerRange(rule)` as the wording of what is valid. Pure, no Node: the library core may use it.
 */

/** An inclusive range of integers, min <= max. */
export interface IntegerRange {
  min: number;
  max: number;
}

export interface IntegerRangeRule {
  /** Smallest allowed value (inclusive). Default: no bound beyond safe integers. */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Largest allowed number of values, max - min + 1. */
  maxCount?: number;
}

const RANGE_TEXT = /^\s*(-?\d+)\s*(?:\.\.\s*(-?\d+)\s*)?$/;

/** Checks two integers against the rule; returns the range or undefined. */
export function checkIntegerRange(
  min: unknown,
  max: unknown,
  rule: IntegerRangeRule = {},
): IntegerRange | undefined {
  if (typeof min !== "number" || typeof max !== "number") return undefined;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) return undefined;
  if (rule.min !== undefined && min < rule.min) return undefined;
  if (rule.max !== undefined && max > rule.max) return undefined;
  if (rule.maxCount !== undefined && max - min + 1 > rule.maxCount) return undefined;
  return { min, max };
}

/** Parses `A..B` or `N` under the rule; undefined when the text is not such a range. */
export function parseIntegerRange(text: string, rule: IntegerRangeRule = {}): IntegerRange | undefined {
  if (typeof text !== "string") return undefined;
  const match = RANGE_TEXT.exec(text);
  if (!match) return undefined;
  return checkIntegerRange(Number(match[1]), Number(match[2] ?? match[1]), rule);
}

/** What the rule accepts, in words: `a range "A..B" of integers with 1 <= A <= B, or one integer`. */
export function describeIntegerRange(rule: IntegerRangeRule = {}): string {
  const low = rule.min !== undefined ? `${rule.min} <= ` : "";
  const high = rule.max !== undefined ? ` <= ${rule.max}` : "";
  const count = rule.maxCount !== undefined ? ` spanning at most ${rule.maxCount} values` : "";
  return `a range "A..B" of integers with ${low}A <= B${high}${count}, or one integer`;
}

/** "1..20", or "7" for a single value. */
export function formatIntegerRange(range: IntegerRange): string {
  return range.min === range.max ? `${range.min}` : `${range.min}..${range.max}`;
}
