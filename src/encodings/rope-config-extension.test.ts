import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { maxRelativeError } from "../../test/helpers/arrays.js";
import { configError } from "../../test/helpers/config-error.js";
import {
  buildExtendCase,
  type ExtendCase,
  extendCases,
  longropeFactors,
  readExample,
} from "../../test/helpers/hf-rope-extend-cases.js";
import { abfInverseFrequencies } from "./abf.js";
import { llama3InverseFrequencies } from "./llama3-rope.js";
import { longropeRescaledInverseFrequencies } from "./longrope.js";
import { ntkAwareInverseFrequencies } from "./ntk-aware.js";
import { ropeBaseLowerBound } from "./rope-base-bound.js";
import {
  applyRopePatch,
  ROPE_EXTENSION_METHODS,
  ropeExtensionBlock,
  ropeExtensionOrigin,
} from "./rope-config-extension.js";
import { dynamicNtkInverseFrequencies } from "./rope-dynamic-ntk.js";
import { linearScaledInverseFrequencies } from "./rope-linear.js";
import { ropeParameters } from "./rope-parameters.js";
import { yarnAttentionFactor, yarnInverseFrequencies } from "./yarn.js";

// HF transformers' rope initializers (transcribed, float32, Debian python3-torch) on the configs `posenc extend`
// writes: test/fixtures/hf-rope-reference.py, which also reproduces hf-rope-parameters.json exactly.
const fixture: (ExtendCase & {
  expected: { rope_type: string; inv_freq: number[]; attention_factor: number };
})[] = JSON.parse(readFileSync(new URL("../../test/fixtures/hf-rope-extend.json", import.meta.url), "utf8"));

describe("posenc extend's blocks: parity with Hugging Face transformers", () => {
  it("covers every method, both config formats and a per-layer-type config", () => {
    expect(fixture).toHaveLength(extendCases().length);
    const methods = new Set(fixture.map((c) => c.source.method).filter(Boolean));
    expect(methods).toEqual(new Set(ROPE_EXTENSION_METHODS));
  });

  it.each(fixture.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    // The block extend builds today is the fixture's config...
    const rebuilt = buildExtendCase(c.source, c.layer_type ?? undefined);
    expect(rebuilt.config).toEqual(c.config);
    // ...accepted by the strict reader, with HF's frequencies at the target length.
    const result = ropeParameters(c.config, {
      strict: true,
      seqLen: c.seq_len ?? undefined,
      layerType: c.layer_type ?? undefined,
    });
    expect(result.ropeType).toBe(c.expected.rope_type);
    expect(maxRelativeError(result.invFreq, c.expected.inv_freq)).toBeLessThan(1e-6);
    expect(Math.abs(result.attentionFactor - c.expected.attention_factor)).toBeLessThan(1e-12);
  });
});

describe("ropeExtensionBlock: each block gives the library's own method frequencies", () => {
  const llama = readExample("llama-3.1-8b.config.json");
  const qwen = readExample("qwen2-yarn.config.json");
  const block = (config: object, method: (typeof ROPE_EXTENSION_METHODS)[number], target: number) =>
    ropeExtensionBlock(config, { method, target, longrope: { longFactor: longropeFactors(64, 16) } });

  it("reads the trained context, base and dim the block replaces", () => {
    expect(ropeExtensionOrigin(llama)).toEqual({
      originalContext: 8192,
      originalContextKey: "rope_scaling.original_max_position_embeddings",
      base: 500000,
      dim: 128,
      format: "rope_scaling",
    });
    const gemma = readExample("gemma3-hybrid.config.json");
    expect(ropeExtensionOrigin(gemma, "full_attention")).toMatchObject({
      originalContext: 131072 / 8,
      originalContextKey: "max_position_embeddings / rope_parameters.full_attention.factor",
    });
  });

  it("pi, ntk, dynamic, yarn, llama3, longrope and abf at 16 x 8192 on Llama 3.1", () => {
    const [dim, base, s, target] = [128, 500000, 16, 131072];
    const expected: Record<string, Float64Array> = {
      pi: linearScaledInverseFrequencies({ dim, base, factor: s }),
      ntk: ntkAwareInverseFrequencies(dim, base, s),
      dynamic: dynamicNtkInverseFrequencies({
        dim,
        base,
        factor: s,
        maxPositionEmbeddings: 8192,
        seqLen: target,
      }),
      yarn: yarnInverseFrequencies({ dim, base, factor: s, originalMaxPositionEmbeddings: 8192 }),
      llama3: llama3InverseFrequencies({
        dim,
        base,
        factor: s,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      }),
      longrope: longropeRescaledInverseFrequencies(dim, base, longropeFactors(64, 16)),
      abf: abfInverseFrequencies(dim, ropeBaseLowerBound(target, dim)),
    };
    for (const method of ROPE_EXTENSION_METHODS) {
      const b = block(llama, method, target);
      expect(b.factor).toBe(s);
      expect(maxRelativeError(b.layers[0]!.invFreq, expected[method]!)).toBeLessThan(1e-12);
    }
    expect(block(llama, "yarn", target).layers[0]!.attentionFactor).toBe(yarnAttentionFactor({ factor: s }));
    expect(block(llama, "longrope", target).layers[0]!.attentionFactor).toBeCloseTo(
      Math.sqrt(1 + Math.log(16) / Math.log(8192)),
      15,
    );
  });

  it("writes the shipped Qwen2 block back for YaRN at its own target, and keeps the config's format", () => {
    const b = block(qwen, "yarn", 131072);
    expect(b.patch).toEqual({
      rope_theta: 1000000,
      rope_scaling: { rope_type: "yarn", factor: 4, original_max_position_embeddings: 32768 },
      max_position_embeddings: 131072,
    });
    // ntk and abf are plain RoPE with a new base: no rope_scaling in legacy form.
    expect(block(qwen, "ntk", 131072).patch.rope_scaling).toBeNull();
    // dynamic keeps max_position_embeddings at the trained context, from which it grows by itself.
    expect(block(qwen, "dynamic", 131072).patch.max_position_embeddings).toBe(32768);
  });

  it("round-trips: ropeParameters of the patched config equals the block's frequencies", () => {
    for (const method of ROPE_EXTENSION_METHODS) {
      const b = block(qwen, method, 65536);
      const r = ropeParameters(applyRopePatch(qwen, b.patch), { strict: true, seqLen: 65536 });
      expect(r.invFreq).toEqual(b.layers[0]!.invFreq);
      expect(r.attentionFactor).toBe(b.layers[0]!.attentionFactor);
      expect(r.warnings).toEqual([]);
    }
  });

  it("per layer type: extends the chosen layer types and keeps the others", () => {
    const gemma = readExample("gemma3-hybrid.config.json");
    const b = ropeExtensionBlock(gemma, { method: "yarn", target: 65536, layerTypes: ["full_attention"] });
    const params = b.patch.rope_parameters as Record<string, unknown>;
    expect(params.sliding_attention).toEqual({ rope_type: "default", rope_theta: 10000 });
    expect(params.full_attention).toEqual({
      rope_type: "yarn",
      factor: 4,
      original_max_position_embeddings: 16384,
      rope_theta: 1000000,
    });
    expect(configError(() => ropeExtensionBlock(gemma, { method: "pi", target: 65536 })).key).toBe(
      "layerTypes",
    );
  });

  it.each([
    ["a target within the trained context", llama, { method: "yarn", target: 8192 }, "target"],
    ["a method no rope block expresses", llama, { method: "giraffe", target: 65536 }, "method"],
    ["longrope without its factors", llama, { method: "longrope", target: 65536 }, "longrope"],
    [
      "longrope factors of the wrong length",
      llama,
      { method: "longrope", target: 65536, longrope: { longFactor: [2, 2] } },
      "longFactor",
    ],
    [
      "longrope factors below 1",
      llama,
      { method: "longrope", target: 65536, longrope: { longFactor: new Array(64).fill(0.5) } },
      "longFactor[0]",
    ],
    ["an ABF base of 1", llama, { method: "abf", target: 65536, abfBase: 1 }, "abfBase"],
    [
      "a config without max_position_embeddings",
      { hidden_size: 64, num_attention_heads: 2, rope_theta: 10000 },
      { method: "pi", target: 4096 },
      "max_position_embeddings",
    ],
  ])("rejects %s with one line naming the key", (_name, config, options, key) => {
    const error = configError(() => ropeExtensionBlock(config, options as never));
    expect(error.key).toBe(key);
    expect(error.message).not.toContain("\n");
  });
});
