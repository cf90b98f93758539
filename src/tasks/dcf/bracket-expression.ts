/**
 * The random bracketed modular expression shared by modular_arithmetic_brackets and solve_equation (Ruoss et
 * al. 2023, "Randomized Positional Encodings Boost Length Generalization of Transformers", arXiv:2305.16843;
 * google-deepmind/randomized_positional_encodings `tasks/dcf/modular_arithmetic_brackets.py`,
 * `generate_one_expression_and_result`). An expression of exactly `length` characters:
 *   length 1: d          length 2: -d          length 3: (d)          length 4: (-d)
 *   length >= 5: (E1 op E2) with |E1| uniform in {1..length-4}, |E2| = length - 3 - |E1|, op uniform in
 *                {+, -} or {+, -, *} (mult), both sides generated recursively.
 * Digits d are uniform in {0..m-1}; values are taken mod m.
 *   Example (m = 5, length 9): ((1-3)*4) -> (-2 * 4) mod 5 = 2.
 */
import type { Rng } from "../../util/rng.js";

export interface BracketExpression {
  /** One character per token: digits "0".."m-1", "+", "-", "*", "(", ")". */
  chars: string[];
  value: number;
}

export function generateBracketExpression(
  rng: Rng,
  modulus: number,
  length: number,
  mult: boolean,
): BracketExpression {
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(`generateBracketExpression: length must be an integer >= 1, received ${length}`);
  }
  const mod = (x: number) => ((x % modulus) + modulus) % modulus;
  if (length <= 4) {
    const d = rng.int(modulus);
    if (length === 1) return { chars: [String(d)], value: d };
    if (length === 2) return { chars: ["-", String(d)], value: mod(-d) };
    if (length === 3) return { chars: ["(", String(d), ")"], value: d };
    return { chars: ["(", "-", String(d), ")"], value: mod(-d) };
  }
  const leftLength = rng.intBetween(1, length - 4);
  const rightLength = length - 3 - leftLength;
  const left = generateBracketExpression(rng, modulus, leftLength, mult);
  const right = generateBracketExpression(rng, modulus, rightLength, mult);
  const op = rng.int(mult ? 3 : 2);
  const symbol = op === 0 ? "+" : op === 1 ? "-" : "*";
  const value =
    op === 0
      ? mod(left.value + right.value)
      : op === 1
        ? mod(left.value - right.value)
        : mod(left.value * right.value);
  return { chars: ["(", ...left.chars, symbol, ...right.chars, ")"], value };
}
