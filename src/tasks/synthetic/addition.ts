/**
 * Multi-digit decimal addition, plain or with position coupling: Cho et al. 2024, "Position Coupling:
 * Improving Length Generalization of Arithmetic Transformers Using Task Structure" (arXiv:2405.20671), in the
 * PyTorch calibration's exact format (the lab issue's PyTorch calibration, Exp 2):
 *   [BOS] A + B = C [EOS]
 * A and B most significant digit first, zero-padded to L = max(len a, len b); C = a + b written reversed
 * (least significant first) and zero-padded to L + 1 digits. The input ends with "=", so no SEP.
 *   Example: 237 + 82 -> 237+082= then answer 9130 (319 reversed, padded to 4 digits).
 * Training (default): len(a), len(b) uniform in {1..n} independently, no leading zeros (a one-digit operand
 * may be 0). `sameLength` (the test mode): len(a) = len(b) = n.
 *
 * Coupled position ids (calibration; not the official repo's descending layout): an offset s uniform in
 * {0..maxPosition - L - 4} per example (train and test), then
 *   BOS and "+"                                  -> 0
 *   digit of significance k (k = 0 units) of A, B -> s + k + 1
 *   "="                                          -> s + 1
 *   answer digit c_k                             -> s + k + 2   (the token predicting c_{k+1} shares its id
 *                                                                 with a_{k+1} and b_{k+1})
 *   EOS                                          -> s + L + 3   (<= maxPosition - 1)
 * 237+82, s = 0:  <bos> 2 3 7 + 0 8 2 = 9 1 3 0 <eos>
 *                   0   3 2 1 0 3 2 1 1 2 3 4 5   6
 * The ids of the coupled tokens are s + group through `coupledPositionIds` (src/encodings/position-
 * coupling.ts); BOS and "+" sit at the absolute id 0, outside the coupling. Plain addition has no ids (the
 * model uses 0..T-1).
 * length = n: the operand digit bound in training, the exact operand length with sameLength. Encoder slots:
 * n + 1 (plain addition only; answers of L + 1 < n + 1 digits leave the last slots unscored).
 * Vocabulary: "0".."9", "+", "=".
 */
import { coupledPositionIds } from "../../encodings/position-coupling.js";
import type { Rng } from "../../util/rng.js";
import { checkBoolean, checkNumber } from "../../util/validation.js";
import { CHO_2024 } from "../papers.js";
import { digitSymbols } from "../task.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export const PLUS = 10;
export const EQUALS = 11;

export interface AdditionParams {
  /** Test mode: both operands have exactly n digits (default false: lengths uniform in {1..n}). */
  sameLength?: boolean;
  /** Coupled ids (position coupling); default false for `addition`, true for `addition_coupled`. */
  coupled?: boolean;
  /** Rows of the learned position table the ids must fit in (default 64, the calibration's). */
  maxPosition?: number;
}

/** A uniform number of `digits` decimal digits, most significant first, with no leading zero (0 allowed alone). */
export function sampleOperandDigits(rng: Rng, digits: number): number[] {
  const out: number[] = [digits === 1 ? rng.int(10) : rng.intBetween(1, 9)];
  for (let i = 1; i < digits; i++) out.push(rng.int(10));
  return out;
}

/** Schoolbook sum of two digit strings (most significant first), least significant first, `width` digits. */
export function reversedSumDigits(a: readonly number[], b: readonly number[], width: number): number[] {
  const out: number[] = [];
  let carry = 0;
  for (let k = 0; k < width; k++) {
    const s = (a[a.length - 1 - k] ?? 0) + (b[b.length - 1 - k] ?? 0) + carry;
    out.push(s % 10);
    carry = s >= 10 ? 1 : 0;
  }
  if (carry !== 0) throw new RangeError(`reversedSumDigits: the sum needs more than ${width} digits`);
  return out;
}

/** The calibration's coupled ids of [BOS] A + B = C [EOS] for operands padded to L digits, offset s. */
export function coupledAdditionIds(L: number, offset: number): number[] {
  const groups: number[] = [];
  for (let k = L - 1; k >= 0; k--) groups.push(k + 1); // A, most significant first
  for (let k = L - 1; k >= 0; k--) groups.push(k + 1); // B
  groups.push(1); // "="
  for (let k = 0; k <= L; k++) groups.push(k + 2); // answer c_0 .. c_L
  groups.push(L + 3); // EOS
  const coupled = Array.from(coupledPositionIds(groups, offset));
  // BOS and "+" are outside the coupling, at id 0.
  return [0, ...coupled.slice(0, L), 0, ...coupled.slice(L)];
}

export function additionTask(params: AdditionParams = {}): TaskDefinition {
  const coupled = checkBoolean("addition.coupled", params.coupled ?? false);
  const sameLength = checkBoolean("addition.sameLength", params.sameLength ?? false);
  const maxPosition = checkNumber("addition.maxPosition", params.maxPosition ?? 64, {
    integer: true,
    min: 5,
  });
  // Coupled ids reach s + L + 3 <= maxPosition - 1, so L <= maxPosition - 4.
  const maxLength = coupled ? maxPosition - 4 : undefined;
  return {
    id: coupled ? "addition_coupled" : "addition",
    level: "synthetic",
    paper: CHO_2024,
    description: "Decimal addition, reversed zero-padded answer: 237+082= -> 9130",
    lengthMeaning: sameLength
      ? "digits of each operand n"
      : "maximum digits per operand n (each uniform in 1..n)",
    minLength: 1,
    lengthIsUpperBound: !sameLength,
    ...(coupled ? { maxLength } : {}),
    symbols: [...digitSymbols(10), "+", "="],
    terminated: false,
    decoderSeparator: false,
    encoderOutputLength: (n) => n + 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      checkNumber("addition.length", length, {
        integer: true,
        min: 1,
        ...(coupled ? { max: maxLength } : {}),
      });
      const a = sampleOperandDigits(rng, sameLength ? length : rng.intBetween(1, length));
      const b = sampleOperandDigits(rng, sameLength ? length : rng.intBetween(1, length));
      const L = Math.max(a.length, b.length);
      const pad = (x: number[]) => [...new Array<number>(L - x.length).fill(0), ...x];
      const example: TaskExample = {
        input: [...pad(a), PLUS, ...pad(b), EQUALS],
        output: reversedSumDigits(a, b, L + 1),
      };
      if (coupled) example.decoderPositionIds = coupledAdditionIds(L, rng.intBetween(0, maxPosition - L - 4));
      return example;
    },
  };
}
