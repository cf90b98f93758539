/**
 * The accuracy-against-length chart as a standalone SVG (no fonts or scripts to fetch): one line per encoding
 * (mean over seeds) with a marker at every tested length, a band from the lowest to the highest seed when there
 * are several, the training range shaded, axes with ticks, a legend. Written by hand rather than through a
 * plotting library: a line chart is a few dozen elements, and the output stays byte-for-byte deterministic.
 *
 * Curves that coincide (two encodings both at 1.00 inside the training range, or both at 0 far past it) must not
 * hide each other: each encoding has its own colour (Okabe-Ito), dash pattern and marker shape, and encoding i of
 * k is drawn shifted sideways by (i - (k - 1) / 2) * DODGE lengths, so equal points sit side by side.
 */
import type { LengthRange } from "../config.js";
import type { ResultsFile } from "../results.js";
import { type CurvePoint, type Metric, meanCurves } from "./summary.js";

/** Colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design"), then greys. */
export const PALETTE = [
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

/** Dash patterns, solid first, so curves differ without colour too. */
const DASHES = ["", "6 3", "2 3", "9 3 2 3", "4 4", "1 2"];

/** Marker shapes, one per encoding (cycled). */
const MARKERS = ["circle", "square", "triangle", "diamond", "triangle-down", "cross"] as const;

/** Sideways shift between neighbouring encodings, in lengths. */
const DODGE = 0.12;

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

/** An SVG element drawing marker `shape` of radius r centred at (cx, cy). */
export function markerElement(
  shape: (typeof MARKERS)[number],
  cx: number,
  cy: number,
  r: number,
  color: string,
): string {
  const p = (dx: number, dy: number) => `${fmt(cx + dx)},${fmt(cy + dy)}`;
  const style = `fill="${color}" stroke="#ffffff" stroke-width="0.8"`;
  switch (shape) {
    case "circle":
      return `<circle class="marker" cx="${fmt(cx)}" cy="${fmt(cy)}" r="${fmt(r)}" ${style}/>`;
    case "square":
      return `<rect class="marker" x="${fmt(cx - r * 0.85)}" y="${fmt(cy - r * 0.85)}" width="${fmt(r * 1.7)}" height="${fmt(r * 1.7)}" ${style}/>`;
    case "triangle":
      return `<polygon class="marker" points="${p(0, -r * 1.15)} ${p(r * 1.05, r * 0.75)} ${p(-r * 1.05, r * 0.75)}" ${style}/>`;
    case "triangle-down":
      return `<polygon class="marker" points="${p(0, r * 1.15)} ${p(r * 1.05, -r * 0.75)} ${p(-r * 1.05, -r * 0.75)}" ${style}/>`;
    case "diamond":
      return `<polygon class="marker" points="${p(0, -r * 1.2)} ${p(r * 1.2, 0)} ${p(0, r * 1.2)} ${p(-r * 1.2, 0)}" ${style}/>`;
    default:
      return `<path class="marker" d="M${p(-r, -r)}L${p(r, r)}M${p(-r, r)}L${p(r, -r)}" stroke="${color}" stroke-width="2" fill="none"/>`;
  }
}

export interface ChartOptions {
  metric: Metric;
  title: string;
  trainLength: LengthRange;
  width?: number;
  height?: number;
}

/** What a chart of curves other than accuracy by length says on its axes and band. */
export interface CurveChartOptions extends Omit<ChartOptions, "metric"> {
  /** Default "length n". */
  xLabel?: string;
  yLabel: string;
  /** The shaded band's label (default "training lengths"). */
  bandLabel?: string;
}

/** The chart of `file` (mean over seeds per length and encoding). */
export function renderAccuracyChart(file: ResultsFile, options: ChartOptions): string {
  return renderCurveChart(meanCurves(file, options.metric), {
    ...options,
    yLabel: options.metric === "sequenceAccuracy" ? "exact match" : "token accuracy",
  });
}

/**
 * Curves of values in [0, 1] against an integer x (length, grid side): mean per x, seed band, training range shaded.
 */
export function renderCurveChart(
  curves: { encoding: string; points: CurvePoint[] }[],
  options: CurveChartOptions,
): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const margin = { left: 56, right: 190, top: 40, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const lengths = curves.flatMap((c) => c.points.map((p) => p.length));
  // Room for the sideways shifts of the outermost encodings.
  const pad = (DODGE * Math.max(curves.length - 1, 0)) / 2 + (curves.length > 1 ? 0.1 : 0);
  const xMin = Math.min(...lengths, options.trainLength.min) - pad;
  const xMax = Math.max(...lengths, options.trainLength.max, xMin + 1) + pad;
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
    `<rect class="train-range" x="${fmt(bandLeft)}" y="${margin.top}" width="${fmt(Math.max(bandRight - bandLeft, 0))}" height="${plotH}" fill="#e8e8e8"><title>${options.bandLabel ?? "training lengths"} ${options.trainLength.min}..${options.trainLength.max}</title></rect>`,
    `<text x="${fmt((bandLeft + bandRight) / 2)}" y="${margin.top + plotH - 8}" text-anchor="middle" fill="#555">${options.bandLabel ?? "training lengths"}</text>`,
  );
  // Grid and axes.
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#cccccc" stroke-width="${v === 0 ? 1 : 0.5}"/>`,
      `<text x="${margin.left - 8}" y="${fmt(y(v) + 4)}" text-anchor="end">${v.toFixed(2)}</text>`,
    );
  }
  for (const n of niceTicks(Math.ceil(xMin), Math.floor(xMax))) {
    parts.push(
      `<line x1="${fmt(x(n))}" x2="${fmt(x(n))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${fmt(x(n))}" y="${margin.top + plotH + 18}" text-anchor="middle">${n}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel ?? "length n")}</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    `<text x="${margin.left}" y="22" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  // Curves: seed band (lowest to highest seed), line through the means, a marker per tested length; legend.
  const multiSeed = curves.some((c) => c.points.some((p) => p.seeds > 1));
  curves.forEach((curve, i) => {
    const color = PALETTE[i % PALETTE.length];
    const dash = DASHES[i % DASHES.length];
    const shape = MARKERS[i % MARKERS.length];
    const shift = (i - (curves.length - 1) / 2) * DODGE;
    const px = (n: number) => x(n + shift);
    const name = escapeXml(curve.encoding);
    if (curve.points.some((p) => p.seeds > 1)) {
      const upper = curve.points.map((p) => `${fmt(px(p.length))},${fmt(y(p.max))}`);
      const lower = curve.points.map((p) => `${fmt(px(p.length))},${fmt(y(p.min))}`).reverse();
      parts.push(
        `<polygon class="seed-band" data-encoding="${name}" fill="${color}" fill-opacity="0.15" stroke="none" points="${[...upper, ...lower].join(" ")}"/>`,
      );
    }
    const points = curve.points.map((p) => `${fmt(px(p.length))},${fmt(y(p.value))}`).join(" ");
    parts.push(
      `<polyline class="curve" data-encoding="${name}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""} points="${points}"/>`,
      `<g class="markers" data-encoding="${name}">${curve.points.map((p) => markerElement(shape, px(p.length), y(p.value), 3.5, color)).join("")}</g>`,
    );
    const ly = margin.top + 10 + i * 20;
    const lx = margin.left + plotW + 16;
    parts.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
      markerElement(shape, lx + 13, ly, 3.5, color),
      `<text x="${lx + 32}" y="${ly + 4}">${name}</text>`,
    );
  });
  if (multiSeed) {
    const ly = margin.top + 10 + curves.length * 20 + 6;
    parts.push(...seedsBandNote(margin.left + plotW + 16, ly));
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** The legend's note under the curves of a chart over seeds: what the line and the band are. */
export function seedsBandNote(x: number, y: number): string[] {
  return [
    `<text x="${x}" y="${y + 4}" fill="#555" font-size="11">line: mean over seeds</text>`,
    `<text x="${x}" y="${y + 18}" fill="#555" font-size="11">band: lowest to highest seed</text>`,
  ];
}
