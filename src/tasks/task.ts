/**
 * Binds a raw task definition to the formatter (the `sample(rng, batchSize, length)` contract of the lab
 * issue), plus the small sampling helpers the task files share. See types.ts for the contract and format.ts
 * for the layouts.
 */
import type { Rng } from "../util/rng.js";
import { checkChoice, checkNumber } from "../util/validation.js";
import { sampleBatch } from "./format.js";
import type { LengthSpec, Task, TaskBatch, TaskDefinition, TaskExample, TaskLayout } from "./types.js";

export const TASK_LAYOUTS: readonly TaskLayout[] = ["decoder", "encoder"];

export function defineTask(definition: TaskDefinition): Task {
  return {
    ...definition,
    encoderOutputLength: definition.encoderOutputLength.bind(definition),
    sampleExample: definition.sampleExample.bind(definition),
    sample(rng: Rng, batchSize: number, length: LengthSpec, layout: TaskLayout = "decoder"): TaskBatch {
      checkChoice("layout", layout, TASK_LAYOUTS);
      if (definition.sampleBatch) return definition.sampleBatch(rng, batchSize, length, layout);
      return sampleBatch(definition, rng, batchSize, length, layout);
    },
  };
}

/** `count` symbols drawn uniformly from {0, ..., alphabet - 1}. */
export function uniformSymbols(rng: Rng, count: number, alphabet: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = rng.int(alphabet);
  return out;
}

/** Symbol names "0".."k-1". */
export function digitSymbols(k: number): string[] {
  return Array.from({ length: k }, (_, i) => String(i));
}

/** Validates an alphabet-size parameter (an integer >= min). */
export function checkAlphabet(key: string, value: unknown, min = 2, max = 4096): number {
  return checkNumber(key, value, { integer: true, min, max });
}

/** Throws a PosencConfigError naming the task when `length` is below its minimum. */
export function checkTaskLength(id: string, length: number, minLength: number): void {
  checkNumber(`${id}.length`, length, { integer: true, min: minLength });
}

/** Parameters of the tasks over a uniform random string of symbols (copy, reverse, odds first, bucket sort). */
export interface SymbolStringParams {
  /** Alphabet size k (each task states its default). */
  vocabSize?: number;
}

/**
 * A task whose input is n symbols uniform in {0..k-1} and whose answer is `answer(input, k)`, n symbols long:
 * length = n, encoder slots n, vocabulary "0".."k-1", [SEP] between input and answer in the decoder layout.
 */
export function symbolStringTask(
  spec: Pick<TaskDefinition, "id" | "level" | "paper" | "description"> & { defaultVocabSize: number },
  params: SymbolStringParams,
  answer: (input: number[], vocabSize: number) => number[],
  /** For answers that reorder the input: input symbol i's index in the answer (TaskExample.targetOrder). */
  targetOrder?: (n: number) => number[],
): TaskDefinition {
  const vocabSize = checkAlphabet(`${spec.id}.vocabSize`, params.vocabSize ?? spec.defaultVocabSize);
  return {
    id: spec.id,
    level: spec.level,
    paper: spec.paper,
    description: spec.description,
    lengthMeaning: "input length n",
    minLength: 1,
    symbols: digitSymbols(vocabSize),
    terminated: false,
    decoderSeparator: true,
    encoderOutputLength: (n) => n,
    sampleExample(rng: Rng, length: number) {
      const input = uniformSymbols(rng, length, vocabSize);
      const example: TaskExample = { input, output: answer(input, vocabSize) };
      if (targetOrder) example.targetOrder = targetOrder(length);
      return example;
    },
  };
}
