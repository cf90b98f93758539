/**
 * s5_composition: the word problem of the symmetric group S5, the state-tracking task of Merrill, Petty and
 * Sabharwal 2024, "The Illusion of State in State-Space Models" (arXiv:2404.08819), which PaTH (Yang et al. 2025,
 * "PaTH Attention: Position Encoding via Accumulating Householder Transformations", arXiv:2505.16381) uses to show
 * that a data-dependent position encoding tracks state where RoPE does not. S5 is non-solvable: composing n of its
 * elements is NC1-complete, so no fixed-depth transformer with a data-independent position encoding can do it for
 * every n (under the usual TC0 != NC1 conjecture), while a product of data-dependent transforms can.
 *
 * Input: n permutations g_1 .. g_n of {0..4}, each uniform over the 120 elements of S5, written in one-line
 * notation ("10234" maps 0 -> 1, 1 -> 0, 2 -> 2, ...). Output: one class, their composition applied left to right,
 *   answer = g_n o ... o g_2 o g_1,   answer(i) = g_n(...g_2(g_1(i))),
 * i.e. the state of 5 objects after the n actions. `group: "A5"` draws from the 60 even permutations only (A5, the
 * smallest non-solvable group, also in both papers).
 *   Example: 10234 01324 -> answer(0) = g2(g1(0)) = g2(1) = 1, answer(1) = g2(0) = 0, answer(2) = g2(2) = 3, ...
 *            -> 10324.
 * Difference from the papers, stated: they tag every prefix (the state after each action is a target); here the
 * answer is the final state alone, a single class as flip_flop and cycle_navigation, so the decoder layout cannot
 * read earlier states from its own answer. length = n. Vocabulary: the 120 permutations, lexicographic order.
 */
import type { Rng } from "../../util/rng.js";
import { checkChoice } from "../../util/validation.js";
import { MERRILL_2024 } from "../papers.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export const S5_DEGREE = 5;

/** The 120 permutations of 0..4 in lexicographic one-line order (index = token id). */
export const S5_ELEMENTS: readonly (readonly number[])[] = (() => {
  const out: number[][] = [];
  const build = (prefix: number[]) => {
    if (prefix.length === S5_DEGREE) out.push(prefix);
    else for (let v = 0; v < S5_DEGREE; v++) if (!prefix.includes(v)) build([...prefix, v]);
  };
  build([]);
  return out;
})();

const INDEX = new Map(S5_ELEMENTS.map((p, i) => [p.join(""), i]));

/** Token id of a permutation given in one-line notation. */
export function permutationId(p: readonly number[]): number {
  const id = INDEX.get(p.join(""));
  if (id === undefined) throw new RangeError(`not a permutation of 0..4: ${p.join(",")}`);
  return id;
}

/** Parity: true for an even permutation (an element of A5), by counting inversions. */
export function isEven(p: readonly number[]): boolean {
  let inversions = 0;
  for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) if (p[i]! > p[j]!) inversions++;
  return inversions % 2 === 0;
}

/** The composition of the actions applied left to right: state(i) = g_n(...g_1(i)). Token ids in and out. */
export function composeLeftToRight(actions: readonly number[]): number {
  let state = [0, 1, 2, 3, 4];
  for (const a of actions) {
    const g = S5_ELEMENTS[a]!;
    state = state.map((v) => g[v]!);
  }
  return permutationId(state);
}

export interface PermutationCompositionParams {
  /** "S5" (default, all 120 permutations) or "A5" (the 60 even ones). */
  group?: string;
}

export function permutationCompositionTask(params: PermutationCompositionParams = {}): TaskDefinition {
  const group = checkChoice("s5_composition.group", params.group ?? "S5", ["S5", "A5"]);
  const pool = S5_ELEMENTS.map((_, i) => i).filter((i) => group === "S5" || isEven(S5_ELEMENTS[i]!));
  return {
    id: "s5_composition",
    level: "synthetic",
    paper: MERRILL_2024,
    description: "Composition of permutations of 5 objects, left to right: 10234 01324 -> 10324",
    lengthMeaning: "number of permutations n",
    minLength: 1,
    symbols: S5_ELEMENTS.map((p) => p.join("")),
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      const input = Array.from({ length }, () => pool[rng.int(pool.length)]!);
      return { input, output: [composeLeftToRight(input)] };
    },
  };
}
