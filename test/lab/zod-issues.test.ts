/**
 * zod issues as one-line PosencConfigErrors, through every wrapper the lab's schemas use (optional, nullable,
 * default, prefault, transform pipes, arrays, nested strict objects): zod's public API only.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { zodIssueToConfigError } from "../../src/lab/zod-issues.js";

const schema = z.strictObject({
  plain: z.number().int().gte(1).describe("an integer >= 1").optional(),
  defaulted: z.number().gt(0).describe("a finite number > 0").default(1),
  prefaulted: z.number().lte(9).describe("a number <= 9").prefault(2),
  nullable: z.string().describe("a name").nullable().optional(),
  piped: z
    .unknown()
    .transform((v, ctx) => {
      if (v !== "ok") ctx.addIssue({ code: "custom", message: "the word ok" });
      return v;
    })
    .optional(),
  nested: z
    .strictObject({
      list: z.array(z.strictObject({ id: z.string().min(1).describe("an id") })).optional(),
    })
    .default({}),
  bare: z.number().min(3).optional(),
  choice: z.enum(["a", "b"]).optional(),
});

function messageOf(input: unknown): string {
  const result = schema.safeParse(input);
  if (result.success) throw new Error("expected a validation failure");
  return zodIssueToConfigError(schema, input, result.error.issues).message;
}

describe("zodIssueToConfigError", () => {
  it("finds the description through optional, default, prefault and nullable wrappers", () => {
    expect(messageOf({ plain: 0 })).toBe("Invalid plain: expected an integer >= 1, received 0");
    expect(messageOf({ defaulted: -1 })).toBe("Invalid defaulted: expected a finite number > 0, received -1");
    expect(messageOf({ prefaulted: 10 })).toBe("Invalid prefaulted: expected a number <= 9, received 10");
    expect(messageOf({ nullable: 3 })).toBe("Invalid nullable: expected a name, received 3");
  });

  it("uses a custom refinement's message inside a transform pipe", () => {
    expect(messageOf({ piped: "no" })).toBe('Invalid piped: expected the word ok, received "no"');
  });

  it("walks nested objects and arrays for paths, descriptions and unknown keys", () => {
    expect(messageOf({ nested: { list: [{ id: "x" }, { id: "" }] } })).toBe(
      'Invalid nested.list[1].id: expected an id, received ""',
    );
    expect(messageOf({ nested: { list: [{ id: "x", extra: 1 }] } })).toBe(
      "Unknown key nested.list[0].extra (received 1): valid keys are id",
    );
    expect(messageOf({ nested: { other: true } })).toBe(
      "Unknown key nested.other (received true): valid keys are list",
    );
    expect(messageOf({ surprise: 1 })).toBe(
      "Unknown key surprise (received 1): valid keys are plain, defaulted, prefaulted, nullable, piped, nested, bare, choice",
    );
    expect(messageOf({ nested: { list: [{}] } })).toBe(
      "Missing required key nested.list[0].id: expected an id",
    );
  });

  it("falls back to the issue's own bounds when a node has no description", () => {
    expect(messageOf({ bare: 2 })).toBe("Invalid bare: expected a value >= 3, received 2");
    expect(messageOf({ choice: "c" })).toBe('Invalid choice: expected one of "a", "b", received "c"');
    expect(messageOf({ nested: { list: "x" } })).toBe('Invalid nested.list: expected an array, received "x"');
  });

  it("names the whole config when the input is not an object", () => {
    expect(messageOf(7)).toBe("Invalid (config): expected an object, received 7");
  });
});
