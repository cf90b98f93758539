/**
 * missing_duplicate_string (context-sensitive), from the suite of Ruoss et al. 2023, "Randomized Positional
 * Encodings Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/cs/missing_duplicate_string.py`.
 *
 * Input: a binary string w of floor(n/2) bits, written twice (ww), with one uniformly chosen position of ww
 * replaced by the placeholder "?" (DeepMind's token 2), plus one empty token "." (their token 3) at the end
 * when n is odd. Output: one class, the bit that "?" hides.
 *   Example: 01100?10 -> 1 (w = 0110).   1011?1. -> 0 (w = 101).
 * n = 1 is degenerate, as in the official code: the input is the single token 1 and the answer is 1.
 * length = n (input length). Vocabulary: "0", "1", "?", "." (the class reuses "0", "1").
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import { uniformSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export const MISSING = 2;
export const EMPTY = 3;

export function missingDuplicateStringTask(): TaskDefinition {
  return {
    id: "missing_duplicate_string",
    level: "cs",
    paper: RUOSS_2023,
    description: "The bit hidden by ? in a duplicated string: 01100?10 -> 1",
    lengthMeaning: "input length n (two copies of floor(n/2) bits, plus '.' when n is odd)",
    minLength: 1,
    symbols: ["0", "1", "?", "."],
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      if (length === 1) return { input: [1], output: [1] };
      const half = uniformSymbols(rng, Math.floor(length / 2), 2);
      const input = [...half, ...half];
      const hidden = rng.int(input.length);
      const answer = input[hidden];
      input[hidden] = MISSING;
      if (length % 2 === 1) input.push(EMPTY);
      return { input, output: [answer] };
    },
  };
}
