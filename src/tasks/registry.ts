/**
 * The task registry: id -> task factory with bound parameters, level and paper.
 *
 * The 15 tasks of Ruoss et al. 2023, "Randomized Positional Encodings Boost Length Generalization of
 * Transformers" (arXiv:2305.16843) keep DeepMind's ids and registry parameters (experiments/constants.py:
 * modulus 5, reverse/duplicate/odds_first on 2 symbols, bucket_sort on 5, brackets with "*"); the symbol count
 * stays a parameter so a calibration config can pass 16. The synthetic tasks follow the PyTorch calibration's
 * formats (copy, reverse and sort on 16 symbols; addition and addition_coupled in `[BOS] A + B = C [EOS]`).
 *
 *   createTask("reverse_string")                 DeepMind: 2 symbols
 *   createTask("reverse_string", { vocabSize: 16 })   the calibration's Exp 3 (same as createTask("reverse"))
 *   createTask("addition_coupled", { sameLength: true })   test mode of Exp 2
 */
import { checkKnownKeys, checkObject, PosencConfigError } from "../util/validation.js";
import { binaryAdditionTask } from "./cs/binary-addition.js";
import { binaryMultiplicationTask } from "./cs/binary-multiplication.js";
import { bucketSortTask } from "./cs/bucket-sort.js";
import { computeSqrtTask } from "./cs/compute-sqrt.js";
import { duplicateStringTask } from "./cs/duplicate-string.js";
import { missingDuplicateStringTask } from "./cs/missing-duplicate-string.js";
import { oddsFirstTask } from "./cs/odds-first.js";
import { modularArithmeticBracketsTask } from "./dcf/modular-arithmetic-brackets.js";
import { reverseStringTask } from "./dcf/reverse-string.js";
import { solveEquationTask } from "./dcf/solve-equation.js";
import { stackManipulationTask } from "./dcf/stack-manipulation.js";
import {
  BA_2016,
  CHO_2024,
  GOLOVNEVA_2024,
  KAZEMNEJAD_2023,
  LIU_2023,
  MERRILL_2024,
  MOHTASHAMI_2023,
  PRESS_2022,
  RUOSS_2023,
} from "./papers.js";
import { cycleNavigationTask } from "./regular/cycle-navigation.js";
import { evenPairsTask } from "./regular/even-pairs.js";
import { modularArithmeticTask } from "./regular/modular-arithmetic.js";
import { parityCheckTask } from "./regular/parity-check.js";
import { additionTask } from "./synthetic/addition.js";
import { associativeRecallTask } from "./synthetic/associative-recall.js";
import { copyTask } from "./synthetic/copy.js";
import { countingTask } from "./synthetic/counting.js";
import { flipFlopTask } from "./synthetic/flip-flop.js";
import { passkeyTask } from "./synthetic/passkey.js";
import { permutationCompositionTask } from "./synthetic/permutation-composition.js";
import { selectiveCopyTask } from "./synthetic/selective-copy.js";
import { defineTask } from "./task.js";
import { brownCharsTask } from "./text/brown-corpus.js";
import { brownPasskeyTask } from "./text/passkey-haystack.js";
import type { Task, TaskDefinition, TaskLevel, TaskPaper } from "./types.js";

// biome-ignore lint/suspicious/noExplicitAny: factories take their own typed params; the registry validates keys.
type Factory = (params: any) => TaskDefinition;

export interface TaskEntry {
  id: string;
  level: TaskLevel;
  paper: TaskPaper;
  /** The accepted parameter keys (anything else is rejected). */
  paramKeys: readonly string[];
  /** Parameters bound by the registry (DeepMind's or the calibration's), overridable by the caller. */
  defaults: Readonly<Record<string, unknown>>;
  factory: Factory;
}

const entry = (
  id: string,
  level: TaskLevel,
  paper: TaskPaper,
  factory: Factory,
  paramKeys: readonly string[] = [],
  defaults: Record<string, unknown> = {},
): TaskEntry => ({ id, level, paper, paramKeys, defaults, factory });

const RUOSS = RUOSS_2023;
const KAZ = KAZEMNEJAD_2023;

export const TASK_REGISTRY: readonly TaskEntry[] = [
  entry("even_pairs", "regular", RUOSS, evenPairsTask),
  entry("modular_arithmetic", "regular", RUOSS, modularArithmeticTask, ["modulus", "operators"], {
    modulus: 5,
  }),
  entry("parity_check", "regular", RUOSS, parityCheckTask),
  entry("cycle_navigation", "regular", RUOSS, cycleNavigationTask),
  entry("stack_manipulation", "dcf", RUOSS, stackManipulationTask),
  entry("reverse_string", "dcf", RUOSS, reverseStringTask, ["vocabSize"], { vocabSize: 2 }),
  entry("modular_arithmetic_brackets", "dcf", RUOSS, modularArithmeticBracketsTask, ["modulus", "mult"], {
    modulus: 5,
    mult: true,
  }),
  entry("solve_equation", "dcf", RUOSS, solveEquationTask, ["modulus"], { modulus: 5 }),
  entry("duplicate_string", "cs", RUOSS, duplicateStringTask, ["vocabSize"], { vocabSize: 2 }),
  entry("missing_duplicate_string", "cs", RUOSS, missingDuplicateStringTask),
  entry("odds_first", "cs", RUOSS, oddsFirstTask, ["vocabSize"], { vocabSize: 2 }),
  entry("binary_addition", "cs", RUOSS, binaryAdditionTask),
  entry("binary_multiplication", "cs", RUOSS, binaryMultiplicationTask),
  entry("compute_sqrt", "cs", RUOSS, computeSqrtTask),
  entry("bucket_sort", "cs", RUOSS, bucketSortTask, ["vocabSize"], { vocabSize: 5 }),
  entry("copy", "synthetic", KAZ, copyTask, ["vocabSize"], { vocabSize: 16 }),
  entry("reverse", "synthetic", KAZ, reverseStringTask, ["vocabSize"], { vocabSize: 16 }),
  entry("sort", "synthetic", KAZ, bucketSortTask, ["vocabSize"], { vocabSize: 16 }),
  entry("addition", "synthetic", CHO_2024, additionTask, ["sameLength"], { coupled: false }),
  entry("addition_coupled", "synthetic", CHO_2024, additionTask, ["sameLength", "maxPosition"], {
    coupled: true,
    maxPosition: 64,
  }),
  entry("selective_copy", "synthetic", GOLOVNEVA_2024, selectiveCopyTask, ["vocabSize", "copyCount"]),
  entry("counting", "synthetic", GOLOVNEVA_2024, countingTask, ["numVariables", "maxValue"]),
  entry("flip_flop", "synthetic", LIU_2023, flipFlopTask, ["pIgnore"]),
  entry("s5_composition", "synthetic", MERRILL_2024, permutationCompositionTask, ["group"]),
  entry("associative_recall", "synthetic", BA_2016, associativeRecallTask, ["numKeys", "numValues"]),
  entry("passkey", "synthetic", MOHTASHAMI_2023, passkeyTask, [
    "depth",
    "passkeyDigits",
    "fillerSymbols",
    "filler",
  ]),
  entry("brown_chars", "text", PRESS_2022, brownCharsTask, ["split"], { split: "train" }),
  entry(
    "brown_passkey",
    "text",
    MOHTASHAMI_2023,
    brownPasskeyTask,
    ["split", "passkeyFraction", "passkeyDigits", "depth", "passkeyLoss", "answerWeight"],
    { split: "train" },
  ),
];

/** Every registered task id, in registry order (DeepMind's 15 first). */
export function taskIds(): string[] {
  return TASK_REGISTRY.map((e) => e.id);
}

/** The registry entry of `id`; an unknown id throws naming `path` (where the id sits in the caller's config). */
export function taskEntry(id: string, path = "task"): TaskEntry {
  const found = TASK_REGISTRY.find((e) => e.id === id);
  if (!found) throw new PosencConfigError("invalid_value", path, id, `one of ${taskIds().join(", ")}`);
  return found;
}

/**
 * The task `id` with its registry parameters, overridden by `params` (unknown keys are rejected, naming the
 * valid ones). The returned task's id, level and paper are the registry's (e.g. "reverse", not
 * "reverse_string"). `paramsPath` names the parameters in errors (the lab passes `task.params`).
 */
export function createTask(
  id: string,
  params: Record<string, unknown> = {},
  paramsPath = `tasks.${id}`,
): Task {
  const e = taskEntry(id);
  checkObject(paramsPath, params);
  checkKnownKeys(paramsPath, params, e.paramKeys);
  const definition = e.factory({ ...e.defaults, ...params });
  return defineTask({ ...definition, id: e.id, level: e.level, paper: e.paper });
}
