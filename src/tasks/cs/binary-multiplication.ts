/**
 * binary_multiplication (context-sensitive), from the suite of Ruoss et al. 2023, "Randomized Positional
 * Encodings Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/cs/binary_multiplication.py`.
 *
 * Input (n >= 3): a "*" b sampled exactly as binary_addition (widths |a| in {1..n-2}, |b| = n - 1 - |a|,
 * values >= 1, little-endian, zero-padded to the width). Output: a * b little-endian without padding (at most
 * n - 1 bits), then the termination token (EOS here; DeepMind pads with zeros to n outputs).
 *   Example: 001 * 01101 (4 * 22) -> 0001101 <eos> (88).   1001 * 000001 (9 * 32) -> 000001001 <eos> (288).
 * n <= 2 is degenerate, as in the official code: the input is x uniform in [0, 2^n - 2] on n bits (no "*")
 * and the answer is n - 1 zeros (empty for n = 1).
 * length = n (input length, "*" included). Encoder slots: n. Vocabulary: "0", "1", "*".
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import type { TaskDefinition, TaskExample } from "../types.js";
import { littleEndianBits } from "./binary.js";
import { BINARY_OPERATOR, sampleBinaryOperands, sampleDegenerateNumber } from "./binary-addition.js";

export function binaryMultiplicationTask(): TaskDefinition {
  return {
    id: "binary_multiplication",
    level: "cs",
    paper: RUOSS_2023,
    description: "Little-endian binary product: 001*01101 -> 0001101 <eos> (4 * 22 = 88)",
    lengthMeaning: "input length n (both operands and the '*')",
    minLength: 1,
    symbols: ["0", "1", "*"],
    terminated: true,
    decoderSeparator: true,
    encoderOutputLength: (n) => n,
    sampleExample(rng: Rng, length: number): TaskExample {
      if (length <= 2) {
        const x = sampleDegenerateNumber(rng, length);
        return { input: littleEndianBits(x, length), output: new Array<number>(length - 1).fill(0) };
      }
      const { a, b, widthA, widthB } = sampleBinaryOperands(rng, length);
      return {
        input: [...littleEndianBits(a, widthA), BINARY_OPERATOR, ...littleEndianBits(b, widthB)],
        output: littleEndianBits(a * b, 0),
      };
    },
  };
}
