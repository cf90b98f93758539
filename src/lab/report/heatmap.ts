/**
 * The passkey heatmap as a standalone SVG (the "lost in the middle" picture): needle depth on x (0 = start of the
 * filler, 1 = end), context length on y (longest at the top), one cell per (context, depth) coloured by retrieval
 * accuracy with the value printed in it, and a colour legend 0..1. No ids, fonts or scripts, so several can be inlined
 * in one HTML report. Hand-written like svg.ts: a grid of rectangles, deterministic to the byte.
 *
 * Colour: viridis (matplotlib's perceptually uniform, colour-blind-safe map), piecewise linear in RGB between its
 * values at 0, 0.25, 0.5, 0.75, 1.
 */
import type { PasskeyGrid } from "../retrieval.js";
import { escapeXml } from "./svg.js";

const VIRIDIS: readonly [number, number, number][] = [
  [0x44, 0x01, 0x54],
  [0x3b, 0x52, 0x8b],
  [0x21, 0x91, 0x8c],
  [0x5e, 0xc9, 0x62],
  [0xfd, 0xe7, 0x25],
];

/** The colour of a value in [0, 1] (clamped) as #rrggbb. */
export function heatColor(value: number): string {
  const v = Math.min(1, Math.max(0, value)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(v));
  const f = v - i;
  const hex = (k: number) =>
    Math.round(VIRIDIS[i][k] + f * (VIRIDIS[i + 1][k] - VIRIDIS[i][k]))
      .toString(16)
      .padStart(2, "0");
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

export interface HeatmapOptions {
  title: string;
  /** Contexts above it get a "*" (longer than the model was trained on). */
  trainedContext?: number;
  /** The line under the title (default: "passkey accuracy: N per cell, k digits, seed s"). */
  subtitle?: string;
}

/** The heatmap of `grid` (cells in PasskeyGrid's row-major order). */
export function renderPasskeyHeatmap(grid: PasskeyGrid, options: HeatmapOptions): string {
  const { contexts, depths } = grid;
  const cellW = 60;
  const cellH = 30;
  const margin = { left: 90, right: 90, top: 72, bottom: 72 };
  const plotW = depths.length * cellW;
  const plotH = contexts.length * cellH;
  const legendH = Math.max(plotH, 100);
  const width = Math.max(margin.left + plotW + margin.right, 440);
  const height = margin.top + legendH + margin.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="22" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
    `<text x="${margin.left}" y="40" fill="#555">${escapeXml(options.subtitle ?? `passkey accuracy: ${grid.perCell} per cell, ${grid.digits} digits, seed ${grid.seed}`)}</text>`,
  ];
  contexts.forEach((context, row) => {
    // Longest context at the top: the row of contexts[i] sits by rank of its value.
    const rank = contexts.filter((c) => c > context).length;
    const y = margin.top + rank * cellH;
    const mark = options.trainedContext !== undefined && context > options.trainedContext ? " *" : "";
    parts.push(
      `<text x="${margin.left - 8}" y="${y + cellH / 2 + 4}" text-anchor="end">${context}${mark}</text>`,
    );
    depths.forEach((depth, col) => {
      const cell = grid.cells[row * depths.length + col];
      const x = margin.left + col * cellW;
      parts.push(
        `<rect class="cell" data-context="${context}" data-depth="${depth}" data-accuracy="${cell.accuracy}" x="${x}" y="${y}" width="${cellW}" height="${cellH}" fill="${heatColor(cell.accuracy)}" stroke="#ffffff"><title>context ${context}, depth ${depth}: ${cell.correct}/${cell.examples}</title></rect>`,
        `<text class="value" x="${x + cellW / 2}" y="${y + cellH / 2 + 4}" text-anchor="middle" fill="${cell.accuracy < 0.6 ? "#ffffff" : "#000000"}">${cell.accuracy.toFixed(2)}</text>`,
      );
    });
  });
  depths.forEach((depth, col) => {
    parts.push(
      `<text x="${margin.left + col * cellW + cellW / 2}" y="${margin.top + plotH + 18}" text-anchor="middle">${depth}</text>`,
    );
  });
  parts.push(
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 40}" text-anchor="middle">needle depth (fraction of the filler before the needle)</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">context length (characters)</text>`,
  );
  if (options.trainedContext !== undefined) {
    parts.push(
      `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 58}" text-anchor="middle" fill="#555">* longer than the trained context ${options.trainedContext}</text>`,
    );
  }
  // Legend: ten swatches from 1 (top) to 0 (bottom), ticks at 0, 0.5 and 1.
  const lx = margin.left + plotW + 24;
  const steps = 10;
  const lh = legendH;
  parts.push(`<text class="legend-title" x="${lx}" y="${margin.top - 8}">accuracy</text>`);
  for (let i = 0; i < steps; i++) {
    const value = 1 - (i + 0.5) / steps;
    parts.push(
      `<rect class="legend" x="${lx}" y="${margin.top + (i * lh) / steps}" width="16" height="${lh / steps}" fill="${heatColor(value)}"/>`,
    );
  }
  for (const tick of [1, 0.5, 0]) {
    parts.push(
      `<text class="legend-tick" x="${lx + 22}" y="${margin.top + (1 - tick) * lh + 4}">${tick.toFixed(1)}</text>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
