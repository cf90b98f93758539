/**
 * RoPE benchmark: `npx tsx bench/rope.bench.ts [--json] [--reps N]`.
 *
 * In one run, on one float32 tensor x shaped [seq 4096, heads 32, headDim 128] (64 MiB):
 *   (a) applyRope, half layout, in place (x rotated by a precomputed cos/sin table)      and out of place (x -> out)
 *   (b) the peer: a plain copy of the same bytes, out.set(x) (Float32Array.prototype.set, i.e. memcpy)
 *   (c) ropeCosSinTable for 131072 positions x 64 frequencies (positions 0 .. 131071), into fresh arrays (as a
 *       caller gets it) and into reused arrays (options.out; without the page faults of 64 MiB of new memory)
 * Each is warmed up, then timed `reps` times (default 15) in interleaved rounds (a1 a2 b, a1 a2 b, ...) so outside
 * load hits all alike; we report the median, min..max and p10..p90, and the RoPE/copy ratio both as the ratio of
 * medians and as the median of per-round ratios.
 *
 * Bytes counted, the same way for RoPE and copy: bytes of x read + bytes written = 2 * 64 MiB per pass. The
 * cos/sin table reads (2 * 4096 * 64 * 4 B = 2 MiB, 3% of that, each row reused by 32 heads from L1) are not
 * counted, so the RoPE GB/s is the tensor traffic the kernel sustains, directly comparable with the copy.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { applyRope, ropeCosSinTable, ropeInverseFrequencies } from "../src/encodings/rope.js";

const SEQ = 4096;
const HEADS = 32;
const HEAD_DIM = 128;
const TABLE_POSITIONS = 131072;
const TABLE_FREQS = 64;

interface Stats {
  medianMs: number;
  minMs: number;
  maxMs: number;
  p10Ms: number;
  p90Ms: number;
  reps: number;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summarize(times: number[]): Stats {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    medianMs: quantile(sorted, 0.5),
    minMs: sorted[0],
    maxMs: sorted[sorted.length - 1],
    p10Ms: quantile(sorted, 0.1),
    p90Ms: quantile(sorted, 0.9),
    reps: sorted.length,
  };
}

function timeOnce(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

/**
 * Times several tasks in interleaved rounds (a, b, c, a, b, c, ...) so that a burst of load from other processes
 * hits all of them alike; returns each task's times in round order.
 */
function measureInterleaved(tasks: Array<() => void>, warmup: number, reps: number): number[][] {
  for (let r = 0; r < warmup; r++) for (const task of tasks) task();
  const times = tasks.map(() => [] as number[]);
  for (let r = 0; r < reps; r++) {
    for (const [k, task] of tasks.entries()) times[k].push(timeOnce(task));
  }
  return times;
}

function median(values: number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

function gbPerSecond(bytes: number, ms: number): number {
  return bytes / (ms * 1e-3) / 1e9;
}

function parseArgs(argv: string[]): { json: boolean; reps: number } {
  const json = argv.includes("--json");
  const repsAt = argv.indexOf("--reps");
  const reps = repsAt >= 0 ? Number(argv[repsAt + 1]) : 15;
  if (!Number.isInteger(reps) || reps < 1)
    throw new Error(`--reps must be an integer >= 1, received ${argv[repsAt + 1]}`);
  return { json, reps };
}

function main(): void {
  const { json, reps } = parseArgs(process.argv.slice(2));
  const n = SEQ * HEADS * HEAD_DIM;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.618) * 0.5; // deterministic, no denormals
  const out = new Float32Array(n);
  const positions = Float64Array.from({ length: SEQ }, (_, t) => t);
  const { cos, sin } = ropeCosSinTable(ropeInverseFrequencies(HEAD_DIM, 10000), positions);
  const options = { numHeads: HEADS, headDim: HEAD_DIM, layout: "half" as const };
  const tensorBytes = n * 4;
  const passBytes = 2 * tensorBytes; // read x + write x (or out)

  const [inPlaceTimes, outOfPlaceTimes, copyTimes] = measureInterleaved(
    [
      () => applyRope(x, cos, sin, options),
      () => applyRope(x, cos, sin, { ...options, out }),
      () => out.set(x),
    ],
    3,
    reps,
  );
  const ropeInPlace = summarize(inPlaceTimes);
  const ropeOutOfPlace = summarize(outOfPlaceTimes);
  const copy = summarize(copyTimes);

  const tableFreqs = ropeInverseFrequencies(2 * TABLE_FREQS, 10000);
  const tablePositions = Float64Array.from({ length: TABLE_POSITIONS }, (_, t) => t);
  const reused = {
    cos: new Float32Array(TABLE_POSITIONS * TABLE_FREQS),
    sin: new Float32Array(TABLE_POSITIONS * TABLE_FREQS),
  };
  const [freshTimes, reusedTimes] = measureInterleaved(
    [
      () => ropeCosSinTable(tableFreqs, tablePositions),
      () => ropeCosSinTable(tableFreqs, tablePositions, { out: reused }),
    ],
    1,
    reps,
  );
  const table = summarize(freshTimes);
  const tableReused = summarize(reusedTimes);
  const entries = TABLE_POSITIONS * TABLE_FREQS;

  const cpu = os.cpus()[0]?.model ?? "unknown";
  const result = {
    machine: {
      cpu,
      cores: os.cpus().length,
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
    },
    shape: { seq: SEQ, heads: HEADS, headDim: HEAD_DIM, tensorMiB: tensorBytes / 2 ** 20 },
    bytesCounted: "bytes of x read + bytes written (2 x tensor); cos/sin table reads (2 MiB) not counted",
    ropeInPlace: { ...ropeInPlace, gbPerSecond: gbPerSecond(passBytes, ropeInPlace.medianMs) },
    ropeOutOfPlace: { ...ropeOutOfPlace, gbPerSecond: gbPerSecond(passBytes, ropeOutOfPlace.medianMs) },
    copy: { ...copy, gbPerSecond: gbPerSecond(passBytes, copy.medianMs) },
    ratioInPlaceToCopy: copy.medianMs / ropeInPlace.medianMs,
    ratioOutOfPlaceToCopy: copy.medianMs / ropeOutOfPlace.medianMs,
    // Per-round ratios (copy time / RoPE time within the same round) are less sensitive to outside load.
    medianRoundRatioInPlace: median(copyTimes.map((c, r) => c / inPlaceTimes[r])),
    medianRoundRatioOutOfPlace: median(copyTimes.map((c, r) => c / outOfPlaceTimes[r])),
    cosSinTable: {
      positions: TABLE_POSITIONS,
      frequencies: TABLE_FREQS,
      freshArrays: { ...table, nsPerEntry: (table.medianMs * 1e6) / entries },
      reusedArrays: { ...tableReused, nsPerEntry: (tableReused.medianMs * 1e6) / entries },
    },
  };
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  const spread = (s: Stats): string =>
    `median ${s.medianMs.toFixed(2)} ms  (min..max ${s.minMs.toFixed(2)}..${s.maxMs.toFixed(2)}, p10..p90 ${s.p10Ms.toFixed(2)}..${s.p90Ms.toFixed(2)}, ${s.reps} reps)`;
  console.log(
    `machine: ${cpu}, ${result.machine.cores} cores, Node ${process.version}, ${result.machine.platform}`,
  );
  console.log(
    `tensor: float32 [${SEQ}, ${HEADS}, ${HEAD_DIM}] = ${result.shape.tensorMiB} MiB; GB/s counts ${result.bytesCounted}`,
  );
  console.log(
    `(a) applyRope half, in place:     ${spread(ropeInPlace)}  ${result.ropeInPlace.gbPerSecond.toFixed(2)} GB/s`,
  );
  console.log(
    `(a) applyRope half, out of place: ${spread(ropeOutOfPlace)}  ${result.ropeOutOfPlace.gbPerSecond.toFixed(2)} GB/s`,
  );
  console.log(
    `(b) copy (Float32Array.set):      ${spread(copy)}  ${result.copy.gbPerSecond.toFixed(2)} GB/s`,
  );
  console.log(
    `    RoPE / copy throughput (ratio of medians): in place ${result.ratioInPlaceToCopy.toFixed(3)}, out of place ${result.ratioOutOfPlaceToCopy.toFixed(3)}`,
  );
  console.log(
    `    RoPE / copy throughput (median of per-round ratios): in place ${result.medianRoundRatioInPlace.toFixed(3)}, out of place ${result.medianRoundRatioOutOfPlace.toFixed(3)}`,
  );
  const tableLine = (s: Stats): string =>
    `${spread(s)}  ${((s.medianMs * 1e6) / entries).toFixed(2)} ns per (cos, sin) entry`;
  console.log(
    `(c) ropeCosSinTable ${TABLE_POSITIONS} x ${TABLE_FREQS}, fresh arrays:      ${tableLine(table)}`,
  );
  console.log(
    `(c) ropeCosSinTable ${TABLE_POSITIONS} x ${TABLE_FREQS}, options.out reused: ${tableLine(tableReused)}`,
  );
}

main();
