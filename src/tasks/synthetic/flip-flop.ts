/**
 * flip_flop, the flip-flop language of Liu et al. 2023, "Exposing Attention Glitches with Flip-Flop Language
 * Modeling" (arXiv:2306.00946), FFL(p): a sequence of n instruction-bit pairs. Instructions are w (write),
 * r (read), i (ignore); the first is always w and the last always r; the others are i.i.d. with
 * P(w) = P(r) = (1 - pIgnore) / 2, P(i) = pIgnore (FFL(0.8): pIgnore = 0.8, the paper's default). Bits after
 * w and i are uniform; the bit after r must equal the bit of the most recent w.
 * Here the final read is the answer: the input is the n pairs up to the last "r" (its bit removed), and the
 * output is that bit. Earlier reads appear with their (correct) bits inside the input. (Liu et al. score every
 * read position of a language-modeling stream; this single-answer form scores the last one, which is the
 * one at the longest distance from the start.)
 *   Example: w 1 i 0 r 1 i 1 w 0 i 1 r -> 0.
 * length = n (instruction-bit pairs; the input has 2n - 1 tokens). Vocabulary: "w", "r", "i", "0", "1".
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { LIU_2023 } from "../papers.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export const WRITE = 0;
export const READ = 1;
export const IGNORE = 2;
const bitId = (bit: number) => 3 + bit;

export interface FlipFlopParams {
  /** Probability of the ignore instruction (default 0.8; write and read share the rest equally). */
  pIgnore?: number;
}

export function flipFlopTask(params: FlipFlopParams = {}): TaskDefinition {
  const pIgnore = checkNumber("flip_flop.pIgnore", params.pIgnore ?? 0.8, {
    min: 0,
    max: 1,
    exclusiveMax: true,
  });
  const pWrite = (1 - pIgnore) / 2;
  return {
    id: "flip_flop",
    level: "synthetic",
    paper: LIU_2023,
    description: "Bit of the last write at the final read: w 1 i 0 r 1 i 1 w 0 i 1 r -> 0",
    lengthMeaning: "instruction-bit pairs n (the last read's bit is the answer)",
    minLength: 2,
    symbols: ["w", "r", "i", "0", "1"],
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input: number[] = [];
      let memory = rng.int(2);
      input.push(WRITE, bitId(memory));
      for (let i = 1; i < length - 1; i++) {
        const u = rng.next();
        const instruction = u < pWrite ? WRITE : u < 2 * pWrite ? READ : IGNORE;
        if (instruction === READ) {
          input.push(READ, bitId(memory));
        } else {
          const bit = rng.int(2);
          if (instruction === WRITE) memory = bit;
          input.push(instruction, bitId(bit));
        }
      }
      input.push(READ);
      return { input, output: [bitId(memory)] };
    },
  };
}
