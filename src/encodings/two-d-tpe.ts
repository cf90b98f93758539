/**
 * 2D-TPE, from "2D-TPE: Two-Dimensional Positional Encoding Enhances Table Understanding for Large Language Models"
 * (Li et al., WWW 2025), arXiv:2409.19700. Official code: JinaLeejnl/2D-TPE,
 * TPE-Llama/modeling_llama.py (`LlamaFlashAttention2Ours.forward`, the "2d" read mode).
 *
 * Each head attends twice, along two traversals of the table, and mixes the two results per token and head:
 *   o^r = Attn(RoPE(q, n^r), RoPE(k, n^r), v),  n^r = row-major rank of (row, column)   (causal in that order)
 *   o^c = Attn(RoPE(q, n^c), RoPE(k, n^c), v),  n^c = column-major rank                 (causal in that order)
 *   [w^r, w^c] = softmax(W_3 (SiLU(W_1 h_(t,h)) * W_2 h_(t,h)))   h_(t,h): the attention input of token t cut to
 *                head h's Dh channels (the router is shared by the heads, as the official gate_1, gate_2, gate_3)
 *   o_(t,h) = w^r o^r_(t,h) + w^c o^c_(t,h)
 * The ranks come from each example's (row, column) ids (ties broken by token index), so a row-major sequence has
 * n^r = 0 .. T-1. The official model also adds an entropy loss on the routing weights; not included.
 *
 * Trainable form over the model's hooks: (e) returns the row-major branch's q, k (the model's attention then computes
 * o^r, with its causal mask in token order: tokens must come row-major, which the ids are checked against in a
 * decoder) and keeps the column-major q, k and the router weights; (g) transformValues keeps v; (g)
 * transformOutput computes o^c (a column-major causal mask as a bias in a decoder) and returns the mixture. (e) and
 * (g) values run in either order before (g) output within one layer (the model's contract), so the kept tensors are
 * the layer's own; the output hook clears them.
 */
import {
  add,
  attention,
  linear,
  mul,
  type Parameter,
  permute,
  reshape,
  sigmoid,
  slice,
  softmax,
  type Tensor,
  tensor,
  uniformParameter,
} from "../engine/index.js";
import { PosencConfigError } from "../util/validation.js";
import { checkGridIds, exampleIds, splitRowsCols } from "./grid-positions.js";
import { ropeInverseFrequencies } from "./rope.js";
import { PerForward, rotateByRowTables, type TrainableEncoding } from "./trainable.js";
import { defineEncoding, type EncodingSpec, resolveParams } from "./types.js";

/** Row-major and column-major ranks [T] of one example's ids [T, 2] (ties by token index). */
export function traversalRanks(ids: ArrayLike<number>): { rowMajor: Int32Array; columnMajor: Int32Array } {
  const T = ids.length / 2;
  const { rows, cols } = splitRowsCols(ids, T);
  const rank = (first: Float64Array, second: Float64Array) => {
    const order = Array.from({ length: T }, (_, t) => t).sort(
      (a, b) => first[a]! - first[b]! || second[a]! - second[b]! || a - b,
    );
    const out = new Int32Array(T);
    order.forEach((t, n) => {
      out[t] = n;
    });
    return out;
  };
  return { rowMajor: rank(rows, cols), columnMajor: rank(cols, rows) };
}

/** cos/sin [rows * T, P] of RoPE (half layout, all Dh channels) at the given 1-D ids. */
function ropeTables(ranks: Int32Array[], headDim: number, base: number): [Tensor, Tensor] {
  const invFreq = ropeInverseFrequencies(headDim, base);
  const P = invFreq.length;
  const T = ranks[0]!.length;
  const cos = new Float32Array(ranks.length * T * P);
  const sin = new Float32Array(ranks.length * T * P);
  ranks.forEach((r, b) => {
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < P; i++) {
        cos[(b * T + t) * P + i] = Math.cos(r[t]! * invFreq[i]!);
        sin[(b * T + t) * P + i] = Math.sin(r[t]! * invFreq[i]!);
      }
    }
  });
  return [tensor(cos, [ranks.length * T, P]), tensor(sin, [ranks.length * T, P])];
}

/** Causal mask of the column-major traversal as a bias [B, 1, T, T]: -1e9 where key j comes after query i. */
function columnMajorMask(columnMajor: Int32Array[]): Tensor {
  const B = columnMajor.length;
  const T = columnMajor[0]!.length;
  const data = new Float32Array(B * T * T);
  columnMajor.forEach((r, b) => {
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) if (r[j]! > r[i]!) data[(b * T + i) * T + j] = -1e9;
  });
  return tensor(data, [B, 1, T, T]);
}

/** Router weights [B, H, T, 2] from the attention input x [B, T, D] cut into H heads of Dh channels. */
export function tpeRouter(x: Tensor, w1: Tensor, w2: Tensor, w3: Tensor, heads: number): Tensor {
  const [B, T, D] = x.shape as [number, number, number];
  const h = reshape(x, [B, T, heads, D / heads]);
  const a = linear(h, w1);
  const gated = mul(mul(a, sigmoid(a)), linear(h, w2)); // SiLU(W1 h) * W2 h
  return permute(softmax(linear(gated, w3)), [0, 2, 1, 3]);
}

const TPE_PARAMS = {
  base: {
    type: "number",
    min: 0,
    exclusiveMin: true,
    default: 10000,
    description: "RoPE base of both traversals",
  },
  routerHidden: {
    type: "integer",
    min: 1,
    default: 16,
    description: "width of the router's gate_1 / gate_2",
  },
} as const satisfies EncodingSpec["params"];

export const twoDTpeSpec = defineEncoding({
  id: "2d-tpe",
  name: "2D-TPE (table traversal orders per head)",
  family: "rotary",
  paper: {
    title:
      "2D-TPE: Two-Dimensional Positional Encoding Enhances Table Understanding for Large Language Models",
    arxiv: "2409.19700",
    year: 2024,
  },
  formula:
    "o = w_r Attn(RoPE at row-major ranks) + w_c Attn(RoPE at column-major ranks), [w_r, w_c] = softmax(W3 (SiLU(W1 h) * W2 h)) per token and head",
  summary:
    "Every head reads the table both row by row and column by column and a learned router mixes the two, so neither direction's neighbours are far apart.",
  slots: ["contextual", "transformValues", "transformOutput"],
  params: TPE_PARAMS,
  positionCoordinates: 2,
  create(params, path = "2d-tpe") {
    const p = resolveParams(path, TPE_PARAMS, params);
    return { id: "2d-tpe", params: Object.freeze({ ...p }) };
  },
  trainable(p, dims, rng, path = "2d-tpe"): TrainableEncoding {
    const { numHeads: H, headDim: Dh, numLayers, causal } = dims;
    const init = (fanIn: number, shape: number[], name: string) =>
      uniformParameter(rng, shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), name);
    const layers = Array.from({ length: numLayers }, (_, l) => ({
      w1: init(Dh, [Dh, p.routerHidden], `2d-tpe.layer${l}.gate1`),
      w2: init(Dh, [Dh, p.routerHidden], `2d-tpe.layer${l}.gate2`),
      w3: init(p.routerHidden, [p.routerHidden, 2], `2d-tpe.layer${l}.gate3`),
    }));
    // Per forward: row-major tables, column-major tables, the column-major mask (decoder).
    const perForward = new PerForward<Tensor[]>();
    const prepared = (ids: Float64Array, B: number, T: number) =>
      perForward.get(ids, () => {
        checkGridIds("2d-tpe", ids, B, T);
        const ranks = Array.from({ length: B }, (_, b) => traversalRanks(exampleIds(ids, b, T)));
        if (causal && ranks.some((r) => r.rowMajor.some((n, t) => n !== t))) {
          throw new PosencConfigError(
            "invalid_value",
            `${path}.positionIds`,
            "tokens out of row-major order",
            "tokens in row-major order of their (row, column) ids (the model's causal mask is the row-major branch's)",
          );
        }
        const row = ropeTables(
          ranks.map((r) => r.rowMajor),
          Dh,
          p.base,
        );
        const col = ropeTables(
          ranks.map((r) => r.columnMajor),
          Dh,
          p.base,
        );
        const tensors = [...row, ...col];
        if (causal) tensors.push(columnMajorMask(ranks.map((r) => r.columnMajor)));
        return tensors;
      });
    // What (e) and (g) values keep for (g) output, per layer.
    const kept: { qc?: Tensor; kc?: Tensor; v?: Tensor; weights?: Tensor; mask?: Tensor }[] = layers.map(
      () => ({}),
    );
    return {
      id: "2d-tpe",
      parameters: () => layers.flatMap((l): Parameter[] => [l.w1, l.w2, l.w3]),
      contentAttention({ x, q, k, positionIds, layer }) {
        const w = layers[layer];
        if (!w) throw new RangeError(`2d-tpe: layer ${layer} is not in 0..${numLayers - 1}`);
        const [B, , T] = q.shape as [number, number, number, number];
        const [rowCos, rowSin, colCos, colSin, mask] = prepared(positionIds, B, T) as Tensor[];
        kept[layer] = {
          ...kept[layer],
          qc: rotateByRowTables(q, colCos!, colSin!, "half"),
          kc: rotateByRowTables(k, colCos!, colSin!, "half"),
          weights: tpeRouter(x, w.w1, w.w2, w.w3, H),
          mask,
        };
        return {
          q: rotateByRowTables(q, rowCos!, rowSin!, "half"),
          k: rotateByRowTables(k, rowCos!, rowSin!, "half"),
        };
      },
      transformValues(v, _ids, layer) {
        kept[layer]!.v = v;
        return v;
      },
      transformOutput(o, _ids, layer) {
        const { qc, kc, v, weights, mask } = kept[layer]!;
        if (!qc || !kc || !v || !weights) {
          throw new RangeError("2d-tpe: transformOutput ran before contentAttention and transformValues");
        }
        kept[layer] = {};
        const column = attention(qc, kc, v, { causal: false, bias: mask });
        const wr = slice(weights, -1, 0, 1);
        const wc = slice(weights, -1, 1, 2);
        return add(mul(o, wr), mul(column, wc));
      },
    };
  },
});
