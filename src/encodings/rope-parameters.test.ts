import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { maxRelativeError } from "../../test/helpers/arrays.js";
import { configError } from "../../test/helpers/config-error.js";
import type { PosencConfigError } from "../util/validation.js";
import { ropeInverseFrequencies } from "./rope.js";
import { createRopeFrequencyCache, ROPE_TYPES, ropeParameters } from "./rope-parameters.js";

interface HfCase {
  name: string;
  config: Record<string, unknown>;
  seq_len: number | null;
  expected: { rope_type: string; inv_freq: number[]; attention_factor: number };
}

// Reference values from Hugging Face transformers' rope initializers (float32, PyTorch); see test/fixtures.
const cases: HfCase[] = JSON.parse(
  readFileSync(new URL("../../test/fixtures/hf-rope-parameters.json", import.meta.url), "utf8"),
);

const base = { hidden_size: 256, num_attention_heads: 4, max_position_embeddings: 512, rope_theta: 10000 };
const yarn = (scaling: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...base,
  ...extra,
  rope_scaling: { rope_type: "yarn", factor: 4, ...scaling },
});
const llama3 = (scaling: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  ...base,
  ...extra,
  rope_scaling: {
    rope_type: "llama3",
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 128,
    ...scaling,
  },
});
const longrope = (scaling: Record<string, unknown>) => ({
  ...base,
  rope_scaling: {
    rope_type: "longrope",
    factor: 4,
    short_factor: new Array(32).fill(1),
    long_factor: new Array(32).fill(2),
    ...scaling,
  },
});

describe("ropeParameters: parity with Hugging Face transformers", () => {
  it("has the 96 reference cases", () => {
    expect(cases).toHaveLength(96);
    expect(new Set(cases.map((c) => c.expected.rope_type))).toEqual(new Set(ROPE_TYPES));
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = ropeParameters(structuredClone(c.config), { seqLen: c.seq_len ?? undefined });
    expect(result.ropeType).toBe(c.expected.rope_type);
    expect(result.dim).toBe(2 * c.expected.inv_freq.length);
    // HF computes in float32 (about 6e-8 relative per rounding); we compute in float64.
    expect(maxRelativeError(result.invFreq, c.expected.inv_freq)).toBeLessThan(1e-6);
    expect(Math.abs(result.attentionFactor - c.expected.attention_factor)).toBeLessThan(1e-12);
  });

  it("accepts every reference config in strict mode, without warnings, with the same result", () => {
    for (const c of cases) {
      const lax = ropeParameters(structuredClone(c.config), { seqLen: c.seq_len ?? undefined });
      const strict = ropeParameters(structuredClone(c.config), {
        seqLen: c.seq_len ?? undefined,
        strict: true,
      });
      expect(lax.warnings, c.name).toEqual([]);
      expect(strict.invFreq).toEqual(lax.invFreq);
      expect(strict.attentionFactor).toBe(lax.attentionFactor);
    }
  });

  it("does not modify the config", () => {
    const config = yarn({ beta_fast: 16 });
    const copy = structuredClone(config);
    ropeParameters(config);
    expect(config).toEqual(copy);
  });
});

describe("ropeParameters: config reading", () => {
  it("means default RoPE without rope_scaling / rope_parameters, with null or with {}", () => {
    const expected = ropeInverseFrequencies(64, 10000);
    for (const config of [base, { ...base, rope_scaling: null }, { ...base, rope_parameters: {} }]) {
      const result = ropeParameters(config, { strict: true });
      expect(result.ropeType).toBe("default");
      expect(result.invFreq).toEqual(expected);
      expect(result.attentionFactor).toBe(1);
    }
  });

  it("reads rope_theta and partial_rotary_factor inside v5 rope_parameters", () => {
    const result = ropeParameters({
      hidden_size: 256,
      num_attention_heads: 4,
      rope_parameters: { rope_type: "default", rope_theta: 500, partial_rotary_factor: 0.5 },
    });
    expect(result.dim).toBe(32);
    expect(result.invFreq).toEqual(ropeInverseFrequencies(32, 500));
  });

  it("uses head_dim over hidden_size / num_attention_heads", () => {
    expect(ropeParameters({ ...base, head_dim: 16 }).dim).toBe(16);
  });

  it("takes a Phi-3 top-level original_max_position_embeddings over the one in the dict, with a warning", () => {
    const config = {
      ...longrope({ original_max_position_embeddings: 256 }),
      original_max_position_embeddings: 128,
    };
    const warnings: PosencConfigError[] = [];
    const result = ropeParameters(config, { seqLen: 200, onWarning: (w) => warnings.push(w) });
    expect(result.invFreq[1]).toBeCloseTo(ropeInverseFrequencies(64, 10000)[1] / 2, 15); // long factors: 200 > 128
    expect(warnings.map((w) => w.key)).toEqual(["rope_scaling.original_max_position_embeddings"]);
    expect(result.warnings).toEqual(warnings.map((w) => w.message));
  });

  it("infers the LongRoPE factor as max_position_embeddings / original when absent", () => {
    const { factor: _, ...scaling } = longrope({}).rope_scaling;
    const result = ropeParameters({
      ...base,
      max_position_embeddings: 2048,
      original_max_position_embeddings: 512,
      rope_scaling: scaling,
    });
    expect(result.attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(4) / Math.log(512)), 15);
  });
});

describe("ropeParameters: errors", () => {
  it("rejects a config that is not an object", () => {
    for (const config of [null, 42, "config.json", [base]]) {
      const error = configError(() => ropeParameters(config as object));
      expect(error.key).toBe("config");
      expect(error.message).toMatch(/^Invalid config: expected an object, received /);
    }
  });

  it("names a missing required key: yarn without factor and nothing to infer it from", () => {
    const { factor: _, ...scaling } = yarn({}).rope_scaling;
    const error = configError(() => ropeParameters({ ...base, rope_scaling: scaling }));
    expect(error.code).toBe("missing_key");
    expect(error.message).toBe(
      "Missing required key rope_scaling.factor: expected a number >= 1 (or original_max_position_embeddings with max_position_embeddings, from which factor = max / original is inferred)",
    );
  });

  it("names a missing required key: llama3 without low_freq_factor", () => {
    const { low_freq_factor: _, ...scaling } = llama3({}).rope_scaling;
    const error = configError(() => ropeParameters({ ...base, rope_scaling: scaling }, { strict: false }));
    expect(error.message).toBe(
      "Missing required key rope_scaling.low_freq_factor: expected a finite number > 0 (Llama 3.1: low 1, high 4)",
    );
  });

  it("lists the valid rope types for an unknown rope_type (and for the legacy `type` key)", () => {
    const error = configError(() =>
      ropeParameters({ ...base, rope_scaling: { rope_type: "ntk", factor: 2 } }),
    );
    expect(error.message).toBe(
      'Invalid rope_scaling.rope_type: expected one of "default", "linear", "dynamic", "yarn", "longrope", "llama3", or "mrope" (Qwen2-VL: default with mrope_section), received "ntk"',
    );
    const legacy = configError(() => ropeParameters({ ...base, rope_scaling: { type: "su", factor: 2 } }));
    expect(legacy.key).toBe("rope_scaling.type");
  });

  it("rejects a non-finite, zero or negative factor in every mode", () => {
    for (const factor of [Number.NaN, Number.POSITIVE_INFINITY, 0, -2, "2"]) {
      const error = configError(() =>
        ropeParameters({ ...base, rope_scaling: { rope_type: "linear", factor } }),
      );
      expect(error.key).toBe("rope_scaling.factor");
      expect(error.expected).toBe("a finite number > 0 (>= 1 to extend the context)");
    }
  });

  it("warns on factor < 1, and throws in strict mode", () => {
    const config = { ...base, rope_scaling: { rope_type: "linear", factor: 0.5 } };
    expect(ropeParameters(config).warnings).toEqual([
      "Invalid rope_scaling.factor: expected a finite number >= 1 (HF warns on a factor below 1), received 0.5",
    ]);
    expect(configError(() => ropeParameters(config, { strict: true })).key).toBe("rope_scaling.factor");
  });

  it("warns on beta_fast < beta_slow, and throws in strict mode", () => {
    const config = yarn({ beta_fast: 2, beta_slow: 4 });
    const message =
      "Invalid rope_scaling.beta_fast: expected a number >= rope_scaling.beta_slow = 4 (defaults: beta_fast 32, beta_slow 1), received 2";
    expect(ropeParameters(config).warnings).toEqual([message]);
    expect(configError(() => ropeParameters(config, { strict: true })).message).toBe(message);
  });

  it("warns on high_freq_factor <= low_freq_factor, and throws in strict mode", () => {
    const config = llama3({ low_freq_factor: 4, high_freq_factor: 4 });
    const message =
      "Invalid rope_scaling.high_freq_factor: expected a number > rope_scaling.low_freq_factor = 4, received 4";
    expect(ropeParameters(config).warnings).toEqual([message]);
    expect(configError(() => ropeParameters(config, { strict: true })).message).toBe(message);
  });

  it("rejects a LongRoPE factor list whose length is not dim / 2", () => {
    const error = configError(() => ropeParameters(longrope({ long_factor: [1, 2, 3] })));
    expect(error.key).toBe("rope_scaling.long_factor");
    expect(error.message).toBe(
      "Invalid rope_scaling.long_factor: expected a list of rotary dim / 2 = 32 numbers > 0 (the list has 3), received [1, 2, 3]",
    );
  });

  it("warns on unknown keys, and lists the valid keys in strict mode", () => {
    const config = { ...base, rope_scaling: { rope_type: "linear", factor: 2, low_freq_factor: 1 } };
    expect(ropeParameters(config).warnings).toHaveLength(1);
    expect(configError(() => ropeParameters(config, { strict: true })).message).toBe(
      'Unknown key rope_scaling.low_freq_factor (received 1): valid keys are rope_type, type, rope_theta, partial_rotary_factor, mrope_section, mrope_interleaved, factor (for rope_type "linear"; HF ignores the others with a warning)',
    );
  });

  it("warns when hidden_size is not a multiple of num_attention_heads (HF floors), throws in strict mode", () => {
    const config = { ...base, hidden_size: 258 };
    const message =
      "Invalid hidden_size: expected a multiple of num_attention_heads = 4 (or an explicit head_dim); HF uses floor(258 / 4) = 64, received 258";
    const lax = ropeParameters(config);
    expect(lax.warnings).toEqual([message]);
    expect(lax.dim).toBe(64);
    expect(configError(() => ropeParameters(config, { strict: true })).message).toBe(message);
  });

  it("rejects partial_rotary_factor outside (0, 1]", () => {
    for (const partial_rotary_factor of [0, -0.5, 1.5]) {
      const error = configError(() => ropeParameters({ ...base, partial_rotary_factor }));
      expect(error.message).toBe(
        `Invalid partial_rotary_factor: expected a number > 0 and <= 1, received ${partial_rotary_factor}`,
      );
    }
  });

  it("rejects a partial_rotary_factor that gives an odd rotary dim", () => {
    const error = configError(() => ropeParameters({ ...base, head_dim: 10, partial_rotary_factor: 0.5 }));
    expect(error.message).toBe(
      "Invalid partial_rotary_factor: expected a value giving an even rotary dim >= 2: int(head_dim 10 * partial_rotary_factor 0.5) = 5, received 0.5",
    );
  });

  it("rejects a rope_theta that is not positive, wherever it is", () => {
    expect(configError(() => ropeParameters({ ...base, rope_theta: 0 })).message).toBe(
      "Invalid rope_theta: expected a finite number > 0, received 0",
    );
    const inner = configError(() =>
      ropeParameters({ hidden_size: 64, num_attention_heads: 2, rope_parameters: { rope_theta: -1 } }),
    );
    expect(inner.key).toBe("rope_parameters.rope_theta");
  });

  it("warns when a yarn factor disagrees with max_position_embeddings / original, throws in strict mode", () => {
    const config = yarn({ factor: 8, original_max_position_embeddings: 128 });
    const message =
      "Invalid rope_scaling.factor: expected max_position_embeddings / original_max_position_embeddings = 512 / 128 = 4 (HF uses the explicit factor and warns), received 8";
    const lax = ropeParameters(config);
    expect(lax.warnings).toEqual([message]);
    expect(lax.attentionFactor).toBeCloseTo(0.1 * Math.log(8) + 1, 15); // the explicit factor is used
    expect(configError(() => ropeParameters(config, { strict: true })).message).toBe(message);
  });

  it("infers a missing yarn factor from max / original with a warning, and refuses it in strict mode", () => {
    const config = yarn({ factor: null, original_max_position_embeddings: 64 });
    const lax = ropeParameters(config);
    expect(lax.attentionFactor).toBeCloseTo(0.1 * Math.log(8) + 1, 15);
    expect(lax.warnings[0]).toMatch(
      /^Missing required key rope_scaling.factor: .* = 512 \/ 64 = 8, as HF does$/,
    );
    expect(configError(() => ropeParameters(config, { strict: true })).code).toBe("missing_key");
  });

  it("warns when llama3 original_max_position_embeddings >= max_position_embeddings, throws in strict mode", () => {
    const config = llama3({ original_max_position_embeddings: 512 });
    const message =
      "Invalid rope_scaling.original_max_position_embeddings: expected an integer < max_position_embeddings = 512 (the pre-scaling context length), received 512";
    expect(ropeParameters(config).warnings).toEqual([message]);
    expect(configError(() => ropeParameters(config, { strict: true })).message).toBe(message);
  });

  it("requires max_position_embeddings for dynamic NTK", () => {
    const { max_position_embeddings: _, ...config } = {
      ...base,
      rope_scaling: { rope_type: "dynamic", factor: 2 },
    };
    expect(configError(() => ropeParameters(config)).message).toBe(
      "Missing required key max_position_embeddings: expected an integer >= 1 (dynamic NTK scales relative to it)",
    );
  });

  it("warns on a missing rope_theta (HF default 10000), throws in strict mode", () => {
    const { rope_theta: _, ...config } = base;
    expect(ropeParameters(config).invFreq).toEqual(ropeInverseFrequencies(64, 10000));
    expect(configError(() => ropeParameters(config, { strict: true })).key).toBe(
      "rope_parameters.rope_theta",
    );
  });

  it("rejects dynamic NTK with a rotary dim of 2 (its exponent d / (d - 2))", () => {
    const config = { ...base, head_dim: 2, rope_scaling: { rope_type: "dynamic", factor: 2 } };
    expect(configError(() => ropeParameters(config)).message).toBe(
      'Invalid rope_scaling.rope_type: expected a rope type other than "dynamic" for a rotary dim of 2 (the dynamic NTK exponent d / (d - 2) needs d >= 4), received "dynamic"',
    );
  });

  it.each([
    ["rope_scaling.type", { ...base, rope_scaling: { rope_type: "linear", type: "dynamic", factor: 2 } }],
    [
      "rope_scaling",
      {
        ...base,
        rope_scaling: { rope_type: "linear", factor: 2 },
        rope_parameters: { rope_type: "default" },
      },
    ],
    ["rope_theta", { ...base, rope_parameters: { rope_type: "default", rope_theta: 500 } }],
    [
      "rope_scaling.partial_rotary_factor",
      { ...base, partial_rotary_factor: 0.5, rope_scaling: { partial_rotary_factor: 0.25 } },
    ],
    ["rope_scaling.attention_factor", yarn({ attention_factor: -1 })],
    ["rope_scaling.beta_slow", yarn({ beta_slow: 0 })],
    ["rope_scaling.truncate", yarn({ truncate: null })],
    [
      "rope_scaling.original_max_position_embeddings",
      llama3({ original_max_position_embeddings: undefined }),
    ],
    [
      "original_max_position_embeddings",
      { ...yarn({ factor: 512 / 100.5 }), original_max_position_embeddings: 100.5 },
    ],
  ])("reports %s as one warning in lax mode and throws it in strict mode", (key, config) => {
    const lax = ropeParameters(structuredClone(config));
    expect(lax.warnings).toHaveLength(1);
    const strict = configError(() => ropeParameters(structuredClone(config), { strict: true }));
    expect(strict.key).toBe(key);
    expect(lax.warnings[0]).toBe(strict.message);
  });

  it("rejects an invalid seqLen", () => {
    expect(configError(() => ropeParameters(base, { seqLen: -1 })).key).toBe("seqLen");
  });
});

describe("createRopeFrequencyCache: HF dynamic_rope_update", () => {
  const dynamic = { ...base, rope_scaling: { rope_type: "dynamic", factor: 2 } };
  const at = (seqLen?: number) => ropeParameters(dynamic, { seqLen }).invFreq;

  it("dynamic: starts at the default frequencies, grows past the cached length, resets below max_position_embeddings", () => {
    const cache = createRopeFrequencyCache(dynamic);
    expect(cache.invFreq).toEqual(ropeInverseFrequencies(64, 10000));
    expect(cache.update(100).changed).toBe(false); // within the trained length
    const grown = cache.update(1000);
    expect(grown.changed).toBe(true);
    expect(grown.invFreq).toEqual(at(1000));
    // Shorter, but still >= 512: HF keeps the frequencies of the longest sequence seen.
    expect(cache.update(600)).toMatchObject({ changed: false, invFreq: at(1000) });
    expect(cache.update(1200).invFreq).toEqual(at(1200));
    // Equal to max_position_embeddings is not below it: no reset.
    expect(cache.update(512).changed).toBe(false);
    const reset = cache.update(511);
    expect(reset.changed).toBe(true);
    expect(reset.invFreq).toEqual(ropeInverseFrequencies(64, 10000));
    // After the reset the cached length is 512 again, so 513 grows anew.
    expect(cache.update(513).invFreq).toEqual(at(513));
  });

  it("longrope: switches between short and long factors at original_max_position_embeddings", () => {
    const config = longrope({});
    const cache = createRopeFrequencyCache(config);
    const short = ropeParameters(config).invFreq;
    const long = ropeParameters(config, { seqLen: 513 }).invFreq;
    expect(cache.invFreq).toEqual(short);
    expect(cache.update(512)).toMatchObject({ changed: false, invFreq: short });
    expect(cache.update(513)).toMatchObject({ changed: true, invFreq: long });
    expect(cache.update(4096)).toMatchObject({ changed: false, invFreq: long });
    expect(cache.update(10)).toMatchObject({ changed: true, invFreq: short });
    expect(cache.attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(4) / Math.log(512)), 15);
  });

  it("other types never change", () => {
    const cache = createRopeFrequencyCache(yarn({}));
    const before = cache.invFreq;
    expect(cache.update(100000)).toMatchObject({ changed: false, invFreq: before });
    expect(cache.ropeType).toBe("yarn");
  });
});
