#!/usr/bin/env node
/**
 * posenc command line: runs the program (program.ts) on this process's arguments and sets the exit code. An error
 * that is not bad input is a bug in posenc: the last line of defence prints it with its stack and exits 1.
 */
import { main } from "./program.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`posenc: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
