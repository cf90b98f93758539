/**
 * `posenc train`: trains one run (one encoding, one seed) of an experiment config with checkpoints, evaluates it
 * on the held-out test lengths and prints the per-length accuracy. `--resume` continues a killed run exactly.
 */
import { join } from "node:path";
import { encodingLabel } from "../../lab/config.js";
import { loadExperimentConfig } from "../../lab/config-file.js";
import { checkOutputFolder } from "../../lab/files.js";
import { runJob } from "../../lab/job.js";
import { checkJobFolder } from "../../lab/overwrite-guard.js";
import { formatPlan, planRuns } from "../../lab/plan.js";
import { ProgressReporter } from "../../lab/progress.js";
import { renderLengthTable, renderSummaryTable } from "../../lab/report/markdown.js";
import { RESULTS_FORMAT, type ResultsFile } from "../../lab/results.js";
import { type Command, parseIntegerFlag, requireFlag } from "../args.js";
import { UsageError } from "../errors.js";

export const trainCommand: Command = {
  name: "train",
  summary: "Train one run of an experiment config (checkpoints, --resume), then evaluate it per length.",
  usage: "posenc train --config FILE [--encoding LABEL] [--seed N] [--out DIR] [--resume] [--force]",
  flags: {
    config: { type: "string", description: "Experiment config (JSON or YAML)", valueName: "FILE" },
    encoding: {
      type: "string",
      description: "Which of the config's encodings (default: the first)",
      valueName: "LABEL",
    },
    seed: { type: "string", description: "Seed (default: the config's first)", valueName: "N" },
    out: {
      type: "string",
      description: "Checkpoint folder (default runs/NAME/LABEL-sSEED)",
      valueName: "DIR",
    },
    resume: { type: "boolean", description: "Continue from the checkpoint in the output folder" },
    force: {
      type: "boolean",
      description: "Overwrite an output folder that holds another experiment's results",
    },
  },
  async run(values) {
    const config = loadExperimentConfig(requireFlag("train", values, "config", "FILE"));
    const labels = config.encodings.map(encodingLabel);
    const label = typeof values.encoding === "string" ? values.encoding : labels[0];
    const encodingIndex = labels.indexOf(label);
    if (encodingIndex < 0) {
      throw new UsageError(
        `posenc train: --encoding "${label}" is not in the config: valid values are ${labels.join(", ")}`,
      );
    }
    const seed =
      typeof values.seed === "string"
        ? parseIntegerFlag("train", "seed", values.seed, 0, 4294967295)
        : config.seeds[0];
    const outDir =
      typeof values.out === "string" ? values.out : join("runs", config.name, `${label}-s${seed}`);
    checkOutputFolder("--out", outDir);
    const encoding = config.encodings[encodingIndex];
    checkJobFolder(outDir, { config, encoding, seed }, values.force === true);
    const job = { index: 0, encodingIndex, seed };
    const plan = await planRuns(config, { jobs: [job] });
    process.stderr.write(`${formatPlan(config, plan)}\n`); // stderr with the progress; stdout holds the results
    const reporter = new ProgressReporter(process.stderr, config.train.logEvery);
    const result = await runJob(config, job, {
      jobDir: outDir,
      resume: values.resume === true,
      force: values.force === true,
      onProgress: (e) => reporter.update(e),
    });
    reporter.done();
    const file: ResultsFile = {
      format: RESULTS_FORMAT,
      name: config.name,
      config: { ...config, encodings: [config.encodings[encodingIndex]], seeds: [seed] },
      shards: [{ index: 1, count: 1 }],
      runs: [result.summary],
      rows: result.rows,
    };
    process.stdout.write(`${renderSummaryTable(file)}\n\n${renderLengthTable(file)}\n\n`);
    process.stdout.write(`Checkpoint and result.json in ${outDir}\n`);
  },
};
