/**
 * odds_first (context-sensitive), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings Boost
 * Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/randomized_
 * positional_encodings `tasks/cs/odds_first.py` (registered with vocab_size 2).
 *
 * Input: n symbols x_0..x_{n-1} (0-based) uniform in {0..k-1}. Output: the symbols at odd 0-based indices,
 * then those at even ones: x_1 x_3 x_5 ... x_0 x_2 x_4 ... (the official code's
 * concatenate([x[:, 1::2], x[:, ::2]])).
 *   Example: 00110101 -> 0111 0100.   110 -> 1 10.
 * Note: the official docstring's examples (00110101 -> 0100 0111) put the 1-based odd positions first, which
 * is the reverse order of what its code computes; we follow the code (the data the paper was run on).
 * length = n. Encoder slots: n. Vocabulary: "0".."k-1". Target order (DPE's order loss): each symbol's answer index.
 */
import { RUOSS_2023 } from "../papers.js";
import { type SymbolStringParams, symbolStringTask } from "../task.js";
import type { TaskDefinition } from "../types.js";

export function oddsFirstTask(params: SymbolStringParams = {}): TaskDefinition {
  return symbolStringTask(
    {
      id: "odds_first",
      level: "cs",
      paper: RUOSS_2023,
      description: "Odd (0-based) indices first, then even: 00110101 -> 01110100",
      defaultVocabSize: 2,
    },
    params,
    (input) => [...input.filter((_, i) => i % 2 === 1), ...input.filter((_, i) => i % 2 === 0)],
    // Target order: odd i is answer symbol (i - 1) / 2, even i follows the floor(n / 2) odd ones at floor(n/2) + i/2.
    (n) => Array.from({ length: n }, (_, i) => (i % 2 === 1 ? (i - 1) / 2 : Math.floor(n / 2) + i / 2)),
  );
}
