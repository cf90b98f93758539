/** Runs a CLI command in-process, flags parsed as main.ts does, and returns what it printed on stdout. */
import { vi } from "vitest";
import { type Command, parseCommandArgs } from "../../src/cli/args.js";

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
