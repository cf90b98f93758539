/** Reads an experiment config file: JSON (`.json`) or YAML (`.yaml`, `.yml`), then validates it. */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { PosencConfigError } from "../util/validation.js";
import { type ExperimentConfig, parseExperimentConfig } from "./config.js";
import { maxSequenceLength } from "./model.js";
import { checkEncodingsBuild } from "./transformer-adapter.js";

/**
 * Full validation of a parsed config: the schema, the task, and every encoding built once against the model
 * (so encoding parameters are checked with the model-derived ones filled in, before any training starts).
 */
export function checkExperimentConfig(input: unknown): ExperimentConfig {
  const config = parseExperimentConfig(input);
  checkEncodingsBuild(config, maxSequenceLength(config));
  return config;
}

/** Parses the text of a config file; `path` decides the syntax and names the file in errors. */
export function parseConfigText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".yaml" || ext === ".yml") return parseYaml(text);
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
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new PosencConfigError("invalid_value", "config file", path, `a readable file (${code})`);
  }
  return checkExperimentConfig(parseConfigText(path, text));
}
