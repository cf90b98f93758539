/**
 * `posenc mrope` end to end: the sections and ids of a described input for the bundled Qwen2-VL config (the ids
 * are get_rope_index's, checked against transformers in src/encodings/mrope.test.ts), and one-line errors.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectInputError, root, scratchFolder } from "../helpers/cli-process.js";
import { runCli } from "../helpers/run-command.js";

const { file } = scratchFolder("posenc-mrope-");
const config = "examples/qwen2-vl-2b.config.json";
/** runCli's outcome as the process helper's result (code null when main rejected: then the test fails). */
async function mrope(...args: string[]) {
  const outcome = await runCli(["mrope", ...args]);
  return { ...outcome, code: outcome.code ?? null };
}

const qwen2vl = JSON.parse(readFileSync(`${root}/${config}`, "utf8")) as Record<string, unknown>;

describe("posenc mrope", () => {
  it("prints the sections and the (t, h, w) ids of text, an image and a video as JSON", async () => {
    const result = await runCli([
      "mrope",
      "--config",
      config,
      "--input",
      "text:1,image:4x6,video:2x4x4,text:1",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.section).toEqual([16, 24, 24]);
    expect(out.pairAxes).toEqual([...Array(16).fill("t"), ...Array(24).fill("h"), ...Array(24).fill("w")]);
    const ids = out.tokens.map((tok: { kind: string; t: number; h: number; w: number }) => [
      tok.kind,
      tok.t,
      tok.h,
      tok.w,
    ]);
    expect(ids).toEqual([
      ["text", 0, 0, 0],
      ["vision_start", 1, 1, 1],
      // image grid 1x4x6 merged 2x2: 2 x 3 tokens, offset 2
      ["image", 2, 2, 2],
      ["image", 2, 2, 3],
      ["image", 2, 2, 4],
      ["image", 2, 3, 2],
      ["image", 2, 3, 3],
      ["image", 2, 3, 4],
      ["vision_end", 5, 5, 5],
      ["vision_start", 6, 6, 6],
      // video 2x4x4 merged: 2 frames of 2 x 2, offset 7
      ["video", 7, 7, 7],
      ["video", 7, 7, 8],
      ["video", 7, 8, 7],
      ["video", 7, 8, 8],
      ["video", 8, 7, 7],
      ["video", 8, 7, 8],
      ["video", 8, 8, 7],
      ["video", 8, 8, 8],
      ["vision_end", 9, 9, 9],
      ["text", 10, 10, 10],
    ]);
    expect(out.ropeDelta).toBe(11 - 20);
  });

  it("uses Qwen2.5-VL temporal ids when the config has tokens_per_second", async () => {
    const path = file(
      "qwen25.json",
      JSON.stringify({ ...qwen2vl, vision_config: { spatial_merge_size: 2, tokens_per_second: 2 } }),
    );
    const result = await runCli([
      "mrope",
      "--config",
      path,
      "--input",
      "video:3x2x2",
      "--second-per-grid",
      "2",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const t = JSON.parse(result.stdout).tokens.map((tok: { t: number }) => tok.t);
    expect(t).toEqual([0, 1, 5, 9, 10]); // frames at 0, 4, 8 (t * 2 s * 2 tokens/s) after offset 1
  });

  it("allocates the pairs interleaved for Qwen3-VL's mrope_interleaved", async () => {
    const path = file(
      "qwen3.json",
      JSON.stringify({
        ...qwen2vl,
        rope_scaling: { rope_type: "default", mrope_section: [24, 20, 20], mrope_interleaved: true },
      }),
    );
    const json = await mrope("--config", path, "--input", "text:1", "--json");
    const axes = JSON.parse(json.stdout).pairAxes;
    expect(axes.slice(0, 7)).toEqual(["t", "h", "w", "t", "h", "w", "t"]);
    expect(axes.filter((a: string) => a === "h")).toHaveLength(20);
    const text = await mrope("--config", path, "--input", "text:1");
    expect(text.stdout).toMatch(/^h\s+20\s+1\.\.58 step 3\s/m);
    expect(text.stdout).toMatch(/^t\s+24\s+0\.\.60 step 3, 61\.\.63\s/m);
  });

  it("prints the section table and the ids as text", async () => {
    const result = await runCli(["mrope", "--config", config, "--input", "text:2,image:1x2x2"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^t\s+16\s+0\.\.15\s+1\.000e\+0 \.\. 3\.924e-2$/m);
    expect(result.stdout).toMatch(/^\s+3\s+image\s+3\s+3\s+3$/m);
  });

  it.each([
    [["--input", "text:2"], /missing --config/],
    [["--config", config], /missing --input/],
    [
      ["--config", config, "--input", "image:1x3x4"],
      /segments\[0\]\.grid.*multiples of spatial_merge_size = 2/,
    ],
    [["--config", config, "--input", "text:2;image:2x2"], /--input part "text:2;image:2x2"/],
    [["--config", config, "--input", "video:4x4"], /--input part "video:4x4"/],
    [["--config", config, "--input", "image:1x100000x100000"], /at most 65536 tokens/],
    [["--config", config, "--input", "video:2x2x2", "--second-per-grid", "1"], /Qwen2\.5-VL/],
    [["--config", config, "--input", "text:1", "--merge", "0"], /--merge must be an integer from 1/],
    [["--config", "examples/llama-3.1-8b.config.json", "--input", "text:1"], /no mrope_section/],
  ])("refuses %j in one line", async (args, message) => {
    expectInputError(await mrope(...args), message);
  });

  it("refuses a config whose section does not fit the head", async () => {
    const path = file(
      "bad.json",
      JSON.stringify({ ...qwen2vl, rope_scaling: { type: "mrope", mrope_section: [16, 24, 16] } }),
    );
    expectInputError(
      await mrope("--config", path, "--input", "text:1"),
      /rope_scaling\.mrope_section.*sum to 56/,
    );
  });
});
