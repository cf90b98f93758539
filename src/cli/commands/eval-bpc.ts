/**
 * `posenc eval --checkpoint DIR --bpc`: bits per character of a text-task checkpoint (e.g. brown_chars) at a grid of
 * context lengths, on a held-out split, with the sliding-window protocol of src/lab/perplexity.ts.
 *
 *   posenc eval --checkpoint runs/text-brown/rope-s0 --bpc --contexts 64,128,256,512 --split validation
 *
 * Every context length scores the same first --max-chars characters of the split; the stride is
 * --stride-fraction x T. Prints one row per T with bpc, the windows run, seconds, and the process rss and engine
 * heap after it (memory against T).
 */
import type { CheckpointSidecar } from "../../lab/checkpoint.js";
import { encodingLabel } from "../../lab/config.js";
import type { LabModel } from "../../lab/model.js";
import { bitsPerCharByContext, type ContextBitsRow, type ContextGridOptions } from "../../lab/perplexity.js";
import { formatMebibytes } from "../../lab/progress.js";
import { checkRunFits } from "../../lab/resources.js";
import { STREAM, streamRng } from "../../lab/seeds.js";
import { buildVocabulary } from "../../tasks/format.js";
import { createTask, taskEntry } from "../../tasks/registry.js";
import type { Task } from "../../tasks/types.js";
import { PosencConfigError } from "../../util/validation.js";
import { type FlagSpec, parseIntegerFlag } from "../args.js";
import { UsageError } from "../errors.js";

export const BPC_FLAGS: FlagSpec = {
  bpc: { type: "boolean", description: "Bits per character per context length (text tasks, sliding window)" },
  contexts: {
    type: "string",
    description: "Context lengths for --bpc (default: T/2, T, 2T, 4T of the training length T)",
    valueName: "N,N,...",
  },
  split: { type: "string", description: "Split for --bpc: validation (default) or test", valueName: "NAME" },
  "stride-fraction": {
    type: "string",
    description: "Stride of the window as a fraction of T, in (0, 1] (default 0.5)",
    valueName: "F",
  },
  "max-chars": {
    type: "string",
    description: "Characters scored for --bpc, the split's first N (default 32768)",
    valueName: "N",
  },
};

const DEFAULT_MAX_CHARS = 32768;

/** "64,128,256" -> [64, 128, 256] (each a positive integer). */
export function parseContextList(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
  if (parts.length === 0 || values.some((v) => !Number.isSafeInteger(v) || v < 1)) {
    throw new UsageError(
      `posenc eval: --contexts must be positive integers separated by commas, received "${text}"`,
    );
  }
  return values;
}

/**
 * The checkpoint's text task on the held-out split of --split (validation by default), or one line naming what is
 * wrong: the split, or a checkpoint of a task that is not a text task (`mode` is the evaluation flag asked for).
 */
export function heldOutTextTask(
  values: Record<string, unknown>,
  sidecar: CheckpointSidecar,
  mode: "bpc" | "passkey",
): { task: Task; split: "validation" | "test" } {
  const { config } = sidecar;
  const split = typeof values.split === "string" ? values.split : "validation";
  if (split !== "validation" && split !== "test") {
    throw new UsageError(`posenc eval: --split must be validation or test, received "${split}"`);
  }
  if (taskEntry(config.task.id).level !== "text") {
    throw new UsageError(
      `posenc eval: --${mode} needs a checkpoint of a text task (e.g. brown_chars), this one is of task "${config.task.id}"`,
    );
  }
  return { task: createTask(config.task.id, { ...config.task.params, split }), split };
}

/**
 * Validates the --bpc flags against the checkpoint (before any model is built) and returns the evaluation to run on
 * the loaded model; undefined without --bpc (its flags alone are an error).
 */
export function prepareBitsPerChar(
  values: Record<string, unknown>,
  sidecar: CheckpointSidecar,
): BitsPerCharEvaluation | undefined {
  if (!values.bpc) {
    // --passkey (eval-passkey.ts) reads --contexts and --split too.
    const shared = values.passkey ? ["contexts", "split"] : [];
    const stray = Object.keys(BPC_FLAGS).find((name) => values[name] !== undefined && !shared.includes(name));
    if (stray) throw new UsageError(`posenc eval: --${stray} needs --bpc`);
    return undefined;
  }
  const { config } = sidecar;
  const { task, split } = heldOutTextTask(values, sidecar, "bpc");
  const tokens = task.textTokens as Int32Array;
  const trained = config.train.length.max;
  const contexts =
    typeof values.contexts === "string"
      ? parseContextList(values.contexts)
      : [Math.max(1, trained >> 1), trained, trained * 2, trained * 4];
  const maxChars =
    typeof values["max-chars"] === "string"
      ? parseIntegerFlag("eval", "max-chars", values["max-chars"], 1, tokens.length - 1)
      : Math.min(DEFAULT_MAX_CHARS, tokens.length - 1);
  const tooLong = contexts.find((t) => t > maxChars);
  if (tooLong !== undefined) {
    throw new UsageError(
      `posenc eval: --contexts ${tooLong} exceeds the ${maxChars} scored characters (raise --max-chars)`,
    );
  }
  let strideFraction = 0.5;
  if (typeof values["stride-fraction"] === "string") {
    strideFraction = Number(values["stride-fraction"]);
    if (!(strideFraction > 0 && strideFraction <= 1)) {
      throw new UsageError(
        `posenc eval: --stride-fraction must be a number in (0, 1], received "${values["stride-fraction"]}"`,
      );
    }
  }
  checkContextsFit(sidecar, contexts, strideFraction, maxChars);
  const vocabSize = buildVocabulary(task.symbols, config.task.layout).size;
  return {
    score: (model) =>
      scoreContexts(model, { values, sidecar, tokens, vocabSize, contexts, strideFraction, maxChars, split }),
    inputs: {
      tokens,
      vocabSize,
      grid: {
        contexts: [...contexts].sort((a, b) => a - b),
        strideFraction,
        maxChars,
        rng: streamRng(sidecar.seed, STREAM.eval, 0),
      },
    },
  };
}

/** What --bpc scores: the model's rows printed as they come, and the text and grid (for --extend). */
export interface BitsPerCharEvaluation {
  score(model: LabModel): ContextBitsRow[];
  inputs: { tokens: Int32Array; vocabSize: number; grid: ContextGridOptions };
}

/**
 * The longest context must fit this machine: its windows are one evaluation batch each (resources.ts), named as
 * --contexts in the refusal.
 */
function checkContextsFit(
  sidecar: CheckpointSidecar,
  contexts: readonly number[],
  strideFraction: number,
  maxChars: number,
): void {
  const longest = Math.max(...contexts);
  const windows = Math.ceil(maxChars / Math.max(1, Math.floor(strideFraction * longest)));
  const evalOfLongest = { length: { min: longest, max: longest }, samplesPerLength: windows, batchSize: 1 };
  try {
    checkRunFits({ ...sidecar.config, eval: { ...sidecar.config.eval, ...evalOfLongest } });
  } catch (error) {
    if (!(error instanceof PosencConfigError) || !error.key.startsWith("eval.")) throw error;
    throw new PosencConfigError(error.code, "--contexts", longest, error.expected);
  }
}

function scoreContexts(
  model: LabModel,
  o: {
    values: Record<string, unknown>;
    sidecar: CheckpointSidecar;
    tokens: Int32Array;
    vocabSize: number;
    contexts: number[];
    strideFraction: number;
    maxChars: number;
    split: string;
  },
): ContextBitsRow[] {
  const { values, sidecar, tokens, vocabSize, contexts, strideFraction, maxChars, split } = o;
  const trained = sidecar.config.train.length.max;
  const header = `${encodingLabel(sidecar.encoding)} seed ${sidecar.seed}, step ${sidecar.step}, trained at T = ${trained}; ${split} split, first ${maxChars} characters, stride ${strideFraction} T`;
  if (!values.json) process.stdout.write(`${header}\n context      bpc  windows  seconds    rss  engine\n`);
  return bitsPerCharByContext(model, tokens, vocabSize, {
    contexts,
    strideFraction,
    maxChars,
    rng: streamRng(sidecar.seed, STREAM.eval, 0),
    onContext: (r) => {
      if (values.json) return;
      const mark = r.window > trained ? " *" : "  ";
      process.stdout.write(
        `${String(r.window).padStart(6)}${mark} ${r.bitsPerChar.toFixed(4).padStart(8)} ${String(r.windows).padStart(8)} ${r.seconds.toFixed(1).padStart(8)} ${formatMebibytes(r.rssBytes).padStart(6)} ${formatMebibytes(r.engineHeapBytes).padStart(7)}\n`,
      );
    },
  });
}
