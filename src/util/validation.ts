/**
 * Validation errors shared by the library, the lab and the CLI.
 *
 * Every failure names the key (a dotted path), the value received and what would be valid, in one line:
 *   Invalid rope_parameters.factor: expected a finite number >= 1, received 0.5
 * The CLI prints `error.message` and exits with code 2; it never shows a stack trace for these.
 */
export type ConfigIssueCode =
  | "missing_key"
  | "unknown_key"
  | "invalid_type"
  | "out_of_range"
  | "invalid_value"
  | "conflict";

export class PosencConfigError extends Error {
  override readonly name = "PosencConfigError";
  constructor(
    readonly code: ConfigIssueCode,
    /** Dotted path of the offending key, e.g. `rope_parameters.beta_fast`. */
    readonly key: string,
    readonly received: unknown,
    /** What would be valid, e.g. `a finite number >= 1`. */
    readonly expected: string,
    message?: string,
  ) {
    super(oneLine(message ?? formatIssue(code, key, received, expected)));
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point.
const LINE_BREAKING = /[\u0000-\u001f\u007f\u2028\u2029]/g;

/**
 * A message made one line: control characters and line separators (a line break quoted from a bad file, a NUL)
 * are shown as \uXXXX escapes, so an error is always exactly one line of text.
 */
export function oneLine(message: string): string {
  return message.replace(LINE_BREAKING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A compact, single-line rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (the key is missing)";
  if (typeof value === "string") {
    // A whole file's garbage would make a line of kilobytes: the start says enough.
    return value.length > 200
      ? `${JSON.stringify(value.slice(0, 160))}... (${value.length} characters)`
      : JSON.stringify(value);
  }
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (Array.isArray(value)) {
    const shown = value.slice(0, 6).map((v) => describeValue(v));
    return `[${shown.join(", ")}${value.length > 6 ? `, ... (${value.length} items)` : ""}]`;
  }
  try {
    const text = JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}

function formatIssue(code: ConfigIssueCode, key: string, received: unknown, expected: string): string {
  switch (code) {
    case "missing_key":
      return `Missing required key ${key}: expected ${expected}`;
    case "unknown_key":
      return `Unknown key ${key} (received ${describeValue(received)}): valid keys are ${expected}`;
    default:
      return `Invalid ${key}: expected ${expected}, received ${describeValue(received)}`;
  }
}

export interface NumberRule {
  /** Lower bound (inclusive unless `exclusiveMin`). */
  min?: number;
  exclusiveMin?: boolean;
  /** Upper bound (inclusive unless `exclusiveMax`). */
  max?: number;
  exclusiveMax?: boolean;
  integer?: boolean;
}

/** Human wording of a rule: "an integer >= 1", "a finite number > 0 and <= 1". */
export function describeNumberRule(rule: NumberRule): string {
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`${rule.exclusiveMin ? ">" : ">="} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`${rule.exclusiveMax ? "<" : "<="} ${rule.max}`);
  const noun = rule.integer ? "an integer" : "a finite number";
  return parts.length ? `${noun} ${parts.join(" and ")}` : noun;
}

/** Throws a PosencConfigError unless `value` is a number obeying `rule`; returns it typed. */
export function checkNumber(key: string, value: unknown, rule: NumberRule = {}): number {
  const expected = describeNumberRule(rule);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new PosencConfigError("invalid_type", key, value, expected);
  }
  if (rule.integer && !Number.isInteger(value))
    throw new PosencConfigError("invalid_type", key, value, expected);
  const belowMin = rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min);
  const aboveMax = rule.max !== undefined && (rule.exclusiveMax ? value >= rule.max : value > rule.max);
  if (belowMin || aboveMax) throw new PosencConfigError("out_of_range", key, value, expected);
  return value;
}

/** Throws unless `value` is one of `choices`. */
export function checkChoice<T extends string>(key: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      value,
      `one of ${choices.map((c) => `"${c}"`).join(", ")}`,
    );
  }
  return value as T;
}

/** Throws unless `value` is a boolean. */
export function checkBoolean(key: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new PosencConfigError("invalid_type", key, value, "true or false");
  return value;
}

/** Throws unless `value` is a plain object (not null, not an array). */
export function checkObject(key: string, value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PosencConfigError("invalid_type", key, value, "an object");
  }
  return value as Record<string, unknown>;
}

/** Throws on the first key of `object` not in `known`, listing the valid keys. */
export function checkKnownKeys(
  path: string,
  object: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      const full = path ? `${path}.${key}` : key;
      throw new PosencConfigError("unknown_key", full, object[key], known.join(", "));
    }
  }
}
