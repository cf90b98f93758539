/**
 * selective_copy, as used by Golovneva et al. 2024, "Contextual Position Encoding: Learning to Count What's
 * Important" (arXiv:2405.18719), after Gu & Dao 2023 (Mamba, arXiv:2312.00752): copy every token of the input
 * except the blanks, in order.
 *   Example (blank "_"): _ _ D _ _ _ C _ _ A -> D C A.
 * Input: n tokens, of which exactly `copyCount` (at uniformly chosen distinct positions) are symbols uniform
 * over k, the rest blanks. Output: the copyCount symbols in order. CoPE keeps the number of tokens to copy
 * fixed (128) and varies the blanks: 128 blanks in distribution, 64 ("dense") or 256 ("sparse") out of
 * distribution; length generalization here means more blanks for the same copyCount.
 * length = n (total input length, >= copyCount). Encoder slots: copyCount.
 * Vocabulary: "0".."k-1", "_".
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { GOLOVNEVA_2024 } from "../papers.js";
import { checkAlphabet, digitSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export interface SelectiveCopyParams {
  /** Alphabet size k of the copied symbols (default 16, as CoPE). */
  vocabSize?: number;
  /** Non-blank tokens per input (default 16; CoPE uses 128 at length 256). */
  copyCount?: number;
}

/** `count` distinct positions of {0..n-1}, increasing (partial Fisher-Yates, then sort). */
export function sampleSortedPositions(rng: Rng, n: number, count: number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count).sort((a, b) => a - b);
}

export function selectiveCopyTask(params: SelectiveCopyParams = {}): TaskDefinition {
  const vocabSize = checkAlphabet("selective_copy.vocabSize", params.vocabSize ?? 16);
  const copyCount = checkNumber("selective_copy.copyCount", params.copyCount ?? 16, {
    integer: true,
    min: 1,
  });
  const blank = vocabSize;
  return {
    id: "selective_copy",
    level: "synthetic",
    paper: GOLOVNEVA_2024,
    description: "Copy the non-blank tokens: _ _ 3 _ _ _ 12 _ _ 0 -> 3 12 0",
    lengthMeaning: `input length n (${copyCount} symbols and n - ${copyCount} blanks)`,
    minLength: copyCount,
    symbols: [...digitSymbols(vocabSize), "_"],
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => copyCount,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input = new Array<number>(length).fill(blank);
      const output: number[] = [];
      for (const p of sampleSortedPositions(rng, length, copyCount)) {
        input[p] = rng.int(vocabSize);
        output.push(input[p]);
      }
      return { input, output };
    },
  };
}
