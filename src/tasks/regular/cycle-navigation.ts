/**
 * cycle_navigation (regular), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings Boost
 * Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/randomized_
 * positional_encodings `tasks/regular/cycle_navigation.py`.
 *
 * Input: n actions a_i uniform in {0, 1, 2}, meaning a step of a_i - 1 (0 = left, 1 = stay, 2 = right) on a
 * cycle of 5 states, starting at state 0. Output: one class, (sum_i (a_i - 1)) mod 5.
 *   Example: R L S L L (tokens 2 0 1 0 0) -> 1 - 1 + 0 - 1 - 1 = -2 -> class 3.
 * (The docstring of the official file says "0 is stay, 1 is right, -1 is left"; its code computes
 * sum(actions - 1), i.e. token 0 is -1: we follow the code.)
 * length = n (number of actions). Vocabulary: "L", "S", "R" (ids 0, 1, 2 as DeepMind's one-hot), then the
 * classes "0".."4".
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import { uniformSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export const CYCLE_LENGTH = 5;
const ACTIONS = ["L", "S", "R"];
/** Id of the class symbol "k" (after the three actions). */
const classId = (k: number) => ACTIONS.length + k;

/** Final state: (sum (a_i - 1)) mod 5, in [0, 5). */
export function cycleFinalState(actions: readonly number[]): number {
  let state = 0;
  for (const a of actions) state = (((state + a - 1) % CYCLE_LENGTH) + CYCLE_LENGTH) % CYCLE_LENGTH;
  return state;
}

export function cycleNavigationTask(): TaskDefinition {
  return {
    id: "cycle_navigation",
    level: "regular",
    paper: RUOSS_2023,
    description: "Final state on a 5-cycle after steps L/S/R from 0: R L S L L -> 3",
    lengthMeaning: "input length n (actions)",
    minLength: 1,
    symbols: [...ACTIONS, ...Array.from({ length: CYCLE_LENGTH }, (_, k) => String(k))],
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input = uniformSymbols(rng, length, 3);
      return { input, output: [classId(cycleFinalState(input))] };
    },
  };
}
