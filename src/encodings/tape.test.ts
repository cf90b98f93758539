import { describe, expect, it } from "vitest";
import { add, noGrad, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { rotateHalfRows } from "./content-rotation.js";
import { ropeInverseFrequencies } from "./rope.js";
import { tapeAttentionUpdate, tapeInitialState, tapeMlpUpdate, tapeRotate, tapeSpec } from "./tape.js";
import { resolveParams } from "./types.js";

const [B, H, T, Dh, D, Pp] = [1, 2, 4, 4, 3, 3];
const N = B * H * T * Dh;
const ids = [3, 4, 5, 6];

describe("TAPE", () => {
  const q = randomValues(1, N);
  const k = randomValues(2, N);
  const init = tapeInitialState(ids, B, H, T, Dh, 10000);

  it("the initial state rotates as RoPE does at the ids (official AdaRotaryEmbedding + apply_rotary_pos_emb)", () => {
    const got = tidy(() =>
      noGrad(() =>
        tapeRotate(tensor(q, [B, H, T, Dh]), {
          cos: tensor(init.cos, [B, H, T, Dh]),
          sin: tensor(init.sin, [B, H, T, Dh]),
        }).toArray(),
      ),
    );
    const inv = ropeInverseFrequencies(Dh, 10000);
    const angles = ids.flatMap((t) => Array.from(inv, (f) => t * f));
    for (let h = 0; h < H; h++) {
      const row = Float64Array.from(q.slice(h * T * Dh, (h + 1) * T * Dh));
      rotateHalfRows(row, angles, T, Dh);
      for (let n = 0; n < row.length; n++) expect(got[h * T * Dh + n]).toBeCloseTo(row[n]!, 5);
    }
  });

  /** Float64 brute force of the attention update: A from the rotated q, k; E' = (A E) * rowSum(W)_h + E. */
  function bruteAttention(C: ArrayLike<number>, S: ArrayLike<number>, w: number[], causal: boolean) {
    const rot = (x: number[], n: number) => {
      const out: number[] = [];
      for (let c = 0; c < Dh; c++) {
        const partner = c < Dh / 2 ? -x[n + c + Dh / 2]! : x[n + c - Dh / 2]!;
        out.push(x[n + c]! * C[n + c]! + partner * S[n + c]!);
      }
      return out;
    };
    const outC = Array.from(C);
    const outS = Array.from(S);
    for (let h = 0; h < H; h++) {
      const scale = w.slice(h * H, (h + 1) * H).reduce((a, b) => a + b, 0);
      for (let i = 0; i < T; i++) {
        const qi = rot(q, (h * T + i) * Dh);
        const logits = Array.from({ length: T }, (_, j) => {
          if (causal && j > i) return Number.NEGATIVE_INFINITY;
          const kj = rot(k, (h * T + j) * Dh);
          return qi.reduce((a, v, c) => a + v * kj[c]!, 0) / Math.sqrt(Dh);
        });
        const m = Math.max(...logits);
        const e = logits.map((z) => Math.exp(z - m));
        const Z = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < Dh; c++) {
          let ac = 0;
          let as = 0;
          for (let j = 0; j < T; j++) {
            ac += (e[j]! / Z) * C[(h * T + j) * Dh + c]!;
            as += (e[j]! / Z) * S[(h * T + j) * Dh + c]!;
          }
          outC[(h * T + i) * Dh + c]! += scale * ac;
          outS[(h * T + i) * Dh + c]! += scale * as;
        }
      }
    }
    return { cos: outC, sin: outS };
  }

  const w = randomValues(3, H * H, 0.5);
  const C = randomValues(4, N);
  const S = randomValues(5, N);

  it("the attention update equals the float64 brute force, causal and not; W_post = 0 (the init) keeps the state", () => {
    for (const causal of [true, false]) {
      const got = tidy(() =>
        noGrad(() => {
          const out = tapeAttentionUpdate(
            tensor(q, [B, H, T, Dh]),
            tensor(k, [B, H, T, Dh]),
            { cos: tensor(C, [B, H, T, Dh]), sin: tensor(S, [B, H, T, Dh]) },
            tensor(w, [H, H]),
            causal,
          );
          return [out.state.cos.toArray(), out.state.sin.toArray()];
        }),
      );
      const ref = bruteAttention(C, S, w, causal);
      for (let n = 0; n < N; n++) {
        expect(got[0]![n]).toBeCloseTo(ref.cos[n]!, 5);
        expect(got[1]![n]).toBeCloseTo(ref.sin[n]!, 5);
      }
    }
    const kept = tidy(() =>
      noGrad(() =>
        tapeAttentionUpdate(
          tensor(q, [B, H, T, Dh]),
          tensor(k, [B, H, T, Dh]),
          { cos: tensor(C, [B, H, T, Dh]), sin: tensor(S, [B, H, T, Dh]) },
          tensor(new Array(H * H).fill(0), [H, H]),
          true,
        ).state.cos.toArray(),
      ),
    );
    for (let n = 0; n < N; n++) expect(kept[n]).toBeCloseTo(C[n]!, 6);
  });

  const x = randomValues(6, B * T * D);
  const gate = randomValues(7, D * Pp, 0.7);
  const up = randomValues(8, Pp * H, 0.7);
  const down = randomValues(9, H * Pp, 0.7);

  it("the PELayer update equals the official einsums in float64 (up over heads, SiLU gate per token, down)", () => {
    const got = tidy(() =>
      noGrad(() =>
        tapeMlpUpdate(
          tensor(x, [B, T, D]),
          { cos: tensor(C, [B, H, T, Dh]), sin: tensor(S, [B, H, T, Dh]) },
          tensor(gate, [D, Pp]),
          tensor(up, [Pp, H]),
          tensor(down, [H, Pp]),
        ).cos.toArray(),
      ),
    );
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < Dh; c++) {
          let v = C[(h * T + t) * Dh + c]!;
          for (let e = 0; e < Pp; e++) {
            let z = 0;
            for (let d = 0; d < D; d++) z += x[t * D + d]! * gate[d * Pp + e]!;
            const silu = z / (1 + Math.exp(-z));
            let upE = 0;
            for (let g = 0; g < H; g++) upE += up[e * H + g]! * C[(g * T + t) * Dh + c]!;
            v += down[h * Pp + e]! * silu * upE;
          }
          expect(got[(h * T + t) * Dh + c]).toBeCloseTo(v, 5);
        }
  });

  it("has exact gradients through both updates (float64 finite differences)", () => {
    const attention = gradCheck(
      ([a, b, c, s, ww]) => {
        const out = tapeAttentionUpdate(a!, b!, { cos: c!, sin: s! }, ww!, true);
        return add(add(out.q, out.state.cos), out.state.sin); // every output, one projection
      },
      [
        { shape: [B, H, T, Dh], values: q },
        { shape: [B, H, T, Dh], values: k },
        { shape: [B, H, T, Dh], values: C },
        { shape: [B, H, T, Dh], values: S },
        { shape: [H, H], values: w },
      ],
    );
    expect(attention.worstRatio, attention.worst).toBeLessThanOrEqual(1);
    const mlp = gradCheck(
      ([xx, c, g, u, dd]) => tapeMlpUpdate(xx!, { cos: c!, sin: c! }, g!, u!, dd!).cos,
      [
        { shape: [B, T, D], values: x },
        { shape: [B, H, T, Dh], values: C },
        { shape: [D, Pp], values: gate },
        { shape: [Pp, H], values: up },
        { shape: [H, Pp], values: down },
      ],
    );
    expect(mlp.worstRatio, mlp.worst).toBeLessThanOrEqual(1);
  });

  it("shifts the ids by one k in 0 .. 2 maxSeqLen in training only, and owns W_post per layer, PELayers between layers", () => {
    const dims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 3, maxSeqLen: 8, causal: true };
    const enc = tapeSpec.trainable!(resolveParams("tape", tapeSpec.params, {}), dims, new Rng(1));
    expect(enc.parameters().map((p) => p.shape)).toEqual([
      [2, 2],
      [2, 2],
      [2, 2],
      [8, 4],
      [4, 2],
      [2, 4],
      [8, 4],
      [4, 2],
      [2, 4],
    ]);
    const rng = new Rng(2);
    const shifts = new Set<number>();
    for (let n = 0; n < 200; n++) {
      const out = enc.positionIds!({ batchSize: 2, seqLen: 3, rng, training: true });
      expect(Array.from(out)).toEqual([0, 1, 2, 0, 1, 2].map((v) => v + out[0]!));
      shifts.add(out[0]!);
    }
    expect(Math.min(...shifts)).toBe(0);
    expect(Math.max(...shifts)).toBe(16);
    expect(Array.from(enc.positionIds!({ batchSize: 1, seqLen: 3, rng, training: false }))).toEqual([
      0, 1, 2,
    ]);
  });
});
