/**
 * Adapter from the lab's ModelRequest to the transformer of src/model/: the experiment's model section and
 * encoding choice become a ModelConfig; a task batch becomes the transformer's ForwardInput.
 */

import { createModelEncoding } from "../model/encodings.js";
import { createTransformer } from "../model/transformer.js";
import { Rng } from "../util/rng.js";
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
      numHeads: model.numHeads,
      numLayers: model.numLayers,
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
        // Target-order positions feed only training losses (DPE's order loss): not passed in evaluation.
        ...(batch.targetOrder && context.training ? { targetOrder: batch.targetOrder } : {}),
        training: context.training,
        rng: context.rng,
      }),
    auxiliaryLoss: () => transformer.auxiliaryLoss(),
  };
}

/**
 * Builds each encoding of the config once (parameters included, then freed) so that bad encoding parameters are
 * rejected before any training, with the config path: `encodings[2].stack[0].params.maxPositions`.
 */
export function checkEncodingsBuild(config: ExperimentConfig, maxSeqLen: number): void {
  const { model } = config;
  const dims = {
    dModel: model.dModel,
    numHeads: model.numHeads,
    headDim: model.dModel / model.numHeads,
    numLayers: model.numLayers,
    maxSeqLen,
    causal: config.task.layout === "decoder",
  };
  config.encodings.forEach((choice, i) => {
    const built = choice.stack
      ? createModelEncoding(encodingConfig(choice), dims, new Rng(0), `encodings[${i}].stack`)
      : createModelEncoding(encodingConfig(choice)[0]!, dims, new Rng(0), `encodings[${i}]`);
    for (const p of built.parameters()) p.dispose();
  });
}
