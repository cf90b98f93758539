/**
 * The fused row kernels of attention (./assembly/attention.ts), which compute only the keys each query sees, held
 * to the batched-matmul path bit for bit (same summation order, masked terms being exact zeros), in both builds
 * (plain SIMD128 and relaxed SIMD), and to the TypeScript reference (../kernels/attention.ts, itself checked
 * against float64 finite differences in ../ops/gradients.test.ts) within float32 rounding; plus a directional
 * finite-difference check of the fused backward against the fused forward.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { type AttentionSizes, attentionBackward, attentionForward } from "../kernels/attention.js";
import { allocFloat32 } from "../memory.js";
import { copyEngineArray, randomEngineArray } from "../testing/engine-arrays.js";
import { createWasmKernels } from "./index.js";
import { type KernelVariant, relaxedSimdSupported } from "./module.js";

const variants: KernelVariant[] = relaxedSimdSupported() ? ["simd", "relaxed-simd"] : ["simd"];
const paths = Object.fromEntries(
  variants.map((variant) => [
    variant,
    {
      fused: createWasmKernels({ variant, fusedAttention: true }),
      matmul: createWasmKernels({ variant, fusedAttention: false }),
    },
  ]),
) as Record<
  KernelVariant,
  { fused: ReturnType<typeof createWasmKernels>; matmul: ReturnType<typeof createWasmKernels> }
>;

const randomArray = randomEngineArray;
const copy = copyEngineArray;

interface Case {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  bias: Float32Array | null;
  biasOffsets: Int32Array | null;
  dout: Float32Array;
  grads: Float32Array[]; // initial dq, dk, dv, dbias (the kernels accumulate)
}

function makeCase(s: AttentionSizes, withBias: boolean, seed: number): Case {
  const { BH, Tq, Tk, D, Dv } = s;
  const rng = new Rng(seed);
  const slabs = Math.min(BH, 2); // slab bh reads bias slab bh % 2, as a per-head bias serves every batch item
  const bias = withBias ? randomArray(rng, slabs * Tq * Tk) : null;
  return {
    q: randomArray(rng, BH * Tq * D),
    k: randomArray(rng, BH * Tk * D),
    v: randomArray(rng, BH * Tk * Dv),
    bias,
    biasOffsets: withBias ? Int32Array.from({ length: BH }, (_, bh) => (bh % slabs) * Tq * Tk) : null,
    dout: randomArray(rng, BH * Tq * Dv),
    grads: [BH * Tq * D, BH * Tk * D, BH * Tk * Dv, withBias ? slabs * Tq * Tk : 1].map((n) =>
      randomArray(rng, n),
    ),
  };
}

type Forward = typeof attentionForward;
type Backward = typeof attentionBackward;

/** Forward then backward with one implementation: [out, att, dq, dk, dv, dbias]. */
function run(impl: { attentionForward: Forward; attentionBackward: Backward }, s: AttentionSizes, c: Case) {
  const out = allocFloat32(Math.max(s.BH * s.Tq * s.Dv, 1));
  const att = allocFloat32(Math.max(s.BH * s.Tq * s.Tk, 1));
  impl.attentionForward(out, att, c.q, c.k, c.v, c.bias, c.biasOffsets, s);
  const [dq, dk, dv, dbias] = c.grads.map(copy);
  impl.attentionBackward(dq, dk, dv, c.bias ? dbias : null, c.dout, att, c.q, c.k, c.v, c.biasOffsets, s);
  return { out, att, dq, dk, dv, dbias };
}

function expectSameBits(s: AttentionSizes, withBias: boolean, seed: number): void {
  const c = makeCase(s, withBias, seed);
  for (const variant of variants) {
    const fused = run(paths[variant].fused, s, c);
    const matmul = run(paths[variant].matmul, s, c);
    for (const key of ["out", "att", "dq", "dk", "dv", "dbias"] as const) {
      const a = fused[key];
      const b = matmul[key];
      for (let i = 0; i < a.length; i++) {
        if (!Object.is(a[i], b[i])) {
          throw new Error(`${variant} ${key}[${i}]: fused ${a[i]} vs matmul ${b[i]} (${JSON.stringify(s)})`);
        }
      }
    }
  }
}

const vectorDims = fc.constantFrom(4, 8, 12, 16, 32);

describe("WASM fused attention rows", () => {
  it("equals the batched-matmul path bit for bit: causal or not, bias or not, Tq <= Tk and Tq > Tk", () => {
    fc.assert(
      fc.property(
        fc.record({
          BH: fc.integer({ min: 1, max: 4 }),
          Tq: fc.integer({ min: 1, max: 23 }),
          extraKeys: fc.integer({ min: -3, max: 6 }),
          D: vectorDims,
          Dv: vectorDims,
          causal: fc.boolean(),
          withBias: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        (r) => {
          const Tk = Math.max(1, r.Tq + r.extraKeys);
          const s = { BH: r.BH, Tq: r.Tq, Tk, D: r.D, Dv: r.Dv, scale: 1 / Math.sqrt(r.D), causal: r.causal };
          expectSameBits(s, r.withBias, r.seed);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("equals the matmul path past the matmul's 256-term depth blocks (T = 300, causal and not)", () => {
    for (const causal of [true, false]) {
      expectSameBits({ BH: 1, Tq: 300, Tk: 300, D: 4, Dv: 8, scale: 0.5, causal }, causal, 3);
    }
  });

  it("matches the TypeScript reference at the lab's shape (head dim 16, 42 tokens, causal)", () => {
    const s = { BH: 8, Tq: 42, Tk: 42, D: 16, Dv: 16, scale: 0.25, causal: true };
    for (const withBias of [false, true]) {
      const c = makeCase(s, withBias, 17);
      const ours = run(paths[variants[0]].fused, s, c);
      const ref = run({ attentionForward, attentionBackward }, s, c);
      for (const key of ["out", "att", "dq", "dk", "dv", "dbias"] as const) {
        let worst = 0;
        for (let i = 0; i < ref[key].length; i++)
          worst = Math.max(worst, Math.abs(ours[key][i] - ref[key][i]));
        expect(worst, key).toBeLessThan(1e-5);
      }
    }
  });

  it("has the gradient of its forward: a directional central difference, causal with a bias", () => {
    const s = { BH: 3, Tq: 7, Tk: 9, D: 8, Dv: 4, scale: 0.6, causal: true };
    const kernels = paths[variants[variants.length - 1]].fused;
    const c = makeCase(s, true, 29);
    // loss = sum(out * dout); its gradient along a random direction u of (q, k, v, bias)
    const zeroGrads = c.grads.map((g) => allocFloat32(g.length));
    const grads = run(kernels, s, { ...c, grads: zeroGrads });
    const inputs = [c.q, c.k, c.v, c.bias as Float32Array];
    const gradOf = [grads.dq, grads.dk, grads.dv, grads.dbias];
    const rng = new Rng(31);
    const u = inputs.map((x) => Float64Array.from({ length: x.length }, () => rng.next() * 2 - 1));
    let analytic = 0;
    inputs.forEach((_, t) => {
      for (let i = 0; i < u[t].length; i++) analytic += gradOf[t][i] * u[t][i];
    });
    const lossAt = (h: number): number => {
      const moved = inputs.map((x, t) => Float32Array.from(x, (value, i) => value + h * u[t][i]));
      const views = moved.map((m) => {
        const view = allocFloat32(m.length);
        view.set(m);
        return view;
      });
      const out = allocFloat32(s.BH * s.Tq * s.Dv);
      const att = allocFloat32(s.BH * s.Tq * s.Tk);
      kernels.attentionForward(out, att, views[0], views[1], views[2], views[3], c.biasOffsets, s);
      let loss = 0;
      for (let i = 0; i < out.length; i++) loss += out[i] * c.dout[i];
      return loss;
    };
    const h = 1e-2;
    const numeric = (lossAt(h) - lossAt(-h)) / (2 * h);
    expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 * (1 + Math.abs(analytic)));
  });
});
