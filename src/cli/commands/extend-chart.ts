/**
 * The chart of `posenc extend --svg`: per rotary pair i, the frequency scaling theta'_i / theta_i each method's
 * block gives at the target length (log scale; 1 = the original RoPE), and the scaling that moving the base to
 * the RoPE base lower bound b*(T) would give, (b / b*)^(2i/d): a method whose curve lies above that dashed one
 * keeps pair i faster than RoPE at the bound base would. Standalone SVG, deterministic, no fonts fetched.
 */
import { escapeXml, niceTicks } from "../../lab/report/svg.js";

/** Colorblind-safe palette (Okabe & Ito 2008). */
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"];

export interface ScalingCurve {
  label: string;
  /** theta'_i / theta_i for i = 0 .. d/2 - 1. */
  ratio: ArrayLike<number>;
  dashed?: boolean;
}

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

/** "1", "1/2", "1/16", "4": a power-of-two scaling ratio as a label. */
function ratioLabel(log10: number): string {
  const k = Math.round(log10 / Math.log10(2));
  if (Math.abs(k) > 20) return `2^${k}`;
  return k >= 0 ? String(2 ** k) : `1/${2 ** -k}`;
}

export function renderScalingChart(curves: ScalingCurve[], title: string): string {
  const width = 760;
  const height = 440;
  const margin = { left: 64, right: 190, top: 44, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const pairs = Math.max(...curves.map((c) => c.ratio.length));
  const logs = curves.map((c) => Array.from(c.ratio, (r) => Math.log10(r)));
  const all = logs.flat().filter(Number.isFinite);
  const low = Math.min(0, ...all);
  const high = Math.max(0, ...all);
  const pad = Math.max((high - low) * 0.05, 0.05);
  const [yMin, yMax] = [low - pad, high + pad];
  const x = (i: number) => margin.left + (pairs <= 1 ? 0 : (i / (pairs - 1)) * plotW);
  const y = (v: number) => margin.top + (1 - (v - yMin) / (yMax - yMin)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="24" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  // Ticks at powers of two (1, 1/2, 1/4, ...): scaling factors are read as "divided by s".
  const [kLow, kHigh] = [Math.ceil(yMin / Math.LOG10E / Math.LN2), Math.floor(yMax / Math.LOG10E / Math.LN2)];
  const kStep = Math.max(1, Math.ceil((kHigh - kLow + 1) / 8));
  const yTicks: number[] = [];
  for (let k = kHigh; k >= kLow; k -= kStep) yTicks.push(k * Math.log10(2));
  for (const t of yTicks) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fmt(y(t))}" y2="${fmt(y(t))}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${ratioLabel(t)}</text>`,
    );
  }
  const xTicks = niceTicks(0, Math.max(pairs - 1, 1), 8).filter((t) => t <= pairs - 1);
  for (const t of xTicks) {
    parts.push(`<text x="${fmt(x(t))}" y="${margin.top + plotH + 18}" text-anchor="middle">${t}</text>`);
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${fmt(y(0))}" y2="${fmt(y(0))}" stroke="#555555"/>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">rotary pair i (high frequency to low)</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">theta'_i / theta_i (log scale)</text>`,
  );
  curves.forEach((curve, k) => {
    const color = curve.dashed ? "#000000" : PALETTE[k % PALETTE.length]!;
    const points = logs[k]!.map((v, i) => `${fmt(x(i))},${fmt(y(Number.isFinite(v) ? v : yMin))}`).join(" ");
    const dash = curve.dashed ? ` stroke-dasharray="6 4"` : "";
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
      ...logs[k]!.map(
        (v, i) =>
          `<circle cx="${fmt(x(i))}" cy="${fmt(y(Number.isFinite(v) ? v : yMin))}" r="2" fill="${color}"/>`,
      ),
    );
    const ly = margin.top + 14 + k * 20;
    const lx = margin.left + plotW + 14;
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 28}" y="${ly}">${escapeXml(curve.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
