/**
 * Runs the CLI in-process, stdout and stderr captured: one command with its flags parsed as main.ts does
 * (`runCommand`), or the whole program with its exit code (`runCli`).
 */
import { vi } from "vitest";
import { type Command, parseCommandArgs } from "../../src/cli/args.js";
import { main } from "../../src/cli/program.js";

/** Calls `fn` with process.stdout and process.stderr captured: what it returned or threw, and the output. */
async function captured<T>(
  fn: () => Promise<T>,
): Promise<{ result?: T; thrown?: { error: unknown }; stdout: string; stderr: string }> {
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
    return { result: await fn(), stdout, stderr };
  } catch (error) {
    return { thrown: { error }, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Runs one command (errors propagate) and returns what it printed on stdout. */
export async function runCommand(command: Command, ...argv: string[]): Promise<string> {
  const run = await captured(async () => {
    const { values, positionals } = parseCommandArgs(command, argv);
    await command.run(values, positionals);
  });
  if (run.thrown) throw run.thrown.error;
  return run.stdout;
}

export interface CliOutcome {
  /** main()'s exit code; undefined when it rejected. */
  code: number | undefined;
  stdout: string;
  stderr: string;
  /** What main() rejected with (main.ts prints it as `posenc: internal error: <stack>`, exit 1). */
  rejected?: unknown;
}

/** Runs the whole program (src/cli/program.ts) on argv: the exit code main.ts would set, and the output. */
export async function runCli(argv: string[]): Promise<CliOutcome> {
  const run = await captured(() => main(argv));
  return run.thrown
    ? { code: undefined, stdout: run.stdout, stderr: run.stderr, rejected: run.thrown.error }
    : { code: run.result, stdout: run.stdout, stderr: run.stderr };
}
