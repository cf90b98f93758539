/**
 * Adapter from the lab's ModelRequest to the transformer of src/model/: the experiment's model section and
 * encoding choice become a ModelConfig; a task batch becomes the transformer's ForwardInput.
 */

import { createModelEncoding } from "../model/encodings.js";
import { createTransformer } from "../model/transformer.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import { type EncodingChoice, type ExperimentConfig, stackOf } from "./config.js";
import type { LabModel, ModelRequest } from "./model.js";

function encodingConfig(choice: EncodingChoice): { id: string; params: Record<string, unknown> }[] {
  return stackOf(choice).map((e) => ({ id: e.id, params: { ...e.params } }));
}

export function createTransformerModel(request: ModelRequest, rng: Rng): LabModel {
  const { model } = request;
  const transformer = createTransformer(
    {
      vocabSize: request.vocabSize,
      dModel: model.dModel,
      numHeads: model.heads,
      numLayers: model.layers,
      mlpRatio: model.mlpRatio,
      causal: request.layout === "decoder",
      maxSeqLen: request.maxSeqLen,
      encoding: encodingConfig(request.encoding),
    },
    rng,
  );
  return {
    parameters: () => transformer.parameters(),
    forward: (batch, context) =>
      transformer.forward({
        inputs: batch.inputs,
        batchSize: batch.batchSize,
        seqLen: batch.seqLen,
        ...(batch.positionIds ? { positionIds: batch.positionIds } : {}),
        ...(batch.tokenCounts ? { rowLengths: batch.tokenCounts } : {}),
        training: context.training,
        rng: context.rng,
      }),
  };
}

/**
 * Builds each encoding of the config once (parameters included, then freed) so that bad encoding parameters are
 * rejected before any training, with the config path: `encodings[2].stack[0].params.maxPosition`.
 */
export function checkEncodingsBuild(config: ExperimentConfig, maxSeqLen: number): void {
  const { model } = config;
  const dims = {
    dModel: model.dModel,
    numHeads: model.heads,
    headDim: model.dModel / model.heads,
    numLayers: model.layers,
    maxSeqLen,
    causal: config.task.layout === "decoder",
  };
  config.encodings.forEach((choice, i) => {
    const stack = encodingConfig(choice);
    try {
      const built = createModelEncoding(stack, dims, new Rng(0));
      for (const p of built.parameters()) p.dispose();
    } catch (error) {
      if (!(error instanceof PosencConfigError)) throw error;
      throw new PosencConfigError(
        error.code,
        remapKey(error.key, i, choice),
        error.received,
        error.expected,
        remapMessage(error.message, i, choice),
      );
    }
  });
}

/** `model.encoding[j]...` or a bare registry id path -> `encodings[i]...` / `encodings[i].stack[j]...`. */
function remapKey(key: string, i: number, choice: EncodingChoice): string {
  const stacked = choice.stack !== undefined;
  const m = /^model\.encoding(?:\[(\d+)\])?(.*)$/.exec(key);
  if (m) return stacked ? `encodings[${i}].stack[${m[1] ?? 0}]${m[2]}` : `encodings[${i}]${m[2]}`;
  const ids = stackOf(choice).map((e) => e.id);
  for (const [j, id] of ids.entries()) {
    if (key === id || key.startsWith(`${id}.`)) {
      const rest = key.slice(id.length);
      return stacked ? `encodings[${i}].stack[${j}].params${rest}` : `encodings[${i}].params${rest}`;
    }
  }
  return key;
}

function remapMessage(message: string, i: number, choice: EncodingChoice): string {
  return message.replace(
    /^(Invalid|Unknown key|Missing required key) (\S+)/,
    (_, word: string, key: string) => {
      return `${word} ${remapKey(key, i, choice)}`;
    },
  );
}
