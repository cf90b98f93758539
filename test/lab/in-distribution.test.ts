import { describe, expect, it } from "vitest";
import { inDistributionRange, parseExperimentConfig } from "../../src/lab/config.js";

const base = {
  name: "t",
  model: { layers: 1, dModel: 16, heads: 2, mlpRatio: 2 },
  encodings: [{ id: "learned-absolute" }],
  train: { length: "10", steps: 1 },
  eval: { length: "1..20", taskParams: { sameLength: true } },
};

describe("in-distribution lengths", () => {
  it("extends a bound-style training length (addition: 1..n digits per operand) down to the task's minimum", () => {
    const config = parseExperimentConfig({
      ...base,
      task: { id: "addition_coupled", params: { maxPosition: 64 } },
    });
    expect(inDistributionRange(config)).toEqual({ min: 1, max: 10 });
  });
  it("is the training range itself for tasks whose length is the exact example length", () => {
    const config = parseExperimentConfig({
      ...base,
      task: { id: "reverse" },
      train: { length: "3..10", steps: 1 },
      eval: { length: "1..20" },
    });
    expect(inDistributionRange(config)).toEqual({ min: 3, max: 10 });
  });
});
