/**
 * Position Coupling: Improving Length Generalization of Arithmetic Transformers Using Task Structure
 * (Cho, Cho, Sreenivasan, Lee, Yun, 2024), arXiv:2405.20671.
 *
 * Tokens that play the same role in the task share one position id. The caller labels every token with a
 * coupling group g_i (an integer >= 0; same group = same id; neighbouring groups get neighbouring ids) and
 *   id_i = start + g_i
 * where the start is drawn uniformly from [1, maxPosition - max_i g_i] during training (so every row of a
 * learned position table up to maxPosition gets trained) and fixed to 1 at evaluation.
 *
 * Addition a_1 + a_2 (+ ...) = c, as in the official code (HanseulJo/position-coupling, src/data/addition.py,
 * `AdditionDatasetWithCoupledPositions.__getitem__`, config configs/task/addition_coupled.yaml: zero-padded
 * operands, answer zero-padded to L + 1 digits and reversed, max_position 132), pinned at commit e050132
 * (2024-09-28), the numbering of the paper's figures. From commit e35e9de (2024-10-16, "A Bit Polished Codes") to
 * the current HEAD (b9cad94) the repository mirrors it ("least significant digit has least position ID": '+' and
 * '=' at the start, units digits at start + 1, ..., g' = L + 1 - g), with the start drawn from
 * [1, maxPosition - L - 1]; both couple the same tokens, only the direction of the ids differs. With L = the
 * longest operand:
 *   digit of significance s (s = 0 for units), in any operand or in the answer:  g = L - s
 *   every '+' and the '=':                                                         g = L + 1
 * So digits of equal significance share an id, the answer's carry digit (s = L) gets the start itself, and the
 * operators sit one past the most significant operand digit. The official code (at e050132) computes
 * end = start + L + 1, operand digits at end - len(a) .. end - 1, '+'/'=' at end, answer digits at
 * end - 1 - s: the same ids. Its random start is `randint(1, max_position - L)` (upper bound exclusive), i.e.
 * [1, maxPosition - (L + 1)]: exactly [1, maxPosition - maxGroup]. Unpadded operands couple the same way
 * (alignment is by significance, not by offset).
 *
 * Worked example (the paper's Figure 1 style), 653 + 49 = 702, operands padded to 3 digits, answer padded to
 * 4 digits "0702" and reversed to "2070", start = 1 (L = 3):
 *   token:  6  5  3  +  0  4  9  =  2  0  7  0
 *   s:      2  1  0  -  2  1  0  -  0  1  2  3
 *   group:  1  2  3  4  1  2  3  4  3  2  1  0
 *   id:     2  3  4  5  2  3  4  5  4  3  2  1
 * The '=' (id 5) predicts the units digit (id 4), which attends to the units digits of the operands (id 4).
 *
 * Special tokens (BOS/EOS/padding) are outside the coupling; the caller gives them ids of its choice. Answers
 * longer than L + 1 digits (three or more operands with overflow) are rejected: their top digits would fall
 * below the start.
 */
import type { Rng } from "../util/rng.js";
import { checkNumber, PosencConfigError } from "../util/validation.js";
import { fixedTrainable, type ModelDims, type TrainableEncoding } from "./trainable.js";
import {
  defineEncoding,
  type EncodingSpec,
  type ParamValues,
  type PositionalEncoding,
  resolveParams,
} from "./types.js";

/** id_i = start + groups[i]. Groups must be integers >= 0; start an integer >= 0. */
export function coupledPositionIds(groups: ArrayLike<number>, start = 1): Float64Array {
  checkNumber("start", start, { integer: true, min: 0 });
  const ids = new Float64Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (!Number.isInteger(g) || g < 0) {
      throw new PosencConfigError("invalid_value", `groups[${i}]`, g, "an integer >= 0 (a coupling group)");
    }
    ids[i] = start + g;
  }
  return ids;
}

/** The training range of the start: ids start + g stay within [1, maxPosition] for every g <= maxGroup. */
export function couplingStartRange(maxGroup: number, maxPosition: number): { min: number; max: number } {
  checkNumber("maxGroup", maxGroup, { integer: true, min: 0 });
  checkNumber("maxPosition", maxPosition, { integer: true, min: maxGroup + 1 });
  return { min: 1, max: maxPosition - maxGroup };
}

/** A uniform start in [1, maxPosition - maxGroup] (training); evaluation uses start = 1. */
export function sampleCouplingStart(maxGroup: number, maxPosition: number, rng: Rng): number {
  const { min, max } = couplingStartRange(maxGroup, maxPosition);
  return rng.intBetween(min, max);
}

export interface AdditionLayout {
  /** Digits in each operand, in sequence order (at least one operand, each >= 1 digit). */
  operandDigits: readonly number[];
  /** Answer digits present after '=' (0 while the model has not emitted any). */
  answerDigits: number;
  /** The answer is written least significant digit first (the paper's and official config's choice). */
  reversedAnswer: boolean;
  /**
   * The answer's full length, needed to know the significance of a non-reversed answer's first digit.
   * Default: answerDigits. For a partly generated, non-reversed, padded answer pass L + 1.
   */
  answerLength?: number;
}

function checkLayout(layout: AdditionLayout): { longest: number; answerLength: number } {
  const { operandDigits, answerDigits, reversedAnswer } = layout;
  if (!Array.isArray(operandDigits) || operandDigits.length === 0) {
    throw new PosencConfigError(
      "invalid_value",
      "operandDigits",
      operandDigits,
      "a non-empty array of digit counts",
    );
  }
  operandDigits.forEach((d, i) => {
    checkNumber(`operandDigits[${i}]`, d, { integer: true, min: 1 });
  });
  checkNumber("answerDigits", answerDigits, { integer: true, min: 0 });
  if (typeof reversedAnswer !== "boolean") {
    throw new PosencConfigError("invalid_type", "reversedAnswer", reversedAnswer, "true or false");
  }
  const longest = Math.max(...operandDigits);
  if (answerDigits > longest + 1) {
    throw new PosencConfigError(
      "out_of_range",
      "answerDigits",
      answerDigits,
      `an integer <= longest operand + 1 = ${longest + 1} (a significance above L has no coupled id)`,
    );
  }
  const answerLength = layout.answerLength ?? answerDigits;
  checkNumber("answerLength", answerLength, { integer: true, min: answerDigits, max: longest + 1 });
  return { longest, answerLength };
}

/**
 * Coupling groups of the token sequence  a_1 '+' a_2 ... '+' a_k '=' c  (operands most significant digit
 * first; c reversed or not): digit of significance s -> L - s, operators -> L + 1, L = longest operand.
 * Length: sum(operandDigits) + operandDigits.length + answerDigits (one operator after each operand, the last
 * one being '=').
 */
export function additionCouplingGroups(layout: AdditionLayout): Float64Array {
  const { longest, answerLength } = checkLayout(layout);
  const { operandDigits, answerDigits, reversedAnswer } = layout;
  const total = operandDigits.reduce((a, b) => a + b, 0) + operandDigits.length + answerDigits;
  const groups = new Float64Array(total);
  let t = 0;
  for (const digits of operandDigits) {
    for (let i = 0; i < digits; i++) groups[t++] = longest - (digits - 1 - i);
    groups[t++] = longest + 1; // '+' after each operand but the last, '=' after the last
  }
  for (let i = 0; i < answerDigits; i++) {
    const significance = reversedAnswer ? i : answerLength - 1 - i;
    groups[t++] = longest - significance;
  }
  return groups;
}

/** Position ids of an addition sequence: coupledPositionIds(additionCouplingGroups(layout), start). */
export function couplingPositionIdsForAddition(layout: AdditionLayout & { start: number }): Float64Array {
  return coupledPositionIds(additionCouplingGroups(layout), layout.start);
}

/** The largest group of an addition layout (the operators'): L + 1. */
export function additionMaxGroup(operandDigits: readonly number[]): number {
  return Math.max(...operandDigits) + 1;
}

/**
 * Reads the layout of a token sequence  digits '+' digits ... '=' digits : every token other than plusToken
 * and equalsToken is a digit. Exactly one '=' is required, after at least one operand digit.
 */
export function parseAdditionTokens(
  tokens: ArrayLike<number>,
  codes: { plusToken: number; equalsToken: number },
  reversedAnswer: boolean,
): AdditionLayout {
  const operandDigits: number[] = [];
  let run = 0;
  let equalsAt = -1;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === codes.plusToken || token === codes.equalsToken) {
      if (run === 0) {
        throw new PosencConfigError(
          "invalid_value",
          `context.tokens[${i}]`,
          token,
          "an operator preceded by at least one digit (layout: digits + digits ... = answer)",
        );
      }
      operandDigits.push(run);
      run = 0;
      if (token === codes.equalsToken) {
        equalsAt = i;
        break;
      }
    } else run++;
  }
  if (equalsAt < 0) {
    throw new PosencConfigError(
      "invalid_value",
      "context.tokens",
      Array.from(tokens),
      `a sequence containing the equals token ${codes.equalsToken} (layout: digits + digits ... = answer)`,
    );
  }
  for (let i = equalsAt + 1; i < tokens.length; i++) {
    if (tokens[i] === codes.plusToken || tokens[i] === codes.equalsToken) {
      throw new PosencConfigError("invalid_value", `context.tokens[${i}]`, tokens[i], "an answer digit");
    }
  }
  const answerDigits = tokens.length - equalsAt - 1;
  const longest = Math.max(...operandDigits);
  // A non-reversed answer is read as zero-padded to L + 1 digits (official `padding: True`), so the
  // significance of a partly generated answer's digits is known.
  return reversedAnswer
    ? { operandDigits, answerDigits, reversedAnswer }
    : { operandDigits, answerDigits, reversedAnswer, answerLength: longest + 1 };
}

const POSITION_COUPLING_PARAMS = {
  maxPosition: {
    type: "integer",
    description:
      "Largest id (learned table of maxPosition + 1 rows). Official addition config: 132 for operands up to 40 digits; must be >= longest operand + 2.",
    default: 132,
    min: 2,
  },
  randomStart: {
    type: "boolean",
    description:
      "true (training): start uniform in [1, maxPosition - (L + 1)] from context.rng; false (evaluation, as the official validation sets): start = 1.",
    default: true,
  },
  reversedAnswer: {
    type: "boolean",
    description: "The answer is written least significant digit first (official reverse_output: True).",
    default: true,
  },
  plusToken: {
    type: "integer",
    description: "Token id of '+'. Every token other than '+' and '=' is read as a digit.",
    default: 10,
    min: 0,
  },
  equalsToken: {
    type: "integer",
    description: "Token id of '='.",
    default: 11,
    min: 0,
  },
} as const satisfies EncodingSpec["params"];

/**
 * Trainable form: hook (b) only. The task's coupled ids (TaskBatch.positionIds, with its own start offsets) are used
 * when the batch carries them; otherwise every example is read as a bare addition sequence (no BOS/EOS) by the
 * framework-free form, whose errors name what does not parse.
 */
function positionCouplingTrainable(
  params: ParamValues<typeof POSITION_COUPLING_PARAMS>,
  dims: ModelDims,
): TrainableEncoding {
  const fromTokens = fixedTrainable(positionCouplingSpec, params, dims).positionIds;
  return {
    id: "position-coupling",
    parameters: () => [],
    positionIds(input) {
      if (input.taskPositionIds) return Float64Array.from(input.taskPositionIds);
      if (!fromTokens) throw new RangeError("position-coupling: no positionIds hook");
      return fromTokens(input);
    },
  };
}

export const positionCouplingSpec = defineEncoding({
  id: "position-coupling",
  name: "Position coupling",
  family: "position-ids",
  paper: {
    title:
      "Position Coupling: Improving Length Generalization of Arithmetic Transformers Using Task Structure",
    arxiv: "2405.20671",
    year: 2024,
  },
  formula:
    "id = start + g; addition: digit of significance s -> g = L - s, '+'/'=' -> g = L + 1; start ~ U[1, maxPosition - L - 1] in training, 1 in evaluation",
  summary:
    "Gives digits of equal significance in the operands and the answer the same position id, so attention can align them at any length.",
  slots: ["positionIds"],
  params: POSITION_COUPLING_PARAMS,
  trainable: positionCouplingTrainable,
  create(params, path = "position-coupling"): PositionalEncoding {
    const p = resolveParams(path, POSITION_COUPLING_PARAMS, params);
    const maxPosition = p.maxPosition;
    const codes = { plusToken: p.plusToken, equalsToken: p.equalsToken };
    if (codes.plusToken === codes.equalsToken) {
      throw new PosencConfigError(
        "conflict",
        `${path}.equalsToken`,
        codes.equalsToken,
        `a token id different from position-coupling.plusToken = ${codes.plusToken}`,
      );
    }
    return {
      id: "position-coupling",
      params: Object.freeze(p),
      positionIds(length, context) {
        const tokens = context?.tokens;
        if (tokens === undefined) {
          throw new PosencConfigError(
            "missing_key",
            "context.tokens",
            undefined,
            "the token ids of the sequence",
          );
        }
        if (tokens.length !== length) {
          throw new RangeError(
            `context.tokens.length must equal length = ${length}, received ${tokens.length}`,
          );
        }
        const layout = parseAdditionTokens(tokens, codes, p.reversedAnswer);
        const maxGroup = additionMaxGroup(layout.operandDigits);
        if (maxGroup > maxPosition - 1) {
          throw new PosencConfigError(
            "out_of_range",
            `${path}.maxPosition`,
            maxPosition,
            `an integer >= longest operand + 2 = ${maxGroup + 1} for this sequence`,
          );
        }
        let start = 1;
        if (p.randomStart) {
          if (context?.rng === undefined) {
            throw new PosencConfigError(
              "missing_key",
              "context.rng",
              undefined,
              "a seeded Rng (position-coupling with randomStart: true draws the start from it)",
            );
          }
          start = sampleCouplingStart(maxGroup, maxPosition, context.rng);
        }
        return couplingPositionIdsForAddition({ ...layout, start });
      },
    };
  },
});
