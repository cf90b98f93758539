/**
 * Errors the CLI turns into one line on stderr and exit code 2 (bad input: a flag, a file, a config).
 * Anything else is a bug in posenc and exits 1.
 */
import { oneLine, PosencConfigError } from "../util/validation.js";

/** A bad command line or input file. The message is the whole line shown to the user. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string) {
    super(oneLine(message));
  }
}

export function isInputError(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof PosencConfigError;
}
