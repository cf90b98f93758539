/**
 * `posenc report merge`: merges the results.json of shards (or of partial reruns) into one results.json and
 * writes every report beside it; with one input it re-renders that file's reports.
 */

import { modelSection } from "../../lab/config.js";
import { renderSummaryTable } from "../../lab/report/markdown.js";
import { mergeResults, missingRuns, type ResultsFile } from "../../lab/results.js";
import { writeResults } from "../../lab/sweep.js";
import { type Command, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";
import { readJsonFile } from "../io.js";

export const reportCommand: Command = {
  name: "report",
  summary: "Merge benchmark shards (results.json files) and write the Markdown, SVG and HTML reports.",
  usage: "posenc report merge --out DIR RESULTS.json... | posenc report --inputs A.json,B.json --out DIR",
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
    const files = inputs.map((path) => {
      const file = readJsonFile("results", path) as ResultsFile;
      // Results written before the model keys were renamed (heads, layers) read as today's names.
      file.config.model = modelSection.parse(file.config.model);
      if (!file || typeof file !== "object" || !Array.isArray(file.rows) || !Array.isArray(file.runs)) {
        throw new UsageError(`posenc report: ${path} is not a results.json written by 'posenc bench'`);
      }
      return file;
    });
    const merged = mergeResults(files);
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
