/** File input and output for the CLI: clear one-line errors, and atomic writes (temporary name, then rename). */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "./errors.js";

/** Reads and parses a JSON file, or throws a UsageError saying which file and what is wrong with it. */
export function readJsonFile(flag: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (code ?? "unreadable");
    throw new UsageError(`${flag} ${path}: cannot read the file (${reason})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Writes `content` to `path` atomically: a reader sees the old file or the whole new one, never a part. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path) || ".", { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Refuses an output file that exists (without --force) or whose folder cannot hold it, before any work: one
 * UsageError line "posenc COMMAND: --FLAG PATH: why".
 */
export function checkOutputFile(command: string, flag: string, path: string, force: boolean): void {
  const fail = (message: string): never => {
    throw new UsageError(`posenc ${command}: --${flag} ${path}: ${message}`);
  };
  const full = resolve(path);
  if (existsSync(full)) {
    if (statSync(full).isDirectory()) fail("is a directory, expected a file path");
    if (!force) fail("the file exists; pass --force to replace it");
  }
  let folder = dirname(full);
  while (!existsSync(folder)) folder = dirname(folder);
  if (!statSync(folder).isDirectory()) fail(`${folder} is a file, not a folder`);
  if (folder.startsWith("/proc") || folder.startsWith("/sys") || folder.startsWith("/dev")) {
    fail(`${folder} is a special file system; write to a normal folder`);
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    fail(`the folder ${folder} is not writable`);
  }
}
