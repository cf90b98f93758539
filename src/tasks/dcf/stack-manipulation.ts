/**
 * stack_manipulation (deterministic context-free), from the suite of Ruoss et al. 2023, "Randomized Positional
 * Encodings Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/dcf/stack_manipulation.py`.
 *
 * Input: an initial stack of s bits given bottom to top (s uniform in {1..n-1}), then n - s actions uniform in
 * {POP, PUSH 0, PUSH 1} (DeepMind's tokens 2, 3, 4). POP on an empty stack is ignored. Output: the final stack
 * top to bottom, then the termination token (here EOS; DeepMind's output symbol 2, followed by zero padding
 * to n + 1 outputs that their accuracy mask ignores).
 *   Example: 0 1 1 0 PUSH1 POP POP -> 0 1 1 0 1 -> 0 1 1 0 -> 0 1 1 -> answer 1 1 0 <eos>.
 *   Example: 1 1 0 POP POP POP -> empty -> answer <eos>.
 * n = 1: the input is one random bit b (no actions) and the answer is b, as in the official code.
 * length = n (input length). Encoder slots: n + 1. Vocabulary: "0", "1", "POP", "PUSH0", "PUSH1".
 */
import type { Rng } from "../../util/rng.js";
import { RUOSS_2023 } from "../papers.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export const POP = 2;
export const PUSH0 = 3;
export const PUSH1 = 4;

/** Replays the actions on the stack (bottom to top) and returns the final stack top to bottom. */
export function runStackActions(stack: readonly number[], actions: readonly number[]): number[] {
  const current = [...stack];
  for (const action of actions) {
    if (action === POP) current.pop();
    else if (action === PUSH0 || action === PUSH1) current.push(action - PUSH0);
    else
      throw new RangeError(
        `runStackActions: unknown action ${action}, expected ${POP}, ${PUSH0} or ${PUSH1}`,
      );
  }
  return current.reverse();
}

export function stackManipulationTask(): TaskDefinition {
  return {
    id: "stack_manipulation",
    level: "dcf",
    paper: RUOSS_2023,
    description: "Final stack top to bottom: 0 1 1 0 PUSH1 POP POP -> 1 1 0 <eos>",
    lengthMeaning: "input length n (initial stack bits + actions)",
    minLength: 1,
    symbols: ["0", "1", "POP", "PUSH0", "PUSH1"],
    terminated: true,
    decoderSeparator: true,
    encoderOutputLength: (n) => n + 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      if (length === 1) {
        const bit = rng.int(2);
        return { input: [bit], output: [bit] };
      }
      const stackLength = rng.intBetween(1, length - 1);
      const stack: number[] = [];
      for (let i = 0; i < stackLength; i++) stack.push(rng.int(2));
      const actions: number[] = [];
      for (let i = stackLength; i < length; i++) actions.push(rng.intBetween(POP, PUSH1));
      return { input: [...stack, ...actions], output: runStackActions(stack, actions) };
    },
  };
}
