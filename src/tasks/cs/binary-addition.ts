/**
 * binary_addition (context-sensitive), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings
 * Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/cs/binary_addition.py`.
 *
 * Input (n >= 3): a "+" b, with |a| uniform in {1..n-2} bits, |b| = n - 1 - |a|, a uniform in [1, 2^|a| - 1]
 * and b in [1, 2^|b| - 1], each written little-endian (least significant bit first) zero-padded to its width.
 * Output: a + b little-endian without padding, then the termination token (EOS here; DeepMind pads with zeros
 * to n + 1 outputs and masks them).
 *   Example: 001 + 01101 (4 + 22) -> 01011 <eos> (26).   1001 + 000001 (9 + 32) -> 100101 <eos> (41).
 * n <= 2 is degenerate, as in the official code: the input is a number x uniform in [0, 2^n - 2] written on n
 * bits (no "+"), and the answer is x in minimal little-endian form ("0" for 0).
 * length = n (input length, "+" included). Encoder slots: n + 1. Vocabulary: "0", "1", "+".
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import type { TaskDefinition, TaskExample } from "../types.js";
import { littleEndianBits, uniformBits } from "./binary.js";

export const BINARY_OPERATOR = 2;

/** Samples the two operands as DeepMind's binary tasks do (n >= 3): widths, then values >= 1. */
export function sampleBinaryOperands(
  rng: Rng,
  length: number,
): { a: bigint; b: bigint; widthA: number; widthB: number } {
  const widthA = rng.intBetween(1, length - 2);
  const widthB = length - 1 - widthA;
  return { a: uniformBits(rng, widthA, 1), b: uniformBits(rng, widthB, 1), widthA, widthB };
}

/** The degenerate n <= 2 input: x uniform in [0, 2^n - 2] (numpy's exclusive upper bound 2^n - 1). */
export function sampleDegenerateNumber(rng: Rng, length: number): bigint {
  return BigInt(rng.int(2 ** length - 1));
}

export function binaryAdditionTask(): TaskDefinition {
  return {
    id: "binary_addition",
    level: "cs",
    paper: RUOSS_2023,
    description: "Little-endian binary sum: 001+01101 -> 01011 <eos> (4 + 22 = 26)",
    lengthMeaning: "input length n (both operands and the '+')",
    minLength: 1,
    symbols: ["0", "1", "+"],
    terminated: true,
    decoderSeparator: true,
    encoderOutputLength: (n) => n + 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      if (length <= 2) {
        const x = sampleDegenerateNumber(rng, length);
        return { input: littleEndianBits(x, length), output: littleEndianBits(x, 0) };
      }
      const { a, b, widthA, widthB } = sampleBinaryOperands(rng, length);
      return {
        input: [...littleEndianBits(a, widthA), BINARY_OPERATOR, ...littleEndianBits(b, widthB)],
        output: littleEndianBits(a + b, 0),
      };
    },
  };
}
