/**
 * ModelConfig: the transformer's shape and its positional encoding, validated (every error names the key).
 *
 * Defaults are the PyTorch calibration's model (the PyTorch calibration notes: decoder-only, pre-LN,
 * 4 heads, d_model 64, FFN 4x GELU, no dropout, untied head, token embedding N(0, 1)), so a config that sets only
 * `vocabSize` and `encoding` trains the model the reference numbers came from.
 */
import {
  checkBoolean,
  checkKnownKeys,
  checkNumber,
  checkObject,
  PosencConfigError,
} from "../util/validation.js";

/** One encoding by registry id (or alias) with its parameters. */
export interface EncodingChoice {
  id: string;
  params?: Record<string, unknown>;
}

export interface ModelConfig {
  /** Token vocabulary size (input and output). */
  vocabSize: number;
  dModel: number;
  numHeads: number;
  numLayers: number;
  /** Hidden width of the MLP = mlpRatio * dModel. */
  mlpRatio: number;
  /** true: causal decoder; false: bidirectional encoder. */
  causal: boolean;
  /**
   * Longest sequence the model is built for: sizes learned position tables (learned absolute). Evaluation beyond
   * the training lengths needs it at least as long as the longest test sequence.
   */
  maxSeqLen: number;
  /**
   * Std of the token embedding init. Default 1: PyTorch's nn.Embedding N(0, 1), the calibration's init (GPT-2
   * uses 0.02; with pre-LN the scale of the residual stream at the input matters little, and N(0, 1) is what the
   * reference numbers were measured with).
   */
  embeddingInitStd: number;
  layerNormEps: number;
  /** One encoding, or several filling different hook slots (e.g. randomized-positions feeding rope). */
  encoding: EncodingChoice | EncodingChoice[];
}

export const DEFAULT_MODEL_CONFIG: Omit<ModelConfig, "vocabSize"> = {
  dModel: 64,
  numHeads: 4,
  numLayers: 4,
  mlpRatio: 4,
  causal: true,
  // 256: the calibration's randomized-position range; covers every test length of the reproductions (<= ~130).
  maxSeqLen: 256,
  embeddingInitStd: 1,
  // PyTorch's nn.LayerNorm default.
  layerNormEps: 1e-5,
  // NoPE: the model without positional information; the honest default (nothing is added implicitly).
  encoding: { id: "nope" },
};

const KEYS = ["vocabSize", ...Object.keys(DEFAULT_MODEL_CONFIG)];

function checkEncodingChoice(path: string, value: unknown): EncodingChoice {
  const choice = checkObject(path, value);
  checkKnownKeys(path, choice, ["id", "params"]);
  if (typeof choice.id !== "string" || choice.id.length === 0) {
    throw new PosencConfigError("invalid_type", `${path}.id`, choice.id, 'a registry id such as "rope"');
  }
  const params = choice.params === undefined ? {} : checkObject(`${path}.params`, choice.params);
  return { id: choice.id, params: { ...params } };
}

/** Validates a partial config under `path` (unknown keys rejected), fills the defaults. */
export function resolveModelConfig(config: unknown, path = "model"): ModelConfig {
  const given = checkObject(path, config);
  checkKnownKeys(path, given, KEYS);
  const merged = { ...DEFAULT_MODEL_CONFIG, ...given } as Record<string, unknown>;
  const int = (key: string, min: number) =>
    checkNumber(`${path}.${key}`, merged[key], { integer: true, min });
  if (merged.vocabSize === undefined) {
    throw new PosencConfigError("missing_key", `${path}.vocabSize`, undefined, "an integer >= 1");
  }
  const vocabSize = int("vocabSize", 1);
  const dModel = int("dModel", 1);
  const numHeads = int("numHeads", 1);
  if (dModel % numHeads !== 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.numHeads`,
      numHeads,
      `a divisor of ${path}.dModel = ${dModel} (each head gets dModel / numHeads channels)`,
    );
  }
  const encodingValue = merged.encoding;
  const encoding = Array.isArray(encodingValue)
    ? encodingValue.map((c, i) => checkEncodingChoice(`${path}.encoding[${i}]`, c))
    : checkEncodingChoice(`${path}.encoding`, encodingValue);
  if (Array.isArray(encoding) && encoding.length === 0) {
    throw new PosencConfigError(
      "invalid_value",
      `${path}.encoding`,
      [],
      'at least one encoding (use "nope" for none)',
    );
  }
  return {
    vocabSize,
    dModel,
    numHeads,
    numLayers: int("numLayers", 1),
    mlpRatio: checkNumber(`${path}.mlpRatio`, merged.mlpRatio, { min: 0, exclusiveMin: true }),
    causal: checkBoolean(`${path}.causal`, merged.causal),
    maxSeqLen: int("maxSeqLen", 1),
    embeddingInitStd: checkNumber(`${path}.embeddingInitStd`, merged.embeddingInitStd, { min: 0 }),
    layerNormEps: checkNumber(`${path}.layerNormEps`, merged.layerNormEps, { min: 0, exclusiveMin: true }),
    encoding,
  };
}
