/**
 * associative_recall, the associative retrieval task of Ba et al. 2016, "Using Fast Weights to Attend to the
 * Recent Past" (arXiv:1610.06258): key-value pairs, then "??" and a query key; the answer is its value.
 *   Example (their letters and digits): c 9 k 8 j 3 f 1 ? ? c -> 9.
 * Input: n pairs with n distinct keys (uniform without replacement over `numKeys`) and values uniform over
 * `numValues`, then "?", "?", and a key uniform among the n. Output: the query's value.
 * length = n (pairs, <= numKeys). Vocabulary: keys "k0".."k{K-1}", values "v0".."v{V-1}", "?".
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { BA_2016 } from "../papers.js";
import type { TaskDefinition, TaskExample } from "../types.js";
import { sampleSortedPositions } from "./selective-copy.js";

export interface AssociativeRecallParams {
  /** Key alphabet (default 64); caps the length. */
  numKeys?: number;
  /** Value alphabet (default 16). */
  numValues?: number;
}

export function associativeRecallTask(params: AssociativeRecallParams = {}): TaskDefinition {
  const numKeys = checkNumber("associative_recall.numKeys", params.numKeys ?? 64, {
    integer: true,
    min: 1,
    max: 4096,
  });
  const numValues = checkNumber("associative_recall.numValues", params.numValues ?? 16, {
    integer: true,
    min: 2,
    max: 4096,
  });
  const keys = Array.from({ length: numKeys }, (_, i) => `k${i}`);
  const values = Array.from({ length: numValues }, (_, i) => `v${i}`);
  const query = numKeys + numValues;
  return {
    id: "associative_recall",
    level: "synthetic",
    paper: BA_2016,
    description: "Value of the queried key: k2 v9 k7 v8 k5 v3 ? ? k2 -> v9",
    lengthMeaning: `key-value pairs n (distinct keys, n <= ${numKeys})`,
    minLength: 1,
    maxLength: numKeys,
    symbols: [...keys, ...values, "?"],
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      checkNumber("associative_recall.length", length, { integer: true, min: 1, max: numKeys });
      // n distinct keys in random order: a sorted sample, then a Fisher-Yates shuffle.
      const chosen = sampleSortedPositions(rng, numKeys, length);
      for (let i = chosen.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [chosen[i], chosen[j]] = [chosen[j], chosen[i]];
      }
      const input: number[] = [];
      const valueOfKey = new Map<number, number>();
      for (const key of chosen) {
        const value = numKeys + rng.int(numValues);
        valueOfKey.set(key, value);
        input.push(key, value);
      }
      const asked = chosen[rng.int(chosen.length)];
      input.push(query, query, asked);
      return { input, output: [valueOfKey.get(asked)!] };
    },
  };
}
