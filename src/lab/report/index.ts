/**
 * Every report of a results file, written atomically into one folder:
 *   report.md               settings, summary table, per-length table
 *   accuracy.svg            exact match against length, training range shaded
 *   token-accuracy.svg      token accuracy against length
 *   report.html             all of it, self-contained
 */

import { join } from "node:path";
import { inDistributionRange } from "../config.js";
import { writeFileAtomic } from "../files.js";
import type { ResultsFile } from "../results.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { renderAccuracyChart } from "./svg.js";

export { renderHtml } from "./html.js";
export { renderLengthTable, renderMarkdown, renderSummaryTable } from "./markdown.js";
export { type EncodingSummary, summarize } from "./summary.js";
export { renderAccuracyChart } from "./svg.js";

/** Writes the reports; returns the file names. */
export function writeReports(dir: string, file: ResultsFile): string[] {
  const c = file.config;
  const files: [string, string][] = [
    ["report.md", renderMarkdown(file)],
    [
      "accuracy.svg",
      renderAccuracyChart(file, {
        metric: "sequenceAccuracy",
        title: `${c.task.id}: exact match by length`,
        trainLength: inDistributionRange(c),
      }),
    ],
    [
      "token-accuracy.svg",
      renderAccuracyChart(file, {
        metric: "tokenAccuracy",
        title: `${c.task.id}: token accuracy by length`,
        trainLength: inDistributionRange(c),
      }),
    ],
    ["report.html", renderHtml(file)],
  ];
  for (const [name, content] of files) writeFileAtomic(join(dir, name), content);
  return files.map(([name]) => name);
}
