/**
 * solve_equation (deterministic context-free), from the suite of Ruoss et al. 2023, "Randomized Positional
 * Encodings Boost Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/
 * randomized_positional_encodings `tasks/dcf/solve_equation.py` (registered with modulus 5; the expression
 * uses + and - only, so the solution is unique).
 *
 * Input: a bracketed expression E of n - 2 characters (grammar in bracket-expression.ts) in which one digit,
 * chosen by a uniform start index advanced cyclically to the next digit, is replaced by "x", then "=" and the
 * value of E mod m. Output: one class, the hidden digit (the unique x in {0..m-1} that satisfies the equation).
 *   Example (m = 5): ((x-3)+4)=2 -> x = 1.   (-x)=3 -> x = 2.
 * n < 3 is degenerate, as in the official code: the input is n "0" tokens and the answer is 0.
 * length = n (input length including "=" and the value). Vocabulary (DeepMind's order): "0".."m-1", "+", "-",
 * "(", ")", "x", "=". The class reuses the digits.
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { RUOSS_2023 } from "../papers.js";
import { digitSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";
import { generateBracketExpression } from "./bracket-expression.js";

export interface SolveEquationParams {
  /** Default 5. */
  modulus?: number;
}

export function solveEquationTask(params: SolveEquationParams = {}): TaskDefinition {
  const modulus = checkNumber("solve_equation.modulus", params.modulus ?? 5, {
    integer: true,
    min: 2,
    max: 10,
  });
  const symbols = [...digitSymbols(modulus), "+", "-", "(", ")", "x", "="];
  const ids = new Map(symbols.map((s, i) => [s, i]));
  const isDigit = (c: string) => c.length === 1 && c >= "0" && c <= "9";
  return {
    id: "solve_equation",
    level: "dcf",
    paper: RUOSS_2023,
    description: `Solve for x mod ${modulus}: ((x-3)+4)=2 -> 1`,
    lengthMeaning: "input length n (expression of n - 2 characters, then '=' and the value)",
    minLength: 1,
    symbols,
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      if (length < 3) return { input: new Array<number>(length).fill(0), output: [0] };
      const { chars, value } = generateBracketExpression(rng, modulus, length - 2, false);
      let idx = rng.int(chars.length);
      while (!isDigit(chars[idx])) idx = (idx + 1) % chars.length;
      const solution = Number(chars[idx]);
      const equation = [...chars.slice(0, idx), "x", ...chars.slice(idx + 1), "=", String(value)];
      return { input: equation.map((c) => ids.get(c)!), output: [solution] };
    },
  };
}
