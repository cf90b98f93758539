/**
 * `posenc vision`: resolution extrapolation. Trains the patch encoder of src/model/vision.ts on a 2-D task at one
 * grid for every (encoding, seed) of a config, tests each run at larger grids, and writes results.json, report.md,
 * accuracy.svg and report.html (src/lab/vision/).
 */
import { join } from "node:path";
import { initEngineSync } from "../../engine/index.js";
import { parseConfigText } from "../../lab/config-file.js";
import { checkOutputFolder, readInputText } from "../../lab/files.js";
import { parseVisionConfig } from "../../lab/vision/config.js";
import { renderVisionTable, writeVisionReports } from "../../lab/vision/report.js";
import { runVisionGrid } from "../../lab/vision/run.js";
import { type Command, requireFlag } from "../args.js";

export const visionCommand: Command = {
  name: "vision",
  summary:
    "Train a patch encoder on a 2-D task at one grid, test it at larger grids (resolution extrapolation)",
  usage: "posenc vision --config FILE [--out DIR] [--resume]",
  flags: {
    config: { type: "string", description: "Vision experiment config (JSON or YAML)", valueName: "FILE" },
    out: { type: "string", description: "Output folder (default results/NAME)", valueName: "DIR" },
    resume: { type: "boolean", description: "Keep the finished runs in --out, run the others" },
  },
  run(values) {
    const path = requireFlag("vision", values, "config", "FILE (a vision experiment config)");
    const config = parseVisionConfig(parseConfigText(path, readInputText("config file", path)));
    const out = String(values.out ?? join("results", config.name));
    checkOutputFolder("--out", out);
    initEngineSync({ threads: 1 });
    const runs = config.encodings.length * config.seeds.length;
    process.stderr.write(
      `${runs} runs (${config.encodings.length} encodings x ${config.seeds.length} seeds) of ${config.train.steps} steps at ${config.train.grid}x${config.train.grid}, tested at ${config.eval.grids.join(", ")}\n`,
    );
    const results = runVisionGrid(config, out, {
      resume: values.resume === true,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const files = writeVisionReports(out, results);
    process.stdout.write(
      `\n${renderVisionTable(results)}\n\nWrote results.json, ${files.join(", ")} to ${out}\n`,
    );
  },
};
