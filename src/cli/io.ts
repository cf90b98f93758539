/** File input for the CLI: clear one-line errors. (Atomic writes live in the lab: src/lab/files.ts.) */
import { existsSync, readFileSync, statSync } from "node:fs";
import { checkOutputFile as checkOutputPath, describeErrno, MAX_INPUT_BYTES } from "../lab/files.js";
import { UsageError } from "./errors.js";

/**
 * Reads and parses a JSON file, or throws a UsageError saying which file and what is wrong with it. Only regular
 * files are read: a device or FIFO (`/dev/zero`) would never end.
 */
export function readJsonFile(flag: string, path: string): unknown {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile() && !stat.isDirectory()) {
      throw new UsageError(`${flag} ${path}: cannot read the file (not a regular file)`);
    }
    if (stat.size > MAX_INPUT_BYTES) {
      throw new UsageError(
        `${flag} ${path}: cannot read the file (${stat.size} bytes, at most ${MAX_INPUT_BYTES})`,
      );
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${flag} ${path}: cannot read the file (${describeErrno(error)})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Refuses an output file that exists (without --force) or whose folder cannot hold it (src/lab/files.ts: a
 * directory, a file in the path, not writable, a special file system), before any work.
 */
export function checkOutputFile(command: string, flag: string, path: string, force: boolean): void {
  checkOutputPath(`--${flag}`, path);
  if (existsSync(path) && !force) {
    throw new UsageError(`posenc ${command}: --${flag} ${path}: the file exists; pass --force to replace it`);
  }
}
