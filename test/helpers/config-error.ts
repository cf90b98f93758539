/** The PosencConfigError `fn` throws (the test fails when it throws nothing or something else). Test-only. */
import { expect } from "vitest";
import { PosencConfigError } from "../../src/util/validation.js";

export function configError(fn: () => unknown): PosencConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PosencConfigError);
    return error as PosencConfigError;
  }
  throw new Error("expected a PosencConfigError, nothing was thrown");
}
