/**
 * `posenc report merge`: merges the results.json of shards (or of partial reruns) into one results.json and
 * writes every report beside it; with one input it re-renders that file's reports.
 */

import { checkOutputFolder } from "../../lab/files.js";
import { checkGridFolder } from "../../lab/overwrite-guard.js";
import { renderSummaryTable } from "../../lab/report/markdown.js";
import { mergeResults, missingRuns } from "../../lab/results.js";
import { readResultsFile } from "../../lab/results-file.js";
import { writeResults } from "../../lab/sweep.js";
import { type Command, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";

export const reportCommand: Command = {
  name: "report",
  summary: "Merge benchmark shards (results.json files) and write the Markdown, SVG and HTML reports.",
  usage:
    "posenc report merge --out DIR [--force] RESULTS.json... | posenc report --inputs A.json,B.json --out DIR [--force]",
  flags: {
    inputs: {
      type: "string",
      description: "Comma-separated results.json files (or give them as arguments)",
      valueName: "FILES",
    },
    out: {
      type: "string",
      description: "Folder for the merged results.json and the reports",
      valueName: "DIR",
    },
    force: {
      type: "boolean",
      description: "Overwrite an output folder that holds another experiment's results",
    },
  },
  acceptsPositionals: true,
  run(values, positionals) {
    const args = positionals[0] === "merge" ? positionals.slice(1) : positionals;
    const inputs = [
      ...(typeof values.inputs === "string"
        ? values.inputs
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : []),
      ...args,
    ];
    if (inputs.length === 0) {
      throw new UsageError("posenc report: no results files given (see 'posenc report --help')");
    }
    const outDir = requireFlag("report", values, "out", "DIR");
    checkOutputFolder("--out", outDir);
    const files = inputs.map(readResultsFile);
    const merged = mergeResults(files);
    checkGridFolder(outDir, merged.config, undefined, values.force === true);
    const written = writeResults(outDir, merged);
    process.stdout.write(`${renderSummaryTable(merged)}\n\n`);
    const missing = missingRuns(merged);
    if (missing.length > 0) {
      process.stdout.write(
        `Missing runs: ${missing.map((m) => `${m.encoding} seed ${m.seed}`).join(", ")}\n`,
      );
    }
    process.stdout.write(
      `Merged ${files.length} file(s), ${merged.runs.length} runs. Wrote ${written.join(", ")} to ${outDir}\n`,
    );
  },
};
