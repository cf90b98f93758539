/**
 * Results already on disk are never overwritten by another experiment without `force`.
 *
 * Before any work, an output folder is compared with what the command is about to write:
 * - a job folder (`posenc train --out`, `runs/<job>/` of a grid) may hold a checkpoint or result.json of the same
 *   run (config, encoding, seed) only: training it again or resuming it is fine, another run's files are refused;
 * - a grid folder (`posenc bench --out`, `posenc report --out`) may hold a results.json of the same config and
 *   shard only, or of the same config with fewer encodings (a grid extended by appending methods: its earlier jobs
 *   keep their indices, hence their shards, and resume), and its job folders are checked as above.
 * A file posenc cannot read counts as another experiment's: it is refused too, saying why.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PosencConfigError } from "../util/validation.js";
import { readSidecar, SIDECAR_NAME } from "./checkpoint.js";
import { type EncodingChoice, type ExperimentConfig, encodingLabel } from "./config.js";
import { readJobResult, readResultsFile } from "./results-file.js";

const WHAT_IS_VALID = "a new folder, the same experiment with --resume, or --force to overwrite";

function refuse(dir: string, holds: string): never {
  throw new PosencConfigError("conflict", `output folder ${dir}`, holds, WHAT_IS_VALID);
}

/** The first line of an error, for "it holds a file posenc cannot read (...)". */
function reason(error: unknown): string {
  return (error as Error).message.split("\n")[0] ?? "";
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Refuses a job folder that holds another run's checkpoint or result (see the file comment). */
export function checkJobFolder(
  dir: string,
  run: { config: ExperimentConfig; encoding: EncodingChoice; seed: number },
  force = false,
): void {
  if (force) return;
  const label = `${encodingLabel(run.encoding)} seed ${run.seed}`;
  if (existsSync(join(dir, SIDECAR_NAME))) {
    let sidecar: ReturnType<typeof readSidecar>;
    try {
      sidecar = readSidecar(dir);
    } catch (error) {
      refuse(dir, `a ${SIDECAR_NAME} posenc cannot read (${reason(error)})`);
    }
    if (
      sidecar &&
      (!same(sidecar.config, run.config) ||
        !same(sidecar.encoding, run.encoding) ||
        sidecar.seed !== run.seed)
    ) {
      // A run's config holds its own encoding and seed: only a difference elsewhere is another config.
      const rest = (c: ExperimentConfig) => ({ ...c, encodings: [], seeds: [] });
      const config = same(rest(sidecar.config), rest(run.config))
        ? ""
        : ` of config "${sidecar.config.name}"`;
      refuse(
        dir,
        `a checkpoint of ${encodingLabel(sidecar.encoding)} seed ${sidecar.seed}${config}, not ${label}`,
      );
    }
  }
  const resultPath = join(dir, "result.json");
  if (existsSync(resultPath)) {
    if (!existsSync(join(dir, SIDECAR_NAME))) refuse(dir, "a result.json without its checkpoint");
    let result: ReturnType<typeof readJobResult>;
    try {
      result = readJobResult(resultPath);
    } catch (error) {
      refuse(dir, `a result.json posenc cannot read (${reason(error)})`);
    }
    if (result.summary.encoding !== encodingLabel(run.encoding) || result.summary.seed !== run.seed) {
      refuse(dir, `a result of ${result.summary.encoding} seed ${result.summary.seed}, not ${label}`);
    }
  }
}

/** `after` is `before` with one or more encodings appended, nothing else changed. */
function appendsEncodings(before: ExperimentConfig, after: ExperimentConfig): boolean {
  const n = before.encodings.length;
  return after.encodings.length > n && same({ ...after, encodings: after.encodings.slice(0, n) }, before);
}

/**
 * Refuses a grid folder whose results.json is of another config, or of another shard when `shards` is given
 * (a merge may re-render a folder of partial merges).
 */
export function checkGridFolder(
  dir: string,
  config: ExperimentConfig,
  shards: readonly { index: number; count: number }[] | undefined,
  force = false,
): void {
  if (force) return;
  const path = join(dir, "results.json");
  if (!existsSync(path)) return;
  let existing: ReturnType<typeof readResultsFile>;
  try {
    existing = readResultsFile(path);
  } catch (error) {
    refuse(dir, `a results.json posenc cannot read (${reason(error)})`);
  }
  if (!same(existing.config, config) && !appendsEncodings(existing.config, config))
    refuse(dir, `the results of another experiment ("${existing.config.name}")`);
  if (shards && !same(existing.shards, shards)) {
    const which = existing.shards.map((s) => `${s.index}/${s.count}`).join(", ");
    refuse(dir, `the results of shard ${which} of this experiment`);
  }
}
