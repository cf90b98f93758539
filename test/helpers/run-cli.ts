/**
 * Runs the CLI in-process (src/cli/program.ts) with stdout and stderr captured: the exit code main.ts would set,
 * or the error main() rejected with (which main.ts would print as `posenc: internal error: <stack>`, exit 1).
 */
import { vi } from "vitest";
import { main } from "../../src/cli/program.js";

export interface CliOutcome {
  /** main()'s exit code; undefined when it rejected. */
  code: number | undefined;
  stdout: string;
  stderr: string;
  /** What main() rejected with: a bug (or a test's stub marking that work started). */
  rejected?: unknown;
}

export async function runCli(argv: string[]): Promise<CliOutcome> {
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
    const code = await main(argv);
    return { code, stdout, stderr };
  } catch (rejected) {
    return { code: undefined, stdout, stderr, rejected };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
