/**
 * What a head attends to on the grid: the attention of one query patch over every patch, per layer and head, of a
 * trained patch encoder, averaged over a batch of test examples, and its picture.
 *
 *   query   = the centre cell (floor(g/2), floor(g/2)) of the middle frame floor(F/2) (F = 1 for images)
 *   map[h]  = mean over the batch's examples of softmax(q_query . k_j / sqrt(Dh) + bias)_j,  j over all F g^2 patches
 *
 * Recorded by the lab for the first seed of every encoding at the training grid and the largest test grid (on the
 * first evaluation batch of that grid's stream, so the same examples as the evaluation), under noGrad. Averaging
 * over examples keeps what does not depend on the content: the positional pattern of each head.
 */
import { noGrad, tidy } from "../../engine/index.js";
import type { VisionTransformer } from "../../model/vision.js";
import type { VisionBatch } from "../../tasks/vision/types.js";
import type { Rng } from "../../util/rng.js";
import { escapeXml } from "../report/svg.js";

export interface VisionAttention {
  encoding: string;
  seed: number;
  grid: number;
  frames: number;
  layer: number;
  /** Index of the query patch (row-major over frames, rows, cols). */
  query: number;
  /** [heads][F g^2]: mean attention of the query over every patch; each row sums to 1. */
  heads: number[][];
}

/** The query patch: the centre cell of the middle frame. */
export function attentionQuery(grid: number, frames: number): number {
  const centre = Math.floor(grid / 2);
  return (Math.floor(frames / 2) * grid + centre) * grid + centre;
}

/** Every layer's mean attention of the query patch over the batch (`ids`: the ids the model is fed). */
export function recordAttention(
  model: VisionTransformer,
  batch: VisionBatch,
  ids: Float64Array,
  facts: { encoding: string; seed: number; frames: number },
  rng: Rng,
): VisionAttention[] {
  const { batchSize: B, seqLen: T } = batch;
  const query = attentionQuery(batch.grid, facts.frames);
  return Array.from({ length: model.config.numLayers }, (_, layer) => {
    const weights = tidy(() =>
      noGrad(() =>
        model
          .attentionWeights(
            { patches: batch.patches, batchSize: B, seqLen: T, positionIds: ids, training: false, rng },
            layer,
          )
          .toArray(),
      ),
    );
    const H = weights.length / (B * T * T);
    const heads = Array.from({ length: H }, (_, h) => {
      const row = new Array<number>(T).fill(0);
      for (let b = 0; b < B; b++) {
        const at = ((b * H + h) * T + query) * T;
        for (let j = 0; j < T; j++) row[j]! += weights[at + j]! / B;
      }
      return row;
    });
    return { ...facts, grid: batch.grid, layer, query, heads };
  });
}

const CELL_PX = 120; // side of one head's picture (a frame's grid), whatever the grid
const GAP = 14;
const LABEL_W = 210;

/**
 * One SVG: a row per (encoding, grid, layer), a picture per head (frames side by side). Cell shade = weight /
 * the picture's largest weight (white 0, dark blue 1); the query cell is outlined in orange.
 */
export function renderAttentionSvg(maps: readonly VisionAttention[], title: string): string {
  if (maps.length === 0) return "";
  const heads = Math.max(...maps.map((m) => m.heads.length));
  const frames = Math.max(...maps.map((m) => m.frames));
  const picW = frames * CELL_PX + (frames - 1) * 4;
  const width = LABEL_W + heads * (picW + GAP) + GAP;
  const rowH = CELL_PX + 26;
  const height = 40 + maps.length * rowH + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12" shape-rendering="crispEdges">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${GAP}" y="22" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  maps.forEach((m, r) => {
    const y0 = 40 + r * rowH;
    const g = m.grid;
    const cell = CELL_PX / g;
    out.push(
      `<text x="${GAP}" y="${y0 + CELL_PX / 2}">${escapeXml(m.encoding)} s${m.seed}</text>`,
      `<text x="${GAP}" y="${y0 + CELL_PX / 2 + 16}" fill="#555">${g}x${g}${m.frames > 1 ? ` x ${m.frames} frames` : ""}, layer ${m.layer}</text>`,
    );
    m.heads.forEach((row, h) => {
      const x0 = LABEL_W + h * (picW + GAP);
      const top = Math.max(...row, 1e-12);
      if (r === 0) out.push(`<text x="${x0}" y="${y0 - 4}" fill="#555">head ${h}</text>`);
      row.forEach((w, j) => {
        const f = Math.floor(j / (g * g));
        const x = x0 + f * (CELL_PX + 4) + (j % g) * cell;
        const y = y0 + (Math.floor(j / g) % g) * cell;
        const shade = Math.round(255 * (1 - w / top));
        const fill = `rgb(${shade},${Math.round(60 + 0.75 * shade)},${Math.round(140 + 0.45 * shade)})`;
        const stroke =
          j === m.query ? ` stroke="#e69f00" stroke-width="${Math.max(1.5, cell / 8).toFixed(1)}"` : "";
        out.push(
          `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${cell.toFixed(2)}" height="${cell.toFixed(2)}" fill="${fill}"${stroke}><title>${w.toFixed(4)}</title></rect>`,
        );
      });
    });
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
