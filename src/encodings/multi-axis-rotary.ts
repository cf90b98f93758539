/**
 * Rotary encodings over multi-coordinate positions (RoFormer's rotation, Su et al., 2021, arXiv:2104.09864,
 * applied to position ids with k coordinates): the shared machinery of M-RoPE (mrope.ts), MRoPE-Interleave and
 * MHRoPE (mrope-interleave.ts, mhrope.ts), VRoPE (vrope.ts) and the video HoPE (hope-video.ts).
 *
 * Each of those methods rotates channel pair i of head h of the token at position ids p = (p_0 .. p_{k-1}) by
 *   angle(h, i, p) = theta_i * a_{h,i}(p)
 * where a_{h,i}(p) is one coordinate (M-RoPE: t, h or w by the pair's section) or a fixed combination of them
 * (VRoPE's diagonal sums, HoPE's scaled t); the method gives the cos/sin table of one example as
 * `tables(ids, head)` for ids row-major [T, k]. The rotation itself is RoPE's, in either pair layout:
 *   out_a = x_a cos - x_b sin,  out_b = x_b cos + x_a sin   ((a, b) = (i, i + P) "half", (2i, 2i + 1) "interleaved")
 * so the attention score of two tokens depends only on the differences of their coordinates when each a_{h,i}
 * is linear in p.
 *
 * This file: the framework-free transformQK (x [T, H, Dh] with positions [T, k]) and the trainable form over
 * engine tensors (ids [B, T, k]), both from one `MultiAxisRotaryForm`, so the trainable form IS the library form.
 */
import { permute, reshape, rotatePairs, type Tensor, tensor } from "../engine/index.js";
import { checkModelHeadDim, ropeInverseFrequencies } from "./rope.js";
import type { RopeLayout } from "./rope-kernel.js";
import type { ModelDims, TrainableEncoding } from "./trainable.js";
import { PerForward, withoutEmptyHooks } from "./trainable.js";
import type { PositionalEncoding, RotaryTables } from "./types.js";

export interface MultiAxisRotaryForm {
  readonly layout: RopeLayout;
  /** Rotated channel pairs P (channels 2P .. headDim - 1 pass through). */
  readonly pairs: number;
  /** Coordinates k per position id. */
  readonly coordinates: number;
  /** True when heads rotate differently (MHRoPE): `tables` is then called once per head. */
  readonly perHead: boolean;
  /** cos/sin [T, P] (attention factor included) for ids row-major [T, k], for head `head` (0 unless perHead). */
  tables(ids: ArrayLike<number>, head: number): RotaryTables;
}

/** Checks ids of T tokens with k coordinates: length T * k, every value finite. Returns T. */
export function multiAxisTokens(owner: string, ids: ArrayLike<number>, k: number): number {
  if (ids.length % k !== 0) {
    throw new RangeError(
      `${owner}: position ids hold ${ids.length} values, not a multiple of ${k} coordinates per token`,
    );
  }
  for (let i = 0; i < ids.length; i++) {
    if (!Number.isFinite(ids[i])) throw new RangeError(`${owner}: position id ${i} is ${ids[i]}, not finite`);
  }
  return ids.length / k;
}

/**
 * Rotates x [T, H, Dh] in place: head h's first 2P channels with `tableOf(h)` (cos/sin [T, P]), in `layout`.
 */
export function rotateHeads(
  x: Float32Array,
  tableOf: (head: number) => RotaryTables,
  options: { numHeads: number; headDim: number; pairs: number; layout: RopeLayout },
): void {
  const { numHeads, headDim, pairs, layout } = options;
  if (2 * pairs > headDim) throw new RangeError(`${pairs} rotated pairs exceed the head size ${headDim}`);
  const T = x.length / (numHeads * headDim);
  for (let h = 0; h < numHeads; h++) {
    const table = tableOf(h);
    if (table.cos.length !== T * pairs || table.sin.length !== T * pairs) {
      throw new RangeError(`tables must be [T, P] = [${T}, ${pairs}], received ${table.cos.length} values`);
    }
    rotateHead(x, table, T, pairs, numHeads * headDim, h * headDim, layout);
  }
}

/** Rotates one head's channels in place: x[t * stride + offset + c] with the tables [T, P]. */
function rotateHead(
  x: Float32Array,
  table: RotaryTables,
  T: number,
  P: number,
  stride: number,
  offset: number,
  layout: RopeLayout,
): void {
  const second = layout === "half" ? P : 1;
  const step = layout === "half" ? 1 : 2;
  for (let t = 0; t < T; t++) {
    const row = t * stride + offset;
    for (let p = 0; p < P; p++) {
      const a = row + p * step;
      const b = a + second;
      const c = table.cos[t * P + p]!;
      const s = table.sin[t * P + p]!;
      const xa = x[a]!;
      const xb = x[b]!;
      x[a] = xa * c - xb * s;
      x[b] = xb * c + xa * s;
    }
  }
}

/**
 * The framework-free encoding of a multi-axis rotary method: transformQK(x, positions, H, Dh) rotates
 * x [T, H, Dh] in place, `positions` row-major [T, k] (T = positions.length / k), heads checked against headDim.
 */
export function multiAxisRotaryEncoding(
  id: string,
  params: Readonly<Record<string, unknown>>,
  form: MultiAxisRotaryForm,
  headDim: number,
): PositionalEncoding {
  const { pairs: P, layout, coordinates: k } = form;
  return {
    id,
    params: Object.freeze({ ...params }),
    transformQK(x, positions, numHeads, actualHeadDim) {
      if (actualHeadDim !== headDim) {
        throw new RangeError(`${id}: headDim ${actualHeadDim} does not match params.headDim = ${headDim}`);
      }
      const T = multiAxisTokens(id, positions, k);
      if (x.length !== T * numHeads * headDim) {
        throw new RangeError(
          `${id}: x.length must be T * numHeads * headDim = ${T} * ${numHeads} * ${headDim} (T = positions.length / ${k}), received ${x.length}`,
        );
      }
      const shared = form.perHead ? undefined : form.tables(positions, 0);
      rotateHeads(x, (h) => shared ?? form.tables(positions, h), { numHeads, headDim, pairs: P, layout });
    },
  };
}

/**
 * The trainable form: q and k [B, H, T, Dh] rotated with the tables of each example's ids [B, T, k] (no
 * parameters; gradients flow through the rotation to q and k). Heads sharing tables: x viewed as
 * [H, B*T, Dh] with one table row per (example, token), or [B, H, T, Dh] against [T, P] when every example has
 * the same ids. Per head: x viewed as [1, B*H*T, Dh] with one table row per (example, head, token).
 */
export function multiAxisRotaryTrainable(
  id: string,
  form: MultiAxisRotaryForm,
  dims: ModelDims,
  headDim: number,
  path: string,
): TrainableEncoding {
  checkModelHeadDim(headDim, dims, `${path}.headDim`);
  const { pairs: P, layout, coordinates: k } = form;
  const perForward = new PerForward<Tensor[]>();
  let cachedIds: Float64Array | null = null;
  let cachedTables: { cos: Float32Array; sin: Float32Array; shared: boolean } | null = null;

  const build = (ids: Float64Array, B: number, H: number, T: number) => {
    if (cachedTables && cachedIds && sameContent(cachedIds, ids)) return cachedTables;
    const rowLength = T * k;
    let shared = !form.perHead;
    for (let b = 1; b < B && shared; b++) {
      for (let i = 0; i < rowLength; i++) {
        if (ids[b * rowLength + i] !== ids[i]) {
          shared = false;
          break;
        }
      }
    }
    const heads = form.perHead ? H : 1;
    const rows = shared ? 1 : B;
    const cos = new Float32Array(rows * heads * T * P);
    const sin = new Float32Array(rows * heads * T * P);
    // Table row order: shared -> t; per example -> (b, t); per head -> (b, h, t).
    for (let b = 0; b < rows; b++) {
      const row = ids.subarray(b * rowLength, (b + 1) * rowLength);
      for (let h = 0; h < heads; h++) {
        const table = form.tables(row, h);
        const at = (b * heads + h) * T * P;
        cos.set(table.cos, at);
        sin.set(table.sin, at);
      }
    }
    cachedIds = Float64Array.from(ids);
    cachedTables = { cos, sin, shared };
    return cachedTables;
  };

  const rotate = (x: Tensor, ids: Float64Array): Tensor => {
    const [B, H, T, Dh] = x.shape as [number, number, number, number];
    if (ids.length !== B * T * k) {
      throw new RangeError(
        `${id}: position ids hold ${ids.length} values, expected [B, T, k] = ${B * T * k}`,
      );
    }
    if (2 * P > Dh) throw new RangeError(`${id}: ${P} rotated pairs exceed the head size ${Dh}`);
    const tables = build(ids, B, H, T);
    const [cos, sin] = perForward.get(ids, () => {
      const n = tables.cos.length / P;
      return [tensor(tables.cos, [n, P]), tensor(tables.sin, [n, P])];
    });
    if (tables.shared) return rotatePairs(x, cos, sin, { layout, axis: -2 });
    if (form.perHead) {
      const flat = reshape(x, [1, B * H * T, Dh]);
      return reshape(rotatePairs(flat, cos, sin, { layout, axis: -2 }), [B, H, T, Dh]);
    }
    const flat = reshape(permute(x, [1, 0, 2, 3]), [H, B * T, Dh]);
    const rotated = rotatePairs(flat, cos, sin, { layout, axis: -2 });
    return permute(reshape(rotated, [H, B, T, Dh]), [1, 0, 2, 3]);
  };

  return withoutEmptyHooks({
    id,
    parameters: () => [],
    transformQK: (q, kTensor, ids) => ({ q: rotate(q, ids), k: rotate(kTensor, ids) }),
  });
}

function sameContent(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * cos/sin [T, P] with angle(t, i) = invFreq[i] * coordinate(t, i), the coordinate chosen per pair by `axes[i]`
 * (-1: angle 0, a position-free pair) from ids [T, k], times `scale[axes[i]]` when given; cos and sin multiplied
 * by attentionFactor. Angles in float64, rounded to float32 once.
 */
export function axisAllocatedTables(
  invFreq: ArrayLike<number>,
  axes: ArrayLike<number>,
  ids: ArrayLike<number>,
  k: number,
  options: { attentionFactor?: number; scale?: ArrayLike<number> } = {},
): RotaryTables {
  const P = invFreq.length;
  const T = ids.length / k;
  const f = options.attentionFactor ?? 1;
  const cos = new Float32Array(T * P);
  const sin = new Float32Array(T * P);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < P; i++) {
      const axis = axes[i]!;
      const position = axis < 0 ? 0 : ids[t * k + axis]! * (options.scale?.[axis] ?? 1);
      const angle = position * invFreq[i]!;
      cos[t * P + i] = f * Math.cos(angle);
      sin[t * P + i] = f * Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * The form of a method that gives pair i of every head one coordinate, axes[i] (-1: no rotation), with RoPE's
 * frequencies theta_i = base^(-2i/d) over the whole head: M-RoPE, MRoPE-I, the video HoPE, VRoPE.
 */
export function pairAllocatedForm(
  p: { headDim: number; base: number; layout: RopeLayout },
  axes: ArrayLike<number>,
  coordinates: number,
): MultiAxisRotaryForm {
  const invFreq = ropeInverseFrequencies(p.headDim, p.base);
  return {
    layout: p.layout,
    pairs: invFreq.length,
    coordinates,
    perHead: false,
    tables: (ids) => axisAllocatedTables(invFreq, axes, ids, coordinates),
  };
}
