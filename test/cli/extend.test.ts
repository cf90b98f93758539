/**
 * `posenc extend` and `posenc rope` on per-layer-type and oversized configs, end to end on the built CLI: the
 * blocks, their strict read-back, the SVG, and one-line errors with exit 2 (and nothing written) on bad input.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { ropeParameters } from "../../src/encodings/rope-parameters.js";
import { expectInputError, posenc, root, scratchFolder } from "../helpers/cli-process.js";

vi.setConfig({ testTimeout: 60_000 });

const { dir: scratch, file } = scratchFolder("posenc-extend-");

const llama = "examples/llama-3.1-8b.config.json";
const qwen = "examples/qwen2-yarn.config.json";
const gemma = "examples/gemma3-hybrid.config.json";

describe("posenc extend", () => {
  it("prints every method's block for the target, each accepted by the strict reader", () => {
    const result = posenc("extend", "--config", qwen, "--target", "131072", "--json");
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out).toMatchObject({ originalContext: 32768, target: 131072, factor: 4, dim: 128 });
    expect(Object.keys(out.methods)).toEqual(["pi", "ntk", "dynamic", "yarn", "llama3", "abf"]);
    expect(out.skipped.longrope).toMatch(/--longrope-factors FILE/);
    const config = JSON.parse(readFileSync(join(root, qwen), "utf8"));
    for (const { patch, layers } of Object.values(out.methods) as {
      patch: object;
      layers: { invFreq: number[] }[];
    }[]) {
      const patched = { ...config, ...patch };
      const r = ropeParameters(patched, { strict: true, seqLen: 131072 });
      expect(Array.from(r.invFreq)).toEqual(layers[0]!.invFreq);
    }
    // YaRN at Qwen2's own target is the shipped block.
    expect(out.methods.yarn.patch.rope_scaling).toEqual(
      config.rope_scaling.type && {
        rope_type: "yarn",
        factor: 4,
        original_max_position_embeddings: 32768,
      },
    );
  });

  it("prints what the README shows for Qwen2", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const shown = /\$ posenc extend (--config examples\/qwen2-yarn\S+ [^\n]*)\n([\s\S]*?)\n```/.exec(readme);
    expect(shown).not.toBeNull();
    const args = shown![1]!.split(" ");
    const svg = join(scratch, "readme.svg");
    args[args.indexOf("--svg") + 1] = svg;
    const result = posenc("extend", ...args);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd()).toBe(
      shown![2]!.replace("chart             qwen2.svg", `chart             ${svg}`),
    );
  });

  it("takes --factor, --method lists and LongRoPE factors from a result file", () => {
    const factors = file("longrope.json", JSON.stringify({ longFactor: new Array(64).fill(4) }));
    const result = posenc(
      "extend",
      "--config",
      llama,
      "--factor",
      "4",
      "--method",
      "longrope,pi",
      "--longrope-factors",
      factors,
      "--json",
    );
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.target).toBe(32768);
    expect(Object.keys(out.methods)).toEqual(["longrope", "pi"]);
    expect(out.methods.longrope.patch.rope_scaling.long_factor).toEqual(new Array(64).fill(4));
  });

  it("text output names the trained context, the base bound and each block", () => {
    const result = posenc("extend", "--config", llama, "--target", "65536", "--method", "yarn");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/trained context\s+8192 \(rope_scaling.original_max_position_embeddings\)/);
    expect(result.stdout).toMatch(/base bound\s+\S+ for 65536 tokens/);
    expect(result.stdout).toMatch(
      /yarn\s+\{"rope_theta":500000,"rope_scaling":\{"rope_type":"yarn","factor":8/,
    );
  });

  it("extends one layer type of a per-layer-type config", () => {
    const result = posenc(
      "extend",
      "--config",
      gemma,
      "--target",
      "65536",
      "--layer-type",
      "full_attention",
      "--method",
      "pi",
      "--json",
    );
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.methods.pi.patch.rope_parameters.full_attention).toEqual({
      rope_type: "linear",
      factor: 4,
      rope_theta: 1000000,
    });
    expect(out.methods.pi.layers[0].layerType).toBe("full_attention");
  });

  it("writes the SVG, and refuses to replace it without --force", () => {
    const svg = join(scratch, "charts", "scaling.svg");
    const first = posenc("extend", "--config", qwen, "--target", "131072", "--svg", svg);
    expect(first.code).toBe(0);
    const text = readFileSync(svg, "utf8");
    expect(text).toMatch(/^<svg /);
    expect(text).toContain("base bound 4.87e+6");
    for (const method of ["pi", "ntk", "dynamic", "yarn", "llama3", "abf"])
      expect(text).toContain(`>${method}<`);
    writeFileSync(svg, "kept");
    expectInputError(
      posenc("extend", "--config", qwen, "--target", "131072", "--svg", svg),
      /exists; pass --force/,
    );
    expect(readFileSync(svg, "utf8")).toBe("kept");
    expect(posenc("extend", "--config", qwen, "--target", "131072", "--svg", svg, "--force").code).toBe(0);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg /);
  });

  it.each([
    ["no target", ["--config", llama], /exactly one of --target N and --factor F/],
    ["both target and factor", ["--config", llama, "--target", "65536", "--factor", "2"], /exactly one/],
    [
      "a target within the trained context",
      ["--config", llama, "--target", "8192"],
      /--target must be an integer from 8193/,
    ],
    ["a negative target", ["--config", llama, "--target", "-5"], /--target/],
    ["a factor of 1", ["--config", llama, "--factor", "1"], /--factor must be a number > 1/],
    [
      "a factor giving a fractional target",
      ["--config", llama, "--factor", "1.00001"],
      /not a whole number of tokens/,
    ],
    [
      "giraffe",
      ["--config", llama, "--target", "65536", "--method", "giraffe"],
      /Giraffe.*valid methods are pi, ntk/,
    ],
    [
      "an unknown method",
      ["--config", llama, "--target", "65536", "--method", "magic"],
      /--method magic: valid methods/,
    ],
    [
      "longrope without factors",
      ["--config", llama, "--target", "65536", "--method", "longrope"],
      /--longrope-factors FILE/,
    ],
    ["a missing config", ["--target", "65536"], /missing --config/],
    [
      "an unknown layer type",
      ["--config", gemma, "--target", "65536", "--layer-type", "global"],
      /layerType.*full_attention/,
    ],
    [
      "all layer types of a hybrid at once",
      ["--config", gemma, "--target", "65536"],
      /sliding_attention 131072, full_attention 16384\); choose one with --layer-type NAME/,
    ],
    [
      "--layer-type on a single-dict config",
      ["--config", llama, "--target", "65536", "--layer-type", "x"],
      /one rope dict for every layer/,
    ],
    [
      "an ABF base of 0.5",
      ["--config", llama, "--target", "65536", "--base", "0.5"],
      /--base must be a number > 1/,
    ],
  ])("rejects %s with one line and exit 2", (_name, args, fragment) => {
    expectInputError(posenc("extend", ...args), fragment);
  });

  it("rejects bad LongRoPE result files and output paths before any work", () => {
    const run = (...more: string[]) =>
      posenc("extend", "--config", llama, "--target", "65536", "--method", "longrope", ...more);
    expectInputError(run("--longrope-factors", file("garbage.json", "{ nope")), /not valid JSON/);
    expectInputError(run("--longrope-factors", file("empty.json", "{}")), /missing longFactor/);
    expectInputError(
      run("--longrope-factors", file("nulls.json", '{"longFactor": [null]}')),
      /list of finite numbers/,
    );
    expectInputError(
      run("--longrope-factors", file("short.json", '{"longFactor": [2, 2]}')),
      /longFactor.*64 numbers/,
    );
    const blocker = file("a-file", "x");
    const svg = join(blocker, "chart.svg");
    expectInputError(
      posenc("extend", "--config", llama, "--target", "65536", "--svg", svg),
      /is a file, not a folder/,
    );
    expectInputError(
      posenc("extend", "--config", llama, "--target", "65536", "--svg", "/proc/chart.svg"),
      /special file system/,
    );
    mkdirSync(join(scratch, "dir.svg"));
    expectInputError(
      posenc("extend", "--config", llama, "--target", "65536", "--svg", join(scratch, "dir.svg")),
      /is a directory/,
    );
  });
});

describe("posenc rope on per-layer-type and oversized configs", () => {
  it("prints each layer type, or the one asked for", () => {
    const all = posenc("rope", "--config", gemma, "--json");
    expect(all.code).toBe(0);
    const out = JSON.parse(all.stdout);
    expect(Object.keys(out.layerTypes)).toEqual(["sliding_attention", "full_attention"]);
    expect(out.layerTypes.full_attention.ropeType).toBe("linear");
    expect(out.layerTypes.sliding_attention.invFreq[1]).toBeCloseTo(10000 ** (-2 / 256), 15);
    const text = posenc("rope", "--config", gemma);
    expect(text.stdout).toMatch(/layer type\s+sliding_attention[\s\S]*layer type\s+full_attention/);
    const one = posenc("rope", "--config", gemma, "--layer-type", "full_attention", "--json");
    expect(JSON.parse(one.stdout).ropeType).toBe("linear");
    expectInputError(
      posenc("rope", "--config", gemma, "--layer-type", "global"),
      /layerType.*sliding_attention/,
    );
  });

  it("refuses a huge head_dim or hidden_size before allocating, naming the key", () => {
    const base = { num_attention_heads: 4, max_position_embeddings: 512, rope_theta: 10000 };
    expectInputError(
      posenc("rope", "--config", file("huge-head.json", JSON.stringify({ ...base, head_dim: 1e12 }))),
      /Invalid head_dim: expected a value giving a rotary dim d <= 1048576.*received 1000000000000/,
    );
    expectInputError(
      posenc("rope", "--config", file("huge-hidden.json", JSON.stringify({ ...base, hidden_size: 4e15 }))),
      /Invalid hidden_size/,
    );
  });

  it("refuses tables that would not fit, with the estimate and the limit", () => {
    const wide = file(
      "wide.json",
      JSON.stringify({ head_dim: 2 ** 20, num_attention_heads: 1, rope_theta: 1e6 }),
    );
    expectInputError(
      posenc("rope", "--config", wide, "--positions", "0..4095"),
      /rotary dim 1048576 .* needs about [\d.]+ (GiB|TiB), above the limit of [\d.]+ (MiB|GiB)/,
    );
  });
});
