/**
 * Tables and the self-contained HTML report of a fields experiment: every metric as mean +- standard deviation over
 * seeds (sample std, n - 1), parameter counts, step times, the training curves as inline SVG, and the images
 * (target, and each method's first seed) inline as data URIs, so the one HTML file is the whole report.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pngDataUri } from "./png.js";
import type { FieldsPlan } from "./run.js";
import type { FieldRunResult } from "./train.js";

export interface MethodSummary {
  name: string;
  seeds: number;
  parameterCount: number;
  metrics: Record<string, { mean: number; std: number }>;
  stepMs: { mean: number; std: number };
  /** Mean over the seeds that reached 25 dB, and how many did. */
  secondsTo25dB: { mean: number; reached: number } | null;
}

export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

export function summarize(results: readonly FieldRunResult[]): MethodSummary[] {
  const names = [...new Set(results.map((r) => r.method.name))];
  return names.map((name) => {
    const runs = results.filter((r) => r.method.name === name);
    const metrics: MethodSummary["metrics"] = {};
    for (const key of Object.keys(runs[0].metrics)) metrics[key] = meanStd(runs.map((r) => r.metrics[key]));
    const reached = runs.filter((r) => r.secondsTo25dB !== null).map((r) => r.secondsTo25dB as number);
    return {
      name,
      seeds: runs.length,
      parameterCount: runs[0].parameterCount,
      metrics,
      stepMs: meanStd(runs.map((r) => 1000 * r.stepSeconds)),
      secondsTo25dB:
        runs[0].task === "image"
          ? { mean: reached.length ? meanStd(reached).mean : Number.NaN, reached: reached.length }
          : null,
    };
  });
}

const fmt = (v: number, digits = 4) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const pm = (s: { mean: number; std: number }, digits = 4) => `${fmt(s.mean, digits)} ± ${fmt(s.std, digits)}`;

/** The results as a Markdown table (one row per method). */
export function resultsTable(results: readonly FieldRunResult[]): string {
  const rows = summarize(results);
  if (rows.length === 0) return "(no runs)\n";
  const metricKeys = Object.keys(rows[0].metrics);
  const image = rows[0].secondsTo25dB !== null;
  const head = ["method", "params", "seeds", ...metricKeys, "ms/step", ...(image ? ["s to 25 dB"] : [])];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const cells = [
      r.name,
      String(r.parameterCount),
      String(r.seeds),
      ...metricKeys.map((k) => pm(r.metrics[k])),
      pm(r.stepMs, 1),
    ];
    if (r.secondsTo25dB)
      cells.push(
        r.secondsTo25dB.reached
          ? `${fmt(r.secondsTo25dB.mean, 1)} (${r.secondsTo25dB.reached}/${r.seeds})`
          : `never (0/${r.seeds})`,
      );
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return `${lines.join("\n")}\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Mean score curve per method as an SVG line chart (x: step, y: score). */
function curveSvg(results: readonly FieldRunResult[], label: string): string {
  const names = [...new Set(results.map((r) => r.method.name))];
  const colours = [
    "#1b6ac9",
    "#d1495b",
    "#2e933c",
    "#edae49",
    "#6f2dbd",
    "#00798c",
    "#8d6a9f",
    "#444",
    "#c2185b",
    "#7cb518",
    "#ff7f11",
    "#1f2041",
    "#9e2a2b",
  ];
  const series = names.map((name) => {
    const runs = results.filter((r) => r.method.name === name);
    const points = runs[0].curve.map((c, i) => ({
      step: c.step,
      score: meanStd(runs.map((r) => r.curve[i]?.score ?? c.score)).mean,
    }));
    return { name, points };
  });
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.score));
  if (all.length === 0) return "";
  const maxStep = Math.max(...all.map((p) => p.step), 1);
  const lo = Math.min(...all.map((p) => p.score));
  const hi = Math.max(...all.map((p) => p.score));
  const [w, h, pad] = [640, 300, 40];
  const sx = (s: number) => pad + ((w - 2 * pad) * s) / maxStep;
  const sy = (v: number) => h - pad - ((h - 2 * pad) * (v - lo)) / (hi - lo || 1);
  const lines = series.map((s, i) => {
    const pts = s.points
      .filter((p) => Number.isFinite(p.score))
      .map((p) => `${sx(p.step).toFixed(1)},${sy(p.score).toFixed(1)}`)
      .join(" ");
    const colour = colours[i % colours.length];
    return `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts}"/><text x="${w - pad + 4}" y="${pad + 14 * i}" fill="${colour}" font-size="11">${escapeHtml(s.name)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w + 120}" height="${h}" font-family="sans-serif">
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#888"/>
<text x="${pad}" y="${h - 8}" font-size="11">step 0</text><text x="${w - pad - 40}" y="${h - 8}" font-size="11">step ${maxStep}</text>
<text x="4" y="${pad}" font-size="11">${fmt(hi, 2)}</text><text x="4" y="${h - pad}" font-size="11">${fmt(lo, 2)}</text>
<text x="${pad + 4}" y="${pad - 8}" font-size="12">${escapeHtml(label)} (mean over seeds)</text>
${lines.join("\n")}
</svg>`;
}

function image(path: string, caption: string): string {
  if (!existsSync(path)) return "";
  return `<figure><img src="${pngDataUri(new Uint8Array(readFileSync(path)))}" alt="${escapeHtml(caption)}"/><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

export function renderFieldsReport(
  plan: FieldsPlan,
  results: readonly FieldRunResult[],
  out: string,
  describe: string,
): string {
  const names = [...new Set(results.map((r) => r.method.name))];
  const firstSeed = plan.seeds[0];
  const picture =
    plan.task === "image" ? "reconstruction.png" : plan.task === "sdf2d" ? "level-set.png" : "render.png";
  const target =
    plan.task === "image"
      ? "target.png"
      : plan.task === "sdf2d"
        ? "target-level-set.png"
        : "target-render.png";
  const figures = [
    image(join(out, target), "target"),
    ...names.map((n) => image(join(out, n, `seed-${firstSeed}`, picture), `${n} (seed ${firstSeed})`)),
  ];
  const table = resultsTable(results)
    .trim()
    .split("\n")
    .filter((_, i) => i !== 1)
    .map((line, i) => {
      const cells = line
        .split("|")
        .slice(1, -1)
        .map((c) => escapeHtml(c.trim()));
      const tag = i === 0 ? "th" : "td";
      return `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join("")}</tr>`;
    })
    .join("\n");
  const methods = names
    .map((n) => {
      const m = results.find((r) => r.method.name === n)?.method;
      return m
        ? `<li><b>${escapeHtml(n)}</b>: encoding ${escapeHtml(m.encoding)} ${escapeHtml(JSON.stringify(m.options))}, ${m.activation}, ${m.architecture}, ${m.layers} x ${m.hidden}, Adam lr ${m.lr}</li>`
        : "";
    })
    .join("\n");
  const scoreName = plan.task === "image" ? "PSNR (dB)" : "IoU on the grid";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"/><title>posenc fields: ${plan.task}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}figure{display:inline-block;margin:6px;text-align:center}img{image-rendering:pixelated;width:256px;height:256px;border:1px solid #ddd}</style>
</head><body>
<h1>posenc fields: ${plan.task}</h1>
<p>${escapeHtml(describe)}. ${plan.steps} steps, batch ${plan.batch}, seeds ${plan.seeds.join(", ")}. Values are mean ± standard deviation over seeds.</p>
<table>
${table}
</table>
<h2>Training curves</h2>
${curveSvg(results, scoreName)}
<h2>Pictures</h2>
${figures.join("\n")}
<h2>Methods</h2>
<ul>
${methods}
</ul>
</body></html>
`;
}
