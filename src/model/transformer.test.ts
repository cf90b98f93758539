import { describe, expect, it } from "vitest";
import { encodingRegistry } from "../encodings/registry.js";
import { AdamW, clipGradNorm, noGrad, tidy } from "../engine/index.js";
import { Rng } from "../util/rng.js";
import { PosencConfigError } from "../util/validation.js";
import type { EncodingChoice, ModelConfig } from "./config.js";
import { createTransformer, type Transformer } from "./transformer.js";

const SMALL = { vocabSize: 12, dModel: 16, numHeads: 2, numLayers: 2, maxSeqLen: 64 } as const;

/** Extra params some methods need to run in a tiny model (everything else is at its defaults). */
const PARAMS: Record<string, Record<string, unknown>> = {
  "randomized-sinusoidal": { maxPosition: 64 },
  "randomized-rope": { maxPosition: 64 },
  "randomized-learned": { maxPosition: 64 },
  "randomized-t5": { maxPosition: 64 },
  "alibi-at-randomized-ids": { maxPosition: 64 },
  "noisy-alibi": { maxPositions: 64 },
  "bipe-alibi": { separatorTokens: [3] },
  "randomized-positions": { maxPosition: 64 },
  bipe: { separatorTokens: [3] },
  v2pe: { compressedTokens: [3] },
  // Replace a head in each layer (the default replaces none, = RoPE), so the Gaussian path runs here too.
  dope: { denoisedHeads: [1, 3] },
  // RoPE++_EH: head pairs share q, k, v (slot g).
  "rope-plus-plus": { imaginaryHeads: "paired" },
};

/** Position coupling reads ids from the task: a stand-in for TaskBatch.positionIds. */
function taskIdsFor(id: string, B: number, T: number): Float64Array | undefined {
  if (id !== "position-coupling") return undefined;
  return Float64Array.from({ length: B * T }, (_, i) => 1 + ((i % T) % 5));
}

const trainable = encodingRegistry.filter((s) => s.trainable);

function tokens(rng: Rng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(vocab));
}

function logits(model: Transformer, inputs: Int32Array, B: number, T: number, positionIds?: Float64Array) {
  return tidy(() =>
    noGrad(() =>
      model
        .forward({ inputs, batchSize: B, seqLen: T, positionIds, training: false, rng: new Rng(5) })
        .toArray(),
    ),
  );
}

function build(encoding: EncodingChoice | EncodingChoice[], extra: Partial<ModelConfig> = {}, seed = 1) {
  return createTransformer({ ...SMALL, encoding, ...extra }, new Rng(seed));
}

describe("transformer forward", () => {
  it("returns [B*T, vocab] logits for a causal decoder and a bidirectional encoder", () => {
    for (const causal of [true, false]) {
      const model = build({ id: "rope" }, { causal });
      const out = logits(model, tokens(new Rng(1), 3 * 7, 12), 3, 7);
      expect(out).toHaveLength(3 * 7 * 12);
      expect(out.every(Number.isFinite)).toBe(true);
    }
  });

  it("counts its parameters: embedding, 2 blocks, final norm, head", () => {
    const model = build({ id: "nope" });
    const count = model.parameters().reduce((n, p) => n + p.size, 0);
    const D = 16;
    const block = 4 * D + 4 * (D * D + D) + (D * 4 * D + 4 * D) + (4 * D * D + D);
    expect(count).toBe(12 * D + 2 * block + 2 * D + (D * 12 + 12));
  });

  it("is deterministic: same seed, same logits; another seed, other logits", () => {
    const inputs = tokens(new Rng(3), 2 * 9, 12);
    const a = logits(build({ id: "t5-bias" }, {}, 7), inputs, 2, 9);
    const b = logits(build({ id: "t5-bias" }, {}, 7), inputs, 2, 9);
    const c = logits(build({ id: "t5-bias" }, {}, 8), inputs, 2, 9);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("an encoder sees the future: changing the last token changes the first position's logits", () => {
    const model = build({ id: "alibi" }, { causal: false });
    const x = tokens(new Rng(4), 6, 12);
    const y = Int32Array.from(x);
    y[5] = (y[5] + 1) % 12;
    expect(logits(model, y, 1, 6).slice(0, 12)).not.toEqual(logits(model, x, 1, 6).slice(0, 12));
  });
});

describe("every registry id with a trainable form", () => {
  // CPE's convolution reads neighbours on every side: it is an encoder method and refuses a decoder.
  const encoderOnly = new Set(["cpe"]);
  it("cpe refuses a causal decoder with one line naming the id", () => {
    expect(() => build({ id: "cpe" })).toThrow(/^Invalid model\.encoding\.id: .*bidirectional encoder/);
  });

  it.each(trainable.map((s) => s.id).filter((id) => !encoderOnly.has(id)))(
    "%s builds, runs and stays causal in a decoder",
    (id) => {
      const B = 2;
      const T = 8;
      const model = build({ id, params: PARAMS[id] });
      const x = tokens(new Rng(11), B * T, 12);
      const ids = taskIdsFor(id, B, T);
      const before = logits(model, x, B, T, ids);
      expect(before.every(Number.isFinite)).toBe(true);
      // Change the last token of every example: logits at positions 0..T-2 must not move. (Randomized ids come from
      // the same seeded stream in both calls, so they are equal too.)
      const y = Int32Array.from(x);
      for (let b = 0; b < B; b++) y[b * T + T - 1] = (y[b * T + T - 1] + 5) % 12;
      const after = logits(model, y, B, T, ids);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T - 1; t++) {
          const row = (b * T + t) * 12;
          expect(after.slice(row, row + 12)).toEqual(before.slice(row, row + 12));
        }
        const last = (b * T + T - 1) * 12;
        expect(after.slice(last, last + 12)).not.toEqual(before.slice(last, last + 12));
      }
    },
  );

  // Under noGrad the model frees each layer's tensors before the next layer (and attends head by head): the logits
  // must be those of the grad-enabled forward pass, also for encodings that carry state across layers (TAPE).
  it.each(trainable.map((s) => s.id).filter((id) => !encoderOnly.has(id)))(
    "%s gives the same logits under noGrad as with gradients",
    (id) => {
      const B = 2;
      const T = 8;
      const model = build({ id, params: PARAMS[id] });
      const x = tokens(new Rng(12), B * T, 12);
      const ids = taskIdsFor(id, B, T);
      const evaluated = logits(model, x, B, T, ids);
      const withGrad = tidy(() =>
        model
          .forward({ inputs: x, batchSize: B, seqLen: T, positionIds: ids, training: false, rng: new Rng(5) })
          .toArray(),
      );
      expect(evaluated.length).toBe(withGrad.length);
      for (let i = 0; i < withGrad.length; i++) expect(evaluated[i]).toBeCloseTo(withGrad[i]!, 5);
    },
  );

  // PaTH is defined for causal attention only (keys transformed by the tokens up to the query): it refuses.
  const decoderOnly = new Set(["path"]);
  it("path refuses a bidirectional encoder with one line naming the id", () => {
    expect(() => build({ id: "path" }, { causal: false })).toThrow(
      /^Invalid model\.encoding\.id: .*causal decoder/,
    );
  });

  it.each(trainable.filter((s) => !decoderOnly.has(s.id)).map((s) => s.id))(
    "%s runs in a bidirectional encoder",
    (id) => {
      const model = build({ id, params: PARAMS[id] }, { causal: false });
      const out = logits(model, tokens(new Rng(12), 2 * 6, 12), 2, 6, taskIdsFor(id, 2, 6));
      expect(out.every(Number.isFinite)).toBe(true);
    },
  );

  it("ms-poe (per-head ids of a trained RoPE model) is the one registry id without a trainable form", () => {
    expect(encodingRegistry.filter((s) => !s.trainable).map((s) => s.id)).toEqual(["ms-poe"]);
  });
});

describe("encoding choice errors", () => {
  it("rejects two encodings on one hook slot, naming both", () => {
    expect(() => build([{ id: "rope" }, { id: "xpos" }])).toThrow(
      "rope and xpos both use transformQK; choose one",
    );
    expect(() => build([{ id: "alibi" }, { id: "t5" }])).toThrow("alibi and t5-bias both use attentionBias");
  });

  it("combines a position-id scheme with a consumer", () => {
    const model = build([{ id: "randomized-positions", params: { maxPosition: 64 } }, { id: "rope" }]);
    logits(model, tokens(new Rng(2), 2 * 5, 12), 2, 5);
    const ids = model.lastPositionIds as Float64Array;
    for (let b = 0; b < 2; b++) {
      for (let t = 1; t < 5; t++) expect(ids[b * 5 + t]).toBeGreaterThan(ids[b * 5 + t - 1]);
    }
    expect(Math.max(...ids)).toBeLessThan(64);
  });

  it("uses task-supplied ids when no encoding maps ids, 0..T-1 otherwise", () => {
    const task = Float64Array.from([5, 6, 7, 5, 6, 7, 1, 2, 3, 1, 2, 3]);
    const x = tokens(new Rng(1), 12, 12);
    for (const id of ["learned-absolute", "position-coupling"]) {
      const model = build({ id });
      const withTask = logits(model, x, 2, 6, task);
      expect(Array.from(model.lastPositionIds ?? [])).toEqual(Array.from(task));
      if (id === "learned-absolute") {
        const plain = logits(model, x, 2, 6);
        expect(Array.from(model.lastPositionIds ?? [])).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
        expect(plain).not.toEqual(withTask);
      } else {
        // Without task ids, position coupling reads the tokens as a bare addition and names what does not parse.
        expect(() => logits(model, x, 2, 6)).toThrow(/context\.tokens/);
      }
    }
  });

  it("bipe feeds its segment ids to rope and adds its intra-segment table", () => {
    const model = build([{ id: "bipe", params: { separatorTokens: [3] } }, { id: "rope" }]);
    logits(model, Int32Array.from([1, 3, 2, 2, 3, 5]), 1, 6);
    expect(Array.from(model.lastPositionIds ?? [])).toEqual([0, 0, 1, 1, 1, 2]);
  });

  it("names unknown ids, methods without a trainable form and bad params", () => {
    expect(() => build({ id: "ropee" })).toThrow(PosencConfigError);
    expect(() => build({ id: "ropee" })).toThrow(/^Invalid model\.encoding\.id: .*"ropee"/);
    expect(() => build({ id: "ms-poe" })).toThrow(/model\.encoding\.id.*trainable form/);
    expect(() => build({ id: "rope", params: { bsae: 1 } })).toThrow(
      /^Unknown key model\.encoding\.params\.bsae/,
    );
    expect(() => build({ id: "rope", params: { headDim: 4 } })).toThrow(
      /model\.encoding\.params\.headDim.*dModel \/ numHeads = 8/,
    );
  });

  it("validates the model config, naming the key", () => {
    expect(() => createTransformer({ ...SMALL, numHeads: 3 }, new Rng(1))).toThrow(/model\.numHeads/);
    expect(() => createTransformer({ ...SMALL, dModel: 0 }, new Rng(1))).toThrow(/model\.dModel/);
    const typo = { ...SMALL, numLayer: 2 } as unknown as ModelConfig;
    expect(() => createTransformer(typo, new Rng(1))).toThrow(/Unknown key model\.numLayer/);
  });

  it("accepts the alias t5 for t5-bias", () => {
    expect(() => build({ id: "t5" })).not.toThrow();
  });
});

describe("training", () => {
  /** Copy: [BOS=10] x1..xn [SEP=11] x1..xn, targets shifted by one, scored on the copy. */
  function copyBatch(rng: Rng, B: number, n: number) {
    const T = 2 * n + 2;
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    const mask = new Uint8Array(B * T);
    for (let b = 0; b < B; b++) {
      const x = Array.from({ length: n }, () => rng.int(8));
      const seq = [10, ...x, 11, ...x];
      for (let t = 0; t < T; t++) {
        inputs[b * T + t] = seq[t];
        targets[b * T + t] = t + 1 < T ? seq[t + 1] : 0;
        mask[b * T + t] = t >= n + 1 && t + 1 < T ? 1 : 0;
      }
    }
    return { inputs, targets, mask, batchSize: B, seqLen: T };
  }

  it("a tiny RoPE decoder lowers the copy loss within 100 steps", { timeout: 30_000 }, () => {
    const model = build({ id: "rope" }, { dModel: 32, numHeads: 2 });
    const opt = new AdamW(model.parameters(), { lr: 3e-3 });
    const rng = new Rng(9);
    const losses: number[] = [];
    for (let step = 0; step < 100; step++) {
      losses.push(
        tidy(() => {
          opt.zeroGrad();
          const loss = model.loss({ ...copyBatch(rng, 16, 5), training: true, rng });
          loss.backward();
          clipGradNorm(model.parameters(), 1);
          return loss.item();
        }),
      );
      opt.step();
    }
    const head = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const tail = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(head).toBeGreaterThan(1.8); // about ln 12 untrained, at least ln 8 before learning to copy
    expect(tail).toBeLessThan(0.5 * head);
  });

  it("sends gradients into every learned encoding's parameters", () => {
    for (const id of [
      "t5-bias",
      "kerple-log",
      "kerple-power",
      "learned-absolute",
      "randomized-learned",
      "bipe",
    ]) {
      const model = build({ id, params: PARAMS[id] });
      const own = model
        .parameters()
        .filter((p) => p.name.startsWith(id.replace("randomized-learned", "learned-absolute")));
      expect(own.length, id).toBeGreaterThan(0);
      tidy(() => {
        const rng = new Rng(3);
        const batch = copyBatch(rng, 2, 3);
        model.loss({ ...batch, training: true, rng }).backward();
      });
      for (const p of own)
        expect(
          p.grad?.some((g) => g !== 0),
          `${id} ${p.name}`,
        ).toBe(true);
    }
  });

  it("loss is the mean cross-entropy over masked positions only", () => {
    const model = build({ id: "nope" });
    const rng = new Rng(1);
    const batch = copyBatch(rng, 2, 3);
    const all = logits(model, batch.inputs, 2, batch.seqLen);
    let sum = 0;
    let count = 0;
    for (let i = 0; i < batch.mask.length; i++) {
      if (!batch.mask[i]) continue;
      const row = all.slice(i * 12, i * 12 + 12);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      sum += lse - row[batch.targets[i]];
      count++;
    }
    const loss = tidy(() => noGrad(() => model.loss({ ...batch, training: false, rng }).item()));
    expect(loss).toBeCloseTo(sum / count, 5);
  });
});
