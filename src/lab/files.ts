/**
 * Files and folders of the lab, checked like configs: every failure is one PosencConfigError naming the path, what
 * is wrong with it and what would be valid, raised BEFORE any work starts.
 *
 * - `writeFileAtomic`: a reader sees the old file or the whole new one, never a part (temporary name, then rename).
 * - `readInputFile`: only regular files of a bounded size are read. A FIFO or a device (`/dev/zero`) would block
 *   or never end, so they are refused by their type before a single byte is read.
 * - `checkOutputFolder`: the folder (or the nearest part of it that exists) must be a writable directory on an
 *   ordinary file system. Node's recursive mkdir loops forever under /proc, so pseudo file systems are refused
 *   from the nearest existing ancestor's real path and its statfs type, never by trying.
 */
import {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { PosencConfigError } from "../util/validation.js";

/** Largest input file read whole (configs, sidecars, results, weights): 2 GiB, Node's largest Buffer. */
export const MAX_INPUT_BYTES = 2 ** 31 - 1;

/** Writes `content` to `path` atomically: a reader sees the old file or the whole new one, never a part. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  try {
    mkdirSync(dirname(path) || ".", { recursive: true });
  } catch (error) {
    throw new PosencConfigError(
      "invalid_value",
      "output folder",
      dirname(path),
      `a folder that can be created (${describeErrno(error)})`,
    );
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, content);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new PosencConfigError(
      "invalid_value",
      "output file",
      path,
      `a writable path (${describeErrno(error)})`,
    );
  }
}

/** Why a file system call failed, in words. */
export function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "it is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOTDIR":
      return "a part of the path is a file";
    default:
      return code ?? "unreadable";
  }
}

/**
 * Reads a whole input file: a regular file of at most `maxBytes` bytes, else one PosencConfigError with `key`
 * (the flag or the role of the file, e.g. "--config" or "checkpoint weights").
 */
export function readInputFile(key: string, path: string, maxBytes = MAX_INPUT_BYTES): Buffer {
  const unreadable = (reason: string): never => {
    throw new PosencConfigError("invalid_value", key, path, `a readable file (${reason})`);
  };
  let stat: ReturnType<typeof statSync> | undefined;
  try {
    stat = statSync(path);
  } catch (error) {
    unreadable(describeErrno(error));
  }
  if (stat?.isDirectory()) unreadable("it is a directory");
  if (!stat?.isFile()) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      path,
      "a regular file (this is a device, FIFO or socket)",
    );
  }
  const size = stat.size;
  if (size > maxBytes) {
    throw new PosencConfigError(
      "out_of_range",
      key,
      path,
      `a file of at most ${maxBytes} bytes (it has ${size})`,
    );
  }
  try {
    return readFileSync(path);
  } catch (error) {
    return unreadable(describeErrno(error));
  }
}

/** V8's longest string (2^29 - 24 UTF-16 units in Node 20): a longer text file cannot be read as one string. */
export const MAX_TEXT_BYTES = 2 ** 29 - 24;

/** Reads a UTF-8 text input file (see readInputFile), at most MAX_TEXT_BYTES long. */
export function readInputText(key: string, path: string, maxBytes = MAX_TEXT_BYTES): string {
  return readInputFile(key, path, maxBytes).toString("utf8");
}

/** Reads and parses a JSON input file; invalid JSON is a PosencConfigError naming the file and the reason. */
export function readInputJson(key: string, path: string): unknown {
  const text = readInputText(key, path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      path,
      `a file of valid JSON (${(error as Error).message.split("\n")[0]})`,
    );
  }
}

/** Pseudo file systems where an output folder makes no sense (Linux statfs magic numbers, linux/magic.h). */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x73636673, "securityfs"],
  [0xcafe4a11, "bpf"],
  [0x62656570, "configfs"],
  [0x6165676c, "pstore"],
]);

/** Roots of special folders refused by their real path (/dev/shm, an ordinary tmpfs, is allowed). */
const SPECIAL_ROOTS = ["/proc", "/sys", "/dev"];

function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/** The nearest existing ancestor of `path` (itself included) and whether it is a directory. */
function nearestExisting(path: string, key: string): { path: string; isDirectory: boolean } {
  let at = resolve(path);
  for (;;) {
    try {
      return { path: at, isDirectory: statSync(at).isDirectory() };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        throw new PosencConfigError("invalid_value", key, path, `a usable folder (${describeErrno(error)})`);
      }
    }
    const parent = dirname(at);
    if (parent === at) return { path: at, isDirectory: true };
    at = parent;
  }
}

/**
 * Checks that `dir` can be an output folder, without creating anything: it is a directory or does not exist yet,
 * no part of it is a file, the nearest existing part is writable, and it is not on a pseudo file system.
 * Throws one PosencConfigError with `key` (the flag, e.g. "--out") otherwise, showing `shown` as the value (the
 * output file's path when the folder is checked for a file).
 */
export function checkOutputFolder(key: string, dir: string, shown = dir): void {
  if (dir.trim() === "")
    throw new PosencConfigError("invalid_value", key, shown, "a folder path (not empty)");
  const full = resolve(dir);
  const near = nearestExisting(full, key);
  if (!near.isDirectory) {
    const what = near.path === full && shown === dir ? "it is a file" : `${near.path} is a file`;
    throw new PosencConfigError("invalid_value", key, shown, `a folder (${what})`);
  }
  let real = near.path;
  try {
    real = realpathSync(near.path);
  } catch {
    // keep the resolved path
  }
  const special = SPECIAL_ROOTS.find((root) => isUnder(real, root) && !isUnder(real, "/dev/shm"));
  let fsType: string | undefined;
  try {
    fsType = PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(near.path).type));
  } catch {
    // statfs is unavailable on some platforms: the path check above still applies
  }
  if (special || fsType) {
    throw new PosencConfigError(
      "invalid_value",
      key,
      shown,
      `a folder on an ordinary file system (${fsType ? `${real} is on a ${fsType} file system` : `${real} is under ${special}, a special folder`})`,
    );
  }
  try {
    accessSync(near.path, constants.W_OK | constants.X_OK);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "EROFS" ? "read-only file system" : "not writable";
    throw new PosencConfigError("invalid_value", key, shown, `a writable folder (${near.path}: ${reason})`);
  }
}

/** Checks that `path` can be written as an output file: not a directory, in a usable output folder. */
export function checkOutputFile(key: string, path: string): void {
  try {
    if (statSync(path).isDirectory()) {
      throw new PosencConfigError("invalid_value", key, path, "a file path (it is a directory)");
    }
  } catch (error) {
    if (error instanceof PosencConfigError) throw error;
  }
  checkOutputFolder(key, dirname(resolve(path)), path);
}

/**
 * Runs `fn`, naming `file` in any PosencConfigError it throws: `Invalid runs/a/checkpoint.json: step: ...`.
 * How every file reader reports a bad value inside a file with the same one-line error as a config.
 */
export function withinFile<T>(file: string, fn: () => T, separator = ": "): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof PosencConfigError && !error.key.startsWith(file)) {
      // "(config)" is zod-issues' name of the root: inside a file, the root is the file itself.
      const key = error.key === "(config)" ? file : `${file}${separator}${error.key}`;
      throw new PosencConfigError(error.code, key, error.received, error.expected);
    }
    throw error;
  }
}
