/**
 * duplicate_string (context-sensitive), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings
 * Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/cs/duplicate_string.py` (registered with vocab_size 2).
 *
 * Input: n symbols uniform in {0..k-1}. Output: the string twice, s_1..s_n s_1..s_n.
 *   Example: 101 -> 101101.
 * length = n. Encoder slots: 2n. Vocabulary: "0".."k-1".
 */
import type { Rng } from "../../util/rng.js";
import type { SymbolStringParams } from "../dcf/reverse-string.js";
import { RUOSS_2023 } from "../papers.js";
import { checkAlphabet, digitSymbols, uniformSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export function duplicateStringTask(params: SymbolStringParams = {}): TaskDefinition {
  const vocabSize = checkAlphabet("duplicate_string.vocabSize", params.vocabSize ?? 2);
  return {
    id: "duplicate_string",
    level: "cs",
    paper: RUOSS_2023,
    description: "Write the string twice: 101 -> 101101",
    lengthMeaning: "input length n",
    minLength: 1,
    symbols: digitSymbols(vocabSize),
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: (n) => 2 * n,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input = uniformSymbols(rng, length, vocabSize);
      return { input, output: [...input, ...input] };
    },
  };
}
