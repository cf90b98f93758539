/**
 * Renders a zod validation failure as the repository's one-line PosencConfigError:
 *   Invalid train.lr: expected a finite number > 0, received -1
 *   Unknown key train.foo (received 1): valid keys are steps, batchSize, ...
 *
 * The "expected" wording comes from the schema node at the issue's path: every leaf of the lab's schemas is
 * built with `.describe(wording)` (see config.ts), so the message says exactly what is valid. The received value
 * is read from the raw input at the same path. Only the first issue is reported: one line, one fix.
 */
import type { z } from "zod";
import { PosencConfigError } from "../util/validation.js";

type AnySchema = z.ZodType;
type Path = readonly PropertyKey[];

interface SchemaDef {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  in?: AnySchema;
  element?: AnySchema;
}

function defOf(schema: AnySchema): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Unwraps optional/default/nullable/pipe wrappers to the node that carries the shape or the checks. */
function unwrap(schema: AnySchema): AnySchema {
  let node = schema;
  for (let i = 0; i < 16; i++) {
    const def = defOf(node);
    if ((def.type === "optional" || def.type === "default" || def.type === "nullable") && def.innerType) {
      node = def.innerType;
    } else if (def.type === "pipe" && def.in) {
      node = def.in;
    } else break;
  }
  return node;
}

/** The description of the schema node at `path` (the first described wrapper wins), or undefined. */
function schemaAt(root: AnySchema, path: Path): AnySchema | undefined {
  let node: AnySchema | undefined = root;
  for (const key of path) {
    if (!node) return undefined;
    const def = defOf(unwrap(node));
    if (def.type === "object" && def.shape) node = def.shape[String(key)];
    else if (def.type === "array" && def.element) node = def.element;
    else return undefined;
  }
  return node;
}

function descriptionOf(schema: AnySchema | undefined): string | undefined {
  let node = schema;
  for (let i = 0; node && i < 16; i++) {
    if (node.description) return node.description;
    const def = defOf(node);
    node = def.innerType ?? def.in;
  }
  return undefined;
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
    const node = schemaAt(schema, issue.path);
    const def = node ? defOf(unwrap(node)) : undefined;
    const known = def?.shape ? Object.keys(def.shape).join(", ") : "(none)";
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
