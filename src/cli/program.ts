/**
 * The posenc program, without the process around it (main.ts): `main(argv)` resolves to the exit code, so tests
 * run the CLI in-process. Thin commands over the library: each parses its flags, calls library functions and
 * prints. Bad input (a flag, a file, a config) prints one line on stderr and resolves to 2, never a stack trace;
 * anything else rejects, and main.ts prints it as an internal error (a bug in posenc).
 */
import { readFileSync } from "node:fs";
import { type Command, parseCommandArgs, renderCommandHelp } from "./args.js";
import { alibiCommand } from "./commands/alibi.js";
import { analyzeBiasCommand } from "./commands/analyze-bias.js";
import { benchCommand } from "./commands/bench.js";
import { demoCommand } from "./commands/demo.js";
import { docsCommand } from "./commands/docs.js";
import { evalCommand } from "./commands/eval.js";
import { extendCommand } from "./commands/extend.js";
import { fieldsCommand } from "./commands/fields.js";
import { listCommand } from "./commands/list.js";
import { mropeCommand } from "./commands/mrope.js";
import { reportCommand } from "./commands/report.js";
import { ropeCommand } from "./commands/rope.js";
import { tasksCommand } from "./commands/tasks.js";
import { trainCommand } from "./commands/train.js";
import { visionCommand } from "./commands/vision.js";
import { isInputError, UsageError } from "./errors.js";
import { wrapText } from "./table.js";

export const commands: readonly Command[] = [
  demoCommand,
  listCommand,
  tasksCommand,
  ropeCommand,
  mropeCommand,
  extendCommand,
  alibiCommand,
  analyzeBiasCommand,
  trainCommand,
  evalCommand,
  benchCommand,
  reportCommand,
  docsCommand,
  fieldsCommand,
  visionCommand,
];

/** The package's version, from the package.json two folders up (dist/cli/ or src/cli/). */
export function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

/** Width of help text: the terminal's, at most 100 columns. */
const HELP_WIDTH = Math.min(process.stdout.columns || 100, 100);

function mainHelp(): string {
  // The name column fits the longest command name and a two-space gap.
  const column = Math.max(...commands.map((c) => c.name.length)) + 2;
  const rows = commands.map(
    (c) => `  ${c.name.padEnd(column)}${wrapText(c.summary, HELP_WIDTH, column + 2)}`,
  );
  return `posenc ${packageVersion()}: positional encodings for TypeScript, exact and tested.\n\nUsage: posenc <command> [options]\n\nCommands:\n${rows.join("\n")}\n\n'posenc <command> --help' describes a command's options; 'posenc --version' prints the version.\n`;
}

/**
 * The message on one line, whatever user text it quotes (a file's contents in a JSON error, a flag value with a
 * newline): control characters are shown escaped, as in a JSON string.
 */
export function oneLine(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes.
  return message.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  try {
    const command = commands.find((c) => c.name === name);
    if (!command) {
      throw new UsageError(
        `posenc: unknown command "${name}": valid commands are ${commands.map((c) => c.name).join(", ")}`,
      );
    }
    const { values, positionals } = parseCommandArgs(command, rest);
    if (values.help) {
      process.stdout.write(renderCommandHelp(command));
      return 0;
    }
    if (positionals.length > 0 && !command.acceptsPositionals) {
      throw new UsageError(
        `posenc ${command.name}: unexpected argument "${positionals[0]}" (see 'posenc ${command.name} --help')`,
      );
    }
    await command.run(values, positionals);
    return 0;
  } catch (error) {
    if (isInputError(error)) {
      process.stderr.write(`${oneLine(error.message)}\n`);
      return 2;
    }
    throw error;
  }
}
