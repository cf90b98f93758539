import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodingLabel, parseExperimentConfig, parseLengthRange, scheduleOf } from "../../src/lab/config.js";
import { checkExperimentConfig, loadExperimentConfig } from "../../src/lab/config-file.js";
import { PosencConfigError } from "../../src/util/validation.js";

const base = () => ({
  task: { id: "reverse_string", params: { vocabSize: 16 } },
  model: { layers: 2, dModel: 32, heads: 4 },
  encodings: [{ id: "rope" }, { id: "alibi" }],
  train: { length: "1..20", steps: 100 },
  eval: { length: "1..40", samplesPerLength: 10 },
  seeds: [0, 1],
});

/** The one-line message a bad config produces. */
function messageOf(mutate: (c: ReturnType<typeof base> & Record<string, unknown>) => void): string {
  const config = base() as ReturnType<typeof base> & Record<string, unknown>;
  mutate(config);
  try {
    parseExperimentConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(PosencConfigError);
    const message = (error as Error).message;
    expect(message.split("\n")).toHaveLength(1);
    return message;
  }
  throw new Error("expected the config to be rejected");
}

describe("experiment config", () => {
  it("fills the calibration defaults", () => {
    const c = parseExperimentConfig(base());
    expect(c.train).toMatchObject({
      length: { min: 1, max: 20 },
      batchSize: 64,
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.98,
      weightDecay: 0.01,
      warmupFraction: 0.05,
      minLrRatio: 0.1,
      gradClip: 1,
    });
    expect(c.eval.length).toEqual({ min: 1, max: 40 });
    expect(c.model.mlpRatio).toBe(4);
    expect(c.task.layout).toBe("decoder");
    expect(scheduleOf(c.train)).toEqual({ maxLr: 1e-3, minLr: 1e-4, warmupSteps: 5, decaySteps: 100 });
  });

  it("parses length ranges in three spellings and rejects the rest", () => {
    expect(parseLengthRange("1..20")).toEqual({ min: 1, max: 20 });
    expect(parseLengthRange(" 7 ")).toEqual({ min: 7, max: 7 });
    expect(parseLengthRange(5)).toEqual({ min: 5, max: 5 });
    expect(parseLengthRange({ min: 2, max: 3 })).toEqual({ min: 2, max: 3 });
    for (const bad of ["20..1", "0..3", "1-20", "", 1.5, -1, { min: 1 }, { min: 1, max: 2, x: 3 }, null]) {
      expect(parseLengthRange(bad)).toBeUndefined();
    }
  });

  it("names the key, the value and what is valid, in the repository's style", () => {
    expect(messageOf((c) => Object.assign(c.train, { lr: -1 }))).toBe(
      "Invalid train.lr: expected a finite number > 0, received -1",
    );
    expect(messageOf((c) => Object.assign(c.train, { steps: 2.5 }))).toBe(
      "Invalid train.steps: expected an integer >= 1, received 2.5",
    );
    expect(messageOf((c) => Object.assign(c.train, { steps: "many" }))).toBe(
      'Invalid train.steps: expected an integer >= 1, received "many"',
    );
    expect(messageOf((c) => Object.assign(c.train, { beta2: 1 }))).toBe(
      "Invalid train.beta2: expected a finite number >= 0 and < 1, received 1",
    );
    expect(messageOf((c) => Object.assign(c.eval, { length: "40..1" }))).toBe(
      'Invalid eval.length: expected a length range "A..B" with 1 <= A <= B, a single integer, or {min, max}, received "40..1"',
    );
    expect(messageOf((c) => Object.assign(c.task, { layout: "sideways" }))).toBe(
      'Invalid task.layout: expected one of "decoder", "encoder", received "sideways"',
    );
    expect(messageOf((c) => Object.assign(c, { seeds: [0, -1] }))).toBe(
      "Invalid seeds[1]: expected an integer >= 0 and <= 4294967295, received -1",
    );
  });

  it("rejects unknown keys, listing the valid ones", () => {
    expect(messageOf((c) => Object.assign(c.train, { lrr: 0.1 }))).toBe(
      "Unknown key train.lrr (received 0.1): valid keys are length, steps, batchSize, lr, warmupFraction, minLrRatio, beta1, beta2, eps, weightDecay, gradClip, checkpointEvery, logEvery, bucketWindow, order, segments",
    );
    expect(messageOf((c) => Object.assign(c, { extra: true }))).toMatch(
      /^Unknown key extra \(received true\): valid keys are name, task, model, encodings, train, eval, seeds$/,
    );
    expect(messageOf((c) => Object.assign(c.encodings[1], { parms: {} }))).toMatch(
      /^Unknown key encodings\[1\]\.parms/,
    );
  });

  it("reports a missing required key", () => {
    expect(messageOf((c) => delete (c.train as Record<string, unknown>).steps)).toBe(
      "Missing required key train.steps: expected an integer >= 1",
    );
  });

  it("checks the task, its params and its lengths through the task registry", () => {
    expect(messageOf((c) => Object.assign(c.task, { id: "reverse-string" }))).toMatch(
      /^Invalid task\.id: expected one of even_pairs, .*received "reverse-string"$/,
    );
    expect(messageOf((c) => Object.assign(c.task, { params: { vocab: 3 } }))).toMatch(
      /^Unknown key task\.params\.vocab/,
    );
  });

  it("checks encoding ids through the encoding registry and keeps labels distinct", () => {
    expect(messageOf((c) => Object.assign(c.encodings[0], { id: "rotary" }))).toMatch(
      /^Invalid encodings\[0\]\.id: expected one of .*"rope".*received "rotary"$/,
    );
    expect(messageOf((c) => c.encodings.push({ id: "rope" }))).toMatch(
      /^Invalid encodings: expected distinct ids or labels/,
    );
    expect(messageOf((c) => Object.assign(c.encodings[0], { stack: [{ id: "rope" }] }))).toMatch(
      /^Invalid encodings\[0\]: expected either id \(with params\) or stack, not both/,
    );
    const stacked = parseExperimentConfig({
      ...base(),
      encodings: [{ label: "randomized-rope", stack: [{ id: "randomized-positions" }, { id: "rope" }] }],
    });
    expect(encodingLabel(stacked.encodings[0])).toBe("randomized-rope");
  });

  it("checks encoding params against the encoding's schema with the model-derived values filled in", () => {
    const wrongType = { ...base(), encodings: [{ id: "alibi", params: { slopes: "steep" } }] };
    expect(() => checkExperimentConfig(wrongType)).toThrow(
      'Invalid encodings[0].params.slopes: expected an array of finite numbers, received "steep"',
    );
    const unknown = { ...base(), encodings: [{ id: "rope" }, { id: "alibi", params: { slope: 1 } }] };
    expect(() => checkExperimentConfig(unknown)).toThrow(
      /^Unknown key encodings\[1\]\.params\.slope \(received 1\)/,
    );
  });

  it("loads JSON and YAML files alike", () => {
    const dir = mkdtempSync(join(tmpdir(), "posenc-config-"));
    const yamlPath = join(dir, "exp.yaml");
    writeFileSync(
      yamlPath,
      [
        "task: { id: reverse_string, params: { vocabSize: 16 } }",
        "model: { layers: 2, dModel: 32, heads: 4 }",
        "encodings: [ { id: rope }, { id: alibi } ]",
        'train: { length: "1..20", steps: 100 }',
        'eval: { length: "1..40", samplesPerLength: 10 }',
        "seeds: [0, 1]",
      ].join("\n"),
    );
    const jsonPath = join(dir, "exp.json");
    writeFileSync(jsonPath, JSON.stringify(base()));
    expect(loadExperimentConfig(yamlPath)).toEqual(loadExperimentConfig(jsonPath));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "task: [unclosed");
    expect(() => loadExperimentConfig(bad)).toThrow(PosencConfigError);
  });
});
