/**
 * The task suite of the lab: the 15 tasks of Ruoss et al. 2023, "Randomized Positional Encodings Boost Length
 * Generalization of Transformers" (arXiv:2305.16843), plus copy, reverse, sort, decimal addition (plain and
 * position-coupled, Cho et al. 2024, arXiv:2405.20671), selective copy and counting (Golovneva et al. 2024,
 * arXiv:2405.18719), flip-flop (Liu et al. 2023, arXiv:2306.00946), associative recall (Ba et al. 2016,
 * arXiv:1610.06258) and passkey retrieval (Mohtashami & Jaggi 2023, arXiv:2305.16300).
 *
 *   const task = createTask("reverse_string", { vocabSize: 16 });
 *   const batch = task.sample(new Rng(0), 64, { min: 1, max: 20 });        // decoder layout
 *   const score = scoreBatch(batch, argmaxPredictions);
 *   const rows = accuracyByLength(batch, score);
 */

export { buildVocabulary, formatBatch, sampleBatch, sampleExamples, type Vocabulary } from "./format.js";
export { createTask, TASK_REGISTRY, type TaskEntry, taskEntry, taskIds } from "./registry.js";
export {
  accuracyByLength,
  type BatchScore,
  type LengthAccuracy,
  LengthAccuracyTally,
  meanOverLengths,
  scoreBatch,
} from "./score.js";
export { defineTask, TASK_LAYOUTS } from "./task.js";
export { loadBrownCorpus, splitBrownDocuments, TEXT_SPLITS, type TextSplit } from "./text/brown-corpus.js";
export { CHAR_SYMBOLS, charLanguageModelTask, decodeChars, encodeChars } from "./text/char-lm.js";
export { detokenizeBrownDocument } from "./text/detokenize.js";
export type {
  LengthSpec,
  Task,
  TaskBatch,
  TaskDefinition,
  TaskExample,
  TaskLayout,
  TaskLevel,
  TaskPaper,
} from "./types.js";
export {
  createVisionTask,
  gridPositionIds,
  scoreVisionBatch,
  type VisionBatch,
  type VisionTask,
  visionTaskIds,
} from "./vision/index.js";
