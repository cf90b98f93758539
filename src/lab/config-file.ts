/** Reads an experiment config file: JSON (`.json`) or YAML (`.yaml`, `.yml`), then validates it. */
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { PosencConfigError } from "../util/validation.js";
import { type ExperimentConfig, parseExperimentConfig } from "./config.js";
import { readInputText } from "./files.js";
import { maxSequenceLength } from "./model.js";
import { checkRunFits } from "./resources.js";
import { checkEncodingsBuild } from "./transformer-adapter.js";

/**
 * Full validation of a parsed config: the schema, the task, the sizes (memory and time a run needs, estimated
 * before anything is allocated: resources.ts), and every encoding built once against the model (so encoding
 * parameters are checked with the model-derived ones filled in, before any training starts).
 */
export function checkExperimentConfig(input: unknown): ExperimentConfig {
  const config = parseExperimentConfig(input);
  checkRunFits(config);
  checkEncodingsBuild(config, maxSequenceLength(config));
  return config;
}

/** Parses the text of a config file; `path` decides the syntax and names the file in errors. */
export function parseConfigText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".yaml" || ext === ".yml") return parseYaml(text, { logLevel: "error" });
    if (ext === ".json") return JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    throw new PosencConfigError(
      "invalid_value",
      path,
      `${ext.slice(1)} text`,
      `valid ${ext.slice(1)} (${reason})`,
    );
  }
  throw new PosencConfigError("invalid_value", "config file", path, "a .json, .yaml or .yml file");
}

/** Reads, parses and validates an experiment config file. */
export function loadExperimentConfig(path: string): ExperimentConfig {
  return checkExperimentConfig(parseConfigText(path, readInputText("config file", path)));
}
