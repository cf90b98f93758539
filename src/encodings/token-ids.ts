/**
 * Not a method: the two checks every token-reading id scheme makes, each scheme in its own file with its paper:
 * GPE, group position encoding for streaming (arXiv:2505.16983), V2PE, variable position increments
 * (arXiv:2412.09616), and Extended Mind's memory positions (arXiv:2406.02332). No formula of its own: a token-id
 * parameter holds ids (integers >= 0), and a sequence's tokens were given to the scheme that reads them.
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
