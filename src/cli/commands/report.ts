/**
 * `posenc report merge`: merges the results.json of shards (or of partial reruns) into one results.json and
 * writes every report beside it; with one input it re-renders that file's reports.
 * `posenc report extension`: the extension.json of several checkpoints (seeds, encodings, fine-tune lengths) as one
 * report over seeds (src/lab/report/extension-seeds.ts).
 * `posenc report passkey`: the passkey grids of several checkpoints (`posenc eval --passkey --json`) as mean
 * heatmaps and tables over seeds, per encoding (src/lab/report/passkey-seeds.ts).
 * `posenc report compare A B`: two results.json of one experiment (a rerun), figure by figure: is each within the
 * seed spread (src/lab/report/compare.ts)? Prints Markdown, or JSON with --json; writes nothing.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

import { checkOutputFolder, writeFileAtomic } from "../../lab/files.js";
import { checkGridFolder } from "../../lab/overwrite-guard.js";
import { compareResults, renderComparisonMarkdown } from "../../lab/report/compare.js";
import { renderSeedsCharts } from "../../lab/report/extension-charts.js";
import {
  readExtensionFile,
  renderSeedsHtml,
  renderSeedsMarkdown,
  summarizeExtensions,
} from "../../lab/report/extension-seeds.js";
import { renderSummaryTable } from "../../lab/report/markdown.js";
import {
  heatmapFiles,
  readPasskeyFile,
  renderPasskeyHtml,
  renderPasskeyMarkdown,
  summarizePasskeyGrids,
} from "../../lab/report/passkey-seeds.js";
import { mergeResults, missingRuns } from "../../lab/results.js";
import { readResultsFile } from "../../lab/results-file.js";
import { writeResults } from "../../lab/sweep.js";
import { type Command, parseNumberFlag, parseRangeFlag, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";

export const reportCommand: Command = {
  name: "report",
  summary: "Merge benchmark shards (results.json files) and write the Markdown, SVG and HTML reports.",
  usage:
    "posenc report merge --out DIR [--force] RESULTS.json... | posenc report --inputs A.json,B.json --out DIR [--force]\n       posenc report extension --out DIR [--title TEXT] [--force] EXTENSION.json...\n       posenc report passkey --out DIR [--title TEXT] [--force] PASSKEY.json...\n       posenc report compare A/results.json B/results.json [--lengths A..B] [--tolerance X] [--json]",
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
    title: {
      type: "string",
      description:
        "report extension / passkey: the title of the report (default: Context extension over seeds / Passkey retrieval over seeds)",
      valueName: "TEXT",
    },
    lengths: {
      type: "string",
      description:
        "report compare: also compare the mean over these lengths (besides in-distribution and beyond training)",
      valueName: "A..B",
    },
    tolerance: {
      type: "string",
      description: "report compare: differences up to this also count as unchanged (default 0.01)",
      valueName: "X",
    },
    json: { type: "boolean", description: "report compare: print the comparison as JSON" },
  },
  acceptsPositionals: true,
  run(values, positionals) {
    if (positionals[0] === "compare") {
      compareReport(values, positionals.slice(1));
      return;
    }
    for (const name of ["lengths", "tolerance", "json"]) {
      if (values[name] !== undefined)
        throw new UsageError(`posenc report: --${name} is for 'report compare'`);
    }
    if (positionals[0] === "extension") {
      seedsReport(EXTENSION_REPORT, values, positionals.slice(1));
      return;
    }
    if (positionals[0] === "passkey") {
      seedsReport(PASSKEY_REPORT, values, positionals.slice(1));
      return;
    }
    if (values.title !== undefined)
      throw new UsageError("posenc report: --title is for 'report extension' and 'report passkey'");
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

/** What one "over seeds" report is made of: its input files' name, its marker file and how it is rendered. */
interface SeedsReport {
  name: "extension" | "passkey";
  /** The input files as the errors name them. */
  inputs: string;
  /** The file whose presence in --out means "such a report is there". */
  marker: string;
  defaultTitle: string;
  /** Reads and checks every input, then returns the Markdown and every file to write (marker included). */
  render(inputs: string[], title: string): { markdown: string; files: [string, string][] };
}

/** `posenc report extension|passkey`: every input read and checked before anything is written. */
function seedsReport(report: SeedsReport, values: Record<string, unknown>, inputs: string[]): void {
  const command = `posenc report ${report.name}`;
  if (inputs.length === 0) {
    throw new UsageError(`${command}: no ${report.inputs} given (see 'posenc report --help')`);
  }
  if (values.inputs !== undefined) {
    throw new UsageError(`${command}: give the ${report.inputs} as arguments, not --inputs`);
  }
  const outDir = requireFlag("report", values, "out", "DIR");
  checkOutputFolder("--out", outDir);
  if (existsSync(join(outDir, report.marker)) && values.force !== true) {
    throw new UsageError(`${command}: --out ${outDir} holds such a report; pass --force to replace it`);
  }
  const title = typeof values.title === "string" ? values.title : report.defaultTitle;
  const { markdown, files } = report.render(inputs, title);
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of files) writeFileAtomic(join(outDir, name), text);
  process.stdout.write(`${markdown}\nWrote ${files.map(([n]) => n).join(", ")} to ${outDir}\n`);
}

/** `posenc report extension`: extension.json files over seeds (src/lab/report/extension-seeds.ts). */
const EXTENSION_REPORT: SeedsReport = {
  name: "extension",
  inputs: "extension.json files",
  marker: "extension-seeds.json",
  defaultTitle: "Context extension over seeds",
  render(inputs, title) {
    const summary = summarizeExtensions(inputs.map((path) => ({ path, file: readExtensionFile(path) })));
    const markdown = renderSeedsMarkdown(summary);
    const charts = renderSeedsCharts(summary, title);
    const files: [string, string][] = [
      [
        "extension-seeds.json",
        `${JSON.stringify({ format: "posenc-extension-seeds/1", ...summary }, null, 1)}\n`,
      ],
      ["extension-seeds.md", markdown],
      ["extension-seeds.svg", charts.context],
      ...(charts.steps ? ([["extension-steps.svg", charts.steps]] as [string, string][]) : []),
      ["extension-seeds.html", renderSeedsHtml(summary, title)],
    ];
    return { markdown, files };
  },
};

/** `posenc report passkey`: passkey grids over seeds (src/lab/report/passkey-seeds.ts). */
const PASSKEY_REPORT: SeedsReport = {
  name: "passkey",
  inputs: "passkey grid files",
  marker: "passkey-seeds.json",
  defaultTitle: "Passkey retrieval over seeds",
  render(inputs, title) {
    const summary = summarizePasskeyGrids(inputs.map((path) => ({ path, file: readPasskeyFile(path) })));
    const markdown = renderPasskeyMarkdown(summary);
    const files: [string, string][] = [
      [
        "passkey-seeds.json",
        `${JSON.stringify({ format: "posenc-passkey-seeds/1", ...summary }, null, 1)}\n`,
      ],
      ["passkey-seeds.md", markdown],
      ...heatmapFiles(summary, title),
      ["passkey-seeds.html", renderPasskeyHtml(summary, title)],
    ];
    return { markdown, files };
  },
};

/** `posenc report compare A B`: both files read and checked, then the table (or JSON) on stdout. */
function compareReport(values: Record<string, unknown>, inputs: string[]): void {
  if (inputs.length !== 2) {
    throw new UsageError(
      `posenc report compare: give exactly two results.json files (A, then B), received ${inputs.length}`,
    );
  }
  for (const name of ["out", "force", "title", "inputs"]) {
    if (values[name] !== undefined)
      throw new UsageError(`posenc report compare: --${name} is not one of its flags`);
  }
  const extraLengths =
    typeof values.lengths === "string"
      ? parseRangeFlag("report", "lengths", values.lengths, { min: 1 })
      : undefined;
  const tolerance =
    typeof values.tolerance === "string"
      ? parseNumberFlag("report", "tolerance", values.tolerance, { min: 0, max: 1 })
      : undefined;
  const a = readResultsFile(inputs[0]!);
  const b = readResultsFile(inputs[1]!);
  const comparison = compareResults(a, b, {
    ...(extraLengths ? { extraLengths } : {}),
    ...(tolerance !== undefined ? { tolerance } : {}),
    names: { a: inputs[0]!, b: inputs[1]! },
  });
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify({ a: inputs[0], b: inputs[1], ...comparison }, null, 1)}\n`);
  } else {
    process.stdout.write(renderComparisonMarkdown(comparison, { a: inputs[0]!, b: inputs[1]! }));
  }
}
