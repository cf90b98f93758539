/**
 * A short training run of the lab's transformer with one encoding: a 2-layer causal decoder learns to output, at
 * each position t >= 2, the token two places back (x[t - 2]), which needs positional information. Used by the
 * encoding tests as "trainable in the lab": the loss must fall and the encoding's own parameters must move.
 */
import { AdamW, crossEntropy, tidy } from "../../src/engine/index.js";
import { createTransformer } from "../../src/model/transformer.js";
import { Rng } from "../../src/util/rng.js";

/** A guard against a hung run, not a time budget: a smoke run takes seconds, longer on a loaded machine. */
export const SMOKE_TIMEOUT = { timeout: 120_000 };

export interface SmokeResult {
  /** Mean loss of the first and the last 5 steps. */
  first: number;
  last: number;
  /** Largest absolute change of any parameter the encoding owns (0 when it owns none). */
  encodingParamChange: number;
}

export function trainSmoke(
  encoding: { id: string; params?: Record<string, unknown> },
  options: { steps?: number; seed?: number; lr?: number } = {},
): SmokeResult {
  const steps = options.steps ?? 60;
  const vocabSize = 8;
  const B = 8;
  const T = 10;
  const model = createTransformer(
    { vocabSize, dModel: 16, numHeads: 2, numLayers: 2, maxSeqLen: 32, encoding },
    new Rng(options.seed ?? 1),
  );
  const encodingParams = model.parameters().filter((p) => p.name?.startsWith(`${encoding.id}.`));
  const before = encodingParams.map((p) => Float64Array.from(p.data));
  const optimizer = new AdamW(model.parameters(), { lr: options.lr ?? 0.01, weightDecay: 0 });
  const data = new Rng(123);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const inputs = Int32Array.from({ length: B * T }, () => data.int(vocabSize));
    const targets = Int32Array.from({ length: B * T }, (_, n) => (n % T >= 2 ? inputs[n - 2] : -1));
    losses.push(
      tidy(() => {
        optimizer.zeroGrad();
        const logits = model.forward({ inputs, batchSize: B, seqLen: T, training: true, rng: data });
        const loss = crossEntropy(logits, targets);
        loss.backward();
        return loss.item();
      }),
    );
    optimizer.step();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  let change = 0;
  encodingParams.forEach((p, n) => {
    for (let i = 0; i < p.size; i++) change = Math.max(change, Math.abs(p.data[i] - before[n][i]));
  });
  return { first: mean(losses.slice(0, 5)), last: mean(losses.slice(-5)), encodingParamChange: change };
}
