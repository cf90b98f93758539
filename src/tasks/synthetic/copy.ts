/**
 * copy, the length-generalization task of Kazemnejad et al. 2023, "The Impact of Positional Encoding on Length
 * Generalization in Transformers" (arXiv:2305.19466), in the PyTorch calibration's format (Exp 1):
 *   [BOS] x_1..x_n [SEP] x_1..x_n [EOS],  x_i uniform over k symbols (k = 16 in the calibration).
 *   Example (k = 16): 3 14 0 7 -> 3 14 0 7.
 * length = n. Encoder slots: n. Vocabulary: "0".."k-1".
 */
import type { Rng } from "../../util/rng.js";
import type { SymbolStringParams } from "../dcf/reverse-string.js";
import { KAZEMNEJAD_2023 } from "../papers.js";
import { checkAlphabet, digitSymbols, uniformSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export function copyTask(params: SymbolStringParams = {}): TaskDefinition {
  const vocabSize = checkAlphabet("copy.vocabSize", params.vocabSize ?? 16);
  return {
    id: "copy",
    level: "synthetic",
    paper: KAZEMNEJAD_2023,
    description: "Copy the string: 3 14 0 7 -> 3 14 0 7",
    lengthMeaning: "input length n",
    minLength: 1,
    symbols: digitSymbols(vocabSize),
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: (n) => n,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input = uniformSymbols(rng, length, vocabSize);
      return { input, output: [...input] };
    },
  };
}
