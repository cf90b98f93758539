/**
 * `posenc eval --checkpoint DIR --passkey`: passkey retrieval accuracy of a text-task checkpoint (brown_chars or
 * brown_passkey) over a grid context length x needle depth, filler from a held-out split (src/lab/retrieval.ts).
 *
 *   posenc eval --checkpoint runs/brown-passkey/rope-s0 --passkey --contexts 128,256,512 --depths 0,0.5,1 \
 *     --per-cell 20 --svg passkey.svg
 *
 * Prints the grid as a table (rows context, columns depth), or with --json the grid file (format posenc-passkey/1:
 * the grid with the checkpoint, encoding, step, trained context and split) that `posenc report passkey` reads back;
 * --svg writes the heatmap.
 * Every flag is checked, and the output file refused if it exists (without --force), before the model is built.
 */
import type { CheckpointSidecar } from "../../lab/checkpoint.js";
import { encodingLabel } from "../../lab/config.js";
import { writeFileAtomic } from "../../lab/files.js";
import type { LabModel } from "../../lab/model.js";
import { renderPasskeyHeatmap } from "../../lab/report/heatmap.js";
import { PASSKEY_FORMAT, type PasskeyFile } from "../../lab/report/passkey-seeds.js";
import { checkPasskeyGrid, evaluatePasskeyGrid } from "../../lab/retrieval.js";
import { buildVocabulary } from "../../tasks/format.js";
import { CHAR_SYMBOLS } from "../../tasks/text/char-lm.js";
import { DEFAULT_PASSKEY_DIGITS, minPasskeyContext } from "../../tasks/text/passkey-haystack.js";
import { type FlagSpec, parseIntegerFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { checkOutputFile } from "../io.js";
import { heldOutTextTask, parseContextList } from "./eval-bpc.js";

/** Flags of --passkey beyond those it shares with --bpc (--contexts, --split). */
export const PASSKEY_FLAGS: FlagSpec = {
  passkey: {
    type: "boolean",
    description: "Passkey retrieval accuracy over context length x needle depth (text tasks)",
  },
  depths: {
    type: "string",
    description: "Needle depths for --passkey, fractions in [0, 1] (default 0,0.25,0.5,0.75,1)",
    valueName: "F,F,...",
  },
  "per-cell": {
    type: "string",
    description: "Examples per grid cell for --passkey (default 20)",
    valueName: "N",
  },
  svg: { type: "string", description: "Write the --passkey heatmap SVG to FILE", valueName: "FILE" },
  force: { type: "boolean", description: "Replace the --svg (or --longrope-search) file if it exists" },
};

const DEFAULT_DEPTHS = [0, 0.25, 0.5, 0.75, 1];
const DEFAULT_PER_CELL = 20;

/** "0,0.5,1" -> [0, 0.5, 1] (each a number in [0, 1]). */
export function parseDepthList(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map((s) => (/^[0-9.]+$/.test(s) ? Number(s) : Number.NaN));
  if (values.some((v) => !(v >= 0 && v <= 1))) {
    throw new UsageError(
      `posenc eval: --depths must be numbers in [0, 1] separated by commas, received "${text}"`,
    );
  }
  return values;
}

/**
 * Validates the --passkey flags against the checkpoint (before any model is built) and returns the evaluation to run
 * on the loaded model; undefined without --passkey (its own flags alone are an error).
 */
export function preparePasskeyGrid(
  values: Record<string, unknown>,
  sidecar: CheckpointSidecar,
): ((model: LabModel) => PasskeyFile) | undefined {
  if (!values.passkey) {
    // --force also replaces the --longrope-search file and the --report folder's report (eval-extend.ts).
    const shared = values["longrope-search"] !== undefined || values.report !== undefined ? ["force"] : [];
    const stray = Object.keys(PASSKEY_FLAGS).find(
      (name) => values[name] !== undefined && !shared.includes(name),
    );
    if (stray) throw new UsageError(`posenc eval: --${stray} needs --passkey`);
    return undefined;
  }
  if (values.bpc) throw new UsageError("posenc eval: --passkey and --bpc are separate evaluations; pass one");
  const { config } = sidecar;
  const { task, split } = heldOutTextTask(values, sidecar, "passkey");
  if (task.symbols.join("") !== CHAR_SYMBOLS.join("")) {
    throw new UsageError(
      `posenc eval: --passkey needs a character-level text task, task "${config.task.id}" has another alphabet`,
    );
  }
  const text = task.textTokens as Int32Array;
  const trained = config.train.length.max;
  const min = minPasskeyContext(DEFAULT_PASSKEY_DIGITS);
  const contexts =
    typeof values.contexts === "string"
      ? parseContextList(values.contexts)
      : [trained >> 1, trained, trained * 2, trained * 4].filter((t) => t >= min);
  const tooShort = contexts.find((t) => t < min);
  if (tooShort !== undefined || contexts.length === 0) {
    throw new UsageError(
      `posenc eval: --contexts ${tooShort ?? "(default)"}: a passkey example needs at least ${min} characters (needle, query and answer)`,
    );
  }
  const tooLong = contexts.find((t) => t > text.length);
  if (tooLong !== undefined) {
    throw new UsageError(
      `posenc eval: --contexts ${tooLong} exceeds the ${text.length} characters of the ${split} split`,
    );
  }
  const depths = typeof values.depths === "string" ? parseDepthList(values.depths) : DEFAULT_DEPTHS;
  const perCell =
    typeof values["per-cell"] === "string"
      ? parseIntegerFlag("eval", "per-cell", values["per-cell"], 1, 100_000)
      : DEFAULT_PER_CELL;
  if (values.force !== undefined && values.svg === undefined)
    throw new UsageError("posenc eval: --force needs --svg");
  const svgPath = typeof values.svg === "string" ? values.svg : undefined;
  if (svgPath !== undefined) checkOutputFile("eval", "svg", svgPath, values.force === true);
  const options = { contexts, depths, perCell, seed: sidecar.seed };
  checkPasskeyGrid(options, text.length);
  const vocabSize = buildVocabulary(task.symbols, config.task.layout).size;
  const title = `${encodingLabel(sidecar.encoding)} seed ${sidecar.seed}, step ${sidecar.step}: passkey, ${split} split`;
  return (model) => {
    if (!values.json) {
      process.stdout.write(
        `${title}, ${perCell} per cell, trained at T = ${trained} (* = beyond)\ncontext ${depths.map((d) => `d=${d}`.padStart(7)).join("")}\n`,
      );
    }
    let line = "";
    let cells = 0;
    const grid = evaluatePasskeyGrid(model, text, vocabSize, {
      ...options,
      onCell: (cell) => {
        if (values.json) return;
        const column = cells++ % depths.length;
        if (column === 0)
          line = `${String(cell.context).padStart(5)}${cell.context > trained ? " *" : "  "} `;
        line += cell.accuracy.toFixed(2).padStart(7);
        if (column === depths.length - 1) process.stdout.write(`${line}\n`);
      },
    });
    if (svgPath !== undefined) {
      writeFileAtomic(svgPath, renderPasskeyHeatmap(grid, { title, trainedContext: trained }));
      if (!values.json) process.stdout.write(`heatmap ${svgPath}\n`);
    }
    return {
      format: PASSKEY_FORMAT,
      checkpoint: String(values.checkpoint),
      encoding: encodingLabel(sidecar.encoding),
      step: sidecar.step,
      trainedContext: trained,
      split,
      ...grid,
    };
  };
}
