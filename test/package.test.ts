/**
 * The package contract as an outside user sees it: `import { ... } from "posenc"` resolves through package.json
 * `exports` to the built dist/ (npm test builds first), in a plain Node process with no TypeScript tooling.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");

it("exports the contract functions from the package root", () => {
  const script = `
    import { ropeParameters, alibiSlopes, t5RelativePositionBucket, encodingRegistry } from "posenc";
    const config = { hidden_size: 4096, num_attention_heads: 32, max_position_embeddings: 131072, rope_theta: 500000,
      rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } };
    const r = ropeParameters(config, { seqLen: 8192, strict: true });
    console.log(JSON.stringify({
      ropeType: r.ropeType, dim: r.dim, first: r.invFreq[0], last: r.invFreq[r.invFreq.length - 1], attentionFactor: r.attentionFactor,
      slopes: alibiSlopes(3),
      buckets: [t5RelativePositionBucket(-1, { bidirectional: true, numBuckets: 32, maxDistance: 128 }),
                t5RelativePositionBucket(1, { bidirectional: true, numBuckets: 32, maxDistance: 128 }),
                t5RelativePositionBucket(-200, { bidirectional: false, numBuckets: 32, maxDistance: 128 })],
      registered: encodingRegistry.length,
    }));`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  const out = JSON.parse(result.stdout);
  expect(out.ropeType).toBe("llama3");
  expect(out.dim).toBe(128);
  expect(out.first).toBe(1);
  expect(out.last).toBeCloseTo(500000 ** (-126 / 128) / 8, 15);
  expect(out.attentionFactor).toBe(1);
  expect(out.slopes).toEqual([0.0625, 0.00390625, 0.25]);
  // T5: key one behind the query -> bucket 1; one ahead -> 16 + 1 (bidirectional); far past, causal -> last bucket.
  expect(out.buckets).toEqual([1, 17, 31]);
  expect(out.registered).toBeGreaterThanOrEqual(22);
});

it("exports the engine, model and tasks as subpaths", () => {
  const script = `
    import { initEngineSync } from "posenc/engine";
    import { createTransformer } from "posenc/model";
    import { createTask } from "posenc/tasks";
    import { Rng } from "posenc";
    initEngineSync({ threads: 1 });
    const model = createTransformer({ vocabSize: 20, encoding: { id: "alibi" } }, new Rng(0));
    console.log(JSON.stringify({ params: model.parameters().length, task: createTask("copy", {}).id }));`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  expect(JSON.parse(result.stdout)).toEqual({ params: expect.any(Number), task: "copy" });
  expect(JSON.parse(result.stdout).params).toBeGreaterThan(10);
});
