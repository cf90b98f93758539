/**
 * The lab: experiment configs, training with exact resume, held-out evaluation per length, benchmark grids with
 * shards, and reports (Markdown, SVG, HTML). Node only (files, child processes).
 *
 *   const config = loadExperimentConfig("experiments/copy-nope/config.yaml");
 *   const results = await runGrid(config, { outDir: "out", parallel: 2 });
 *   console.log(renderSummaryTable(results));
 */
export {
  adamMoments,
  CHECKPOINT_FORMAT,
  type CheckpointSidecar,
  loadCheckpointInto,
  readSidecar,
  saveCheckpoint,
} from "./checkpoint.js";
export {
  type EncodingChoice,
  type ExperimentConfig,
  encodingLabel,
  evalTaskOf,
  experimentSchema,
  formatLengthRange,
  type LengthRange,
  parseExperimentConfig,
  parseLengthRange,
  scheduleOf,
} from "./config.js";
export { checkExperimentConfig, loadExperimentConfig, parseConfigText } from "./config-file.js";
export { evaluate, type ResultRow } from "./evaluate.js";
export { type JobOptions, type JobResult, runJob } from "./job.js";
export type { ForwardContext, LabModel, ModelFactory, ModelRequest } from "./model.js";
export {
  bitsPerChar,
  bitsPerCharByContext,
  type ContextBitsRow,
  slidingWindows,
} from "./perplexity.js";
export { type ProgressEvent, ProgressReporter } from "./progress.js";
export {
  renderAccuracyChart,
  renderHtml,
  renderMarkdown,
  renderSummaryTable,
  summarize,
  writeReports,
} from "./report/index.js";
export {
  type GridJob,
  gridJobs,
  mergeResults,
  parseShard,
  RESULTS_FORMAT,
  type ResultsFile,
  type RunSummary,
  shardJobs,
} from "./results.js";
export {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
} from "./safetensors.js";
export { deriveSeed, STREAM, streamRng } from "./seeds.js";
export { type GridEvent, type GridOptions, runGrid, writeResults } from "./sweep.js";
export { type RunSpec, type TrainOptions, type TrainOutcome, train } from "./train.js";
