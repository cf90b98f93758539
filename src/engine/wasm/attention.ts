/**
 * WASM fused attention with the signatures of the references in ../kernels/attention.ts (see there for the
 * math and layouts): per (batch, head) slab,
 *   forward:  att = softmax(scale * q k^T + bias) (causal-masked), out = att v
 *   backward: datt = dout v^T;  dv += att^T dout;  dpre = att * (datt - rowsum(att * datt));  dbias += dpre;
 *             dq += scale dpre k;  dk += scale dpre^T q
 * The products are batched SIMD matmuls over all BH slabs at once (split across the thread pool when large);
 * the softmax and its backward are SIMD row kernels (./assembly/softmax.ts). Scores of masked keys are computed
 * by the matmul and then overwritten with 0, which costs less than ragged products.
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

export function createWasmAttention(kernels: KernelExports, matmul: MatmulKernel): WasmAttentionKernels {
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
