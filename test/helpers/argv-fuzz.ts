/**
 * fast-check generators of hostile command lines for the CLI fuzz test (test/cli/fuzz.test.ts): the command's own
 * flags with good and bad values, unknown flags, repeated flags, `--flag=value` and `--flag value` spellings,
 * and stray words. `@RANDOM_FILE@` in a token is replaced by a freshly written file (contents: fuzz-files.ts).
 */
import { join } from "node:path";
import fc from "fast-check";
import type { Command } from "../../src/cli/args.js";

/**
 * Kinds of bad input that other work of issue 8 fixes, left out of the fuzz until it lands (then delete the entry
 * and the fuzz covers them too): lengths beyond memory (the size-estimate work), --out/--svg at existing files and
 * folders (the output-folder work), and the contents of checkpoint sidecars and results files (the file-readers
 * work validates them with a schema). HF sizes beyond memory (`hidden_size: 2^53`) are fuzzed: `posenc rope`
 * estimates its memory since the context-extension work landed.
 */
export const OWNED_ELSEWHERE = {
  /** Training and test lengths like 1..100000000 run out of memory: the size-estimate work refuses them. */
  hugeLengths: false,
  /** --out at an existing file or folder, or under a file: the output-folder work checks them before any work. */
  outputFolders: false,
  /** An invalid checkpoint.json (not JSON, keys missing) ends in a TypeError in buildRunModel today. */
  sidecarContents: false,
  /** A results.json with missing or null rows, runs, shards or config ends in a TypeError in mergeResults today. */
  resultsContents: false,
};

export interface FuzzFiles {
  /** Existing and missing files and folders, absolute. */
  paths: string[];
  /** A writable scratch folder for output flags. */
  scratch: string;
  /** A valid, tiny experiment config that random mutations start from. */
  tinyExperiment: Record<string, unknown>;
}

/** Numbers as a user could type them, the hostile ones first. */
const NUMBERS = [
  "-1",
  "-0",
  "0",
  "1",
  "2",
  "3",
  "4",
  "8",
  "64",
  "1.5",
  "-2.5",
  "1e308",
  "-1e308",
  "1e-320",
  "NaN",
  "Infinity",
  "-Infinity",
  "9007199254740993",
  "99999999999999999999",
  "0x10",
  "1_000",
  "",
  " ",
  " 4 ",
  "four",
];
export const HUGE_RANGE = "1..100000000";

/** Whether a length value (flag text or config value) names a length beyond memory, while hugeLengths is owned elsewhere. */
export function hugeLength(value: unknown): boolean {
  if (!OWNED_ELSEWHERE.hugeLengths) return false;
  const text = typeof value === "string" ? value : JSON.stringify(value ?? null);
  return (text.match(/\d+(\.\d+)?(e\+?\d+)?/gi) ?? []).some((number) => Number(number) > 4096);
}
const RANGES = [
  "1..4",
  "0..3",
  "5..2",
  "3",
  "0",
  "-3..-1",
  HUGE_RANGE,
  "0..5000",
  "1..",
  "..4",
  "1...4",
  "a..b",
  "1.5..3",
];
const WORDS = [
  "rope",
  "alibi",
  "nope,rope",
  "t5",
  "reverse",
  "bogus",
  ",,",
  "1/2",
  "2/2",
  "0/0",
  "3/2",
  "a/b",
  "merge",
  "length-gen",
];
const JSONS = ['{"vocabSize":4}', '{"vocabSize":-1}', '{"vocabSize":1e308}', "[]", "null", "{", '"x"', "{}"];

/** A fresh output path of a command (its own prefix: a file of one command is never another's folder). */
function outputPath(files: FuzzFiles, command: string): fc.Arbitrary<string> {
  return fc.integer({ min: 0, max: 1e6 }).map((n) => join(files.scratch, "out", `${command}-${n}`));
}

/** A value for a string flag: numbers, ranges, words, JSON, paths (existing, missing, random content, outputs). */
function valueFor(files: FuzzFiles, command: string, flag: string): fc.Arbitrary<string> {
  if ((flag === "out" || flag === "svg") && OWNED_ELSEWHERE.outputFolders) return outputPath(files, command);
  const values = fc.oneof(
    fc.constantFrom(...NUMBERS),
    fc.constantFrom(...RANGES),
    fc.constantFrom(...WORDS),
    fc.constantFrom(...JSONS),
    fc.constantFrom(...files.paths),
    fc.constant("@RANDOM_FILE@"),
    outputPath(files, command),
    fc.integer().map(String),
    fc.double().map(String),
    fc.string({ maxLength: 10 }),
  );
  return flag.includes("length") ? values.filter((value) => !hugeLength(value)) : values;
}

/** One or two argv tokens: a flag of the command (either spelling), an unknown flag, or a stray word. */
function tokenFor(command: Command, files: FuzzFiles): fc.Arbitrary<string[]> {
  const names = Object.keys(command.flags);
  const stringFlags = names.filter((name) => command.flags[name]!.type === "string");
  const switches = [...names.filter((name) => command.flags[name]!.type === "boolean"), "help"];
  const flagged: fc.Arbitrary<string[]>[] = [
    fc.constantFrom(...switches).map((name) => [`--${name}`]),
    fc.constantFrom(...switches).map((name) => [`--${name}=1`]),
    fc.constantFrom("--bogus", "-x", "-", "--", "---", "--=1", "-1").map((token) => [token]),
    fc.string({ maxLength: 8 }).map((word) => [word]),
  ];
  if (stringFlags.length > 0) {
    const flag = fc.constantFrom(...stringFlags);
    const flagAndValue = flag.chain((name) =>
      fc.tuple(fc.constant(name), valueFor(files, command.name, name)),
    );
    flagged.push(
      flagAndValue.map(([name, value]) => [`--${name}`, value]),
      flagAndValue.map(([name, value]) => [`--${name}`, value]),
      flagAndValue.map(([name, value]) => [`--${name}=${value}`]),
      flag.map((name) => [`--${name}`]),
    );
  }
  return fc.oneof(...flagged);
}

/**
 * A command line that passes the flag parser, per command, so that runs reach the value and file checks deep
 * inside the command: each of its values may then be replaced by a hostile one.
 */
function baseArgs(command: string, files: FuzzFiles): Record<string, string> {
  const out = join(files.scratch, "out", `${command}-base`);
  switch (command) {
    case "rope":
      return { config: "@RANDOM_FILE@", "seq-len": "200", positions: "0..3" };
    case "train":
      return { config: "@RANDOM_FILE@" };
    case "mrope":
      return { config: "@RANDOM_FILE@", input: "text:2,image:1x4x4,video:2x2x2", merge: "2" };
    case "extend":
      return { config: "@RANDOM_FILE@", target: "4096", method: "yarn,llama3,abf" };
    case "alibi":
      return { heads: "4", length: "3" };
    case "demo":
      return { out, parallel: "2" };
    case "eval":
      return { checkpoint: "@RANDOM_FILE@", "test-length": "1..3", samples: "2" };
    case "bench":
      return {
        task: "reverse",
        encodings: "rope,alibi",
        "train-length": "1..4",
        "test-length": "1..6",
        steps: "2",
        out,
      };
    case "report":
      return { inputs: "@RANDOM_FILE@", out };
    case "docs":
      return { out: join(out, "catalog.md") };
    default:
      return {};
  }
}

/** The command's base line with some values made hostile, and maybe one more random token. */
function nearlyValidArgv(command: Command, files: FuzzFiles): fc.Arbitrary<string[]> {
  const base = baseArgs(command.name, files);
  const names = Object.keys(base);
  return fc
    .tuple(
      fc
        .subarray(names, { maxLength: Math.min(2, names.length) })
        .chain((changed) =>
          fc.tuple(
            ...changed.map((name) => fc.tuple(fc.constant(name), valueFor(files, command.name, name))),
          ),
        ),
      fc.oneof(
        { arbitrary: fc.constant(null), weight: 3 },
        { arbitrary: tokenFor(command, files), weight: 1 },
      ),
    )
    .map(([changed, extra]) => {
      const args = { ...base };
      for (const [name, value] of changed) args[name] = value;
      return [...Object.entries(args).flatMap(([name, value]) => [`--${name}`, value]), ...(extra ?? [])];
    });
}

/** A command line for `command`: its own flags with random values, or a nearly valid line made hostile. */
export function argvFor(command: Command, files: FuzzFiles): fc.Arbitrary<string[]> {
  return fc.oneof(
    fc.array(tokenFor(command, files), { maxLength: 6 }).map((tokens) => tokens.flat()),
    nearlyValidArgv(command, files),
    nearlyValidArgv(command, files),
  );
}
