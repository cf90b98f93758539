/**
 * The accuracy-against-length chart as a standalone SVG (no fonts or scripts to fetch): one line per encoding
 * (mean over seeds), the training range shaded, axes with ticks, a legend. Written by hand rather than through a
 * plotting library: a line chart is a few dozen elements, and the output stays byte-for-byte deterministic.
 */
import type { LengthRange } from "../config.js";
import type { ResultsFile } from "../results.js";
import { type Metric, meanCurves } from "./summary.js";

/** Colorblind-safe palette (Okabe & Ito 2008), then greys. */
const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
  "#999999",
];

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

/** "Nice" tick values covering [min, max] (1, 2 or 5 times a power of ten apart). */
export function niceTicks(min: number, max: number, target = 8): number[] {
  const span = Math.max(max - min, 1);
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step)
    ticks.push(Math.round(v * 1e9) / 1e9);
  return ticks;
}

export interface ChartOptions {
  metric: Metric;
  title: string;
  trainLength: LengthRange;
  width?: number;
  height?: number;
}

/** The chart of `file` (mean over seeds per length and encoding). */
export function renderAccuracyChart(file: ResultsFile, options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { left: 56, right: 150, top: 40, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const curves = meanCurves(file, options.metric);
  const lengths = curves.flatMap((c) => c.points.map((p) => p.length));
  const xMin = Math.min(...lengths, options.trainLength.min);
  const xMax = Math.max(...lengths, options.trainLength.max, xMin + 1);
  const x = (n: number) => margin.left + ((n - xMin) / (xMax - xMin)) * plotW;
  const y = (v: number) => margin.top + (1 - v) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  // Training range, shaded (half a length beyond each end, so single lengths get a visible band).
  const bandLeft = Math.max(margin.left, x(options.trainLength.min - 0.5));
  const bandRight = Math.min(margin.left + plotW, x(options.trainLength.max + 0.5));
  parts.push(
    `<rect class="train-range" x="${fmt(bandLeft)}" y="${margin.top}" width="${fmt(Math.max(bandRight - bandLeft, 0))}" height="${plotH}" fill="#e8e8e8"><title>training lengths ${options.trainLength.min}..${options.trainLength.max}</title></rect>`,
    `<text x="${fmt((bandLeft + bandRight) / 2)}" y="${margin.top + plotH - 8}" text-anchor="middle" fill="#555">training lengths</text>`,
  );
  // Grid and axes.
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#cccccc" stroke-width="${v === 0 ? 1 : 0.5}"/>`,
      `<text x="${margin.left - 8}" y="${fmt(y(v) + 4)}" text-anchor="end">${v.toFixed(2)}</text>`,
    );
  }
  for (const n of niceTicks(xMin, xMax)) {
    parts.push(
      `<line x1="${fmt(x(n))}" x2="${fmt(x(n))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${fmt(x(n))}" y="${margin.top + plotH + 18}" text-anchor="middle">${n}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">length n</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${options.metric === "sequenceAccuracy" ? "exact match" : "token accuracy"}</text>`,
    `<text x="${margin.left}" y="22" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  // Curves and legend.
  curves.forEach((curve, i) => {
    const color = PALETTE[i % PALETTE.length];
    const points = curve.points.map((p) => `${fmt(x(p.length))},${fmt(y(p.value))}`).join(" ");
    parts.push(
      `<polyline class="curve" data-encoding="${escapeXml(curve.encoding)}" fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`,
    );
    const ly = margin.top + 10 + i * 20;
    const lx = margin.left + plotW + 16;
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${lx + 28}" y="${ly + 4}">${escapeXml(curve.encoding)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
