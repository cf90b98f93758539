/**
 * parity_check (regular), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings Boost Length
 * Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/randomized_positional_
 * encodings `tasks/regular/parity_check.py`.
 *
 * Input: n bits uniform in {0, 1}. Output: one class, (number of 1s) mod 2.
 *   Example: 1010100 -> three 1s -> class 1.   01111 -> four 1s -> class 0.
 * length = n (input length). Vocabulary: "0", "1" (the class reuses them).
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import { digitSymbols, uniformSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export function parityClass(bits: readonly number[]): number {
  let ones = 0;
  for (const b of bits) ones += b;
  return ones % 2;
}

export function parityCheckTask(): TaskDefinition {
  return {
    id: "parity_check",
    level: "regular",
    paper: RUOSS_2023,
    description: "Parity of the number of 1s: 1010100 -> 1",
    lengthMeaning: "input length n (bits)",
    minLength: 1,
    symbols: digitSymbols(2),
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input = uniformSymbols(rng, length, 2);
      return { input, output: [parityClass(input)] };
    },
  };
}
