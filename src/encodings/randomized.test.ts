import { describe, expect, it } from "vitest";
import { noGrad, type Tensor, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { alibiBiasAt, alibiSlopes } from "./alibi.js";
import {
  randomizedAlibiSpec,
  randomizedLearnedSpec,
  randomizedRopeSpec,
  randomizedSinusoidalSpec,
  randomizedT5Spec,
} from "./randomized.js";
import { randomizedPositionIds } from "./randomized-positions.js";
import { createEncoding, getEncoding } from "./registry.js";
import { resolveParams } from "./types.js";

const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 1, maxSeqLen: 16, causal: true };
const specs = [
  randomizedSinusoidalSpec,
  randomizedRopeSpec,
  randomizedLearnedSpec,
  randomizedT5Spec,
  randomizedAlibiSpec,
];

describe("randomized variants", () => {
  it.each(specs.map((s) => s.id))("%s is registered, with positionIds plus its base's slots", (id) => {
    const spec = getEncoding(id);
    expect(spec.slots[0]).toBe("positionIds");
    // One key for the id range, shared with a learned table's rows; the earlier name is an alias.
    expect(spec.params.maxPositions?.aliases).toEqual(["maxPosition"]);
    expect(spec.params.mode).toBeDefined();
    expect(spec.params.maxPosition).toBeUndefined();
    expect(spec.paper.arxiv).toBe("2305.16843");
  });

  it("draws the ids randomizedPositionIds draws from the same Rng (sorted, distinct, in [0, L))", () => {
    const encoding = createEncoding("randomized-rope", { headDim: 4, maxPosition: 50 });
    const ids = encoding.positionIds?.(10, { rng: new Rng(3) }) ?? new Float64Array();
    expect(Array.from(ids)).toEqual(Array.from(randomizedPositionIds(10, 50, new Rng(3))));
    for (let t = 1; t < 10; t++) expect(ids[t]).toBeGreaterThan(ids[t - 1]);
    expect(ids[9]).toBeLessThan(50);
  });

  it("feeds the ids to the base encoding: randomized-alibi's bias is ALiBi at those ids", () => {
    const encoding = createEncoding("randomized-alibi", { maxPosition: 100 });
    const ids = encoding.positionIds?.(5, { rng: new Rng(1) }) ?? new Float64Array();
    expect(encoding.attentionBias?.(ids, ids, 2)).toEqual(alibiBiasAt(alibiSlopes(2), ids, ids));
  });

  it("mode sequential gives 0..T-1 (ablation)", () => {
    const encoding = createEncoding("randomized-sinusoidal", { mode: "sequential" });
    expect(Array.from(encoding.positionIds?.(4) ?? [])).toEqual([0, 1, 2, 3]);
  });

  it("trainable: one sorted draw per example, also in evaluation (the official protocol)", () => {
    const params = resolveParams("randomized-t5", randomizedT5Spec.params, {
      maxPosition: 40,
      bidirectional: false,
    });
    const trainable = randomizedT5Spec.trainable?.(params, dims, new Rng(1));
    const ids = trainable?.positionIds?.({ batchSize: 3, seqLen: 6, rng: new Rng(7), training: false }) ?? [];
    const again = randomizedPositionIds(6, 40, new Rng(7));
    expect(Array.from(ids).slice(0, 6)).toEqual(Array.from(again));
    expect(Array.from(ids).slice(6, 12)).not.toEqual(Array.from(again));
    expect(trainable?.parameters()[0].shape).toEqual([32, 2]);
    const bias = tidy(() =>
      noGrad(
        () => (trainable?.attentionBias?.(Float64Array.from(ids), 3, 6, 0) as Tensor | undefined)?.shape,
      ),
    );
    expect(bias).toEqual([3, 2, 6, 6]);
  });

  it("randomized-learned sizes its table to maxPositions (earlier name maxPosition)", () => {
    for (const given of [{ maxPositions: 30 }, { maxPosition: 30 }]) {
      const params = resolveParams("randomized-learned", randomizedLearnedSpec.params, given);
      const trainable = randomizedLearnedSpec.trainable?.(params, dims, new Rng(1));
      expect(trainable?.parameters()[0].shape).toEqual([30, 8]);
    }
    expect(() => createEncoding("randomized-learned", { maxPositions: 30, maxPosition: 30 })).toThrow(
      /randomized-learned\.maxPosition: expected only one of maxPositions/,
    );
  });
});
