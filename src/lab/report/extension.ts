/**
 * Reports of `posenc eval --bpc --extend` (issue 9 part 5): bits per character against context length per method,
 * training-free and after the fine-tune, as Markdown, a standalone SVG (log2 context axis, one colour per method,
 * solid training-free, dashed fine-tuned, the training context and the target marked) and a self-contained HTML
 * page holding both. Deterministic text: the same curves give the same bytes.
 */
import type { ExtensionCurve } from "../extension-eval.js";
import { markdownTableToHtml } from "./html.js";
import { escapeXml, niceTicks, PALETTE } from "./svg.js";

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

function curveLabel(c: ExtensionCurve): string {
  return c.finetuneSteps ? `${c.method} +${c.finetuneSteps} steps` : c.method;
}

/** One row per curve, one column per context length: bpc (4 decimals). */
export function renderExtensionMarkdown(curves: readonly ExtensionCurve[], trainedContext: number): string {
  const contexts = [...new Set(curves.flatMap((c) => c.rows.map((r) => r.window)))].sort((a, b) => a - b);
  const head = `| method | ${contexts.map((t) => `${t}${t > trainedContext ? " *" : ""}`).join(" | ")} |`;
  const rule = `|---|${contexts.map(() => "---:").join("|")}|`;
  const body = curves.map((c) => {
    const cells = contexts.map((t) => c.rows.find((r) => r.window === t)?.bitsPerChar.toFixed(4) ?? "");
    return `| ${curveLabel(c)} | ${cells.join(" | ")} |`;
  });
  const target = curves[0]?.target;
  return [
    `Bits per character (lower is better) against context length; trained at ${trainedContext} (* = longer), target ${target}.`,
    "",
    head,
    rule,
    ...body,
    "",
  ].join("\n");
}

/** bpc against log2 context, one line per curve. */
export function renderExtensionChart(
  curves: readonly ExtensionCurve[],
  options: { title: string; trainedContext: number },
): string {
  const width = 760;
  const height = 420;
  const m = { left: 56, right: 200, top: 40, bottom: 48 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const contexts = curves.flatMap((c) => c.rows.map((r) => r.window));
  const values = curves.flatMap((c) => c.rows.map((r) => r.bitsPerChar));
  const lx = (t: number) => Math.log2(t);
  const xMin = lx(Math.min(...contexts, options.trainedContext)) - 0.2;
  const xMax = lx(Math.max(...contexts)) + 0.2;
  const yMin = Math.floor(Math.min(...values) * 2) / 2;
  const yMax = Math.ceil(Math.max(...values) * 2) / 2;
  const x = (t: number) => m.left + ((lx(t) - xMin) / (xMax - xMin)) * plotW;
  const y = (v: number) => m.top + (1 - (v - yMin) / Math.max(yMax - yMin, 1e-9)) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="22" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  ];
  for (const v of niceTicks(yMin, yMax, 6)) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="#cccccc" stroke-width="0.5"/>`,
      `<text x="${m.left - 8}" y="${fmt(y(v) + 4)}" text-anchor="end">${v}</text>`,
    );
  }
  for (const t of [...new Set(contexts)].sort((a, b) => a - b)) {
    parts.push(
      `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${fmt(x(t))}" y="${m.top + plotH + 18}" text-anchor="middle">${t}</text>`,
    );
  }
  const marks: [number, string][] = [[options.trainedContext, "trained"]];
  if (curves[0]) marks.push([curves[0].target, "target"]);
  for (const [t, name] of marks) {
    parts.push(
      `<line class="${name}" x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${m.top}" y2="${m.top + plotH}" stroke="#888" stroke-dasharray="3 3"/>`,
      `<text x="${fmt(x(t) + 3)}" y="${m.top + 12}" fill="#555">${name} ${t}</text>`,
    );
  }
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">context length (characters, log scale)</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">bits per character</text>`,
  );
  const methods = [...new Set(curves.map((c) => c.method))];
  curves.forEach((c, i) => {
    const color = PALETTE[methods.indexOf(c.method) % PALETTE.length];
    const dash = c.finetuneSteps ? ' stroke-dasharray="6 3"' : "";
    const name = escapeXml(curveLabel(c));
    const points = c.rows.map((r) => `${fmt(x(r.window))},${fmt(y(r.bitsPerChar))}`).join(" ");
    parts.push(
      `<polyline class="curve" data-method="${name}" fill="none" stroke="${color}" stroke-width="2"${dash} points="${points}"/>`,
      ...c.rows.map(
        (r) => `<circle cx="${fmt(x(r.window))}" cy="${fmt(y(r.bitsPerChar))}" r="3" fill="${color}"/>`,
      ),
    );
    const ly = m.top + 10 + i * 18;
    const lx0 = m.left + plotW + 16;
    parts.push(
      `<line x1="${lx0}" x2="${lx0 + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash}/>`,
      `<text x="${lx0 + 32}" y="${ly + 4}">${name}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** A self-contained page: the table and the chart inline, nothing fetched. */
export function renderExtensionHtml(
  curves: readonly ExtensionCurve[],
  options: { title: string; trainedContext: number },
): string {
  const markdown = renderExtensionMarkdown(curves, options.trainedContext);
  const blocks = curves
    .filter((c) => c.block && !c.finetuneSteps)
    .map((c) => `<h3>${escapeXml(c.method)}</h3><pre>${escapeXml(JSON.stringify(c.block))}</pre>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(options.title)}</title>
<style>body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}thead{background:#f4f4f4}pre{background:#f7f7f7;padding:.6rem;overflow:auto;font-size:.8rem}</style>
</head><body>
<h1>${escapeXml(options.title)}</h1>
<p>${escapeXml(markdown.split("\n")[0]!)}</p>
${markdownTableToHtml(markdown)}
<figure>${renderExtensionChart(curves, options)}</figure>
<h2>Hugging Face rope blocks</h2>
${blocks}
</body></html>
`;
}
