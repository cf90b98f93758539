// The README's library example, runnable: `node examples/library.mjs [path/to/config.json]`.
//
// It imports "posenc" as an installed user does. Inside a clone (after `npm ci`, which builds dist/) Node resolves
// the package's own name through package.json "exports"; in another project, install the package first (see the
// README: `npm pack` in the clone, then `npm install path/to/posenc-0.1.0.tgz`) and copy this file there.
// CI runs it both ways (.ci/run and test/examples.test.ts).
import { readFile } from "node:fs/promises";
import {
  alibiSlopes,
  applyRope,
  Rng,
  ropeCosSinTable,
  ropeParameters,
  t5RelativePositionBucket,
} from "posenc";

// Any Hugging Face config.json; by default Llama 3.1 8B's (rope_type "llama3", scaling factor 8).
const path = process.argv[2] ?? new URL("./llama-3.1-8b.config.json", import.meta.url);
const config = JSON.parse(await readFile(path, "utf8"));

// RoPE frequencies exactly as transformers v5 computes them; strict: what transformers only warns about throws.
const { ropeType, dim, invFreq, attentionFactor } = ropeParameters(config, { seqLen: 8192, strict: true });
console.log(
  `rope type ${ropeType}, rotary dim ${dim}, ${invFreq.length} frequencies, attention factor ${attentionFactor}`,
);
console.log(
  `inv_freq[0] = ${invFreq[0]}, inv_freq[${invFreq.length - 1}] = ${invFreq[invFreq.length - 1].toExponential(6)}`,
);

// cos/sin for positions 0..3, then rotate queries q: Float32Array [seq, heads, headDim] in place.
const positions = [0, 1, 2, 3];
const { cos, sin } = ropeCosSinTable(invFreq, positions, { attentionFactor });
const numHeads = config.num_attention_heads;
const headDim = config.head_dim ?? config.hidden_size / numHeads;
const rng = new Rng(0);
const q = Float32Array.from({ length: positions.length * numHeads * headDim }, () => rng.normal());
const norm = (v, from, to) => Math.hypot(...v.subarray(from, to));
const before = norm(q, 3 * numHeads * headDim, 3 * numHeads * headDim + headDim); // position 3, head 0
applyRope(q, cos, sin, { numHeads, headDim, layout: "half" }); // "half": HF/NeoX pairs; "interleaved": GPT-J/Meta
const after = norm(q, 3 * numHeads * headDim, 3 * numHeads * headDim + headDim);
console.log(`rotation keeps the norm of a head: ${before.toFixed(4)} -> ${after.toFixed(4)}`);

// ALiBi slopes (the official get_slopes, also for head counts that are not powers of two) and T5 buckets.
console.log(`alibi slopes for 6 heads: ${alibiSlopes(6).join(", ")}`);
const queryPos = 10;
const buckets = [0, 5, 9, 10, 11, 200].map((keyPos) =>
  t5RelativePositionBucket(keyPos - queryPos, { bidirectional: true, numBuckets: 32, maxDistance: 128 }),
);
console.log(`t5 buckets of keys 0, 5, 9, 10, 11, 200 for query 10: ${buckets.join(", ")}`);
