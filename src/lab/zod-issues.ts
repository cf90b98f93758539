/**
 * Renders a zod validation failure as the repository's one-line PosencConfigError:
 *   Invalid train.lr: expected a finite number > 0, received -1
 *   Unknown key train.foo (received 1): valid keys are steps, batchSize, ...
 *
 * The "expected" wording comes from the schema node at the issue's path: every leaf of the lab's schemas is
 * built with `.describe(wording)` (see config.ts), so the message says exactly what is valid. The received value
 * is read from the raw input at the same path. Only the first issue is reported: one line, one fix.
 */
import { z } from "zod";
import { PosencConfigError } from "../util/validation.js";
import { readInputJson } from "./files.js";

type AnySchema = z.ZodType;
type Path = readonly PropertyKey[];

/**
 * The schema a wrapper (optional, nullable, default, prefault, a transform's pipe) wraps, or undefined for a node
 * that wraps nothing. Zod's public classes and accessors only (`unwrap()`, a pipe's `in`): no `_zod` internals.
 */
function innerOf(schema: AnySchema): AnySchema | undefined {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault
  ) {
    return schema.unwrap() as AnySchema;
  }
  if (schema instanceof z.ZodPipe) return schema.in as AnySchema;
  return undefined;
}

/** Unwraps optional/default/nullable/pipe wrappers to the node that carries the shape or the checks. */
function unwrap(schema: AnySchema): AnySchema {
  let node = schema;
  for (let inner = innerOf(node); inner; inner = innerOf(node)) node = inner;
  return node;
}

/** The schema node at `path` (objects by key, arrays by element), or undefined. */
function schemaAt(root: AnySchema, path: Path): AnySchema | undefined {
  let node: AnySchema | undefined = root;
  for (const key of path) {
    if (!node) return undefined;
    const bare = unwrap(node);
    if (bare instanceof z.ZodObject) node = (bare.shape as Record<string, AnySchema>)[String(key)];
    else if (bare instanceof z.ZodArray) node = bare.element as AnySchema;
    else return undefined;
  }
  return node;
}

/** The description of a node (the first described wrapper, outermost first, wins), or undefined. */
function descriptionOf(schema: AnySchema | undefined): string | undefined {
  for (let node = schema; node; node = innerOf(node)) {
    if (node.description) return node.description;
  }
  return undefined;
}

/** The keys of the object schema at `path`, for "valid keys are ..." messages. */
function knownKeysAt(root: AnySchema, path: Path): string {
  const node = schemaAt(root, path);
  const bare = node ? unwrap(node) : undefined;
  return bare instanceof z.ZodObject ? Object.keys(bare.shape).join(", ") : "(none)";
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key as string];
  }
  return value;
}

/** Dotted path with array indices in brackets: `encodings[1].id`; `prefix` names the root (may be ""). */
export function formatPath(path: Path, prefix = ""): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(config)";
}

/** Wording for an issue whose schema node carries no description. */
function fallbackExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected === "int"
        ? "an integer"
        : `${/^[aeiou]/.test(issue.expected) ? "an" : "a"} ${issue.expected}`;
    case "too_small":
      return issue.origin === "array"
        ? `at least ${issue.minimum} items`
        : `a value ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `at most ${issue.maximum} items`
        : `a value ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message;
  }
}

/** The first issue of a zod error as a PosencConfigError naming the key path, the value and what is valid. */
export function zodIssueToConfigError(
  schema: AnySchema,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
  prefix = "",
): PosencConfigError {
  const issue = issues[0];
  if (!issue) return new PosencConfigError("invalid_value", prefix || "(config)", input, "a valid config");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const known = knownKeysAt(schema, issue.path);
    const full = formatPath([...issue.path, key], prefix);
    return new PosencConfigError("unknown_key", full, valueAt(input, [...issue.path, key]), known);
  }
  const received = valueAt(input, issue.path);
  const key = formatPath(issue.path, prefix);
  // A custom refinement's message is its own full "expected" wording.
  const expected =
    issue.code === "custom"
      ? issue.message
      : (descriptionOf(schemaAt(schema, issue.path)) ?? fallbackExpected(issue));
  if (received === undefined && issue.code === "invalid_type") {
    return new PosencConfigError("missing_key", key, undefined, expected);
  }
  const code = issue.code === "too_small" || issue.code === "too_big" ? "out_of_range" : "invalid_value";
  return new PosencConfigError(
    issue.code === "invalid_type" ? "invalid_type" : code,
    key,
    received,
    expected,
  );
}

/**
 * Reads a JSON input file (files.ts: readInputJson) and validates it against `schema`; a failure is one line whose
 * key names the file, then the path inside it ("results/a.json: cells[3].mean").
 */
export function readJsonFileAs<S extends z.ZodType>(path: string, schema: S): z.output<S> {
  const input = readInputJson(path, path);
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const error = zodIssueToConfigError(schema, input, parsed.error.issues);
    throw new PosencConfigError(error.code, `${path}: ${error.key}`, error.received, error.expected);
  }
  return parsed.data;
}
