/**
 * reverse_string (deterministic context-free), from the suite of Ruoss et al. 2023, "Randomized Positional
 * Encodings Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/dcf/reverse_string.py` (registered with vocab_size 2).
 *
 * Input: n symbols uniform in {0..k-1}. Output: the same string reversed, s_n ... s_1.
 *   Example (k = 2): 011010 -> 010110.   (k = 4): 123021 -> 120321.
 * length = n. Encoder slots: n. Vocabulary: "0".."k-1". The registry's `reverse` is this task with k = 16,
 * the calibration's format `[BOS] x [SEP] reverse(x) [EOS]` (Exp 3).
 * Target order (TaskExample.targetOrder, for DPE's order loss): input symbol i stands at n - 1 - i in the answer.
 */
import { RUOSS_2023 } from "../papers.js";
import { type SymbolStringParams, symbolStringTask } from "../task.js";
import type { TaskDefinition } from "../types.js";

export type { SymbolStringParams } from "../task.js";

export function reverseStringTask(params: SymbolStringParams = {}): TaskDefinition {
  return symbolStringTask(
    {
      id: "reverse_string",
      level: "dcf",
      paper: RUOSS_2023,
      description: "Reverse the string: 011010 -> 010110",
      defaultVocabSize: 2,
    },
    params,
    (input) => [...input].reverse(),
    // Input symbol i is answer symbol n - 1 - i: the target order reverses the input.
    (n) => Array.from({ length: n }, (_, i) => n - 1 - i),
  );
}
