/**
 * Flag parsing: every malformed command line is one UsageError line naming the option and what is valid.
 * In-process on the real commands (the exit code 2 of these errors is tested end to end in fuzz.test.ts).
 */
import { describe, expect, it } from "vitest";
import {
  type Command,
  parseCommandArgs,
  parseIntegerFlag,
  parsePositiveNumberFlag,
  parseRangeFlag,
} from "../../src/cli/args.js";
import { alibiCommand } from "../../src/cli/commands/alibi.js";
import { listCommand } from "../../src/cli/commands/list.js";
import { ropeCommand } from "../../src/cli/commands/rope.js";
import { UsageError } from "../../src/cli/errors.js";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

const parse = (command: Command, ...argv: string[]) => parseCommandArgs(command, argv);

describe("parseCommandArgs", () => {
  it("takes a value that starts with one dash as the option's value (negative numbers)", () => {
    expect(parse(alibiCommand, "--heads", "-1").values.heads).toBe("-1");
    expect(parse(alibiCommand, "--heads", "-0.5", "--json").values).toEqual({ heads: "-0.5", json: true });
    expect(parse(ropeCommand, "--config", "-", "--positions", "-3..-1").values).toEqual({
      config: "-",
      positions: "-3..-1",
    });
    expect(parse(alibiCommand, "--heads=-7").values.heads).toBe("-7");
    // After `--` everything is a positional, dashes included.
    expect(parse(alibiCommand, "--", "--heads", "-1").positionals).toEqual(["--heads", "-1"]);
  });

  it("says which value a negative number broke, through the value's own check", () => {
    const { values } = parse(alibiCommand, "--heads", "-1");
    expect(errorOf(() => parseIntegerFlag("alibi", "heads", values.heads as string, 1, 4096))).toBe(
      'posenc alibi: --heads must be an integer from 1 to 4096, received "-1"',
    );
  });

  it("rejects an unknown option, listing the valid ones", () => {
    expect(errorOf(() => parse(alibiCommand, "--bogus"))).toBe(
      "posenc alibi: unknown option --bogus: valid options are --heads, --length, --json, --help (see 'posenc alibi --help')",
    );
    expect(errorOf(() => parse(listCommand, "-x"))).toBe(
      "posenc list: unknown option -x: valid options are --json, --help (see 'posenc list --help')",
    );
  });

  it("rejects a missing value, also when the next word is another option", () => {
    expect(errorOf(() => parse(alibiCommand, "--heads"))).toBe(
      "posenc alibi: --heads needs a value H (see 'posenc alibi --help')",
    );
    expect(errorOf(() => parse(ropeCommand, "--config", "--json"))).toBe(
      "posenc rope: --config needs a value FILE (see 'posenc rope --help')",
    );
  });

  it("rejects a value given to a switch", () => {
    expect(errorOf(() => parse(listCommand, "--json=yes"))).toBe(
      "posenc list: --json is a switch and takes no value (see 'posenc list --help')",
    );
  });

  it("rejects an option given twice, showing both values", () => {
    expect(errorOf(() => parse(alibiCommand, "--heads", "4", "--heads", "8"))).toBe(
      'posenc alibi: --heads given twice ("4" and "8"): give it once (see \'posenc alibi --help\')',
    );
    expect(errorOf(() => parse(listCommand, "--json", "--json"))).toBe(
      "posenc list: --json given twice (--json and --json): give it once (see 'posenc list --help')",
    );
  });
});

describe("parsePositiveNumberFlag", () => {
  it("reads decimal numbers only, > 0 and finite", () => {
    expect(parsePositiveNumberFlag("bench", "lr", "0.001")).toBe(0.001);
    expect(parsePositiveNumberFlag("bench", "lr", "3e-4")).toBe(3e-4);
    expect(parsePositiveNumberFlag("bench", "lr", ".5")).toBe(0.5);
    for (const bad of [
      "0x10",
      "1_000",
      "Infinity",
      "1e400",
      "NaN",
      "",
      " ",
      "0",
      "-1",
      "1e",
      "e3",
      "1.2.3",
    ]) {
      expect(errorOf(() => parsePositiveNumberFlag("bench", "lr", bad))).toBe(
        `posenc bench: --lr must be a number > 0, received "${bad}"`,
      );
    }
  });
});

describe("parseRangeFlag", () => {
  it("parses A..B and N with the shared range rules", () => {
    expect(parseRangeFlag("rope", "positions", "0..3", { min: 0 })).toEqual({ min: 0, max: 3 });
    expect(parseRangeFlag("rope", "positions", " 5 ", { min: 0 })).toEqual({ min: 5, max: 5 });
  });

  it("names the flag, the value and what is valid", () => {
    expect(errorOf(() => parseRangeFlag("rope", "positions", "5..2", { min: 0, maxCount: 4096 }))).toBe(
      'posenc rope: --positions must be a range "A..B" of integers with 0 <= A <= B spanning at most 4096 values, or one integer, received "5..2"',
    );
    expect(errorOf(() => parseRangeFlag("eval", "test-length", "0..4", { min: 1 }))).toBe(
      'posenc eval: --test-length must be a range "A..B" of integers with 1 <= A <= B, or one integer, received "0..4"',
    );
    expect(errorOf(() => parseRangeFlag("rope", "positions", "0..4096", { min: 0, maxCount: 4096 }))).toMatch(
      /spanning at most 4096 values.*received "0\.\.4096"$/,
    );
  });
});
