/**
 * compute_sqrt (context-sensitive), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings
 * Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/cs/compute_sqrt.py`.
 *
 * Input: x uniform in [1, 2^n - 1] written big-endian on n bits (leading zeros kept). Output: floor(sqrt(x))
 * big-endian, zero-padded to ceil(n / 2) bits (sqrt(x) < 2^(n/2) always fits).
 *   Example: 100101 (37) -> 110 (6).   111 (7) -> 10 (2).   0001 (1) -> 01.
 * length = n. Encoder slots: ceil(n / 2). Vocabulary: "0", "1".
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import { digitSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";
import { bigEndianBits, integerSqrt, uniformBits } from "./binary.js";

export function computeSqrtTask(): TaskDefinition {
  return {
    id: "compute_sqrt",
    level: "cs",
    paper: RUOSS_2023,
    description: "Floor of the square root, big-endian: 100101 (37) -> 110 (6)",
    lengthMeaning: "input length n (bits)",
    minLength: 1,
    symbols: digitSymbols(2),
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: (n) => Math.ceil(n / 2),
    sampleExample(rng: Rng, length: number): TaskExample {
      const x = uniformBits(rng, length, 1);
      return {
        input: bigEndianBits(x, length),
        output: bigEndianBits(integerSqrt(x), Math.ceil(length / 2)),
      };
    },
  };
}
