/**
 * Flag parsing for every command, on Node's own `util.parseArgs` (strict: unknown flags and missing values are
 * errors). Parse failures become UsageErrors naming the command, so the user sees one line and exit code 2.
 */
import { parseArgs } from "node:util";
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
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (error) {
    const message = (error as Error).message.split("\n")[0]!.replace(/\. To specify a positional.*$/, "");
    throw new UsageError(`posenc ${command.name}: ${message} (see 'posenc ${command.name} --help')`);
  }
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

/** Parses `A..B` (inclusive integer range, A <= B) or a single integer `A`. */
export function parseRangeFlag(
  command: string,
  name: string,
  text: string,
  min: number,
  maxCount: number,
): { start: number; end: number } {
  const match = /^\s*(-?\d+)\s*(?:\.\.\s*(-?\d+)\s*)?$/.exec(text);
  const start = match ? Number(match[1]) : Number.NaN;
  const end = match ? Number(match[2] ?? match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < min || end < start) {
    throw new UsageError(
      `posenc ${command}: --${name} must be a range A..B of integers with ${min} <= A <= B, received "${text}"`,
    );
  }
  if (end - start + 1 > maxCount) {
    throw new UsageError(
      `posenc ${command}: --${name} spans ${end - start + 1} positions, at most ${maxCount} are printed, received "${text}"`,
    );
  }
  return { start, end };
}
