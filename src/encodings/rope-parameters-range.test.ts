import { describe, expect, it } from "vitest";
import { configError } from "../../test/helpers/config-error.js";
import { PosencConfigError } from "../util/validation.js";
import {
  ATTENTION_FACTOR_RANGE,
  createRopeFrequencyCache,
  FLOAT32_MAX,
  FLOAT32_MIN_NORMAL,
  ropeParameters,
} from "./rope-parameters.js";

// Issue 8: ropeParameters returned Infinity, zero or denormal numbers for extreme but well-typed configs.
const base = { hidden_size: 256, num_attention_heads: 4, max_position_embeddings: 512, rope_theta: 10000 };
const scaled = (scaling: Record<string, unknown>) => ({ ...base, rope_scaling: scaling });

const strictError = (config: object, seqLen?: number) =>
  configError(() => ropeParameters(config, { strict: true, seqLen }));

describe("ropeParameters: every returned number in range (strict) or a warning (lax)", () => {
  it.each([
    // s * L0 / L0 - (s - 1) = 1e16 - (1e16 - 1) rounds to 0: base' = 0, inv_freq = Infinity.
    [
      "dynamic factor 1e16",
      scaled({ rope_type: "dynamic", factor: 1e16 }),
      undefined,
      "rope_scaling.factor",
      1e16,
    ],
    [
      "dynamic factor 1e308",
      scaled({ rope_type: "dynamic", factor: 1e308 }),
      4096,
      "rope_scaling.factor",
      1e308,
    ],
    [
      "linear factor 1e308",
      scaled({ rope_type: "linear", factor: 1e308 }),
      undefined,
      "rope_scaling.factor",
      1e308,
    ],
    [
      "yarn factor 1e308",
      scaled({ rope_type: "yarn", factor: 1e308 }),
      undefined,
      "rope_scaling.factor",
      1e308,
    ],
    [
      "yarn attention_factor 0",
      scaled({ rope_type: "yarn", factor: 4, attention_factor: 0 }),
      undefined,
      "rope_scaling.attention_factor",
      0,
    ],
    [
      "yarn attention_factor 1e308",
      scaled({ rope_type: "yarn", factor: 4, attention_factor: 1e308 }),
      undefined,
      "rope_scaling.attention_factor",
      1e308,
    ],
    [
      "longrope long_factor 1e300",
      scaled({
        rope_type: "longrope",
        factor: 4,
        short_factor: new Array(32).fill(1),
        long_factor: new Array(32).fill(1e300),
      }),
      600,
      "rope_scaling.long_factor",
      new Array(32).fill(1e300),
    ],
    ["rope_theta 1e300", { ...base, rope_theta: 1e300 }, undefined, "rope_theta", 1e300],
    [
      "rope_theta 1e300 under linear",
      { ...base, rope_theta: 1e300, rope_scaling: { rope_type: "linear", factor: 2 } },
      undefined,
      "rope_theta",
      1e300,
    ],
  ])(
    "%s: strict names the key and value, lax warns with the same line",
    (_name, config, seqLen, key, value) => {
      const error = strictError(config, seqLen);
      expect(error.key).toBe(key);
      expect(error.received).toEqual(value);
      expect(error.message).not.toContain("\n");
      const warned: string[] = [];
      const lax = ropeParameters(config, { seqLen, onWarning: (w) => warned.push(w.message) });
      expect(lax.warnings).toEqual([error.message]);
      expect(warned).toEqual([error.message]);
    },
  );

  it("names the computed value and the seq len in the message", () => {
    expect(strictError(scaled({ rope_type: "dynamic", factor: 1e16 })).message).toBe(
      "Invalid rope_scaling.factor: expected a value giving inverse frequencies that are normal float32 numbers, 1.18e-38 .. 3.40e+38, as HF holds them; this gives inv_freq[1] = Infinity, received 10000000000000000",
    );
    expect(strictError(scaled({ rope_type: "dynamic", factor: 1e308 }), 4096).message).toContain(
      "= 0 at seq len 4096",
    );
  });

  it("accepts the edges of the ranges", () => {
    const [lowest, highest] = ATTENTION_FACTOR_RANGE;
    for (const attention_factor of [lowest, highest]) {
      const r = ropeParameters(scaled({ rope_type: "yarn", factor: 4, attention_factor }), { strict: true });
      expect(r.attentionFactor).toBe(attention_factor);
    }
    // A dynamic factor of 1e15 still leaves s - (s - 1) = 1 exactly: plain RoPE at the trained length.
    const r = ropeParameters(scaled({ rope_type: "dynamic", factor: 1e15 }), { strict: true });
    expect(r.invFreq.every((v) => v >= FLOAT32_MIN_NORMAL && v <= FLOAT32_MAX)).toBe(true);
    // The same factor 1e16 that cancels at the trained length is fine at twice it.
    expect(
      ropeParameters(scaled({ rope_type: "dynamic", factor: 1e16 }), { strict: true, seqLen: 1024 }).warnings,
    ).toEqual([]);
  });

  it("createRopeFrequencyCache checks the initial frequencies and every change", () => {
    const dynamic = scaled({ rope_type: "dynamic", factor: 1e16 });
    expect(() => createRopeFrequencyCache(dynamic, { strict: true })).toThrow(PosencConfigError);
    // Fine at the trained length (base' = base), out of float32 range at 1e6 times it: base' ~ 1e30 * 1e21^(32/31).
    const huge = { ...base, rope_theta: 1e30, rope_scaling: { rope_type: "dynamic", factor: 1e15 } };
    const cache = createRopeFrequencyCache(huge, { strict: true });
    expect(() => cache.update(512e6)).toThrow(/rope_scaling\.factor.*at seq len 512000000/);
    const lax = createRopeFrequencyCache(huge);
    lax.update(512e6);
    expect(lax.warnings).toHaveLength(1);
  });
});
