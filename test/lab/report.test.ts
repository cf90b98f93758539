import { describe, expect, it } from "vitest";
import { parseExperimentConfig } from "../../src/lab/config.js";
import type { ResultRow } from "../../src/lab/evaluate.js";
import { renderHtml } from "../../src/lab/report/html.js";
import { renderLengthTable, renderMarkdown, renderSummaryTable } from "../../src/lab/report/markdown.js";
import { describeLengths, seedStat, summarize } from "../../src/lab/report/summary.js";
import { niceTicks, renderAccuracyChart } from "../../src/lab/report/svg.js";
import { RESULTS_FORMAT, type ResultsFile } from "../../src/lab/results.js";

const config = parseExperimentConfig({
  name: "fixture",
  task: { id: "reverse_string", params: { vocabSize: 16 } },
  encodings: [{ id: "rope" }, { id: "alibi", label: "alibi <&>" }],
  train: { length: "1..2", steps: 10 },
  eval: { length: "1..4", samplesPerLength: 10 },
  seeds: [0, 1],
});

/** Exact match per length 1..4, per (encoding, seed); token accuracy = (1 + exact) / 2. */
const table: Record<string, number[]> = {
  "rope 0": [1, 1, 0.5, 0.1],
  "rope 1": [1, 0.5, 0.5, 0.3],
  "alibi <&> 0": [1, 1, 0, 0],
  "alibi <&> 1": [1, 1, 0.2, 0],
};
const rows: ResultRow[] = Object.entries(table).flatMap(([key, values]) => {
  const [encoding, seed] = [key.slice(0, key.lastIndexOf(" ")), Number(key.slice(key.lastIndexOf(" ") + 1))];
  return values.map((v, i) => ({
    encoding,
    task: "reverse_string",
    length: i + 1,
    seed,
    sequenceAccuracy: v,
    tokenAccuracy: (1 + v) / 2,
    samples: 10,
  }));
});
const file: ResultsFile = {
  format: RESULTS_FORMAT,
  name: "fixture",
  config,
  shards: [{ index: 1, count: 1 }],
  runs: ["rope", "alibi <&>"].flatMap((encoding) =>
    [0, 1].map((seed) => ({
      encoding,
      seed,
      steps: 10,
      finalLoss: 0.5,
      trainSeconds: 2 + seed,
      tokensPerSecond: 1500,
    })),
  ),
  rows,
};

/** Tags balance (a small well-formedness check: every opened element is closed in order). */
function expectBalancedXml(text: string): void {
  const stack: string[] = [];
  for (const match of text.matchAll(/<(\/?)([A-Za-z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(text).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)/);
}

describe("report summary", () => {
  it("averages lengths per seed, then reports mean, sample std and per-seed values", () => {
    const [rope, alibi] = summarize(file);
    // rope ID (n = 1, 2): seed 0 -> 1, seed 1 -> 0.75; OOD (n = 3, 4): 0.3 and 0.4.
    expect(rope.inDistribution.sequenceAccuracy.values).toEqual([1, 0.75]);
    expect(rope.inDistribution.sequenceAccuracy.mean).toBeCloseTo(0.875, 12);
    expect(rope.inDistribution.sequenceAccuracy.std).toBeCloseTo(Math.sqrt(2 * 0.125 ** 2), 12);
    expect(rope.outOfDistribution.sequenceAccuracy.mean).toBeCloseTo(0.35, 12);
    expect(rope.outOfDistribution.tokenAccuracy.mean).toBeCloseTo(0.675, 12);
    expect(alibi.outOfDistribution.sequenceAccuracy.values).toEqual([0, 0.1]);
    expect(rope.trainSeconds).toBe(2.5);
    expect(seedStat([0.5]).std).toBeNaN();
    expect(describeLengths([1, 2, 3, 7, 9, 10])).toBe("1..3, 7, 9..10");
  });

  it("renders the Markdown tables with those values", () => {
    expect(renderSummaryTable(file).split("\n")).toEqual([
      "| encoding | seeds | exact match, n = 1..2 (ID) | exact match, n = 3..4 (OOD) | token acc. ID | token acc. OOD | train s/run | tok/s |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      "| rope | 2 | 0.88 ± 0.18 (1.00/0.75) | 0.35 ± 0.07 (0.30/0.40) | 0.94 ± 0.09 (1.00/0.88) | 0.68 ± 0.04 (0.65/0.70) | 2.5 | 1.5k |",
      "| alibi <&> | 2 | 1.00 ± 0.00 (1.00/1.00) | 0.05 ± 0.07 (0.00/0.10) | 1.00 ± 0.00 (1.00/1.00) | 0.53 ± 0.04 (0.50/0.55) | 2.5 | 1.5k |",
    ]);
    expect(renderLengthTable(file).split("\n").slice(2)).toEqual([
      "| 1 | 1.00 | 1.00 |",
      "| 2 | 0.75 | 1.00 |",
      "| 3 * | 0.50 | 0.10 |",
      "| 4 * | 0.20 | 0.00 |",
    ]);
    const md = renderMarkdown(file);
    expect(md).toContain("# fixture: length generalization on reverse_string");
    expect(md).toContain("trained on lengths 1..2, tested on 1..4");
    expect(md).not.toContain("Missing runs");
    expect(renderMarkdown({ ...file, runs: file.runs.slice(1) })).toContain(
      "Missing runs (not in these results): rope seed 0.",
    );
  });

  it("draws a well-formed SVG with the training range shaded and one curve per encoding", () => {
    const svg = renderAccuracyChart(file, {
      metric: "sequenceAccuracy",
      title: "t <1>",
      trainLength: { min: 1, max: 2 },
    });
    expectBalancedXml(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // Plot x from 56 to 56 + 514 for lengths 0.84..4.16 (1..4 plus room for the sideways shifts of 2 curves:
    // 0.12 / 2 + 0.1); the band covers lengths 0.5..2.5, clipped to the plot.
    expect(svg).toMatch(/<rect class="train-range" x="56" y="40" width="257" height="332"/);
    const curves = [
      ...svg.matchAll(/<polyline class="curve" data-encoding="([^"]*)"[^>]* points="([^"]*)"/g),
    ];
    expect(curves.map((c) => c[1])).toEqual(["rope", "alibi &lt;&amp;&gt;"]);
    // rope's mean exact match at n = 1..4 is 1, 0.75, 0.5, 0.2: y = 40 + (1 - v) * 332, drawn at n - 0.06
    // (first of two curves): x = 56 + (n - 0.06 - 0.84) / 3.32 * 514.
    expect(curves[0][2]).toBe("71.48,40 226.3,123 381.12,206 535.94,305.6");
    expect(niceTicks(1, 60)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it("marks every point, so equal curves stay visible, with its own colour, dash and shape per encoding", () => {
    const svg = renderAccuracyChart(file, {
      metric: "sequenceAccuracy",
      title: "t",
      trainLength: { min: 1, max: 2 },
    });
    const groups = [...svg.matchAll(/<g class="markers" data-encoding="([^"]*)">(.*?)<\/g>/g)];
    expect(groups.map((g) => g[1])).toEqual(["rope", "alibi &lt;&amp;&gt;"]);
    // One marker per tested length: rope circles, alibi squares, at the same y where both are 1.00 (n = 1) but
    // 0.12 lengths (0.12 / 3.32 * 514 = 18.58 px) apart.
    expect(
      [...groups[0][2].matchAll(/<circle class="marker" cx="([^"]*)" cy="([^"]*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    ).toEqual([
      ["71.48", "40"],
      ["226.3", "123"],
      ["381.12", "206"],
      ["535.94", "305.6"],
    ]);
    const squares = [...groups[1][2].matchAll(/<rect class="marker" x="([^"]*)" y="([^"]*)"/g)];
    expect(squares).toHaveLength(4);
    expect(Number(squares[0][1]) + 3.5 * 0.85).toBeCloseTo(71.48 + 18.58, 1);
    // Okabe-Ito colours and dash patterns differ between the curves.
    const strokes = [...svg.matchAll(/<polyline class="curve"[^>]* stroke="([^"]*)"/g)].map((m) => m[1]);
    expect(strokes).toEqual(["#0072B2", "#D55E00"]);
    expect(svg).toMatch(/data-encoding="alibi &lt;&amp;&gt;"[^>]* stroke-dasharray="6 3"/);
  });

  it("draws the per-seed spread as a band from the lowest to the highest seed, only with several seeds", () => {
    const svg = renderAccuracyChart(file, {
      metric: "sequenceAccuracy",
      title: "t",
      trainLength: { min: 1, max: 2 },
    });
    const bands = [
      ...svg.matchAll(/<polygon class="seed-band" data-encoding="([^"]*)"[^>]* points="([^"]*)"/g),
    ];
    expect(bands.map((b) => b[1])).toEqual(["rope", "alibi &lt;&amp;&gt;"]);
    // rope's seeds: max 1, 1, 0.5, 0.3 along the top (n = 1..4), then min 0.1, 0.5, 0.5, 1 back (n = 4..1).
    const ys = bands[0][2].split(" ").map((p) => Number(p.split(",")[1]));
    expect(ys).toEqual(
      [1, 1, 0.5, 0.3, 0.1, 0.5, 0.5, 1].map((v) => Math.round((40 + (1 - v) * 332) * 100) / 100),
    );
    expect(svg).toContain("band: lowest to highest seed");
    const oneSeed: ResultsFile = { ...file, rows: file.rows.filter((r) => r.seed === 0) };
    const single = renderAccuracyChart(oneSeed, {
      metric: "sequenceAccuracy",
      title: "t",
      trainLength: { min: 1, max: 2 },
    });
    expect(single).not.toContain("seed-band");
    expect(single).not.toContain("band: lowest");
    expect(single.match(/class="marker"/g)).toHaveLength(2 * 4 + 2); // 4 lengths x 2 encodings + 2 in the legend
  });

  it("writes a self-contained HTML report (inline SVG, no external assets)", () => {
    const html = renderHtml(file);
    expectBalancedXml(html.replace(/<!DOCTYPE html>/, "").replace(/<meta [^>]*>/g, ""));
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain("figure svg{display:block;width:100%;height:auto}"); // charts span the page width
    expect(html).toContain('class="train-range"');
    expect(html).toContain("<td>0.88 ± 0.18 (1.00/0.75)</td>");
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|\shref=|url\(|@import/i);
  });
});
