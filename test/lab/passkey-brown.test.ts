/**
 * Passkey retrieval on Brown Corpus filler end to end: posenc train on brown_passkey (a few steps), then
 * posenc eval --passkey over a small grid, its JSON, table and SVG heatmap, and the one-line errors of its flags.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { evalCommand } from "../../src/cli/commands/eval.js";
import { trainCommand } from "../../src/cli/commands/train.js";
import { isInputError } from "../../src/cli/errors.js";
import { loadBrownCorpus } from "../../src/tasks/text/brown-corpus.js";
import { decodeChars, encodeChars } from "../../src/tasks/text/char-lm.js";
import { NEEDLE_PREFIX, passkeyExample } from "../../src/tasks/text/passkey-haystack.js";
import { Rng } from "../../src/util/rng.js";
import { runCommand } from "../helpers/run-command.js";

vi.setConfig({ testTimeout: 60_000 });

describe("passkey example in Brown Corpus filler", () => {
  it("cuts the filler from the held-out split it names", () => {
    const validation = loadBrownCorpus().splits.validation.text;
    const ex = passkeyExample(new Rng(1), encodeChars(validation), 400, { depth: 0.5 });
    const text = decodeChars(ex.sequence);
    expect(text.indexOf(NEEDLE_PREFIX)).toBe(ex.before);
    expect(validation).toContain(text.slice(0, ex.before));
    expect(text.endsWith(ex.passkey)).toBe(true);
  });
});

describe("posenc train on brown_passkey, then eval --passkey", () => {
  let scratch = "";
  let out = "";
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), "posenc-passkey-"));
    const configPath = join(scratch, "config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        name: "tiny-passkey",
        task: { id: "brown_passkey", params: { passkeyFraction: 0.5 } },
        model: { layers: 1, dModel: 8, heads: 2 },
        encodings: [{ id: "rope" }],
        train: { length: 96, steps: 2, batchSize: 2, lr: 0.01 },
        eval: { length: 96, taskParams: { split: "validation" }, samplesPerLength: 2, batchSize: 2 },
      }),
    );
    out = join(scratch, "run");
    await runCommand(trainCommand, "--config", configPath, "--out", out);
  });

  it("scores every cell of the grid, deterministically, and writes the heatmap", async () => {
    const svg = join(scratch, "passkey.svg");
    const args = [
      "--checkpoint",
      out,
      "--passkey",
      "--contexts",
      "96,128",
      "--depths",
      "0,1",
      "--per-cell",
      "2",
    ];
    const grid = JSON.parse(await runCommand(evalCommand, ...args, "--svg", svg, "--json"));
    // The file `posenc report passkey` reads: the grid with its run.
    expect([grid.format, grid.checkpoint, grid.encoding, grid.step, grid.trainedContext, grid.split]).toEqual(
      ["posenc-passkey/1", out, "rope", 2, 96, "validation"],
    );
    expect(grid.contexts).toEqual([96, 128]);
    expect(grid.depths).toEqual([0, 1]);
    expect(
      grid.cells.map((c: { context: number; depth: number; examples: number }) => [
        c.context,
        c.depth,
        c.examples,
      ]),
    ).toEqual([
      [96, 0, 2],
      [96, 1, 2],
      [128, 0, 2],
      [128, 1, 2],
    ]);
    for (const c of grid.cells) expect(c.accuracy).toBe(c.correct / 2);
    expect(JSON.parse(await runCommand(evalCommand, ...args, "--json"))).toEqual(grid);
    const image = readFileSync(svg, "utf8");
    expect(image.match(/<rect class="cell"/g)).toHaveLength(4);
    expect(image).toContain(">128 *<");
    // The file exists now: refused without --force, replaced with it.
    await expect(runCommand(evalCommand, ...args, "--svg", svg)).rejects.toThrow(
      `posenc eval: --svg ${svg}: the file exists; pass --force to replace it`,
    );
    const table = await runCommand(evalCommand, ...args, "--svg", svg, "--force");
    expect(table).toMatch(/passkey, validation split, 2 per cell, trained at T = 96/);
    expect(table).toMatch(/\n +128 \* +\d\.\d\d +\d\.\d\d\n/);
  });

  it("rejects bad flags in one line before any work", async () => {
    const run = (...argv: string[]) => runCommand(evalCommand, "--checkpoint", out, ...argv);
    const cases: [string[], string][] = [
      [
        ["--passkey", "--depths", "0,1.5"],
        'posenc eval: --depths must be numbers in [0, 1] separated by commas, received "0,1.5"',
      ],
      [
        ["--passkey", "--contexts", "50"],
        "posenc eval: --contexts 50: a passkey example needs at least 80 characters",
      ],
      [
        ["--passkey", "--per-cell", "0"],
        'posenc eval: --per-cell must be an integer from 1 to 100000, received "0"',
      ],
      [
        ["--passkey", "--split", "train"],
        'posenc eval: --split must be validation or test, received "train"',
      ],
      [["--passkey", "--bpc"], "posenc eval: --passkey and --bpc are separate evaluations; pass one"],
      [["--depths", "0,1"], "posenc eval: --depths needs --passkey"],
      [["--passkey", "--force"], "posenc eval: --force needs --svg"],
      [
        ["--passkey", "--svg", scratch],
        `Invalid --svg: expected a file path (it is a directory), received "${scratch}"`,
      ],
    ];
    for (const [argv, message] of cases) {
      const error = await run(...argv).catch((e: unknown) => e);
      expect(isInputError(error)).toBe(true);
      expect((error as Error).message).toContain(message);
      expect((error as Error).message).not.toContain("\n");
    }
    expect(existsSync(join(scratch, "passkey-never.svg"))).toBe(false);
  });
});
