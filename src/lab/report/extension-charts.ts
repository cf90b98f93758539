/**
 * Charts of the context-extension reports (issue 9 part 5): bits per character against log2 context, or against
 * fine-tune steps, mean over seeds with a band from the lowest to the highest seed; and which curves of a summary
 * over seeds each chart draws. Standalone SVG, deterministic text.
 */
import type { ExtensionSummary, SeedCurve } from "./extension-seeds.js";
import type { SeedStat } from "./summary.js";
import { escapeXml, niceTicks, PALETTE, seedsBandNote } from "./svg.js";

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

/**
 * Lines of mean bpc over seeds with a band from the lowest to the highest seed, against x: log2 context (kind
 * "context") or fine-tune steps (kind "steps", linear). One colour per curve (per `group` when given: a method's
 * fine-tuned curves share its colour); the trained context and target marked.
 */
export function renderSeedsChart(
  lines: { name: string; points: { x: number; stat: SeedStat }[]; dashed?: boolean; group?: string }[],
  options: { title: string; kind: "context" | "steps"; marks?: [number, string][] },
): string {
  const width = 780;
  const height = 440;
  const m = { left: 56, right: 210, top: 40, bottom: 48 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const log = options.kind === "context";
  const xs = lines.flatMap((l) => l.points.map((p) => p.x));
  const reach = [...xs, ...(options.marks ?? []).map(([t]) => t)]; // the marks stay on the plot
  const lows = lines.flatMap((l) => l.points.map((p) => Math.min(...p.stat.values)));
  const highs = lines.flatMap((l) => l.points.map((p) => Math.max(...p.stat.values)));
  const tx = (v: number) => (log ? Math.log2(v) : v);
  const span = tx(Math.max(...reach)) - tx(Math.min(...reach));
  const xMin = tx(Math.min(...reach)) - (log ? 0.2 : span * 0.04);
  const xMax = tx(Math.max(...reach)) + (log ? 0.2 : span * 0.04);
  const yMin = Math.floor(Math.min(...lows) * 4) / 4;
  const yMax = Math.ceil(Math.max(...highs) * 4) / 4;
  const x = (v: number) => m.left + ((tx(v) - xMin) / Math.max(xMax - xMin, 1e-9)) * plotW;
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
  for (const t of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(
      `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${fmt(x(t))}" y="${m.top + plotH + 18}" text-anchor="middle">${t}</text>`,
    );
  }
  for (const [t, label] of options.marks ?? []) {
    parts.push(
      `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${m.top}" y2="${m.top + plotH}" stroke="#888" stroke-dasharray="3 3"/>`,
      `<text x="${fmt(x(t) + 3)}" y="${m.top + 12}" fill="#555">${escapeXml(label)}</text>`,
    );
  }
  const xLabel = log ? "context length (characters, log scale)" : "fine-tune steps at the target";
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${xLabel}</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">bits per character</text>`,
  );
  const groups = [...new Set(lines.map((l) => l.group ?? l.name))];
  lines.forEach((line, i) => {
    const g = groups.indexOf(line.group ?? line.name);
    const color = PALETTE[g % PALETTE.length];
    // Past the palette's colours, lines repeat a colour dotted (fine-tuned ones stay dashed).
    const dash = line.dashed
      ? ' stroke-dasharray="6 3"'
      : g >= PALETTE.length
        ? ' stroke-dasharray="2 2"'
        : "";
    const name = escapeXml(line.name);
    const pts = line.points;
    if (pts.some((p) => p.stat.values.length > 1)) {
      const upper = pts.map((p) => `${fmt(x(p.x))},${fmt(y(Math.max(...p.stat.values)))}`);
      const lower = pts.map((p) => `${fmt(x(p.x))},${fmt(y(Math.min(...p.stat.values)))}`).reverse();
      parts.push(
        `<polygon class="seed-band" fill="${color}" fill-opacity="0.12" stroke="none" points="${[...upper, ...lower].join(" ")}"/>`,
      );
    }
    parts.push(
      `<polyline class="curve" data-curve="${name}" fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.map((p) => `${fmt(x(p.x))},${fmt(y(p.stat.mean))}`).join(" ")}"/>`,
      ...pts.map((p) => `<circle cx="${fmt(x(p.x))}" cy="${fmt(y(p.stat.mean))}" r="3" fill="${color}"/>`),
    );
    const ly = m.top + 10 + i * 18;
    const lx0 = m.left + plotW + 16;
    parts.push(
      `<line x1="${lx0}" x2="${lx0 + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash}/>`,
      `<text x="${lx0 + 32}" y="${ly + 4}">${name}</text>`,
    );
  });
  if (lines.some((l) => l.points.some((p) => p.stat.values.length > 1))) {
    const ly = m.top + 10 + lines.length * 18 + 6;
    parts.push(...seedsBandNote(m.left + plotW + 16, ly));
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** A fine-tune family: a method with its parameters, its segments per row and its rows' length (0: the target's). */
const familyOf = (c: SeedCurve) => `${c.base}|${c.finetuneSegments}|${c.finetuneLength}`;

/**
 * bpc at context `window` against fine-tune steps, one line per method (and per segment count of a segmented
 * fine-tune): the method's training-free curve is step 0, each fine-tuned curve one more point. Methods without a
 * fine-tuned curve are left out.
 */
export function stepsLines(summary: ExtensionSummary, window: number) {
  const tuned = summary.curves.filter((c) => c.finetuneSteps > 0);
  const families = [...new Map(tuned.map((c) => [familyOf(c), c])).values()];
  return families.map((family) => {
    const own = summary.curves
      .filter((c) => c.base === family.base && (c.finetuneSteps === 0 || familyOf(c) === familyOf(family)))
      .sort((a, b) => a.finetuneSteps - b.finetuneSteps);
    const segments = family.finetuneSegments ? ` (${family.finetuneSegments} segments)` : "";
    const name = `${family.base}${family.finetuneLength ? ` at ${family.finetuneLength}` : ""}${segments}`;
    const points = own.flatMap((c) => {
      const point = c.points.find((p) => p.window === window);
      return point ? [{ x: c.finetuneSteps, stat: point.stat }] : [];
    });
    return { name, points };
  });
}

/** The context chart's lines: every training-free curve, and each method's longest fine-tune, dashed. */
export function contextLines(summary: ExtensionSummary) {
  const longest = new Map<string, number>();
  for (const c of summary.curves)
    longest.set(familyOf(c), Math.max(longest.get(familyOf(c)) ?? 0, c.finetuneSteps));
  return summary.curves
    .filter((c) => c.finetuneSteps === 0 || c.finetuneSteps === longest.get(familyOf(c)))
    .map((c) => ({
      name: c.name,
      dashed: c.finetuneSteps > 0,
      points: c.points.map((p) => ({ x: p.window, stat: p.stat })),
    }));
}

/** The charts of a summary: bpc against context, and (with fine-tunes) bpc at the target against steps. */
export function renderSeedsCharts(
  summary: ExtensionSummary,
  title: string,
): { context: string; steps?: string } {
  const marks: [number, string][] = [
    [summary.trainedContext, `trained ${summary.trainedContext}`],
    [summary.target, `target ${summary.target}`],
  ];
  const context = renderSeedsChart(contextLines(summary), { title, kind: "context", marks });
  const lines = stepsLines(summary, summary.target);
  if (lines.length === 0) return { context };
  const steps = renderSeedsChart(lines, {
    title: `${title}: bpc at ${summary.target} against fine-tune steps`,
    kind: "steps",
  });
  return { context, steps };
}
