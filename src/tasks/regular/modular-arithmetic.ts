/**
 * modular_arithmetic (regular), from the suite of Ruoss et al. 2023, "Randomized Positional Encodings Boost
 * Length Generalization of Transformers" (arXiv:2305.16843); definition as in google-deepmind/randomized_
 * positional_encodings `tasks/regular/modular_arithmetic.py` (registered with modulus 5, operators + * -).
 *
 * Input: an expression d_0 op_1 d_1 ... op_k d_k of odd length 2k+1, digits uniform in {0..m-1}, operators
 * uniform in the chosen set. Output: one class, its value mod m with the usual precedence (* before + and -,
 * left to right): subtraction is addition of the negated next term, then products, then the sum mod m.
 *   Examples (m = 5): 1 + 2 * 3 -> 7 mod 5 = 2.   1 - 1 - 1 -> -1 mod 5 = 4.   0 * 1 + 4 * 3 - 2 -> 0.
 * length = n; the input has n tokens if n is odd and n - 1 if n is even (DeepMind subtracts one).
 * Vocabulary (DeepMind's one-hot order): "0".."m-1", "+", "-", "*", "_" (the blank "_" never occurs with the
 * default operators; it is kept so the input alphabet has DeepMind's size m + 4). The class reuses the digits.
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber, PosencConfigError } from "../../util/validation.js";
import { RUOSS_2023 } from "../papers.js";
import { digitSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export type ArithmeticOperator = "+" | "-" | "*";
const OPERATOR_ORDER = ["+", "-", "*", "_"] as const;

export interface ModularArithmeticParams {
  /** Default 5 (DeepMind's registry). */
  modulus?: number;
  /** Default ["+", "*", "-"] (DeepMind's default set). */
  operators?: readonly ArithmeticOperator[];
}

/** Value mod m of d_0 op_1 d_1 ... with * before + and -. `ops[i]` sits between digits[i] and digits[i+1]. */
export function evaluateModularExpression(
  digits: readonly number[],
  ops: readonly ArithmeticOperator[],
  modulus: number,
): number {
  let sum = 0;
  let term = digits[0];
  for (let i = 0; i < ops.length; i++) {
    const next = digits[i + 1];
    if (ops[i] === "*") {
      term = (term * next) % modulus;
    } else {
      sum = (sum + term) % modulus;
      term = ops[i] === "+" ? next : (modulus - next) % modulus;
    }
  }
  return (((sum + term) % modulus) + modulus) % modulus;
}

export function modularArithmeticTask(params: ModularArithmeticParams = {}): TaskDefinition {
  const modulus = checkNumber("modular_arithmetic.modulus", params.modulus ?? 5, {
    integer: true,
    min: 2,
    max: 64,
  });
  const operators = params.operators ?? ["+", "*", "-"];
  if (
    !Array.isArray(operators) ||
    operators.length === 0 ||
    operators.some((o) => !["+", "-", "*"].includes(o))
  ) {
    throw new PosencConfigError(
      "invalid_value",
      "modular_arithmetic.operators",
      operators,
      'a non-empty list of "+", "-", "*"',
    );
  }
  const opId = (op: string) => modulus + OPERATOR_ORDER.indexOf(op as (typeof OPERATOR_ORDER)[number]);
  return {
    id: "modular_arithmetic",
    level: "regular",
    paper: RUOSS_2023,
    description: `Value mod ${modulus} of an expression without brackets: 1 + 2 * 3 -> 2`,
    lengthMeaning: "input length n (n - 1 tokens when n is even: expressions have odd length)",
    minLength: 1,
    symbols: [...digitSymbols(modulus), ...OPERATOR_ORDER],
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      const tokens = length % 2 === 1 ? length : length - 1;
      const terms = (tokens + 1) / 2;
      const digits: number[] = [];
      const ops: ArithmeticOperator[] = [];
      for (let i = 0; i < terms; i++) digits.push(rng.int(modulus));
      for (let i = 0; i + 1 < terms; i++) ops.push(operators[rng.int(operators.length)]);
      const input: number[] = [digits[0]];
      for (let i = 0; i < ops.length; i++) input.push(opId(ops[i]), digits[i + 1]);
      return { input, output: [evaluateModularExpression(digits, ops, modulus)] };
    },
  };
}
