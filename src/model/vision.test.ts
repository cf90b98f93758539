/**
 * The patch encoder: shapes, position ids reaching the encodings, permutation invariance without positions (mean
 * pooling) and its loss under 2-D encodings, and float64 finite-difference gradients of every parameter group.
 */
import { describe, expect, it } from "vitest";
import { noGrad, tidy, withFloat64Storage } from "../engine/index.js";
import { randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { createVisionTransformer } from "./vision.js";

const P = 3;
const G = 3;
const T = G * G;
const B = 2;
const ids2d = Float64Array.from({ length: B * T * 2 }, (_, i) => {
  const t = Math.floor(i / 2) % T;
  return i % 2 === 0 ? Math.floor(t / G) : t % G;
});
const base = { patchDim: P, numClasses: 3, dModel: 8, numHeads: 2, numLayers: 2, grid: [G, G] };

function logits(encoding: string, patches: Float32Array, ids = ids2d): number[] {
  const model = createVisionTransformer({ ...base, encoding: { id: encoding } }, new Rng(1));
  return tidy(() =>
    noGrad(() =>
      Array.from(
        model
          .forward({ patches, batchSize: B, seqLen: T, positionIds: ids, training: false, rng: new Rng(2) })
          .toArray(),
      ),
    ),
  );
}

/** Patches of example b permuted by `perm` (token t takes token perm[t]'s pixels). */
function permuted(patches: Float32Array, perm: number[]): Float32Array {
  const out = new Float32Array(patches.length);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      out.set(patches.subarray((b * T + perm[t]!) * P, (b * T + perm[t]! + 1) * P), (b * T + t) * P);
  return out;
}

/** Patches of 2 examples of 4 tokens permuted by `perm`. */
function permuted4(patches: Float32Array, perm: number[]): Float32Array {
  const out = new Float32Array(patches.length);
  for (let b = 0; b < 2; b++)
    for (let t = 0; t < 4; t++)
      out.set(patches.subarray((b * 4 + perm[t]!) * P, (b * 4 + perm[t]! + 1) * P), (b * 4 + t) * P);
  return out;
}

describe("vision encoder", () => {
  const patches = Float32Array.from(randomValues(3, B * T * P));
  const perm = [4, 0, 8, 1, 7, 2, 6, 3, 5];

  it("gives [B, C] logits; without positions a permutation of the patches changes nothing (mean pooling)", () => {
    const a = logits("nope", patches);
    expect(a).toHaveLength(B * 3);
    const b = logits("nope", permuted(patches, perm));
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
  });

  it.each(["rope-2d", "learned-2d", "rope", "sinusoidal"])(
    "%s makes the output depend on where each patch is",
    (id) => {
      const a = logits(id, patches);
      const b = logits(id, permuted(patches, perm));
      expect(a.some((v, i) => Math.abs(v - b[i]!) > 1e-4)).toBe(true);
    },
  );

  it("runs at a larger grid than trained (learned-2d resized, rope-2d at the new ids)", () => {
    const G2 = 5;
    const T2 = G2 * G2;
    const ids = Float64Array.from({ length: T2 * 2 }, (_, i) =>
      i % 2 === 0 ? Math.floor(i / 2 / G2) : ((i / 2) % G2) | 0,
    );
    for (const id of ["rope-2d", "learned-2d"]) {
      const model = createVisionTransformer({ ...base, maxSeqLen: T2, encoding: { id } }, new Rng(1));
      const out = tidy(() =>
        noGrad(() =>
          model
            .forward({
              patches: Float32Array.from(randomValues(4, T2 * P)),
              batchSize: 1,
              seqLen: T2,
              positionIds: ids,
              training: false,
              rng: new Rng(2),
            })
            .toArray(),
        ),
      );
      expect(out.every(Number.isFinite)).toBe(true);
    }
  });

  it.each(["rope-2d", "learned-2d"])(
    "%s: gradients of every parameter group match float64 finite differences",
    (id) => {
      withFloat64Storage(() => {
        const model = createVisionTransformer({ ...base, encoding: { id } }, new Rng(3));
        const labels = Int32Array.from([2, 0]);
        const input = {
          patches,
          batchSize: B,
          seqLen: T,
          positionIds: ids2d,
          training: true,
          rng: new Rng(4),
          labels,
        };
        const lossAt = () => tidy(() => noGrad(() => model.loss(input).item()));
        tidy(() => model.loss(input).backward());
        const params = model.parameters();
        // Patch embedding, first block's query, the head and the encoding's own table (learned-2d).
        const picked = params.filter((p) =>
          /patchEmbedding|blocks\.0\.attn\.query|head|learned-2d/.test(p.name ?? ""),
        );
        expect(picked.length).toBeGreaterThanOrEqual(id === "learned-2d" ? 7 : 6);
        const h = 1e-6;
        for (const p of picked) {
          const analytic = Array.from(p.grad ?? new Float64Array(p.size));
          const stride = Math.max(1, Math.floor(p.size / 5));
          for (let i = 0; i < p.size; i += stride) {
            const original = p.data[i]!;
            p.data[i] = original + h;
            const plus = lossAt();
            p.data[i] = original - h;
            const minus = lossAt();
            p.data[i] = original;
            const numeric = (plus - minus) / (2 * h);
            expect(Math.abs(analytic[i]! - numeric), `${p.name}[${i}]`).toBeLessThanOrEqual(
              1e-8 + 1e-5 * Math.max(Math.abs(numeric), Math.abs(analytic[i]!)),
            );
          }
        }
      });
    },
  );

  it("video ids (t, h, w): a 2-D method reads (h, w), so frames in another order change nothing for it", () => {
    const ids3 = Float64Array.from({ length: 2 * 4 * 3 }, (_, i) => {
      const [p, c] = [Math.floor(i / 3) % 4, i % 3]; // 2 frames of a 1 x 2 grid per example
      return [Math.floor(p / 2), 0, p % 2][c]!;
    });
    const model = createVisionTransformer(
      { ...base, grid: [2, 1, 2], encoding: { id: "rope-2d" } },
      new Rng(1),
    );
    const run = (patches: Float32Array) =>
      tidy(() =>
        noGrad(() =>
          Array.from(
            model
              .forward({
                patches,
                batchSize: 2,
                seqLen: 4,
                positionIds: ids3,
                training: false,
                rng: new Rng(2),
              })
              .toArray(),
          ),
        ),
      );
    const clip = Float32Array.from(randomValues(5, 2 * 4 * P));
    const swapped = permuted4(clip, [2, 3, 0, 1]); // frame 1 first
    const [a, b] = [run(clip), run(swapped)];
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
  });

  it("idCoordinates: VRoPE's four ids on a video grid are read as given; without it VRoPE is refused", () => {
    const video = { ...base, dModel: 16, grid: [2, 1, 2], encoding: { id: "vrope" } }; // 4 pairs a head: one per id
    expect(() => createVisionTransformer(video, new Rng(1))).toThrow(
      /read 4 coordinates per position, the ids have 3/,
    );
    const model = createVisionTransformer({ ...video, idCoordinates: 4 }, new Rng(1));
    const clip = Float32Array.from(randomValues(5, 2 * 4 * P));
    const run = (positionIds: Float64Array) =>
      tidy(() =>
        noGrad(() =>
          Array.from(
            model
              .forward({
                patches: clip,
                batchSize: 2,
                seqLen: 4,
                positionIds,
                training: false,
                rng: new Rng(2),
              })
              .toArray(),
          ),
        ),
      );
    const ids4 = Float64Array.from({ length: 2 * 4 * 4 }, (_, i) => (i * 5) % 7);
    const shifted = ids4.map((v) => v + 3); // rotary: one shift of every id changes nothing
    const other = ids4.map((v, i) => (i % 4 === 3 ? 500 * v : v)); // the fourth id is read (lowest frequency)
    const [a, b, c] = [run(ids4), run(shifted), run(other)];
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 4);
    expect(c.some((v, i) => Math.abs(v - a[i]!) > 1e-4)).toBe(true);
    expect(() => run(ids4.subarray(0, 2 * 4 * 3))).toThrow(/expected 2 \* 4 \* 4/);
    expect(() => createVisionTransformer({ ...video, idCoordinates: 2 }, new Rng(1))).toThrow(
      /model\.idCoordinates/,
    );
  });

  it("attentionWeights: (B, H, T, T) probabilities; uniform without positions on identical patches; rope-2d relative", () => {
    const same = new Float32Array(B * T * P).fill(0.7); // every patch alike: content cannot tell them apart
    const weights = (encoding: string, layer: number) => {
      const model = createVisionTransformer({ ...base, encoding: { id: encoding } }, new Rng(1));
      const input = {
        patches: same,
        batchSize: B,
        seqLen: T,
        positionIds: ids2d,
        training: false,
        rng: new Rng(2),
      };
      return tidy(() =>
        noGrad(() => {
          const w = model.attentionWeights(input, layer);
          expect(w.shape).toEqual([B, 2, T, T]);
          return w.toArray();
        }),
      );
    };
    const nope = weights("nope", 1);
    for (const v of nope) expect(v).toBeCloseTo(1 / T, 6);
    const rope = weights("rope-2d", 0);
    for (let row = 0; row < B * 2 * T; row++) {
      const sum = rope.slice(row * T, (row + 1) * T).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 5);
    }
    // Identical content: a weight ratio depends only on the offsets. From the centre (1,1): key (1,2) over key (1,1);
    // from the corner (0,0): key (0,1) over key (0,0); both the offsets (0, +1) over (0, 0).
    const w = (query: number, key: number) => rope[query * T + key]!; // example 0, head 0
    expect(w(4, 5) / w(4, 4)).toBeCloseTo(w(0, 1) / w(0, 0), 4);
    expect(w(4, 7) / w(4, 4)).toBeCloseTo(w(1, 4) / w(1, 1), 4); // offsets (+1, 0)
    expect(Math.abs(w(4, 5) / w(4, 4) - 1)).toBeGreaterThan(1e-4); // and position does matter
    expect(() => weights("nope", 2)).toThrow(/layer 2, expected 0\.\.1/);
  });

  it("refuses a bad grid in one line", () => {
    expect(() => createVisionTransformer({ ...base, grid: [3] }, new Rng(1))).toThrow(
      /model\.grid.*2 or 3 integers/,
    );
  });
});
