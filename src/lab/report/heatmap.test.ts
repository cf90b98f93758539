import { describe, expect, it } from "vitest";
import type { PasskeyGrid } from "../retrieval.js";
import { heatColor, renderPasskeyHeatmap } from "./heatmap.js";

describe("passkey heatmap SVG", () => {
  it("colours by viridis: its ends and its middle stop exactly", () => {
    expect([heatColor(0), heatColor(0.5), heatColor(1), heatColor(-1), heatColor(2)]).toEqual([
      "#440154",
      "#21918c",
      "#fde725",
      "#440154",
      "#fde725",
    ]);
  });

  // Hand-built grid: 2 contexts x 3 depths with known accuracies.
  const accuracies = [
    [1, 0.5, 0.25],
    [0.75, 0, 1],
  ];
  const grid: PasskeyGrid = {
    contexts: [128, 512],
    depths: [0, 0.5, 1],
    perCell: 4,
    digits: 5,
    seed: 0,
    cells: [128, 512].flatMap((context, r) =>
      [0, 0.5, 1].map((depth, c) => ({
        context,
        depth,
        examples: 4,
        correct: accuracies[r][c] * 4,
        accuracy: accuracies[r][c],
        digitAccuracy: accuracies[r][c],
      })),
    ),
  };
  const svg = renderPasskeyHeatmap(grid, { title: "rope <s0>", trainedContext: 256 });

  it("draws one coloured cell per (context, depth) with its value printed, longest context on top", () => {
    const cells = [
      ...svg.matchAll(
        /<rect class="cell" data-context="(\d+)" data-depth="([\d.]+)" data-accuracy="([\d.]+)" x="(\d+)" y="(\d+)"[^>]*fill="(#[0-9a-f]{6})"/g,
      ),
    ];
    expect(cells).toHaveLength(6);
    const byKey = new Map(cells.map((m) => [`${m[1]}@${m[2]}`, m]));
    expect(Number(byKey.get("128@0.5")?.[3])).toBe(0.5);
    expect(Number(byKey.get("512@1")?.[3])).toBe(1);
    // 512 is above 128; depth increases to the right.
    expect(Number(byKey.get("512@0")?.[5])).toBeLessThan(Number(byKey.get("128@0")?.[5]));
    expect(Number(byKey.get("128@0")?.[4])).toBeLessThan(Number(byKey.get("128@1")?.[4]));
    // Viridis ends: 0 -> #440154, 1 -> #fde725.
    expect(byKey.get("512@0.5")?.[6]).toBe("#440154");
    expect(byKey.get("128@0")?.[6]).toBe("#fde725");
    const values = [...svg.matchAll(/<text class="value"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(values).toEqual(["1.00", "0.50", "0.25", "0.75", "0.00", "1.00"]);
  });

  it("has a legend from 0 to 1, axis labels, the escaped title and balanced tags", () => {
    expect(svg.match(/<rect class="legend"/g)).toHaveLength(10);
    const ticks = [...svg.matchAll(/<text class="legend-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(ticks).toEqual(["1.0", "0.5", "0.0"]);
    expect(svg).toContain("needle depth");
    expect(svg).toContain("context length (characters)");
    expect(svg).toContain(">512 *<");
    expect(svg).toContain(">128<");
    expect(svg).toContain("rope &lt;s0&gt;");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const opened = (svg.match(/<(rect|text|title)\b[^>]*?(?<!\/)>/g) ?? []).length;
    const closed = (svg.match(/<\/(rect|text|title)>/g) ?? []).length;
    expect(opened).toBe(closed);
    expect(renderPasskeyHeatmap(grid, { title: "rope <s0>", trainedContext: 256 })).toBe(svg);
  });
});
