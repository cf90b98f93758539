import { describe, expect, it } from "vitest";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { nopeSpec } from "./nope.js";
import { createEncoding, getEncoding } from "./registry.js";

describe("nope", () => {
  it("is registered and fills no hook slot", () => {
    expect(getEncoding("nope")).toBe(nopeSpec);
    const encoding = createEncoding("nope");
    expect(encoding.id).toBe("nope");
    expect(nopeSpec.slots).toEqual([]);
    for (const hook of ["embedding", "positionIds", "transformQK", "attentionBias"] as const) {
      expect(encoding[hook]).toBeUndefined();
    }
  });

  it("has a trainable form without parameters or hooks", () => {
    const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 8, causal: true };
    const trainable = nopeSpec.trainable?.({}, dims, new Rng(1));
    expect(trainable?.parameters()).toEqual([]);
    expect(Object.keys(trainable ?? {}).sort()).toEqual(["id", "parameters"]);
  });

  it("rejects any parameter, naming it", () => {
    expect(() => createEncoding("nope", { base: 10 })).toThrow(PosencConfigError);
    expect(() => createEncoding("nope", { base: 10 })).toThrow(/nope\.base/);
  });
});
