/**
 * Engine matmul kernels benchmark: `npx tsx bench/engine-kernels.bench.ts [--json] [--reps N] [--skip-reference]`.
 *
 * For square products n x n x n (n = 128, 256, 512, 1024) and the batched attention-scores shape
 * `bat` = 128 x (128x64 @ 64x128), it times
 *   ref      the TypeScript reference kernel (src/engine/kernels/matmul.ts), one thread
 *   wasm1    the WASM SIMD kernel on one thread
 *   wasm2    the WASM SIMD kernel split over the caller and one pool worker
 * in interleaved rounds (ref, wasm1, wasm2, ref, ...) after warm-up, so outside load hits all alike, and reports
 * GFLOP/s (2 m n k batch / time) at the median time, with min..max of the per-run rates, over `reps` runs
 * (default 12; the reference runs max(3, reps / 4) times at n >= 512, where one run takes about a second).
 *
 * Attention: the fused causal attention forward + backward (reference kernels vs WASM) at the reference model's
 * shape, BH = 32 batch x 4 heads, T = 128, head dim 32; milliseconds per forward + backward.
 *
 * A last table finds the split break-even: for small square sizes, the time on one thread and split over two
 * (forced, whatever the size), so DEFAULT_SPLIT_MIN_FLOPS can be set where splitting starts to pay.
 */
import os from "node:os";
import { type AttentionSizes, attentionBackward, attentionForward } from "../src/engine/kernels/attention.js";
import { matmulReference } from "../src/engine/kernels/matmul.js";
import type { MatmulKernel, MatmulShape } from "../src/engine/kernels/types.js";
import { allocFloat32, freeFloat32 } from "../src/engine/memory.js";
import { createWasmKernels, DEFAULT_SPLIT_MIN_FLOPS, startThreadPool } from "../src/engine/wasm/index.js";
import { Rng } from "../src/util/rng.js";

interface Rate {
  medianGflops: number;
  minGflops: number;
  maxGflops: number;
  medianMs: number;
  runs: number;
}

interface Case {
  name: string;
  shape: MatmulShape;
}

const args = process.argv.slice(2);
const json = args.includes("--json");
const repsIndex = args.indexOf("--reps");
const reps = repsIndex >= 0 ? Number(args[repsIndex + 1]) : 12;
const skipReference = args.includes("--skip-reference");
if (!Number.isInteger(reps) || reps < 1)
  throw new RangeError(`--reps must be a positive integer, got ${reps}`);

function square(n: number): MatmulShape {
  return {
    batch: 1,
    m: n,
    n,
    k: n,
    transA: false,
    transB: false,
    aBatchStride: 0,
    bBatchStride: 0,
    cBatchStride: 0,
    accumulate: false,
  };
}

const cases: Case[] = [
  ...[128, 256, 512, 1024].map((n) => ({ name: String(n), shape: square(n) })),
  {
    name: "bat",
    shape: {
      batch: 128,
      m: 128,
      n: 128,
      k: 64,
      transA: false,
      transB: false,
      aBatchStride: 128 * 64,
      bBatchStride: 64 * 128,
      cBatchStride: 128 * 128,
      accumulate: false,
    },
  },
];

function flopsOf(s: MatmulShape): number {
  return 2 * s.batch * s.m * s.n * s.k;
}

function operands(s: MatmulShape, rng: Rng): [Float32Array, Float32Array, Float32Array] {
  const make = (length: number): Float32Array => {
    const view = allocFloat32(length);
    for (let i = 0; i < length; i++) view[i] = rng.next() * 2 - 1;
    return view;
  };
  return [
    make((s.batch - 1) * s.aBatchStride + s.m * s.k),
    make((s.batch - 1) * s.bBatchStride + s.k * s.n),
    make((s.batch - 1) * s.cBatchStride + s.m * s.n),
  ];
}

function summarize(times: number[], flops: number): Rate {
  const sorted = [...times].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return {
    medianGflops: flops / medianMs / 1e6,
    minGflops: flops / sorted[sorted.length - 1] / 1e6,
    maxGflops: flops / sorted[0] / 1e6,
    medianMs,
    runs: times.length,
  };
}

/** Times each kernel on the case, interleaved; returns one Rate per kernel (null when skipped). */
function timeKernels(
  s: MatmulShape,
  kernels: Array<{ run: MatmulKernel; runs: number } | null>,
  warmup: number,
): Array<Rate | null> {
  const [a, b, c] = operands(s, new Rng(1));
  for (const kernel of kernels) if (kernel) for (let w = 0; w < warmup; w++) kernel.run(a, b, c, s);
  const times = kernels.map(() => [] as number[]);
  const rounds = Math.max(...kernels.map((kernel) => kernel?.runs ?? 0));
  for (let r = 0; r < rounds; r++) {
    kernels.forEach((kernel, i) => {
      if (!kernel || r >= kernel.runs) return;
      const start = performance.now();
      kernel.run(a, b, c, s);
      times[i].push(performance.now() - start);
    });
  }
  for (const view of [a, b, c]) freeFloat32(view);
  return kernels.map((kernel, i) => (kernel ? summarize(times[i], flopsOf(s)) : null));
}

const pool = await startThreadPool({ workers: 1 });
const wasm1 = createWasmKernels();
const wasm2 = createWasmKernels({ pool });
const forcedSplit = createWasmKernels({ pool, splitMinFlops: 0 });

const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  logicalCpus: os.cpus().length,
  loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
  memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
  node: process.version,
  v8: process.versions.v8,
  platform: `${process.platform} ${process.arch}`,
};

const results: Record<string, { ref: Rate | null; wasm1: Rate; wasm2: Rate }> = {};
for (const { name, shape } of cases) {
  const heavy = flopsOf(shape) > 2e8;
  const refRuns = heavy ? Math.max(3, Math.ceil(reps / 4)) : reps;
  const [ref, w1, w2] = timeKernels(
    shape,
    [
      skipReference ? null : { run: matmulReference, runs: refRuns },
      { run: wasm1.matmul, runs: reps },
      { run: wasm2.matmul, runs: reps },
    ],
    2,
  );
  results[name] = { ref, wasm1: w1!, wasm2: w2! };
}

/** Median ms of forward + backward of causal attention at the reference model's shape. */
function timeAttention(
  impl: { forward: typeof attentionForward; backward: typeof attentionBackward },
  runs: number,
): { medianMs: number; minMs: number; maxMs: number; runs: number } {
  const s: AttentionSizes = {
    BH: 128,
    Tq: 128,
    Tk: 128,
    D: 32,
    Dv: 32,
    scale: 1 / Math.sqrt(32),
    causal: true,
  };
  const rng = new Rng(2);
  const make = (length: number): Float32Array => {
    const view = allocFloat32(length);
    for (let i = 0; i < length; i++) view[i] = rng.next() * 2 - 1;
    return view;
  };
  const qkv = s.BH * s.Tq * s.D;
  const [q, k, v, out, dout, dq, dk, dv] = Array.from({ length: 8 }, () => make(qkv));
  const att = make(s.BH * s.Tq * s.Tk);
  const once = (): void => {
    impl.forward(out, att, q, k, v, null, null, s);
    impl.backward(dq, dk, dv, null, dout, att, q, k, v, null, s);
  };
  once();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    once();
    times.push(performance.now() - start);
  }
  for (const view of [q, k, v, out, dout, dq, dk, dv, att]) freeFloat32(view);
  times.sort((x, y) => x - y);
  return { medianMs: times[times.length >> 1], minMs: times[0], maxMs: times[times.length - 1], runs };
}

const attention = {
  ref: skipReference ? null : timeAttention({ forward: attentionForward, backward: attentionBackward }, 3),
  wasm1: timeAttention({ forward: wasm1.attentionForward, backward: wasm1.attentionBackward }, reps),
  wasm2: timeAttention({ forward: wasm2.attentionForward, backward: wasm2.attentionBackward }, reps),
};

const breakEven: Record<string, { oneThreadUs: number; twoThreadsUs: number; flops: number }> = {};
for (const n of [16, 32, 48, 64, 96, 128]) {
  const shape = square(n);
  const [one, two] = timeKernels(
    shape,
    [
      { run: wasm1.matmul, runs: Math.max(reps, 50) },
      { run: forcedSplit.matmul, runs: Math.max(reps, 50) },
    ],
    20,
  );
  breakEven[String(n)] = {
    oneThreadUs: one!.medianMs * 1e3,
    twoThreadsUs: two!.medianMs * 1e3,
    flops: flopsOf(shape),
  };
}
const poolStats = pool.stats();
await pool.close();

if (json) {
  console.log(
    JSON.stringify(
      {
        machine,
        reps,
        splitMinFlops: DEFAULT_SPLIT_MIN_FLOPS,
        matmulGflops: results,
        attentionMs: attention,
        breakEven,
        poolStats,
      },
      null,
      2,
    ),
  );
} else {
  const fmt = (r: Rate | null): string =>
    r
      ? `${r.medianGflops.toFixed(1).padStart(6)} (${r.minGflops.toFixed(1)}..${r.maxGflops.toFixed(1)})`
      : "-";
  console.log(
    `machine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, ${machine.memoryGiB} GiB, ` +
      `node ${machine.node} (V8 ${machine.v8}), load average ${machine.loadAverage.join(" ")}`,
  );
  console.log(
    `matmul fp32 GFLOP/s, median (min..max) of ${reps} runs after warm-up; bat = 128 x (128x64 @ 64x128)`,
  );
  console.log(
    `${"shape".padEnd(6)} ${"ref JS".padEnd(20)} ${"wasm 1 thread".padEnd(20)} ${"wasm 2 threads".padEnd(20)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(6)} ${fmt(r.ref).padEnd(20)} ${fmt(r.wasm1).padEnd(20)} ${fmt(r.wasm2).padEnd(20)}`,
    );
  }
  const ms = (r: { medianMs: number; minMs: number; maxMs: number } | null): string =>
    r ? `${r.medianMs.toFixed(1)} ms (${r.minMs.toFixed(1)}..${r.maxMs.toFixed(1)})` : "-";
  console.log(
    `\ncausal attention fwd+bwd, BH 128 x T 128 x D 32: ref ${ms(attention.ref)}, wasm 1 thread ${ms(attention.wasm1)}, ` +
      `wasm 2 threads ${ms(attention.wasm2)}`,
  );
  console.log(
    `\nsplit break-even (forced split), median microseconds; default split threshold ${DEFAULT_SPLIT_MIN_FLOPS} flops`,
  );
  for (const [n, r] of Object.entries(breakEven)) {
    console.log(
      `n=${n.padEnd(4)} ${String(r.flops).padStart(9)} flops: 1 thread ${r.oneThreadUs.toFixed(1).padStart(8)} us, ` +
        `2 threads ${r.twoThreadsUs.toFixed(1).padStart(8)} us`,
    );
  }
  console.log(
    `pool: ${poolStats.jobs} split jobs, chunks run by the worker ${poolStats.workerChunks}, by the caller ${poolStats.callerChunks}`,
  );
}
