/**
 * The trainable form of a positional encoding: the hooks of the transformer in src/model/ (the transformer of
 * "Attention Is All You Need", Vaswani et al. 2017, arXiv:1706.03762, pre-norm), over engine tensors,
 * so gradients flow into an encoding's own parameters (learned absolute table, T5 bucket values, FIRE's MLP, CoPE...).
 *
 * An EncodingSpec with a `trainable` factory can be used by the model by its registry id. The model calls, per batch:
 *   ids   = positionIds?.(...)           (b) position ids; without the hook: the task's ids if it supplies them,
 *                                            else 0..T-1 for every example
 *   x     = tokens + embedding?.(ids)    (a)
 *   per layer:
 *              x = layerInput?.(x, ids, layer)                                        (f) replaces the block's input
 *              (h = ln1(x), the attention sublayer's input; v = h Wv + bv split into heads)
 *              q, k = transformQK?.(q, k, ids, layer)                                 (c)
 *              bias = attentionBias?.(ids, B, T, layer)                               (d)
 *              q, k, bias', scores? = contentAttention?.({ x: h, q, k, ids, layer })  (e)
 *              logits = (scores ?? q k^T / sqrt(Dh)) + bias + bias' (+ causal mask)
 *              v = transformValues?.(v, ids, layer)                                   (g) before attention
 *              o = softmax(logits) v
 *              o = transformOutput?.(o, ids, layer)                                   (g) before heads are merged
 *   training only: loss = task cross-entropy + auxiliaryLoss?({ ids, targetOrder })  (weighted by the encoding)
 * Shapes: B batch, T sequence length, H heads, Dh head dim, D model dim. Position ids are per example, row-major
 * [B, T, k] (float64: fractional and very large ids are allowed), k the coordinates per position the spec declares
 * (`positionCoordinates`, default 1: [B, T]; 2-D/3-D positions and segment/token id schemes read more).
 *
 * Caching: the model passes the SAME ids array to every hook call of one forward pass and a NEW array on every
 * forward pass, so an encoding may keep per-forward work (a bias tensor computed from its parameters, shared by the
 * layers) keyed by the identity of the ids array. Work that does not depend on parameters (cos/sin tables, ALiBi
 * values) may also be cached across forwards by the ids' content.
 *
 * This file also holds the adapters that give a fixed (parameter-free) method its trainable form straight from
 * its framework-free `PositionalEncoding` (types.ts), so the trainable form IS the library form:
 *   embedding      the framework-free table, per example, as a constant tensor            (sinusoidal)
 *   attentionBias  the framework-free bias, per example, as a constant tensor             (ALiBi)
 *   positionIds    the framework-free ids, per example                                    (randomized positions)
 *   transformQK    rotary methods: cos/sin tables from the encoding's rotary form (its frequencies and
 *                  attention factor, as HF's init functions return them, and xPos's per-role scales), then the
 *                  engine's `rotatePairs` in the method's layout. One helper thus serves RoPE, p-RoPE, xPos, the
 *                  NTK/YaRN/LongRoPE/Llama 3 scalings (sequence-length dependent frequencies included: each example
 *                  at its own ids) without a second copy of any method's frequency math; rotary-probe.test.ts
 *                  holds the tables to the framework-free transform by probing it with unit vectors.
 */
import { type Parameter, permute, reshape, rotatePairs, type Tensor, tensor } from "../engine/index.js";
import type { Rng } from "../util/rng.js";
import type { EncodingSpec, ParamSchema, PositionalEncoding, RotaryTables } from "./types.js";

export interface ModelDims {
  dModel: number;
  numHeads: number;
  headDim: number;
  numLayers: number;
  /** Longest sequence the model may be run on (sizes learned tables; evaluation may exceed training lengths). */
  maxSeqLen: number;
  causal: boolean;
  /**
   * The patch grid a vision model is trained at, (rows, cols) or (frames, rows, cols); absent for sequences. Sizes
   * 2-D tables (learned-2d fills its rows and cols from it).
   */
  grid?: readonly number[];
}

export interface PositionIdsInput {
  batchSize: number;
  seqLen: number;
  /** The seeded stream for randomized schemes. */
  rng: Rng;
  training: boolean;
  /** Token ids [B, T], for content-dependent schemes. */
  tokens?: Int32Array;
  /** Ids supplied by the task (e.g. coupled addition), [B, T]. */
  taskPositionIds?: Float64Array;
  /**
   * Real tokens of each row [B] (the rest is right padding). Schemes draw ids for the real tokens only, so a short
   * example padded into a longer batch gets the ids it would get alone; padded positions repeat the row's last id.
   */
  rowLengths?: Int32Array;
}

export interface TrainableEncoding {
  readonly id: string;
  /** Learned parameters this encoding owns (empty for fixed encodings). */
  parameters(): Parameter[];
  /** (b) Position ids [B, T]. */
  positionIds?(input: PositionIdsInput): Float64Array;
  /** (a) Added to the token embeddings: broadcastable to [B, T, D] ([1, T, D] when all examples share ids). */
  embedding?(positionIds: Float64Array, batchSize: number, seqLen: number): Tensor;
  /** (c) Transform q and k, each [B, H, T, Dh], at layer `layer`. */
  transformQK?(q: Tensor, k: Tensor, positionIds: Float64Array, layer: number): { q: Tensor; k: Tensor };
  /** (d) Additive attention-logit bias broadcastable to [B, H, T, T]. */
  attentionBias?(positionIds: Float64Array, batchSize: number, seqLen: number, layer: number): Tensor;
  /**
   * (e) Content-aware attention: sees the layer's input and q, k (after (c)), with its own parameters, and returns
   * any of: new q and k (rotations computed from content: CARoPE, Selective RoPE), an additive logit bias
   * (CoPE, data-dependent biases), or the scores themselves, which replace scale * q k^T (multiplicative
   * transforms between q and k: PaTH's q_i^T (prod H) k_j). Biases from (d) and the causal mask still apply.
   */
  contentAttention?(input: ContentAttentionInput): ContentAttentionOutput;
  /**
   * (f) Layer input (CPVT's conditional encoding, CPE/PEG): x [B, T, D] -> x' [B, T, D], which replaces the input of
   * block `layer` before its attention sublayer (x' then also feeds that block's residual). Return x unchanged at
   * layers the encoding does not touch.
   */
  layerInput?(x: Tensor, positionIds: Float64Array, layer: number): Tensor;
  /**
   * (g) Values (GTA): v [B, H, T, Dh] -> v' [B, H, T, Dh] before attention weights them, at layer `layer`.
   */
  transformValues?(v: Tensor, positionIds: Float64Array, layer: number): Tensor;
  /**
   * (g) Attention output (GTA): o [B, H, T, Dh] -> o' [B, H, T, Dh] after attention, before the heads are merged
   * and projected by Wo.
   */
  transformOutput?(o: Tensor, positionIds: Float64Array, layer: number): Tensor;
  /**
   * Tensors the encoding carries from one layer to the next (TAPE's position state). Under noGrad the model frees
   * each layer's tensors once the next layer has its input; these are kept alive with it.
   */
  carried?(): Tensor[];
  /**
   * A term the encoding adds to the training loss for the forward pass that used `positionIds` (DPE's order loss),
   * already multiplied by its weight from the encoding's params; undefined when there is nothing to add (weight 0,
   * no task data for it). The model asks only after a training forward pass with gradients on, never under noGrad
   * or in evaluation; the lab adds the term to the task's cross-entropy before backward.
   */
  auxiliaryLoss?(input: AuxiliaryLossInput): Tensor | undefined;
}

/** What an auxiliary loss term may read besides the encoding's own tensors of that forward pass. */
export interface AuxiliaryLossInput {
  /** The ids array of the forward pass (the same array every hook of that pass received). */
  positionIds: Float64Array;
  batchSize: number;
  seqLen: number;
  /**
   * Task-supplied target-order positions [B, T]: pi_t, where token t stands when the input is put in the order of
   * the answer (reverse_string: the reversed input); -1 where undefined. Absent when the task supplies none.
   */
  targetOrder?: Float64Array;
}

export interface ContentAttentionInput {
  /** The attention sublayer's input (after its LayerNorm), [B, T, D]. */
  x: Tensor;
  /** Queries and keys [B, H, T, Dh], after (c). */
  q: Tensor;
  k: Tensor;
  /** Position ids [B, T, k] row-major (k = 1: [B, T]). */
  positionIds: Float64Array;
  layer: number;
}

export interface ContentAttentionOutput {
  q?: Tensor;
  k?: Tensor;
  /** Added to the logits: broadcastable to [B, H, T, T]. */
  bias?: Tensor;
  /** Pre-softmax scores [B, H, T, T] replacing scale * q k^T (the returned q, k then only feed this encoding). */
  scores?: Tensor;
}

/** The distance variant of a bias the model owns: "causal" for a decoder, "symmetric" for an encoder. */
export function biasVariantOf(dims: Pick<ModelDims, "causal">): "causal" | "symmetric" {
  return dims.causal ? "causal" : "symmetric";
}

/** The hook members of a TrainableEncoding, in the order the model calls them (slot conflicts are per hook). */
export const TRAINABLE_HOOKS = [
  "positionIds",
  "embedding",
  "transformQK",
  "attentionBias",
  "contentAttention",
  "layerInput",
  "transformValues",
  "transformOutput",
] as const;
export type TrainableHook = (typeof TRAINABLE_HOOKS)[number];

/** Builds the trainable form from validated params; `rng` initializes learned parameters deterministically. */
export type TrainableFactory = (
  params: Record<string, unknown>,
  dims: ModelDims,
  rng: Rng,
) => TrainableEncoding;

// ---------------------------------------------------------------------------------------------------------------
// Per-example position rows.
// ---------------------------------------------------------------------------------------------------------------

/** Checks that `ids` holds batchSize * seqLen finite values (a programming error otherwise). */
export function checkPositionIds(owner: string, ids: Float64Array, batchSize: number, seqLen: number): void {
  if (ids.length !== batchSize * seqLen) {
    throw new RangeError(
      `${owner}: position ids hold ${ids.length} values, expected batchSize * seqLen = ${batchSize} * ${seqLen}`,
    );
  }
}

/** True when every example has the same ids as the first (then one table serves the whole batch). */
export function rowsShareIds(ids: Float64Array, batchSize: number, seqLen: number): boolean {
  for (let b = 1; b < batchSize; b++) {
    for (let t = 0; t < seqLen; t++) if (ids[b * seqLen + t] !== ids[t]) return false;
  }
  return true;
}

/** The ids of example b: a view of row b of [B, T]. */
export function positionRow(ids: Float64Array, b: number, seqLen: number): Float64Array {
  return ids.subarray(b * seqLen, (b + 1) * seqLen);
}

/**
 * Values computed from position rows, cached by the content of the ids: one row when all examples share their
 * ids (`rows` = 1), else one per example (`rows` = B), concatenated.
 */
export class RowTableCache {
  private ids: Float64Array | null = null;
  private value: { data: Float32Array; rows: number } | null = null;

  constructor(private readonly compute: (row: Float64Array) => Float32Array) {}

  get(ids: Float64Array, batchSize: number, seqLen: number): { data: Float32Array; rows: number } {
    if (this.value && this.ids && sameValues(this.ids, ids)) return this.value;
    const rows = rowsShareIds(ids, batchSize, seqLen) ? 1 : batchSize;
    const parts: Float32Array[] = [];
    for (let b = 0; b < rows; b++) parts.push(this.compute(positionRow(ids, b, seqLen)));
    const width = parts[0]?.length ?? 0;
    const data = new Float32Array(rows * width);
    for (const [b, part] of parts.entries()) data.set(part, b * width);
    this.ids = Float64Array.from(ids);
    this.value = { data, rows };
    return this.value;
  }
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Tensors cached for one forward pass: rebuilt when the ids array changes or a tensor was disposed (by tidy). */
export class PerForward<V extends Tensor | readonly Tensor[]> {
  private ids: Float64Array | null = null;
  private value: V | null = null;

  get(ids: Float64Array, build: () => V): V {
    const alive = (v: V) => (Array.isArray(v) ? v.every((t) => !t.disposed) : !(v as Tensor).disposed);
    if (this.value && this.ids === ids && alive(this.value)) return this.value;
    this.value = build();
    this.ids = ids;
    return this.value;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Adapters from the framework-free form.
// ---------------------------------------------------------------------------------------------------------------

/** (a) The framework-free embedding table of each example as a constant [rows, T, D] tensor. */
function fixedEmbedding(encoding: PositionalEncoding, dims: ModelDims): TrainableEncoding["embedding"] {
  const embed = encoding.embedding?.bind(encoding);
  if (!embed) return undefined;
  const cache = new RowTableCache((row) => embed(row, dims.dModel));
  const perForward = new PerForward<Tensor>();
  return (ids, batchSize, seqLen) => {
    checkPositionIds(encoding.id, ids, batchSize, seqLen);
    return perForward.get(ids, () => {
      const { data, rows } = cache.get(ids, batchSize, seqLen);
      return tensor(data, [rows, seqLen, dims.dModel]);
    });
  };
}

/** (d) The framework-free bias of each example as a constant [rows, H, T, T] tensor. */
function fixedAttentionBias(
  encoding: PositionalEncoding,
  dims: ModelDims,
): TrainableEncoding["attentionBias"] {
  const bias = encoding.attentionBias?.bind(encoding);
  if (!bias) return undefined;
  const cache = new RowTableCache((row) => bias(row, row, dims.numHeads));
  const perForward = new PerForward<Tensor>();
  return (ids, batchSize, seqLen) => {
    checkPositionIds(encoding.id, ids, batchSize, seqLen);
    return perForward.get(ids, () => {
      const { data, rows } = cache.get(ids, batchSize, seqLen);
      return tensor(data, [rows, dims.numHeads, seqLen, seqLen]);
    });
  };
}

/** (b) The framework-free ids of each example (each drawn from the shared Rng in example order). */
function fixedPositionIds(encoding: PositionalEncoding): TrainableEncoding["positionIds"] {
  const positionIds = encoding.positionIds?.bind(encoding);
  if (!positionIds) return undefined;
  return ({ batchSize, seqLen, rng, tokens, rowLengths }) => {
    const out = new Float64Array(batchSize * seqLen);
    for (let b = 0; b < batchSize; b++) {
      const n = rowLengths ? Math.min(rowLengths[b]!, seqLen) : seqLen;
      if (n <= 0) continue;
      const rowTokens = tokens?.subarray(b * seqLen, b * seqLen + n);
      const row = positionIds(n, { rng, tokens: rowTokens });
      if (row.length !== n) {
        throw new RangeError(
          `${encoding.id}: positionIds returned ${row.length} ids for ${n} tokens; the model takes one id per token (per-head ids are not supported)`,
        );
      }
      out.set(row, b * seqLen);
      // Right padding: no real token attends to it (causal), so any id does; the last real id stays in range.
      out.fill(row[n - 1]!, b * seqLen + n, (b + 1) * seqLen);
    }
    return out;
  };
}

export type RotaryRole = "query" | "key";

/** Rows of `data` are [cos n | sin n] (n = T * P per row): all cos rows, then all sin rows, each [rows * n]. */
export function splitCosSinRows(data: Float32Array, rows: number, n: number): [Float32Array, Float32Array] {
  const cos = new Float32Array(rows * n);
  const sin = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    cos.set(data.subarray(2 * r * n, 2 * r * n + n), r * n);
    sin.set(data.subarray(2 * r * n + n, 2 * (r + 1) * n), r * n);
  }
  return [cos, sin];
}

/**
 * Rotates q/k/v-shaped x [B, H, T, Dh] by cos/sin tables along T: [T, P] shared by every example, or [B * T, P] one
 * row per (example, token), for which x is permuted to [H, B, T, Dh] and viewed as [H, B*T, Dh] (an engine
 * rotatePairs taking [B, T, P] tables would save the two permutes per tensor).
 */
export function rotateByRowTables(
  x: Tensor,
  cos: Tensor,
  sin: Tensor,
  layout: "half" | "interleaved",
): Tensor {
  const [B, H, T, Dh] = x.shape as [number, number, number, number];
  if (cos.shape[0] === T) return rotatePairs(x, cos, sin, { layout, axis: -2 });
  const flat = reshape(permute(x, [1, 0, 2, 3]), [H, B * T, Dh]);
  const rotated = rotatePairs(flat, cos, sin, { layout, axis: -2 });
  return permute(reshape(rotated, [H, B, T, Dh]), [1, 0, 2, 3]);
}

/**
 * (c) A rotary transform: per role, cos/sin tables built from the encoding's rotary form (its frequencies and
 * attention factor, xPos's per-role scales) at each example's ids, applied with `rotatePairs` (see
 * rotaryFromTables). (rotary-probe.test.ts checks that these tables are what
 * the framework-free transformQK rotates with, by probing it with unit vectors.)
 */
function rotaryTransform(encoding: PositionalEncoding, dims: ModelDims): TrainableEncoding["transformQK"] {
  if (!encoding.transformQK) return undefined;
  const rotary = encoding.rotary;
  if (!rotary) {
    throw new RangeError(
      `${encoding.id}: transformQK without a rotary form cannot be trained by the fixed adapter; write a trainable form`,
    );
  }
  return rotaryFromTables(encoding.id, dims, { ...rotary, coordinates: 1 }, (row, role) =>
    rotary.tables(row, role),
  );
}

/**
 * (c) A rotary transform from per-example tables: `tables(row, role)` maps one example's ids (T * k values,
 * [T, k] row-major) to cos/sin [T, P]; channels 2P .. Dh - 1 pass through. All examples sharing ids: tables [T, P]
 * along the T axis of q [B, H, T, Dh]. Otherwise q is permuted to [H, B, T, Dh] and viewed as [H, B*T, Dh], so one
 * [B*T, P] table row serves each (example, token); an engine rotatePairs taking [B, T, P] tables would save the two
 * permutes per tensor. Tables are cached by the ids' content, their tensors per forward pass. Serves the 1-D RoPE
 * family (through the fixed adapter) and multi-coordinate rotary methods (axial 2-D RoPE, M-RoPE).
 */
export function rotaryFromTables(
  owner: string,
  dims: Pick<ModelDims, "headDim">,
  form: { layout: "half" | "interleaved"; pairs: number; coordinates: number },
  tables: (row: Float64Array, role: RotaryRole) => RotaryTables,
): NonNullable<TrainableEncoding["transformQK"]> {
  const { layout, pairs: P, coordinates: K } = form;
  if (2 * P > dims.headDim) {
    throw new RangeError(`${owner}: rotary dimension ${2 * P} exceeds the head size ${dims.headDim}`);
  }
  // One cached array per role: each row's cos [T, P] followed by its sin [T, P].
  const rowTables = (role: RotaryRole) =>
    new RowTableCache((row) => {
      const { cos, sin } = tables(row, role);
      const both = new Float32Array(2 * cos.length);
      both.set(cos, 0);
      both.set(sin, cos.length);
      return both;
    });
  const caches = { query: rowTables("query"), key: rowTables("key") };
  const perForward = { query: new PerForward<Tensor[]>(), key: new PerForward<Tensor[]>() };
  const rotate = (x: Tensor, role: RotaryRole, ids: Float64Array): Tensor => {
    const [B, , T] = x.shape;
    checkPositionIds(owner, ids, B, T * K);
    const { data, rows } = caches[role].get(ids, B, T * K);
    const [cos, sin] = perForward[role].get(ids, () => {
      const [cosAll, sinAll] = splitCosSinRows(data, rows, T * P);
      return [tensor(cosAll, [rows * T, P]), tensor(sinAll, [rows * T, P])];
    });
    return rotateByRowTables(x, cos!, sin!, layout);
  };
  return (q, k, ids) => ({ q: rotate(q, "query", ids), k: rotate(k, "key", ids) });
}

/**
 * The trainable form of a parameter-free method, built from its framework-free form (`spec.create(params)`):
 * every hook the framework-free encoding fills is adapted (see the file comment). Use in a spec as
 *   trainable: (params, dims) => fixedTrainable(ropeSpec, params, dims)
 * Methods with learned parameters write their own factory.
 */
export function fixedTrainable<S extends ParamSchema>(
  spec: EncodingSpec<S>,
  params: Record<string, unknown>,
  dims: ModelDims,
  path?: string,
): TrainableEncoding {
  if ((spec.positionCoordinates ?? 1) !== 1) {
    throw new RangeError(
      `${spec.id}: the fixed adapters read one coordinate per position; write a trainable form`,
    );
  }
  const encoding = spec.create(params, path);
  return withoutEmptyHooks({
    id: spec.id,
    parameters: () => [],
    positionIds: fixedPositionIds(encoding),
    embedding: fixedEmbedding(encoding, dims),
    transformQK: rotaryTransform(encoding, dims),
    attentionBias: fixedAttentionBias(encoding, dims),
  });
}

/** Drops the hooks that are undefined, so `"transformQK" in encoding` means the slot is used. */
export function withoutEmptyHooks(encoding: TrainableEncoding): TrainableEncoding {
  const out: Record<string, unknown> = { ...encoding };
  for (const hook of TRAINABLE_HOOKS) if (out[hook] === undefined) delete out[hook];
  return out as unknown as TrainableEncoding;
}
