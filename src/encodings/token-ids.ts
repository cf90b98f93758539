/**
 * The two checks every token-reading id scheme (gpe, v2pe, extended-mind) makes: its token-id parameters are ids,
 * and a sequence's tokens were given.
 */
import { PosencConfigError } from "../util/validation.js";
import type { PositionIdContext } from "./types.js";

/** Each value of the parameter `key` (under `path`) is a token id: an integer >= 0. */
export function checkTokenIdList(path: string, key: string, values: readonly number[]): void {
  values.forEach((token, i) => {
    if (!Number.isInteger(token) || token < 0) {
      throw new PosencConfigError("invalid_value", `${path}.${key}[${i}]`, token, "a token id >= 0");
    }
  });
}

/** The `length` tokens of the sequence from `context`, or a config error saying what the scheme reads them for. */
export function sequenceTokens(
  length: number,
  context: PositionIdContext | undefined,
  readsThemFor: string,
): ArrayLike<number> {
  const tokens = context?.tokens;
  if (tokens === undefined || tokens.length !== length) {
    throw new PosencConfigError(
      "missing_key",
      "context.tokens",
      tokens,
      `the ${length} token ids of the sequence (${readsThemFor})`,
    );
  }
  return tokens;
}
