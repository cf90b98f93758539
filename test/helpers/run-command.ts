/** Runs a CLI command in-process, flags parsed as main.ts does, and returns what it printed on stdout. */
import { vi } from "vitest";
import { type Command, parseCommandArgs } from "../../src/cli/args.js";
import { isInputError } from "../../src/cli/errors.js";

export async function runCommand(command: Command, ...argv: string[]): Promise<string> {
  let out = "";
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const { values, positionals } = parseCommandArgs(command, argv);
    await command.run(values, positionals);
    return out;
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

/**
 * Runs a command as main.ts does: the exit code, stdout and stderr. An input error becomes its one line on stderr
 * and code 2; any other exception propagates (main.ts would print "internal error").
 */
export async function runCommandAsMain(
  command: Command,
  ...argv: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const { values, positionals } = parseCommandArgs(command, argv);
    await command.run(values, positionals);
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (!isInputError(error)) throw error;
    return { code: 2, stdout, stderr: `${stderr}${error.message}\n` };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
