/**
 * Reports of `posenc eval --bpc --extend` (issue 9 part 5): bits per character against context length per method,
 * training-free and after the fine-tune, as Markdown, a standalone SVG (log2 context axis, one colour per method,
 * solid training-free, dashed fine-tuned, the training context and the target marked) and a self-contained HTML
 * page holding both. Deterministic text: the same curves give the same bytes.
 */
import type { ExtensionCurve } from "../extension-eval.js";
import { renderSeedsChart } from "./extension-charts.js";
import { curveName, methodName } from "./extension-seeds.js";
import { markdownTableToHtml } from "./html.js";
import { seedStat } from "./summary.js";
import { escapeXml } from "./svg.js";

/** The method (its non-default parameters) and fine-tune; the baseline is "rope" whatever the encoding. */
function curveLabel(c: ExtensionCurve): string {
  return curveName("rope", c);
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

/** bpc against log2 context, one line per curve: a colour per method, fine-tuned curves dashed. */
export function renderExtensionChart(
  curves: readonly ExtensionCurve[],
  options: { title: string; trainedContext: number },
): string {
  const marks: [number, string][] = [[options.trainedContext, `trained ${options.trainedContext}`]];
  if (curves[0]) marks.push([curves[0].target, `target ${curves[0].target}`]);
  const lines = curves.map((c) => ({
    name: curveLabel(c),
    group: methodName("rope", c),
    dashed: c.finetuneSteps > 0,
    points: c.rows.map((r) => ({ x: r.window, stat: seedStat([r.bitsPerChar]) })),
  }));
  return renderSeedsChart(lines, { title: options.title, kind: "context", marks });
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
