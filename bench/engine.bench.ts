/**
 * Engine training benchmark: `npm run bench:engine -- [--json] [--steps N] [--warmup N] [--threads auto|1|2]
 * [--kernels auto|wasm|reference] [--model reference|reproduction] [--no-torch] [--torch-blas DIR] [--memory-steps N]`.
 *
 * 1. Trains the engine's reference model (src/engine/testing/reference-model.ts: decoder-only, 2 layers, d_model
 *    128, 4 heads, MLP 4x, vocab 32, seq 128, batch 32, RoPE on q/k, pre-LayerNorm, Adam) on one fixed batch of
 *    random tokens, at 1 and at 2 threads (or the `--threads` given), and reports tokens/s at the median step time
 *    of `--steps` (default 12) steps after `--warmup` (default 3), with the min..max spread; `tokensPerSecond` is
 *    the faster setting, as for the PyTorch peer.
 * 2. Times the matmul kernel of the last setting (2 threads by default) at 256x256x256 and at the batched
 *    attention shape 128 x (128x64 @ 64x128).
 * 3. Where a Python with torch exists (`python3`, else `/usr/bin/python3`), trains the identical model in PyTorch
 *    CPU (bench/engine_pytorch.py) at the thread counts the engine ran (1 and 2 by default) and reports the ratio
 *    against the faster. Debian's python3-torch calls whatever libblas.so.3 the system selects; if that is the
 *    netlib reference BLAS (torch reports BLAS_INFO=generic, about 3 GFLOP/s), the peer is crippled, so the bench
 *    looks for an OpenBLAS build of libblas.so.3 (`--torch-blas DIR`, env POSENC_TORCH_BLAS_DIR, or Debian's
 *    openblas-pthread directory) and puts it first on the peer's LD_LIBRARY_PATH. The BLAS in use is printed.
 * `--model reproduction` trains the size of the lab's reproductions instead (experiments/: 4 layers, d_model 64,
 * 4 heads, MLP 4x, batch 64, seq 48 ~ the padded length of a copy or reverse batch at n <= 20), where per-op overheads
 * weigh more than matmul throughput; both implementations train the same model at that size.
 * `--memory-steps N` instead trains a small model for N steps and prints resident memory (RSS) and the engine heap
 * at steps 100, 1000, ... and N, with the change since step 100.
 *
 * `--json` prints {"tokensPerSecond", "pytorchTokensPerSecond", "ratio", "matmulGflops", ...}.
 */
import { execFileSync } from "node:child_process";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { initEngine, kernels, memoryStats, shutdownEngine, tidy } from "../src/engine/index.js";
import type { MatmulShape } from "../src/engine/kernels/types.js";
import { allocFloat32, freeFloat32 } from "../src/engine/memory.js";
import { Adam } from "../src/engine/optim.js";
import {
  REFERENCE_MODEL,
  ReferenceModel,
  type ReferenceModelConfig,
  trainReferenceModel,
} from "../src/engine/testing/reference-model.js";
import { Rng } from "../src/util/rng.js";
import { findOpenBlasDir, findTorchPython, NETLIB_BLAS_WARNING, torchEnvironment } from "./torch-peer.js";

const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
function intOption(name: string, fallback: number): number {
  const raw = option(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new RangeError(`${name} must be an integer >= 0, got ${raw}`);
  return value;
}
const json = args.includes("--json");
const steps = Math.max(10, intOption("--steps", 12));
const warmup = intOption("--warmup", 3);
const threadsArg = option("--threads") ?? "auto";
const threads = threadsArg === "auto" ? "auto" : Number(threadsArg);
const kernelsArg = (option("--kernels") ?? "auto") as "auto" | "wasm" | "reference";
const memorySteps = intOption("--memory-steps", 0);
const log = (line: string): void => {
  if (!json) console.log(line);
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  logicalCpus: os.cpus().length,
  node: process.version,
  loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
};

log(`machine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, Node ${machine.node}`);
log(
  `load average at start: ${machine.loadAverage.join(", ")} (a shared machine: other processes compete for the cores)`,
);

if (memorySteps > 0) {
  const info = await initEngine({ threads: threads === "auto" ? 1 : threads, kernels: kernelsArg });
  log(`engine: ${info.kernels} kernels, ${info.threads} thread(s)`);
  await memoryRun(memorySteps);
  await shutdownEngine();
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------------
// The engine: reference model training, at 1 and at 2 threads unless --threads says which (like the PyTorch peer,
// a small model on a busy 2-core machine can run faster on one thread)
// ---------------------------------------------------------------------------------------------------------------
interface EngineRun {
  kernels: string;
  threads: number;
  tokensPerSecond: number;
  range: number[];
  stepMs: number[];
  /** Tokens per CPU second of the process (all its threads) at the median step's CPU time. */
  cpuTokensPerSecond: number;
  firstLoss: number;
}

/** The lab's reproduction scale (experiments/*): 4 layers, d_model 64, 4 heads, batch 64, ~48 padded tokens. */
const REPRODUCTION_MODEL: ReferenceModelConfig = {
  ...REFERENCE_MODEL,
  layers: 4,
  dModel: 64,
  seqLen: 48,
  batch: 64,
};
const modelArg = option("--model") ?? "reference";
const models: Record<string, ReferenceModelConfig> = {
  reference: REFERENCE_MODEL,
  reproduction: REPRODUCTION_MODEL,
};
if (!(modelArg in models)) {
  console.error(`--model: "${modelArg}" is not valid; use one of ${Object.keys(models).join(", ")}`);
  process.exit(2);
}
const config = models[modelArg];
log(
  `model (${modelArg}): ${config.layers} layers, d_model ${config.dModel}, ${config.heads} heads, MLP ${config.mlpRatio}x, ` +
    `vocab ${config.vocab}, seq ${config.seqLen}, batch ${config.batch}`,
);
const tokensPerStep = config.batch * config.seqLen;

function trainSteps(): { stepMs: number[]; cpuMs: number[]; firstLoss: number } {
  const rng = new Rng(0);
  const model = new ReferenceModel(config, rng);
  const optimizer = new Adam(model.params, { lr: 1e-3 });
  const ids = Int32Array.from({ length: tokensPerStep }, () => rng.int(config.vocab));
  const targets = Int32Array.from({ length: tokensPerStep }, () => rng.int(config.vocab));
  const stepMs: number[] = [];
  const cpuMs: number[] = [];
  let firstLoss = Number.NaN;
  for (let step = 0; step < warmup + steps; step++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    const loss = tidy(() => {
      optimizer.zeroGrad();
      const l = model.loss(ids, targets, config.batch);
      l.backward();
      return l.item();
    });
    optimizer.step();
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(startCpu);
    if (step === 0) firstLoss = loss;
    if (step >= warmup) {
      stepMs.push(ms);
      cpuMs.push((cpu.user + cpu.system) / 1000);
    }
  }
  model.dispose();
  optimizer.dispose();
  return { stepMs, cpuMs, firstLoss };
}

const threadSettings: Array<number | "auto"> =
  threadsArg === "auto" ? (kernelsArg === "reference" ? [1] : [1, 2]) : [threads];
const engineRuns: EngineRun[] = [];
for (const setting of threadSettings) {
  const info = await initEngine({ threads: setting, kernels: kernelsArg });
  if (engineRuns.some((run) => run.threads === info.threads)) continue; // no pool here: 2 would repeat 1
  const { stepMs, cpuMs, firstLoss } = trainSteps();
  const run: EngineRun = {
    kernels: info.kernels,
    threads: info.threads,
    tokensPerSecond: tokensPerStep / (median(stepMs) / 1000),
    range: [tokensPerStep / (Math.max(...stepMs) / 1000), tokensPerStep / (Math.min(...stepMs) / 1000)],
    stepMs,
    cpuTokensPerSecond: tokensPerStep / (median(cpuMs) / 1000),
    firstLoss,
  };
  engineRuns.push(run);
  log(
    `engine (${run.kernels} kernels, ${run.threads} thread(s)): ${run.tokensPerSecond.toFixed(0)} tokens/s (median of ${steps} ` +
      `steps after ${warmup} warm-up; range ${run.range[0].toFixed(0)}..${run.range[1].toFixed(0)}; ` +
      `median step ${median(stepMs).toFixed(1)} ms; ${run.cpuTokensPerSecond.toFixed(0)} tokens per CPU second; ` +
      `first loss ${firstLoss.toFixed(4)})`,
  );
}
const bestEngine = engineRuns.reduce((a, b) => (b.tokensPerSecond > a.tokensPerSecond ? b : a));
const tokensPerSecond = bestEngine.tokensPerSecond;
const engine = { kernels: bestEngine.kernels, threads: bestEngine.threads };
if (engineRuns.length > 1)
  log(`engine: faster setting ${engine.threads} thread(s), ${tokensPerSecond.toFixed(0)} tokens/s`);
// The matmul rates below use the last setting (the most threads).

// ---------------------------------------------------------------------------------------------------------------
// Matmul rates
// ---------------------------------------------------------------------------------------------------------------
function matmulGflops(s: MatmulShape, runs: number): number {
  const r = new Rng(1);
  const make = (length: number): Float32Array => {
    const view = allocFloat32(length);
    for (let i = 0; i < length; i++) view[i] = r.next() * 2 - 1;
    return view;
  };
  const a = make((s.batch - 1) * s.aBatchStride + s.m * s.k);
  const b = make((s.batch - 1) * s.bBatchStride + s.k * s.n);
  const c = make((s.batch - 1) * s.cBatchStride + s.m * s.n);
  const mm = kernels().matmul;
  for (let w = 0; w < 2; w++) mm(a, b, c, s);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    mm(a, b, c, s);
    times.push(performance.now() - start);
  }
  for (const view of [a, b, c]) freeFloat32(view);
  return (2 * s.batch * s.m * s.n * s.k) / median(times) / 1e6;
}
const plain = { transA: false, transB: false, accumulate: false };
const gflops = {
  "256x256x256": matmulGflops(
    { ...plain, batch: 1, m: 256, n: 256, k: 256, aBatchStride: 0, bBatchStride: 0, cBatchStride: 0 },
    bestEngine.kernels === "reference" ? 3 : 15,
  ),
  "128x(128x64@64x128)": matmulGflops(
    {
      ...plain,
      batch: 128,
      m: 128,
      n: 128,
      k: 64,
      aBatchStride: 128 * 64,
      bBatchStride: 64 * 128,
      cBatchStride: 128 * 128,
    },
    bestEngine.kernels === "reference" ? 3 : 15,
  ),
};
const matmulThreads = engineRuns[engineRuns.length - 1].threads;
for (const [name, rate] of Object.entries(gflops)) {
  log(`matmul ${name}: ${rate.toFixed(1)} GFLOP/s (${matmulThreads} thread(s))`);
}
await shutdownEngine();

// ---------------------------------------------------------------------------------------------------------------
// PyTorch peer
// ---------------------------------------------------------------------------------------------------------------
interface TorchRun {
  threads: number;
  torch: string;
  blas: string;
  tokensPerSecond: number;
  minTokensPerSecond: number;
  maxTokensPerSecond: number;
  cpuTokensPerSecond: number;
}

let torchRuns: TorchRun[] = [];
const python = args.includes("--no-torch") ? null : findTorchPython();
if (python) {
  const script = join(dirname(fileURLToPath(import.meta.url)), "engine_pytorch.py");
  const blasDir = findOpenBlasDir(option("--torch-blas"));
  // The peer trains the same model: engine_pytorch.py takes its sizes as flags.
  const torchModelFlags = Object.entries({
    layers: config.layers,
    "d-model": config.dModel,
    heads: config.heads,
    "mlp-ratio": config.mlpRatio,
    vocab: config.vocab,
    seq: config.seqLen,
    batch: config.batch,
    "rotary-base": config.rotaryBase,
  }).flatMap(([flag, value]) => [`--${flag}`, String(value)]);
  // The peer runs the thread counts the engine ran: both unless --threads names one (then the ratio is like for like).
  const torchThreads = threads === "auto" ? [1, 2] : [threads];
  torchRuns = torchThreads.map((t) => {
    const out = execFileSync(
      python,
      [
        script,
        "--threads",
        String(t),
        "--steps",
        String(steps),
        "--warmup",
        String(warmup),
        ...torchModelFlags,
      ],
      { env: torchEnvironment(blasDir, t), encoding: "utf8", timeout: 30 * 60_000 },
    );
    return JSON.parse(out.trim().split("\n").pop()!) as TorchRun;
  });
  if (torchRuns.some((run) => !run.blas.includes("openblas"))) {
    log(NETLIB_BLAS_WARNING);
  }
  for (const run of torchRuns) {
    log(
      `pytorch ${run.torch} (${python}, BLAS ${run.blas}), ${run.threads} thread(s): ${run.tokensPerSecond.toFixed(0)} tokens/s ` +
        `(range ${run.minTokensPerSecond.toFixed(0)}..${run.maxTokensPerSecond.toFixed(0)}; ` +
        `${run.cpuTokensPerSecond.toFixed(0)} tokens per CPU second)`,
    );
  }
} else {
  log("pytorch: no python3 with torch found (skipped)");
}
const best = torchRuns.length > 0 ? Math.max(...torchRuns.map((r) => r.tokensPerSecond)) : null;
const ratio = best ? tokensPerSecond / best : null;
if (ratio !== null) log(`ratio engine / faster pytorch: ${ratio.toFixed(2)}`);
// On a shared machine wall time measures the load as much as the code: one thread against one thread, per CPU
// second of each process.
const oneThread = engineRuns.find((run) => run.threads === 1);
const torchOneThread = torchRuns.find((run) => run.threads === 1);
const cpuRatio =
  oneThread && torchOneThread ? oneThread.cpuTokensPerSecond / torchOneThread.cpuTokensPerSecond : null;
if (cpuRatio !== null) log(`ratio engine / pytorch per CPU second, one thread each: ${cpuRatio.toFixed(2)}`);
if (json) {
  console.log(
    JSON.stringify({
      tokensPerSecond: Math.round(tokensPerSecond),
      pytorchTokensPerSecond: best === null ? null : Math.round(best),
      ratio: ratio === null ? null : Number(ratio.toFixed(3)),
      cpuRatio: cpuRatio === null ? null : Number(cpuRatio.toFixed(3)),
      loadAverage: os.loadavg()[0],
      matmulGflops: Object.fromEntries(Object.entries(gflops).map(([k, v]) => [k, Number(v.toFixed(1))])),
      engine,
      model: { name: modelArg, ...config },
      engineRuns: engineRuns.map((run) => ({
        ...run,
        tokensPerSecond: Math.round(run.tokensPerSecond),
        range: run.range.map(Math.round),
        cpuTokensPerSecond: Math.round(run.cpuTokensPerSecond),
        stepMs: run.stepMs.map((x) => Number(x.toFixed(1))),
      })),
      pytorch: torchRuns,
      machine,
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Memory over a long run
// ---------------------------------------------------------------------------------------------------------------
async function memoryRun(total: number): Promise<void> {
  const small: ReferenceModelConfig = {
    layers: 2,
    dModel: 32,
    heads: 2,
    mlpRatio: 4,
    vocab: 32,
    seqLen: 32,
    batch: 8,
    rotaryBase: 10000,
  };
  const rows: { step: number; rssMiB: number; heapMiB: number }[] = [];
  const checkpoints = new Set([10, 100, 1000, total]);
  for (let s = 2000; s < total; s += 1000) checkpoints.add(s);
  const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(2));
  const start = performance.now();
  const run = trainReferenceModel(small, {
    steps: total,
    seed: 1,
    lr: 1e-3,
    onStep: (step) => {
      const n = step + 1;
      if (!checkpoints.has(n)) return;
      rows.push({ step: n, rssMiB: mib(process.memoryUsage().rss), heapMiB: mib(memoryStats().heapBytes) });
      const at100 = rows.find((r) => r.step === 100);
      const last = rows[rows.length - 1];
      const change = at100
        ? ` (${(((last.rssMiB - at100.rssMiB) / at100.rssMiB) * 100).toFixed(1)}% since step 100)`
        : "";
      log(`step ${n}: rss ${last.rssMiB} MiB, engine heap ${last.heapMiB} MiB${change}`);
    },
  });
  const loss = run.losses[run.losses.length - 1];
  run.model.dispose();
  run.optimizer.dispose();
  const at100 = rows.find((r) => r.step === 100)!;
  const end = rows[rows.length - 1];
  const change = (end.rssMiB - at100.rssMiB) / at100.rssMiB;
  log(
    `memory: ${total} steps in ${((performance.now() - start) / 1000).toFixed(0)} s, final loss ${loss.toFixed(4)}; ` +
      `rss ${at100.rssMiB} MiB at step 100, ${end.rssMiB} MiB at step ${end.step} (${(change * 100).toFixed(1)}%)`,
  );
  if (json) console.log(JSON.stringify({ memorySteps: total, rows, rssChange: change }));
}
