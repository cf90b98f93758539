/**
 * modular_arithmetic_brackets (deterministic context-free), from the suite of Ruoss et al. 2023, "Randomized
 * Positional Encodings Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in
 * google-deepmind/randomized_positional_encodings `tasks/dcf/modular_arithmetic_brackets.py` (registered with
 * modulus 5 and mult=True).
 *
 * Input: a random bracketed expression of exactly n characters (grammar in bracket-expression.ts), digits in
 * {0..m-1}, binary operators + - * (+ - without mult), unary minus only as "-d" / "(-d)". Output: one class,
 * its value mod m.
 *   Example (m = 5): ((1-3)*4) -> 2.   (-2) -> 3.   4 -> 4.
 * length = n. Vocabulary (DeepMind's one-hot order): "0".."m-1", "+", "-", "*", "(", ")", "x" (the unknown
 * "x" never occurs here; it keeps DeepMind's input size m + 6). The class reuses the digits.
 */
import type { Rng } from "../../util/rng.js";
import { checkBoolean, checkNumber } from "../../util/validation.js";
import { RUOSS_2023 } from "../papers.js";
import { digitSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";
import { generateBracketExpression } from "./bracket-expression.js";

export interface ModularBracketsParams {
  /** Default 5. */
  modulus?: number;
  /** Include "*" (default true, DeepMind's registry). */
  mult?: boolean;
}

export function modularArithmeticBracketsTask(params: ModularBracketsParams = {}): TaskDefinition {
  const modulus = checkNumber("modular_arithmetic_brackets.modulus", params.modulus ?? 5, {
    integer: true,
    min: 2,
    max: 10,
  });
  const mult = checkBoolean("modular_arithmetic_brackets.mult", params.mult ?? true);
  const symbols = [...digitSymbols(modulus), "+", "-", "*", "(", ")", "x"];
  const ids = new Map(symbols.map((s, i) => [s, i]));
  return {
    id: "modular_arithmetic_brackets",
    level: "dcf",
    paper: RUOSS_2023,
    description: `Value mod ${modulus} of a bracketed expression: ((1-3)*4) -> 2`,
    lengthMeaning: "input length n (characters of the expression)",
    minLength: 1,
    symbols,
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      const { chars, value } = generateBracketExpression(rng, modulus, length, mult);
      return { input: chars.map((c) => ids.get(c)!), output: [value] };
    },
  };
}
