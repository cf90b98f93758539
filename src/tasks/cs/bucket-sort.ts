/**
 * bucket_sort (context-sensitive), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings
 * Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/cs/bucket_sort.py` (registered with vocab_size 5).
 *
 * Input: n symbols uniform in {0..k-1}. Output: the same multiset in increasing order.
 *   Example (k = 5): 10204112 -> 00111224.
 * length = n. Encoder slots: n. Vocabulary: "0".."k-1". The registry's `sort` is this task with k = 16 in
 * the calibration's copy/reverse format.
 */
import { RUOSS_2023 } from "../papers.js";
import { type SymbolStringParams, symbolStringTask } from "../task.js";
import type { TaskDefinition } from "../types.js";

/** Counting sort over the alphabet {0..k-1}. */
export function bucketSorted(symbols: readonly number[], alphabet: number): number[] {
  const counts = new Array<number>(alphabet).fill(0);
  for (const s of symbols) counts[s]++;
  const out: number[] = [];
  for (let s = 0; s < alphabet; s++) for (let c = 0; c < counts[s]; c++) out.push(s);
  return out;
}

export function bucketSortTask(params: SymbolStringParams = {}): TaskDefinition {
  return symbolStringTask(
    {
      id: "bucket_sort",
      level: "cs",
      paper: RUOSS_2023,
      description: "Sort symbols of a fixed alphabet: 10204112 -> 00111224",
      defaultVocabSize: 5,
    },
    params,
    bucketSorted,
  );
}
