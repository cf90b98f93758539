/**
 * The built CLI (dist/cli/main.js) run as a user runs it, in a child process, and the check every bad-input case
 * shares: exit 2, one line on stderr, no stack trace, nothing on stdout. `npm test` builds dist first (pretest).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "vitest";

export const root = resolve(import.meta.dirname, "../..");
const cli = join(root, "dist/cli/main.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `posenc ...args` from the repository root. */
export function posenc(...args: string[]): CliResult {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'npm run build' (npm test does it first)`);
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", cwd: root });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A bad-input failure: exit 2, exactly one line on stderr, no stack trace, mentioning `fragment`. */
export function expectInputError(result: CliResult, fragment: string | RegExp): void {
  expect(result.code).toBe(2);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(lines[0]).toMatch(fragment);
  expect(result.stdout).toBe("");
}

/** A fresh temporary folder, and a writer of small files in it (returns the path). */
export function scratchFolder(prefix: string): { dir: string; file(name: string, content: string): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
  };
}
