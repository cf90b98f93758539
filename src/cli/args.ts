/**
 * Flag parsing for every command, on Node's own `util.parseArgs` (strict: unknown flags and missing values are
 * errors). Parse failures become UsageErrors naming the command, so the user sees one line and exit code 2.
 */
import { parseArgs } from "node:util";
import {
  describeIntegerRange,
  type IntegerRange,
  type IntegerRangeRule,
  parseIntegerRange,
} from "../util/range.js";
import { UsageError } from "./errors.js";

export type FlagSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; description: string; valueName?: string }
>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec;
  /** Whether the command takes positional arguments (otherwise any is rejected as unexpected). */
  acceptsPositionals?: boolean;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<void> | void;
}

/** The `--name` of every option of a command, --help included, for "valid options are ..." messages. */
function optionNames(command: Command): string {
  return [...Object.keys(command.flags), "help"].map((name) => `--${name}`).join(", ");
}

/**
 * A value that starts with a single dash (`--heads -1`, `--lr -.5`) is taken as the value of the string option
 * before it, as `--heads=-1`: parseArgs would refuse it as ambiguous. A `--word` after a string option is not
 * taken (a forgotten value is likelier than a value spelt like an option): parseArgs reports the value missing.
 */
function attachDashValues(command: Command, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = token.startsWith("--") && !token.includes("=") ? token.slice(2) : undefined;
    const takesValue = name !== undefined && command.flags[name]?.type === "string";
    if (takesValue && next !== undefined && /^-(?!-)./.test(next)) {
      out.push(`${token}=${next}`);
      i++;
    } else out.push(token);
  }
  return out;
}

/** parseArgs' multi-line error as one line saying what is wrong and what is valid. */
function describeParseError(command: Command, error: Error & { code?: string }): string {
  const option = /option '([^' ]+)/i.exec(error.message)?.[1] ?? "";
  const flag = command.flags[option.replace(/^--/, "")];
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return `unknown option ${option}: valid options are ${optionNames(command)}`;
  }
  if (/does not take an argument/.test(error.message)) {
    return `${option} is a switch and takes no value`;
  }
  if (/argument missing|ambiguous/.test(error.message)) {
    return `${option} needs a value ${flag?.valueName ?? "VALUE"}`;
  }
  return error.message.split("\n")[0]!.replace(/\. To specify a positional.*$/, "");
}

/**
 * Parses a command's argv strictly: unknown options, missing values, a value given to a switch and an option
 * given twice are UsageErrors (one line naming the option and what is valid, exit code 2).
 */
export function parseCommandArgs(
  command: Command,
  argv: string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean" },
  };
  for (const [name, flag] of Object.entries(command.flags)) {
    options[name] = flag.short ? { type: flag.type, short: flag.short } : { type: flag.type };
  }
  const fail = (what: string) =>
    new UsageError(`posenc ${command.name}: ${what} (see 'posenc ${command.name} --help')`);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; tokens: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({
      args: attachDashValues(command, argv),
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (error) {
    throw fail(describeParseError(command, error as Error));
  }
  const seen = new Map<string, string>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const shown = token.value === undefined ? `--${token.name}` : JSON.stringify(token.value);
    const first = seen.get(token.name);
    if (first !== undefined) throw fail(`--${token.name} given twice (${first} and ${shown}): give it once`);
    seen.set(token.name, shown);
  }
  return {
    values: parsed.values as Record<string, string | boolean | undefined>,
    positionals: parsed.positionals,
  };
}

export function renderCommandHelp(command: Command): string {
  const rows = Object.entries(command.flags).map(([name, flag]) => {
    const left = `  --${name}${flag.type === "string" ? ` ${flag.valueName ?? "VALUE"}` : ""}`;
    return `${left.padEnd(28)}${flag.description}`;
  });
  rows.push(`${"  --help".padEnd(28)}Show this help`);
  return `${command.summary}\n\nUsage: ${command.usage}\n\nOptions:\n${rows.join("\n")}\n`;
}

/** A flag that must be present: returns its string value or throws a UsageError naming it. */
export function requireFlag(
  command: string,
  values: Record<string, unknown>,
  name: string,
  what: string,
): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`posenc ${command}: missing --${name} ${what} (see 'posenc ${command} --help')`);
  }
  return value;
}

/** Parses an integer flag with bounds, or throws a UsageError naming the flag, the value and the valid range. */
export function parseIntegerFlag(
  command: string,
  name: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `posenc ${command}: --${name} must be an integer from ${min} to ${max}, received "${text}"`,
    );
  }
  return value;
}

/** A decimal number as a user types it: 0.001, 1e-3, -2.5, .5 (not 0x10, 1_000, Infinity or an empty string). */
const DECIMAL = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;

/** Parses a number flag > 0 (finite, decimal), or throws a UsageError naming the flag, the value and what is valid. */
export function parsePositiveNumberFlag(command: string, name: string, text: string): number {
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`posenc ${command}: --${name} must be a number > 0, received "${text}"`);
  }
  return value;
}

/**
 * Parses a decimal number flag within bounds (min <= x, or min < x with exclusiveMin; x <= max), or throws a
 * UsageError naming the flag, the value and what is valid, e.g. "a number >= 0", "a number from 0 to 1".
 */
export function parseNumberFlag(
  command: string,
  name: string,
  text: string,
  rule: { min?: number; max?: number; exclusiveMin?: boolean },
): number {
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  const { min, max, exclusiveMin } = rule;
  const ok =
    Number.isFinite(value) &&
    (min === undefined || (exclusiveMin ? value > min : value >= min)) &&
    (max === undefined || value <= max);
  if (!ok) {
    const valid =
      min !== undefined && max !== undefined && !exclusiveMin
        ? `a number from ${min} to ${max}`
        : [
            ...(min !== undefined ? [`${exclusiveMin ? ">" : ">="} ${min}`] : []),
            ...(max !== undefined ? [`<= ${max}`] : []),
          ].join(" and ");
    throw new UsageError(
      `posenc ${command}: --${name} must be ${valid.startsWith("a number") ? valid : `a number ${valid || "(finite)"}`}, received "${text}"`,
    );
  }
  return value;
}

/**
 * Parses a range flag, `A..B` or `N` (the shared parser, src/util/range.ts), or throws a UsageError naming the
 * flag, the value and what is valid.
 */
export function parseRangeFlag(
  command: string,
  name: string,
  text: string,
  rule: IntegerRangeRule,
): IntegerRange {
  const range = parseIntegerRange(text, rule);
  if (!range) {
    throw new UsageError(
      `posenc ${command}: --${name} must be ${describeIntegerRange(rule)}, received "${text}"`,
    );
  }
  return range;
}
