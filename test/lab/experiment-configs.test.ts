/**
 * Every committed experiment config keeps parsing (renamed parameters and model keys stay accepted as aliases),
 * with every encoding built against its model, as `posenc bench --config` does before any work.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperimentConfig, parseConfigText } from "../../src/lab/config-file.js";
import { readInputText } from "../../src/lab/files.js";
import { parseVisionConfig } from "../../src/lab/vision/config.js";

const ROOT = resolve(new URL(".", import.meta.url).pathname, "../..");

function configFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return configFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

describe("experiments/**/*.yaml (every committed experiment config)", () => {
  const files = configFiles(join(ROOT, "experiments"));
  it("finds the committed configs", () => expect(files.length).toBeGreaterThanOrEqual(7));
  for (const file of files) {
    it(`${relative(ROOT, file)} parses and builds`, () => {
      // vision.yaml: a resolution-extrapolation config (posenc vision), the others length generalization.
      const config = file.endsWith("vision.yaml")
        ? parseVisionConfig(parseConfigText(file, readInputText("config file", file)))
        : loadExperimentConfig(file);
      expect(config.encodings.length).toBeGreaterThan(0);
    });
  }
});
