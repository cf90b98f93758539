import { describe, expect, it } from "vitest";
import { matmul, noGrad, reshape, splitHeads, tensor, tidy } from "../engine/index.js";
import { gradCheck, randomValues } from "../engine/testing/gradcheck.js";
import { Rng } from "../util/rng.js";
import { copeBias } from "./cope.js";
import { copeRelativeSpec, copeSeparateGateKeysSpec, relativePositionLogits } from "./cope-variants.js";
import { resolveParams } from "./types.js";

const [B, H, T, Dh] = [1, 2, 5, 3];
const D = H * Dh;
const DIMS = { dModel: D, numHeads: H, headDim: Dh, numLayers: 2, maxSeqLen: 6, causal: true };

/** The official RelPosEmb.forward for one slice, transcribed: pos_logits = q @ emb, rel2abs, trim to the last L keys. */
function officialRelative(q: number[], emb: number[], n: number): number[] {
  const L = T;
  const logits = Array.from({ length: L }, (_, i) =>
    Array.from({ length: n }, (_, p) => [0, 1, 2].reduce((a, c) => a + q[i * Dh + c]! * emb[c * n + p]!, 0)),
  );
  // rel2abs: pad each row with L zeros, flatten, drop the last L, view as [L, n + L - 1].
  const flat = logits.flatMap((row) => [...row, ...new Array(L).fill(0)]).slice(0, -L);
  const width = n + L - 1;
  const out: number[] = [];
  for (let i = 0; i < L; i++) out.push(...flat.slice(i * width + width - L, (i + 1) * width)); // [:, :, -Lk:]
  return out;
}

describe("CoPE variants", () => {
  const q = randomValues(1, B * H * T * Dh);
  const n = 6;
  const emb = randomValues(2, Dh * n, 0.5);

  it("relative logits equal the official RelPosEmb + rel2abs (transcribed), keys after the query get 0", () => {
    const got = tidy(() =>
      noGrad(() => relativePositionLogits(tensor(q, [B, H, T, Dh]), tensor(emb, [Dh, n])).toArray()),
    );
    for (let h = 0; h < H; h++) {
      const ref = officialRelative(q.slice(h * T * Dh, (h + 1) * T * Dh), emb, n);
      for (let i = 0; i < T; i++)
        for (let j = 0; j < T; j++) {
          const v = got[(h * T + i) * T + j]!;
          if (j <= i) expect(v).toBeCloseTo(ref[i * T + j]!, 5);
          else expect(Math.abs(v)).toBe(0);
        }
    }
  });

  it("relative logits have exact gradients for q and the table (float64 finite differences)", () => {
    const result = gradCheck(
      ([a, b]) => relativePositionLogits(a!, b!),
      [
        { shape: [B, H, T, Dh], values: q },
        { shape: [Dh, n], values: emb },
      ],
    );
    expect(result.worstRatio, result.worst).toBeLessThanOrEqual(1);
  });

  it("cope-separate-gate-keys: the gates read x W_kc, the interpolated logits q (CoPE's copeBias with kc as keys)", () => {
    const enc = copeSeparateGateKeysSpec.trainable!(
      resolveParams("s", copeSeparateGateKeysSpec.params, {}),
      DIMS,
      new Rng(3),
    );
    const [table, , gateKey] = enc.parameters();
    const e = randomValues(4, table!.size, 0.5);
    table!.data.set(e);
    const x = randomValues(5, B * T * D);
    const k = randomValues(6, B * H * T * Dh);
    const [bias, kc] = tidy(() =>
      noGrad(() => {
        const xt = tensor(x, [B, T, D]);
        const out = enc.contentAttention!({
          x: xt,
          q: tensor(q, [B, H, T, Dh]),
          k: tensor(k, [B, H, T, Dh]),
          positionIds: new Float64Array(T),
          layer: 0,
        });
        const keys = splitHeads(reshape(matmul(reshape(xt, [T, D]), gateKey!), [B, T, D]), 1, H)[0]!;
        return [out.bias!.toArray(), keys.toArray()];
      }),
    );
    const ref = copeBias(q, kc!, e, T, Dh);
    for (let m = 0; m < ref.length; m++) expect(bias![m]).toBeCloseTo(ref[m]!, 5);
    const withModelKeys = copeBias(q, k, e, T, Dh);
    expect(withModelKeys.some((v, m) => Math.abs(v - ref[m]!) > 1e-3)).toBe(true);
  });

  it("cope-relative: relative only on layers where (l + 1) % copeEvery != 0, CoPE added on the others", () => {
    const params = resolveParams("r", copeRelativeSpec.params, { copeEvery: 2 });
    const enc = copeRelativeSpec.trainable!(params, DIMS, new Rng(3));
    const parameters = enc.parameters();
    expect(parameters.map((p) => p.shape)).toEqual([
      [Dh, 7],
      [Dh, 7],
      [Dh, 6],
      [Dh, 6],
    ]);
    const e = randomValues(7, Dh * 7, 0.5);
    parameters[1]!.data.set(e); // layer 1's CoPE table
    const k = randomValues(8, B * H * T * Dh);
    const run = (layer: number) =>
      tidy(() =>
        noGrad(() => {
          const args = {
            x: tensor(new Array(B * T * D).fill(0), [B, T, D]),
            q: tensor(q, [B, H, T, Dh]),
            k: tensor(k, [B, H, T, Dh]),
            positionIds: new Float64Array(T),
            layer,
          };
          const rel = relativePositionLogits(args.q, parameters[2 + layer]!).toArray();
          return { bias: enc.contentAttention!(args).bias!.toArray(), rel };
        }),
      );
    const zero = run(0);
    for (let m = 0; m < zero.rel.length; m++)
      expect(zero.bias[m]).toBeCloseTo(zero.rel[m]! / Math.sqrt(Dh), 5);
    const one = run(1);
    const cope = copeBias(q, k, e, T, Dh);
    for (let m = 0; m < cope.length; m++) {
      const causal = m % T <= Math.floor(m / T) % T;
      if (causal) expect(one.bias[m]).toBeCloseTo(one.rel[m]! / Math.sqrt(Dh) + cope[m]!, 5);
    }
  });
});
