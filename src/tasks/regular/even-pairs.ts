/**
 * even_pairs (regular), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings Boost Length
 * Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/randomized_positional_
 * encodings `tasks/regular/even_pairs.py`.
 *
 * Input: n bits x_1..x_n uniform in {0, 1}. Output: one class, (#{i : x_i != x_{i+1}}) mod 2, i.e. whether the
 * number of "01" and "10" pairs is odd (equivalently x_1 != x_n).
 *   Example: 0101001 -> 2 "10" + 3 "01" = 5 -> class 1.   001110 -> 2 -> class 0.
 * length = n (input length). Vocabulary: "0", "1" (the class reuses them).
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import { digitSymbols, uniformSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

/** (number of unequal adjacent pairs) mod 2. */
export function evenPairsClass(bits: readonly number[]): number {
  let unequal = 0;
  for (let i = 0; i + 1 < bits.length; i++) if (bits[i] !== bits[i + 1]) unequal++;
  return unequal % 2;
}

export function evenPairsTask(): TaskDefinition {
  return {
    id: "even_pairs",
    level: "regular",
    paper: RUOSS_2023,
    description: "Is the number of 01 and 10 pairs odd? 0101001 -> 1",
    lengthMeaning: "input length n (bits)",
    minLength: 1,
    symbols: digitSymbols(2),
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input = uniformSymbols(rng, length, 2);
      return { input, output: [evenPairsClass(input)] };
    },
  };
}
