import { describe, expect, it } from "vitest";
import {
  giraffePowerInverseFrequencies,
  giraffeTruncatedInverseFrequencies,
  giraffeTruncationThresholds,
} from "../encodings/giraffe.js";
import { getEncoding } from "../encodings/registry.js";
import { createRopeFrequencyCache, ropeParameters } from "../encodings/rope-parameters.js";
import { PosencConfigError } from "../util/validation.js";
import { stackOf } from "./config.js";
import {
  GIRAFFE_DEFAULT_POWER,
  LAB_EXTENSION_METHODS,
  labExtension,
  type RopeCheckpointOrigin,
  ropeOriginOf,
} from "./extension.js";

const ORIGIN: RopeCheckpointOrigin = {
  base: 10000,
  headDim: 16,
  partialRotaryFactor: 1,
  layout: "half",
  trainedContext: 128,
};
const LONGROPE = {
  longFactor: [1, 1, 1.2, 1.5, 2, 3, 4, 4.5],
  shortFactor: [1, 1, 1, 1, 1, 1.1, 1.2, 1.3],
};

/** The frequencies the lab's model rotates with for a sequence of seqLen tokens (the registry's rotary form). */
function modelFrequencies(choice: ReturnType<typeof labExtension>["choice"], seqLen: number) {
  const { id, params } = stackOf(choice)[0]!;
  const encoding = getEncoding(id).create({ ...params, headDim: ORIGIN.headDim });
  return encoding.rotary!.frequencies(seqLen);
}

describe("labExtension", () => {
  it("every method with a block: the model's frequencies are ropeParameters' of the same HF block, at T and beyond", () => {
    const withBlock = LAB_EXTENSION_METHODS.filter((m) => !m.startsWith("giraffe"));
    expect(withBlock).toHaveLength(LAB_EXTENSION_METHODS.length - 2);
    for (const method of withBlock) {
      for (const target of [512, 2048]) {
        const ext = labExtension(ORIGIN, method, target, { longrope: LONGROPE });
        expect(ext.block).not.toBeNull();
        for (const seqLen of [target, target / 2, 2 * target]) {
          const hf = ropeParameters(ext.hfConfig!, { seqLen, strict: true });
          const lab = modelFrequencies(ext.choice, seqLen);
          expect([method, target, seqLen, Array.from(lab.invFreq)]).toEqual([
            method,
            target,
            seqLen,
            Array.from(hf.invFreq),
          ]);
          expect(lab.attentionFactor).toBeCloseTo(hf.attentionFactor, 14);
        }
      }
    }
  });

  it("rescales: PI divides every frequency by s; NTK keeps the highest and divides the lowest by s", () => {
    const pi = labExtension(ORIGIN, "pi", 512).block!.layers[0]!;
    for (const [i, f] of pi.invFreq.entries()) expect(f).toBeCloseTo(pi.originalInvFreq[i]! / 4, 15);
    const ntk = labExtension(ORIGIN, "ntk", 512).block!.layers[0]!;
    expect(ntk.invFreq[0]).toBe(1);
    expect(ntk.invFreq[7]! / ntk.originalInvFreq[7]!).toBeCloseTo(1 / 4, 12);
  });

  it("dynamic NTK over an ascending grid of window lengths equals HF's grown and reset cache", () => {
    const ext = labExtension(ORIGIN, "dynamic", 2048);
    const cache = createRopeFrequencyCache(ext.hfConfig!, { strict: true });
    // Ascending lengths, each scored with several windows of that length (as bitsPerCharByContext does).
    for (const seqLen of [64, 128, 256, 512, 1024, 2048]) {
      for (let window = 0; window < 3; window++) {
        const step = cache.update(seqLen);
        expect(Array.from(modelFrequencies(ext.choice, seqLen).invFreq)).toEqual(Array.from(step.invFreq));
      }
    }
    // The reset: below L0 after a longer sequence, HF goes back to the original frequencies, as a fresh model does.
    expect(Array.from(cache.update(100).invFreq)).toEqual(
      Array.from(modelFrequencies(ext.choice, 100).invFreq),
    );
  });

  it("Giraffe: no block; the model's frequencies are giraffe.ts's for the checkpoint's base, at every length", () => {
    const origin = { ...ORIGIN, base: 500, trainedContext: 64 };
    const power = (k: number) => Array.from(giraffePowerInverseFrequencies(16, 500, k));
    const truncated = (t: number) =>
      Array.from(giraffeTruncatedInverseFrequencies(16, 500, giraffeTruncationThresholds(t)));
    const cases = [
      { method: "giraffe-power", options: {}, expected: power(GIRAFFE_DEFAULT_POWER) },
      { method: "giraffe-power", options: { giraffePower: 2 }, expected: power(2) },
      { method: "giraffe-truncated", options: {}, expected: truncated(64) },
      { method: "giraffe-truncated", options: { giraffeTruncateLength: 200 }, expected: truncated(200) },
    ];
    for (const { method, options, expected } of cases) {
      const ext = labExtension(origin, method, 512, options);
      expect([ext.block, ext.hfConfig]).toEqual([null, null]);
      for (const seqLen of [32, 64, 512, 4096]) {
        const lab = modelFrequencies(ext.choice, seqLen);
        expect([method, seqLen, Array.from(lab.invFreq)]).toEqual([method, seqLen, expected]);
        expect(lab.attentionFactor).toBe(1);
      }
    }
    // The default truncation at L0 = 64, base 500, d = 16: b = 2 pi/64 = 0.098 keeps 1, 0.46, 0.21 (wavelength <= 64);
    // 0.0972 is just under b, so it and 0.0447, 0.0206 (>= b/8 = 0.0123) become rho = b/16; 0.0095, 0.0043 become 0.
    const b = (2 * Math.PI) / 64;
    const t = truncated(64);
    expect(t.slice(0, 3)).toEqual(Array.from(giraffePowerInverseFrequencies(16, 500, 0)).slice(0, 3));
    expect(t.slice(3)).toEqual([b / 16, b / 16, b / 16, 0, 0]);
    // Bad values fail in one line, before any work.
    expect(() => labExtension(origin, "giraffe-power", 512, { giraffePower: -1 })).toThrow(PosencConfigError);
    expect(() => labExtension(origin, "giraffe-truncated", 512, { giraffeTruncateLength: 0 })).toThrow(
      /truncateLength/,
    );
  });

  it("refuses a checkpoint that is not plain rope, and an unknown method, in one line", () => {
    expect(() => ropeOriginOf({ id: "alibi" }, 16, 128)).toThrow(PosencConfigError);
    expect(() => ropeOriginOf({ id: "alibi" }, 16, 128)).toThrow(/--extend.*plain rope.*alibi/);
    expect(() => labExtension(ORIGIN, "giraffe", 512)).toThrow(/--extend.*one of pi, ntk.*giraffe/);
    expect(() => labExtension(ORIGIN, "longrope", 512)).toThrow(/longrope-factors/);
    expect(ropeOriginOf({ id: "rope", params: { base: 500 } }, 16, 64)).toEqual({
      ...ORIGIN,
      base: 500,
      trainedContext: 64,
    });
  });
});
