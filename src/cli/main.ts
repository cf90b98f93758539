#!/usr/bin/env node
/**
 * posenc command line. Thin commands over the library: each parses its flags, calls library functions and prints.
 * Bad input (a flag, a file, a config) prints one line on stderr and exits with code 2, never a stack trace.
 */
import { type Command, parseCommandArgs, renderCommandHelp } from "./args.js";
import { alibiCommand } from "./commands/alibi.js";
import { benchCommand } from "./commands/bench.js";
import { demoCommand } from "./commands/demo.js";
import { docsCommand } from "./commands/docs.js";
import { evalCommand } from "./commands/eval.js";
import { extendCommand } from "./commands/extend.js";
import { listCommand } from "./commands/list.js";
import { reportCommand } from "./commands/report.js";
import { ropeCommand } from "./commands/rope.js";
import { trainCommand } from "./commands/train.js";
import { isInputError, UsageError } from "./errors.js";

const commands: readonly Command[] = [
  demoCommand,
  listCommand,
  ropeCommand,
  extendCommand,
  alibiCommand,
  trainCommand,
  evalCommand,
  benchCommand,
  reportCommand,
  docsCommand,
];

function mainHelp(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(8)}${c.summary.split("\n")[0]}`);
  return `posenc: positional encodings for TypeScript, exact and tested.\n\nUsage: posenc <command> [options]\n\nCommands:\n${rows.join("\n")}\n\n'posenc <command> --help' describes a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(mainHelp());
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
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`posenc: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
