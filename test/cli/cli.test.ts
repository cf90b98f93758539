/**
 * The CLI end to end, as a user runs it: exit codes, one-line errors on bad input, JSON contracts.
 * Runs the built CLI (dist/cli/main.js), as installed users do; `npm test` builds it first (pretest).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { expectInputError, posenc, root, scratchFolder } from "../helpers/cli-process.js";

vi.setConfig({ testTimeout: 60_000 });

const { dir: scratch, file } = scratchFolder("posenc-cli-");

describe("posenc rope", () => {
  it("prints the exact JSON contract for the bundled Llama 3.1 config", () => {
    const result = posenc("rope", "--config", "examples/llama-3.1-8b.config.json", "--json");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(Object.keys(out)).toEqual(["ropeType", "dim", "invFreq", "attentionFactor"]);
    expect(out.ropeType).toBe("llama3");
    expect(out.dim).toBe(128);
    expect(out.invFreq).toHaveLength(64);
    expect(out.invFreq[0]).toBe(1); // highest frequency, untouched by llama3 scaling
    // Lowest frequency: wavelength 2*pi*500000^(126/128) is beyond 8192/1, so it is divided by factor 8.
    expect(out.invFreq[63]).toBeCloseTo(500000 ** (-126 / 128) / 8, 12);
    expect(out.attentionFactor).toBe(1);
  });

  it("prints cos/sin tables scaled by the attention factor for --positions", () => {
    const result = posenc(
      "rope",
      "--config",
      "examples/qwen2-yarn.config.json",
      "--positions",
      "0..2",
      "--json",
    );
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.positions).toEqual([0, 1, 2]);
    expect(out.ropeType).toBe("yarn");
    // YaRN attention factor for factor 4: 0.1 * ln(4) + 1.
    expect(out.attentionFactor).toBeCloseTo(0.1 * Math.log(4) + 1, 6);
    expect(out.cos[0][5]).toBeCloseTo(out.attentionFactor, 6);
    expect(out.sin[0][5]).toBe(0);
    expect(out.cos[2][0]).toBeCloseTo(out.attentionFactor * Math.cos(2 * out.invFreq[0]), 6);
    expect(out.sin[1][3]).toBeCloseTo(out.attentionFactor * Math.sin(out.invFreq[3]), 6);
  });

  it("prints a readable table without --json", () => {
    const result = posenc("rope", "--config", "examples/llama-3.1-8b.config.json", "--positions", "0..1");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/rope type\s+llama3/);
    expect(result.stdout).toMatch(/rotary dim\s+128/);
  });

  it("rejects bad input with one line and exit code 2", () => {
    expectInputError(posenc("rope"), /missing --config/);
    expectInputError(
      posenc("rope", "--config", join(scratch, "nope.json")),
      /cannot read the file \(no such file\)/,
    );
    expectInputError(posenc("rope", "--config", scratch), /it is a directory/);
    expectInputError(posenc("rope", "--config", file("bad.json", "{ nope")), /not valid JSON/);
    const yarnBeta = file(
      "beta.json",
      JSON.stringify({
        hidden_size: 128,
        num_attention_heads: 4,
        max_position_embeddings: 512,
        rope_theta: 10000,
        rope_scaling: { rope_type: "yarn", factor: 4, beta_fast: 1, beta_slow: 32 },
      }),
    );
    expectInputError(posenc("rope", "--config", yarnBeta), /beta_fast.*1/);
    const unknownType = file(
      "type.json",
      JSON.stringify({
        hidden_size: 128,
        num_attention_heads: 4,
        rope_scaling: { rope_type: "spiral", factor: 2 },
      }),
    );
    expectInputError(posenc("rope", "--config", unknownType), /spiral/);
    expectInputError(
      posenc("rope", "--config", "examples/llama-3.1-8b.config.json", "--seq-len", "abc"),
      /--seq-len/,
    );
    expectInputError(
      posenc("rope", "--config", "examples/llama-3.1-8b.config.json", "--positions", "5..2"),
      /--positions/,
    );
    expectInputError(posenc("rope", "--bogus"), /unknown option --bogus: valid options are --config,/);
    expectInputError(posenc("rope", "--config"), /--config/);
  });
});

describe("posenc alibi", () => {
  it("prints the official slopes, also for a head count that is not a power of two", () => {
    const result = posenc("alibi", "--heads", "6", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      numHeads: 6,
      slopes: [0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125],
    });
  });
  it("rejects a bad head count", () => {
    expectInputError(posenc("alibi", "--heads", "0"), /--heads must be an integer from 1/);
    expectInputError(posenc("alibi"), /missing --heads/);
  });
  it("reads a negative head count as a value and refuses it in one line (exit 2), as the installed binary", () => {
    const result = posenc("alibi", "--heads", "-1");
    expectInputError(result, /--heads/);
    expect(result.stderr).toBe('posenc alibi: --heads must be an integer from 1 to 4096, received "-1"\n');
  });
});

describe("posenc list, docs, help", () => {
  it("lists every registered method with its paper", () => {
    const result = posenc("list", "--json");
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as { id: string; paper: { arxiv: string } }[];
    const ids = rows.map((r) => r.id);
    for (const id of [
      "rope",
      "yarn",
      "longrope",
      "llama3-rope",
      "alibi",
      "t5-bias",
      "sinusoidal",
      "kerple-log",
    ]) {
      expect(ids).toContain(id);
    }
    for (const row of rows) expect(row.paper.arxiv).toMatch(/^\d{4}\.\d{4,5}$/);
  });
  it("writes the catalogue atomically, equal to the committed docs page", () => {
    const out = join(scratch, "docs", "encodings.md");
    mkdirSync(join(scratch, "docs"), { recursive: true });
    const result = posenc("docs", "--out", out);
    expect(result.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(join(root, "docs/encodings.md"), "utf8"));
  });
  it("has --help on every command and rejects unknown commands", () => {
    for (const command of ["list", "rope", "alibi", "docs"]) {
      const result = posenc(command, "--help");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Usage: posenc/);
    }
    expectInputError(posenc("frobnicate"), /unknown command "frobnicate"/);
  });
});
