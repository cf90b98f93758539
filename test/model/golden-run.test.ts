/**
 * Golden run: 20 training steps of a tiny decoder for a spread of encodings (rotary, rotary with an attention factor
 * and per-role scales, biases fixed and learned, contextual, learned absolute, randomized ids), recorded from the
 * code before the position interface was reworked (issue 10). Loss values and a checksum of the final weights must
 * stay bit-identical: the interface change is a refactor, not a change of any method's numbers.
 *
 * Regenerate (only when a method's numbers are meant to change, and say why in the commit):
 *   POSENC_UPDATE_GOLDEN=1 npx vitest run test/model/golden-run.test.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdamW, clipGradNorm, initEngineSync, tidy } from "../../src/engine/index.js";
import type { EncodingChoice } from "../../src/model/config.js";
import { createTransformer } from "../../src/model/transformer.js";
import { Rng } from "../../src/util/rng.js";

const FIXTURE = new URL("../fixtures/golden-run.json", import.meta.url);
/**
 * The same cases on the lab's kernels (WASM, plain SIMD build: its float arithmetic is IEEE and the same on every
 * machine, where the relaxed build's fused multiply-add may or may not fuse) at a lab-sized batch, 64 rows padded
 * to 41 tokens (2,624 rows: many of the matmul's 256-term blocks), 3 steps. The reference-kernel run above cannot
 * see a change of summation order in a WASM kernel; this one can. Recorded at main 768c9d2 (after issue 11's
 * speed-ups, which regrouped two sums: docs/benchmarks.md).
 */
const FIXTURE_WASM = new URL("../fixtures/golden-run-wasm.json", import.meta.url);

const CASES: Record<string, EncodingChoice | EncodingChoice[]> = {
  rope: { id: "rope" },
  alibi: { id: "alibi" },
  "t5-bias": { id: "t5-bias" },
  cope: { id: "cope" },
  fire: { id: "fire" },
  "learned-absolute": { id: "learned-absolute" },
  "randomized-rope": { id: "randomized-rope", params: { maxPosition: 64 } },
  yarn: { id: "yarn", params: { factor: 4, originalMaxPositionEmbeddings: 8 } },
  xpos: { id: "xpos" },
  "p-rope": { id: "p-rope" },
  "kerple-log": { id: "kerple-log" },
  sinusoidal: { id: "sinusoidal" },
  bipe: { id: "bipe", params: { separatorTokens: [1] } },
  "randomized-alibi": { id: "randomized-alibi", params: { maxPosition: 64 } },
  "randomized-positions+rope": [{ id: "randomized-positions", params: { maxPosition: 64 } }, { id: "rope" }],
};

/** Encoder runs (the model fills `bidirectional` / `variant` from causal = false). */
const ENCODER = new Set(["alibi:encoder", "t5-bias:encoder", "kerple-log:encoder"]);
for (const name of ENCODER) CASES[name] = CASES[name.split(":")[0]!]!;

/** Copy: [symbols, SEP, symbols], loss on the copy; padded right to the batch's longest. */
function copyBatch(rng: Rng, batchSize: number, maxLen: number) {
  const lengths = Array.from({ length: batchSize }, () => 1 + rng.int(maxLen));
  const T = 2 * Math.max(...lengths) + 1;
  const inputs = new Int32Array(batchSize * T);
  const targets = new Int32Array(batchSize * T);
  const mask = new Uint8Array(batchSize * T);
  const rowLengths = new Int32Array(batchSize);
  for (let b = 0; b < batchSize; b++) {
    const n = lengths[b]!;
    const symbols = Array.from({ length: n }, () => 2 + rng.int(10));
    const seq = [...symbols, 1, ...symbols];
    rowLengths[b] = seq.length;
    for (let t = 0; t < T; t++) {
      inputs[b * T + t] = seq[t] ?? 0;
      targets[b * T + t] = seq[t + 1] ?? 0;
      mask[b * T + t] = t >= n && t + 1 < seq.length ? 1 : 0;
    }
  }
  return { inputs, targets, mask, rowLengths, batchSize, seqLen: T };
}

/** FNV-1a over the float32 bits of every parameter, in model order. */
function weightChecksum(values: Float32Array[]): string {
  let h = 0x811c9dc5;
  for (const v of values) {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

function goldenRun(
  encoding: EncodingChoice | EncodingChoice[],
  causal: boolean,
  { steps = 20, batchSize = 4, maxLen = 6 } = {},
) {
  const model = createTransformer(
    { vocabSize: 12, dModel: 16, numHeads: 2, numLayers: 2, maxSeqLen: 64, causal, encoding },
    new Rng(11),
  );
  const opt = new AdamW(model.parameters(), { lr: 3e-3 });
  const rng = new Rng(12);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    losses.push(
      tidy(() => {
        opt.zeroGrad();
        const loss = model.loss({ ...copyBatch(rng, batchSize, maxLen), training: true, rng });
        loss.backward();
        clipGradNorm(model.parameters(), 1);
        return loss.item();
      }),
    );
    opt.step();
  }
  const weights = model.parameters().map((p) => Float32Array.from(p.data));
  return { losses, checksum: weightChecksum(weights) };
}

type Golden = Record<string, { losses: number[]; checksum: string }>;

/** One fixture's cases: write them under POSENC_UPDATE_GOLDEN=1, else compare every case bit for bit. */
function goldenSuite(fixture: URL, run: (name: string) => { losses: number[]; checksum: string }): void {
  if (process.env.POSENC_UPDATE_GOLDEN) {
    it("writes the fixture", { timeout: 120_000 }, () => {
      const out = Object.fromEntries(Object.keys(CASES).map((name) => [name, run(name)]));
      writeFileSync(fixture, `${JSON.stringify(out, null, 1)}\n`);
    });
    return;
  }
  const golden = JSON.parse(readFileSync(fixture, "utf8")) as Golden;
  for (const name of Object.keys(CASES)) {
    it(`${name}: same losses and final weights`, { timeout: 30_000 }, () => {
      const got = run(name);
      expect(got.losses).toEqual(golden[name]!.losses);
      expect(got.checksum).toBe(golden[name]!.checksum);
    });
  }
}

describe("golden run (bit-identical across the interface rework)", () => {
  goldenSuite(FIXTURE, (name) => goldenRun(CASES[name]!, !ENCODER.has(name)));
});

describe("golden run on the WASM kernels at a lab-sized batch", () => {
  beforeAll(() => {
    initEngineSync({ kernels: "wasm", threads: 1, relaxedSimd: false });
  });
  afterAll(() => {
    initEngineSync({ kernels: "reference" });
  });
  goldenSuite(FIXTURE_WASM, (name) =>
    goldenRun(CASES[name]!, !ENCODER.has(name), { steps: 3, batchSize: 64, maxLen: 20 }),
  );
});
