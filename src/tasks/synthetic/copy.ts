/**
 * copy, the length-generalization task of Kazemnejad et al. 2023, "The Impact of Positional Encoding on Length
 * Generalization in Transformers" (arXiv:2305.19466), in the PyTorch calibration's format (Exp 1):
 *   [BOS] x_1..x_n [SEP] x_1..x_n [EOS],  x_i uniform over k symbols (k = 16 in the calibration).
 *   Example (k = 16): 3 14 0 7 -> 3 14 0 7.
 * length = n. Encoder slots: n. Vocabulary: "0".."k-1". Target order (DPE's order loss): the identity.
 */
import { KAZEMNEJAD_2023 } from "../papers.js";
import { type SymbolStringParams, symbolStringTask } from "../task.js";
import type { TaskDefinition } from "../types.js";

export function copyTask(params: SymbolStringParams = {}): TaskDefinition {
  return symbolStringTask(
    {
      id: "copy",
      level: "synthetic",
      paper: KAZEMNEJAD_2023,
      description: "Copy the string: 3 14 0 7 -> 3 14 0 7",
      defaultVocabSize: 16,
    },
    params,
    (input) => [...input],
    (n) => Array.from({ length: n }, (_, i) => i), // the target order is the input's own
  );
}
