import { describe, expect, it } from "vitest";
import { configError } from "../../test/helpers/config-error.js";
import { ropeInverseFrequencies } from "./rope.js";
import { createRopeFrequencyCache, ropeLayerTypes, ropeParameters } from "./rope-parameters.js";
import { yarnInverseFrequencies } from "./yarn.js";

// transformers v5 hybrid models (Gemma 3 style): one rope dict per layer type, keyed by the names in layer_types.
const hybrid = {
  hidden_size: 256,
  num_attention_heads: 4,
  max_position_embeddings: 4096,
  rope_theta: 10000,
  layer_types: ["sliding_attention", "sliding_attention", "full_attention"],
  rope_parameters: {
    full_attention: { rope_type: "yarn", factor: 8, rope_theta: 1e6, original_max_position_embeddings: 512 },
    sliding_attention: { rope_type: "default" },
  },
};

describe("per-layer-type rope_parameters", () => {
  it("lists the layer types in layer_types order, once each", () => {
    expect(ropeLayerTypes(hybrid)).toEqual(["sliding_attention", "full_attention"]);
    expect(ropeLayerTypes({ ...hybrid, rope_parameters: { rope_type: "default" } })).toBeUndefined();
  });

  it("computes each layer type from its own dict; the top-level rope_theta is only the default", () => {
    const full = ropeParameters(hybrid, { layerType: "full_attention", strict: true });
    expect(full.ropeType).toBe("yarn");
    expect(full.invFreq).toEqual(
      yarnInverseFrequencies({ dim: 64, base: 1e6, factor: 8, originalMaxPositionEmbeddings: 512 }),
    );
    expect(full.attentionFactor).toBeCloseTo(0.1 * Math.log(8) + 1, 15);
    const sliding = ropeParameters(hybrid, { layerType: "sliding_attention", strict: true });
    expect(sliding.ropeType).toBe("default");
    expect(sliding.invFreq).toEqual(ropeInverseFrequencies(64, 10000));
    expect(sliding.attentionFactor).toBe(1);
  });

  it("a single dict serves every layer type", () => {
    const single = { ...hybrid, rope_parameters: { rope_type: "linear", factor: 2 } };
    expect(ropeParameters(single, { layerType: "full_attention" }).ropeType).toBe("linear");
    expect(configError(() => ropeParameters(single, { layerType: "global" })).message).toBe(
      'Invalid layerType: expected one of layer_types: sliding_attention, full_attention, received "global"',
    );
  });

  it("createRopeFrequencyCache takes the layer type too", () => {
    const cache = createRopeFrequencyCache(hybrid, { layerType: "full_attention" });
    expect(cache.ropeType).toBe("yarn");
  });

  it.each([
    [
      "no layer type chosen",
      hybrid,
      undefined,
      "rope_parameters",
      "choose one with the layerType option (posenc: --layer-type)",
    ],
    ["an unknown layer type", hybrid, "global", "layerType", "sliding_attention, full_attention"],
    [
      "layer_types missing",
      { ...hybrid, layer_types: undefined },
      "full_attention",
      "layer_types",
      "a list of layer type names",
    ],
    [
      "a dict for a layer type not in layer_types",
      { ...hybrid, layer_types: ["full_attention"] },
      "full_attention",
      "rope_parameters.sliding_attention",
      "the layer types full_attention",
    ],
    [
      "a layer type without a dict",
      { ...hybrid, layer_types: ["full_attention", "sliding_attention", "chunked_attention"] },
      "full_attention",
      "rope_parameters.chunked_attention",
      'a rope parameter dict for layer type "chunked_attention"',
    ],
    [
      "a bad key inside one layer type",
      {
        ...hybrid,
        rope_parameters: { ...hybrid.rope_parameters, full_attention: { rope_type: "linear", factor: -2 } },
      },
      "full_attention",
      "rope_parameters.full_attention.factor",
      "> 0",
    ],
  ])("rejects %s with one line naming the key", (_name, config, layerType, key, expected) => {
    const e = configError(() => ropeParameters(config, { layerType }));
    expect(e.key).toBe(key);
    expect(e.message).toContain(expected);
    expect(e.message).not.toContain("\n");
  });
});
