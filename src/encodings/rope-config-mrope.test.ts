import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ropeInverseFrequencies } from "./rope.js";
import { ropeParameters } from "./rope-parameters.js";

const qwen2vl = JSON.parse(
  readFileSync(new URL("../../examples/qwen2-vl-2b.config.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

describe("Qwen2-VL configs (mrope_section)", () => {
  it("reads the legacy rope_scaling {type: mrope} as default RoPE with its section, in strict mode", () => {
    const result = ropeParameters(qwen2vl, { strict: true });
    expect(result.ropeType).toBe("default");
    expect(result.dim).toBe(128);
    expect(result.mrope).toEqual({ section: [16, 24, 24], interleaved: false });
    expect(Array.from(result.invFreq)).toEqual(Array.from(ropeInverseFrequencies(128, 1e6)));
    expect(result.warnings).toEqual([]);
  });

  it("reads v5 rope_parameters with mrope_section, rope_type mrope, and Qwen3-VL's mrope_interleaved", () => {
    const { rope_scaling: _, ...rest } = qwen2vl;
    const v5 = {
      ...rest,
      rope_parameters: { rope_type: "default", rope_theta: 1e6, mrope_section: [16, 24, 24] },
    };
    expect(ropeParameters(v5, { strict: true }).mrope?.section).toEqual([16, 24, 24]);
    const typed = {
      ...rest,
      rope_parameters: { rope_type: "mrope", rope_theta: 1e6, mrope_section: [16, 24, 24] },
    };
    expect(ropeParameters(typed, { strict: true }).ropeType).toBe("default");
    const qwen3 = {
      ...rest,
      rope_scaling: { rope_type: "default", mrope_section: [24, 20, 20], mrope_interleaved: true },
    };
    expect(ropeParameters(qwen3, { strict: true }).mrope).toEqual({
      section: [24, 20, 20],
      interleaved: true,
    });
    // Beside a scaled rope type too (HF ignores the key for validation whatever the type).
    const scaled = { ...rest, rope_scaling: { type: "linear", factor: 2, mrope_section: [16, 24, 24] } };
    expect(ropeParameters(scaled, { strict: true }).mrope?.section).toEqual([16, 24, 24]);
    // Plain configs have none.
    expect(ropeParameters({ ...rest }, { strict: true }).mrope).toBeUndefined();
  });

  it.each([
    [[16, 24, 16], /rope_scaling\.mrope_section.*summing to the rotary dim \/ 2 = 64.*sum to 56/],
    [[16, 24], /rope_scaling\.mrope_section/],
    [[16, 24.5, 23.5], /rope_scaling\.mrope_section/],
    ["16,24,24", /rope_scaling\.mrope_section/],
  ])("refuses mrope_section %j in one line (lax mode too)", (section, message) => {
    const config = { ...qwen2vl, rope_scaling: { type: "mrope", mrope_section: section } };
    for (const strict of [true, false]) {
      expect(() => ropeParameters(config, { strict })).toThrow(message);
    }
  });

  it("sums the section against the rotary dim: partial rotary halves it", () => {
    const config = {
      ...qwen2vl,
      partial_rotary_factor: 0.5,
      rope_scaling: { type: "mrope", mrope_section: [8, 12, 12] },
    };
    expect(ropeParameters(config, { strict: true }).mrope?.section).toEqual([8, 12, 12]);
    const bad = { ...config, rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] } };
    expect(() => ropeParameters(bad)).toThrow(/rotary dim \/ 2 = 32/);
  });

  it("refuses mrope_interleaved that is not a boolean, or without a section", () => {
    const bad = {
      ...qwen2vl,
      rope_scaling: { type: "mrope", mrope_section: [16, 24, 24], mrope_interleaved: 1 },
    };
    expect(() => ropeParameters(bad)).toThrow(/mrope_interleaved.*true or false/);
    const lonely = { ...qwen2vl, rope_scaling: { rope_type: "default", mrope_interleaved: true } };
    expect(() => ropeParameters(lonely)).toThrow(/rope_scaling\.mrope_section/);
  });
});
