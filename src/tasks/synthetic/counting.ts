/**
 * counting, the task of Golovneva et al. 2024, "Contextual Position Encoding: Learning to Count What's
 * Important" (arXiv:2405.18719), with the generator of the official code (facebookresearch/RAM,
 * projects/cope/scripts/count_data_gen.py): a program of n statements over `numVariables` variables, then
 * "print v"; the answer is the value of v.
 * Each statement draws an operation with weights SET 1, PASS 50, INCREMENT 7:
 *   SET        "v = 0 ;"  (v uniform over all variables)
 *   PASS       "pass;"
 *   INCREMENT  "v ++;"    (v uniform over the variables set so far, in first-set order)
 * An INCREMENT with no variable set yet, or that would take v above maxValue (10), is redrawn (up to 100
 * times). The question prints a variable uniform over those set; a program with none set is regenerated
 * from scratch (rejection sampling, as the official code).
 *   Example (tokens): a = 0 ; pass; a ++; b = 0 ; a ++; pass; print a -> 2.
 * Tokens: a statement is 4 ("v", "=", "0", ";"), 2 ("v", "++;") or 1 ("pass;") tokens, whitespace-split as
 * the official text. length = n (statements; the official generator draws n uniform in {3..max_steps}).
 * Vocabulary: the variables "a", "b", ..., "=", ";", "++;", "pass;", "print", then the answers "0".."maxValue"
 * (the "0" of a SET is the answer symbol "0").
 */
import type { Rng } from "../../util/rng.js";
import { checkNumber } from "../../util/validation.js";
import { GOLOVNEVA_2024 } from "../papers.js";
import type { TaskDefinition, TaskExample } from "../types.js";

export interface CountingParams {
  /** Variables (default 3, the official run.sh). */
  numVariables?: number;
  /** Largest value a variable may reach (default 10, MAX_VAL). */
  maxValue?: number;
}

const SET_WEIGHT = 1;
const PASS_WEIGHT = 50;
const INCREMENT_WEIGHT = 7;
const OP_RETRIES = 100;
const SAMPLE_RETRIES = 100_000;

export function countingTask(params: CountingParams = {}): TaskDefinition {
  const numVariables = checkNumber("counting.numVariables", params.numVariables ?? 3, {
    integer: true,
    min: 1,
    max: 26,
  });
  const maxValue = checkNumber("counting.maxValue", params.maxValue ?? 10, {
    integer: true,
    min: 1,
    max: 1000,
  });
  const variables = Array.from({ length: numVariables }, (_, i) => String.fromCharCode(97 + i));
  const symbols = [
    ...variables,
    "=",
    ";",
    "++;",
    "pass;",
    "print",
    ...Array.from({ length: maxValue + 1 }, (_, v) => String(v)),
  ];
  const id = new Map(symbols.map((s, i) => [s, i]));
  const [EQ, SEMI, INC, PASS, PRINT] = ["=", ";", "++;", "pass;", "print"].map((s) => id.get(s)!);
  const valueId = (v: number) => id.get(String(v))!;

  /** One program attempt; undefined when no variable was set (the official code regenerates). */
  function tryProgram(rng: Rng, statements: number): TaskExample | undefined {
    const values = new Map<number, number>(); // variable index -> value, in first-set order
    const input: number[] = [];
    for (let step = 0; step < statements; step++) {
      let done = false;
      for (let trial = 0; trial < OP_RETRIES && !done; trial++) {
        const r = rng.int(SET_WEIGHT + PASS_WEIGHT + INCREMENT_WEIGHT);
        if (r < SET_WEIGHT) {
          const v = rng.int(numVariables);
          values.set(v, 0);
          input.push(v, EQ, valueId(0), SEMI);
          done = true;
        } else if (r < SET_WEIGHT + PASS_WEIGHT) {
          input.push(PASS);
          done = true;
        } else if (values.size > 0) {
          const keys = [...values.keys()];
          const v = keys[rng.int(keys.length)];
          const value = values.get(v)!;
          if (value + 1 <= maxValue) {
            values.set(v, value + 1);
            input.push(v, INC);
            done = true;
          }
        }
      }
      if (!done) throw new RangeError("counting: failed to draw a statement in 100 trials");
    }
    if (values.size === 0) return undefined;
    const keys = [...values.keys()];
    const v = keys[rng.int(keys.length)];
    input.push(PRINT, v);
    return { input, output: [valueId(values.get(v)!)] };
  }

  return {
    id: "counting",
    level: "synthetic",
    paper: GOLOVNEVA_2024,
    description: "Value printed by a program of set/increment/pass: a = 0 ; pass; a ++; print a -> 1",
    lengthMeaning: "number of statements n (before the print)",
    minLength: 1,
    symbols,
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: () => 1,
    sampleExample(rng: Rng, length: number): TaskExample {
      for (let attempt = 0; attempt < SAMPLE_RETRIES; attempt++) {
        const example = tryProgram(rng, length);
        if (example) return example;
      }
      throw new RangeError(
        `counting: no program of ${length} statements set a variable in ${SAMPLE_RETRIES} attempts`,
      );
    },
  };
}
