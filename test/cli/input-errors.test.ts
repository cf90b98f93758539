/**
 * Bad command lines, each kind with its exact line on stderr and exit code 2, through the whole program
 * (in-process, src/cli/program.ts): flags of every shape, ranges, and messages that quote user text.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commands, oneLine } from "../../src/cli/program.js";
import { runCli } from "../helpers/run-command.js";

const scratch = mkdtempSync(join(tmpdir(), "posenc-input-errors-"));

/** A valid `posenc bench` line with `changes` applied (flag -> value), then `extra` tokens. */
function bench(changes: Record<string, string>, ...extra: string[]): string[] {
  const flags = {
    task: "reverse",
    encodings: "rope",
    "train-length": "1..4",
    "test-length": "8",
    ...changes,
  };
  return ["bench", ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value]), ...extra];
}

async function expectLine(argv: string[], line: string): Promise<void> {
  const outcome = await runCli(argv);
  expect(outcome.rejected).toBeUndefined();
  expect(outcome.code).toBe(2);
  expect(outcome.stderr).toBe(`${line}\n`);
  expect(outcome.stdout).toBe("");
}

describe("flags", () => {
  it("negative numbers reach the value check instead of Node's 'argument is ambiguous'", async () => {
    await expectLine(
      ["alibi", "--heads", "-1"],
      'posenc alibi: --heads must be an integer from 1 to 4096, received "-1"',
    );
    await expectLine(
      bench({}, "--heads", "-1"),
      'posenc bench: --heads must be an integer from 1 to 256, received "-1"',
    );
    await expectLine(
      ["rope", "--config", "examples/llama-3.1-8b.config.json", "--seq-len", "-5"],
      'posenc rope: --seq-len must be an integer from 1 to 9007199254740991, received "-5"',
    );
    await expectLine(bench({}, "--lr", "-0.5"), 'posenc bench: --lr must be a number > 0, received "-0.5"');
  });

  it("unknown, missing, repeated and misused options", async () => {
    await expectLine(
      ["alibi", "--heads", "4", "--bogus"],
      "posenc alibi: unknown option --bogus: valid options are --heads, --length, --json, --help (see 'posenc alibi --help')",
    );
    await expectLine(
      ["alibi", "--heads"],
      "posenc alibi: --heads needs a value H (see 'posenc alibi --help')",
    );
    await expectLine(
      ["alibi", "--heads", "4", "--heads", "4"],
      'posenc alibi: --heads given twice ("4" and "4"): give it once (see \'posenc alibi --help\')',
    );
    await expectLine(
      ["list", "--json=false"],
      "posenc list: --json is a switch and takes no value (see 'posenc list --help')",
    );
    await expectLine(["alibi"], "posenc alibi: missing --heads H (see 'posenc alibi --help')");
    await expectLine(
      ["alibi", "--heads", "4", "extra"],
      "posenc alibi: unexpected argument \"extra\" (see 'posenc alibi --help')",
    );
  });
});

describe("every flag of every command", () => {
  for (const command of commands) {
    const see = `(see 'posenc ${command.name} --help')`;
    const flags = Object.entries(command.flags);
    const valid = [...flags.map(([name]) => `--${name}`), "--help"].join(", ");
    it(`posenc ${command.name}: unknown, missing, repeated and misused options, one exact line each`, async () => {
      await expectLine(
        [command.name, "--no-such-flag"],
        `posenc ${command.name}: unknown option --no-such-flag: valid options are ${valid} ${see}`,
      );
      for (const [name, flag] of flags) {
        if (flag.type === "string") {
          await expectLine(
            [command.name, `--${name}`],
            `posenc ${command.name}: --${name} needs a value ${flag.valueName ?? "VALUE"} ${see}`,
          );
          await expectLine(
            [command.name, `--${name}`, "-1", `--${name}=2`],
            `posenc ${command.name}: --${name} given twice ("-1" and "2"): give it once ${see}`,
          );
        } else {
          await expectLine(
            [command.name, `--${name}=yes`],
            `posenc ${command.name}: --${name} is a switch and takes no value ${see}`,
          );
          await expectLine(
            [command.name, `--${name}`, `--${name}`],
            `posenc ${command.name}: --${name} given twice (--${name} and --${name}): give it once ${see}`,
          );
        }
      }
    });
  }
});

describe("ranges", () => {
  it("--positions, --train-length and --test-length share one parser and one wording", async () => {
    await expectLine(
      ["rope", "--config", "examples/llama-3.1-8b.config.json", "--positions", "3..1"],
      'posenc rope: --positions must be a range "A..B" of integers with 0 <= A <= B spanning at most 4096 values, or one integer, received "3..1"',
    );
    await expectLine(
      bench({ "train-length": "0..4" }),
      'posenc bench: --train-length must be a range "A..B" of integers with 1 <= A <= B, or one integer, received "0..4"',
    );
    await expectLine(
      bench({ "test-length": "9..8" }),
      'posenc bench: --test-length must be a range "A..B" of integers with 1 <= A <= B, or one integer, received "9..8"',
    );
  });
});

describe("one line, whatever the message quotes", () => {
  it("escapes control characters and newlines", () => {
    expect(oneLine('not valid JSON ("\n\u0000" is not valid)')).toBe(
      'not valid JSON ("\\n\\u0000" is not valid)',
    );
    expect(oneLine("a\tb\r")).toBe("a\\tb\\r");
  });

  it("a config file whose text has a newline and a NUL is reported on one line", async () => {
    const path = join(scratch, "newline.json");
    writeFileSync(path, "\n\u0000");
    const outcome = await runCli(["rope", "--config", path]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/^--config .*newline\.json: not valid JSON \(.*\\u0000.*\)\n$/);
  });
});
