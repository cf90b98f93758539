/**
 * WASM fused attention with the signatures of the references in ../kernels/attention.ts (see there for the
 * math and layouts): per (batch, head) slab,
 *   forward:  att = softmax(scale * q k^T + bias) (causal-masked), out = att v
 *   backward: datt = dout v^T;  dv += att^T dout;  dpre = att * (datt - rowsum(att * datt));  dbias += dpre;
 *             dq += scale dpre k;  dk += scale dpre^T q
 * The products are batched SIMD matmuls over all BH slabs at once (split across the thread pool when large);
 * the softmax and its backward are SIMD row kernels (./assembly/softmax.ts). Scores of masked keys are computed
 * by the matmul and then overwritten with 0.
 *
 * On one thread (no pool to split the products across) and with D and Dv multiples of 4, the fused row kernels of
 * ./assembly/attention.ts run instead: slab by slab, row by row, they compute only the keys each query sees
 * (about half the work of a causal slab) with the same summation order, so both paths give the same bits
 * (attention.test.ts). With a pool the batched matmuls stay, since they split across threads.
 */
import type { AttentionSizes } from "../kernels/attention.js";
import type { MatmulKernel } from "../kernels/types.js";
import { allocFloat32, freeFloat32 } from "../memory.js";
import { checkSizes, checkView } from "./check.js";
import type { KernelExports } from "./module.js";

type Floats = Float32Array;

export interface WasmAttentionKernels {
  attentionForward(
    out: Floats,
    att: Floats,
    q: Floats,
    k: Floats,
    v: Floats,
    bias: Floats | null,
    biasOffsets: Int32Array | null,
    sizes: AttentionSizes,
  ): void;
  attentionBackward(
    dq: Floats | null,
    dk: Floats | null,
    dv: Floats | null,
    dbias: Floats | null,
    dout: Floats,
    att: Floats,
    q: Floats,
    k: Floats,
    v: Floats,
    biasOffsets: Int32Array | null,
    sizes: AttentionSizes,
  ): void;
}

function checkAttentionSizes(kernel: string, s: AttentionSizes): void {
  checkSizes(kernel, { BH: s.BH, Tq: s.Tq, Tk: s.Tk, D: s.D, Dv: s.Dv });
  if (!Number.isFinite(s.scale)) throw new RangeError(`${kernel}: scale must be finite, got ${s.scale}`);
}

/** Floats of the fused kernels' transposed k or v: Tk rounded up to 16, times max(D, Dv). */
function transposedLength(s: AttentionSizes): number {
  return ((s.Tk + 15) & ~15) * Math.max(s.D, s.Dv);
}

/** Byte offset of slab bh's bias (Tq x Tk), or 0 for none; checks that the slab fits in `bias`. */
function biasPointer(
  kernel: string,
  bias: Floats | null,
  offsets: Int32Array | null,
  bh: number,
  slab: number,
): number {
  if (!bias || !offsets) return 0;
  const start = offsets[bh];
  if (!(start >= 0 && start + slab <= bias.length)) {
    throw new RangeError(
      `${kernel}: biasOffsets[${bh}] = ${start} puts a ${slab}-element slab outside the bias (${bias.length} elements)`,
    );
  }
  return bias.byteOffset + start * 4;
}

/** Options for `createWasmAttention`. */
export interface WasmAttentionOptions {
  /** Use the fused row kernels where the sizes allow (default true; the kernels' owner passes false with a pool). */
  fused?: boolean;
}

/** The fused row kernels need D and Dv to be whole SIMD vectors. */
function fusedFits(s: AttentionSizes): boolean {
  return s.D > 0 && s.Dv > 0 && s.D % 4 === 0 && s.Dv % 4 === 0;
}

export function createWasmAttention(
  kernels: KernelExports,
  matmul: MatmulKernel,
  options: WasmAttentionOptions = {},
): WasmAttentionKernels {
  const fused = options.fused ?? true;
  let scratch: Float32Array | null = null;
  /** A reusable engine-memory buffer of at least `length` floats for datt. */
  const scratchOf = (length: number): Float32Array => {
    if (!scratch || scratch.length < length) {
      if (scratch) freeFloat32(scratch);
      scratch = allocFloat32(length);
    }
    return scratch;
  };

  return {
    attentionForward(out, att, q, k, v, bias, biasOffsets, sizes) {
      const name = "wasm attentionForward";
      checkAttentionSizes(name, sizes);
      const { BH, Tq, Tk, D, Dv, scale, causal } = sizes;
      checkView(name, "out", out, BH * Tq * Dv);
      checkView(name, "att", att, BH * Tq * Tk);
      checkView(name, "q", q, BH * Tq * D);
      checkView(name, "k", k, BH * Tk * D);
      checkView(name, "v", v, BH * Tk * Dv);
      if (bias) checkView(name, "bias", bias, 0);
      if (BH === 0 || Tq === 0) return;
      const slab = Tq * Tk;
      if (fused && fusedFits(sizes)) {
        const work = scratchOf(transposedLength(sizes)).byteOffset;
        for (let bh = 0; bh < BH; bh++) {
          kernels.attentionRowsForward(
            out.byteOffset + bh * Tq * Dv * 4,
            att.byteOffset + bh * slab * 4,
            q.byteOffset + bh * Tq * D * 4,
            k.byteOffset + bh * Tk * D * 4,
            v.byteOffset + bh * Tk * Dv * 4,
            biasPointer(name, bias, biasOffsets, bh, slab),
            Tq,
            Tk,
            D,
            Dv,
            causal ? 1 : 0,
            scale,
            work,
          );
        }
        return;
      }
      // scores = q k^T for every slab
      matmul(q, k, att, {
        batch: BH,
        m: Tq,
        n: Tk,
        k: D,
        transA: false,
        transB: true,
        aBatchStride: Tq * D,
        bBatchStride: Tk * D,
        cBatchStride: slab,
        accumulate: false,
      });
      for (let bh = 0; bh < BH; bh++) {
        const biasAt = biasPointer(name, bias, biasOffsets, bh, slab);
        kernels.attentionSoftmax(
          att.byteOffset + bh * slab * 4,
          biasAt,
          Tq,
          Tk,
          causal ? 1 : 0,
          Tk - Tq,
          scale,
        );
      }
      // out = att v
      matmul(att, v, out, {
        batch: BH,
        m: Tq,
        n: Dv,
        k: Tk,
        transA: false,
        transB: false,
        aBatchStride: slab,
        bBatchStride: Tk * Dv,
        cBatchStride: Tq * Dv,
        accumulate: false,
      });
    },

    attentionBackward(dq, dk, dv, dbias, dout, att, q, k, v, biasOffsets, sizes) {
      const name = "wasm attentionBackward";
      checkAttentionSizes(name, sizes);
      const { BH, Tq, Tk, D, Dv, scale, causal } = sizes;
      checkView(name, "dout", dout, BH * Tq * Dv);
      checkView(name, "att", att, BH * Tq * Tk);
      checkView(name, "q", q, BH * Tq * D);
      checkView(name, "k", k, BH * Tk * D);
      checkView(name, "v", v, BH * Tk * Dv);
      if (dq) checkView(name, "dq", dq, BH * Tq * D);
      if (dk) checkView(name, "dk", dk, BH * Tk * D);
      if (dv) checkView(name, "dv", dv, BH * Tk * Dv);
      if (dbias) checkView(name, "dbias", dbias, 0);
      if (BH === 0 || Tq === 0 || Tk === 0) return;
      const slab = Tq * Tk;
      if (fused && fusedFits(sizes)) {
        const work = scratchOf(transposedLength(sizes) + slab).byteOffset;
        const at = (t: Floats | null, offset: number) => (t ? t.byteOffset + offset * 4 : 0);
        for (let bh = 0; bh < BH; bh++) {
          kernels.attentionRowsBackward(
            at(dq, bh * Tq * D),
            at(dk, bh * Tk * D),
            at(dv, bh * Tk * Dv),
            biasPointer(name, dbias, biasOffsets, bh, slab),
            dout.byteOffset + bh * Tq * Dv * 4,
            att.byteOffset + bh * slab * 4,
            q.byteOffset + bh * Tq * D * 4,
            k.byteOffset + bh * Tk * D * 4,
            v.byteOffset + bh * Tk * Dv * 4,
            Tq,
            Tk,
            D,
            Dv,
            causal ? 1 : 0,
            scale,
            work,
          );
        }
        return;
      }
      // dv += att^T dout
      if (dv) {
        matmul(att, dout, dv, {
          batch: BH,
          m: Tk,
          n: Dv,
          k: Tq,
          transA: true,
          transB: false,
          aBatchStride: slab,
          bBatchStride: Tq * Dv,
          cBatchStride: Tk * Dv,
          accumulate: true,
        });
      }
      if (!dq && !dk && !dbias) return;
      // datt = dout v^T, then (in place) scale * dpre, with dbias += dpre
      const datt = scratchOf(BH * slab);
      matmul(dout, v, datt, {
        batch: BH,
        m: Tq,
        n: Tk,
        k: Dv,
        transA: false,
        transB: true,
        aBatchStride: Tq * Dv,
        bBatchStride: Tk * Dv,
        cBatchStride: slab,
        accumulate: false,
      });
      for (let bh = 0; bh < BH; bh++) {
        const dbiasAt = biasPointer(name, dbias, biasOffsets, bh, slab);
        kernels.attentionSoftmaxBackward(
          datt.byteOffset + bh * slab * 4,
          att.byteOffset + bh * slab * 4,
          dbiasAt,
          Tq,
          Tk,
          causal ? 1 : 0,
          Tk - Tq,
          scale,
        );
      }
      // dq += (scale dpre) k;  dk += (scale dpre)^T q
      if (dq) {
        matmul(datt, k, dq, {
          batch: BH,
          m: Tq,
          n: D,
          k: Tk,
          transA: false,
          transB: false,
          aBatchStride: slab,
          bBatchStride: Tk * D,
          cBatchStride: Tq * D,
          accumulate: true,
        });
      }
      if (dk) {
        matmul(datt, q, dk, {
          batch: BH,
          m: Tk,
          n: D,
          k: Tq,
          transA: true,
          transB: false,
          aBatchStride: slab,
          bBatchStride: Tq * D,
          cBatchStride: Tk * D,
          accumulate: true,
        });
      }
    },
  };
}
