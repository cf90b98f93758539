/**
 * A persistent pool of worker threads that run the engine's WASM matmul on the engine's shared memory.
 *
 * Each worker instantiates the same compiled kernel module on the same shared WebAssembly.Memory, then loops:
 * wait for a job in its control block, run chunks of it, mark it done. Hand-off uses Atomics on control blocks
 * in the engine memory's reserved bytes [192, 1024), not postMessage: a spinning worker starts within ~1 us; a
 * worker spins for `spinMicros` after each job before it sleeps in `Atomics.wait` (waking a sleeping thread costs
 * ~30-60 us, so only large ops are split; see ./matmul.ts).
 *
 * Dynamic chunking: a job is cut into chunks (ranges of batches, or of rows of C), and every thread, the caller
 * included, takes the next chunk from a shared counter (Atomics.add) until none are left. A worker that is slow
 * to wake or descheduled by a busy machine therefore takes fewer chunks instead of stalling the caller. Each C
 * element is still computed by exactly one thread with the one-thread summation order, so results are
 * bit-identical whatever thread ran which chunk.
 *
 * Per-worker control block, Int32 slots (sequence numbers only grow, so "seq != last" means "new job"):
 *   SEQ       job number, written by the caller          DONE      last job the worker finished
 *   SLEEPING  1 while the worker is in Atomics.wait       STATUS    0 ok, 1 a chunk threw
 *   CALLER_SLEEPING 1 while the caller waits on DONE     OP        0 matmul, 1 quit
 *   CLAIM     last job number claimed                     CHUNKS    chunks this worker has run (statistics)
 *   ARGS..    the job's 14 integer arguments
 * Job s is taken up by a worker only if it moves CLAIM from s - 1 to s (compareExchange); the caller, once no
 * chunks are left, claims the jobs that workers have not taken up, so it never waits for a sleeping worker.
 *
 * Workers are unref'd under Node (an idle pool never keeps the process alive) and stop on `close()`.
 */
import { allocBytes, memory, memoryIsShared } from "../memory.js";
import { canBlockThisThread, type EngineWorker, spawnWorker, workersAvailable } from "../platform/workers.js";
import {
  defaultKernelVariant,
  instantiateKernels,
  type KernelExports,
  type KernelVariant,
  kernelModule,
} from "./module.js";

const SEQ = 0;
const DONE = 1;
const SLEEPING = 2;
const STATUS = 3;
const CALLER_SLEEPING = 4;
const OP = 5;
const CLAIM = 6;
const CHUNKS = 7;
const ARGS = 8;
const ARG_COUNT = 14;
const SLOTS = 32;
/** The shared chunk counter: one Int32 at this byte offset of the reserved region. */
const COUNTER_BYTE = 192;
/** Control blocks live in the engine memory's reserved region: [CONTROL_BASE, 1024), 128 bytes per worker. */
const CONTROL_BASE = 256;
const CONTROL_BYTES = SLOTS * 4;
/** At most this many workers fit in the reserved region. */
export const MAX_WORKERS = (1024 - CONTROL_BASE) / CONTROL_BYTES;

/** A worker that has not finished its last chunk after this long is taken to be dead. */
const WORKER_TIMEOUT_MS = 60_000;

const OP_MATMUL = 0;
const OP_QUIT = 1;

/**
 * Runs chunk `index` of a chunked matmul job on `kernels`. The worker's copy of this function is the source text
 * RUN_CHUNK_SOURCE below; keep the two identical.
 * job: a, b, c, m, n, k, flags, aStride, bStride, cStride, batch, byBatch, chunkSize, chunkCount.
 */
function runChunk(kernels: KernelExports, job: ArrayLike<number>, index: number, work: number): void {
  const lo = index * job[12];
  if (job[11]) {
    const hi = Math.min(lo + job[12], job[10]);
    kernels.matmul(
      job[0],
      job[1],
      job[2],
      job[3],
      job[4],
      job[5],
      job[6],
      job[7],
      job[8],
      job[9],
      lo,
      hi,
      0,
      job[3],
      work,
    );
  } else {
    const hi = Math.min(lo + job[12], job[3]);
    kernels.matmul(
      job[0],
      job[1],
      job[2],
      job[3],
      job[4],
      job[5],
      job[6],
      job[7],
      job[8],
      job[9],
      0,
      job[10],
      lo,
      hi,
      work,
    );
  }
}

const RUN_CHUNK_SOURCE = `function runChunk(kernels, job, index, work) {
  const lo = index * job[12];
  if (job[11]) {
    const hi = Math.min(lo + job[12], job[10]);
    kernels.matmul(job[0], job[1], job[2], job[3], job[4], job[5], job[6], job[7], job[8], job[9], lo, hi, 0, job[3], work);
  } else {
    const hi = Math.min(lo + job[12], job[3]);
    kernels.matmul(job[0], job[1], job[2], job[3], job[4], job[5], job[6], job[7], job[8], job[9], 0, job[10], lo, hi, work);
  }
}`;

/** The worker's program (a classic script, so that Node `eval` workers and Blob-URL Web Workers both run it). */
const WORKER_SOURCE = `"use strict";
const nodePort = typeof require === "function" ? require("node:worker_threads").parentPort : null;
const post = (message) => (nodePort ? nodePort.postMessage(message) : self.postMessage(message));
const onFirstMessage = (handler) => {
  if (nodePort) nodePort.once("message", handler);
  else self.onmessage = (event) => { self.onmessage = null; handler(event.data); };
};
${RUN_CHUNK_SOURCE}
onFirstMessage(({ module, memory, control, work, spinMicros }) => {
  let kernels;
  try {
    kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (error) {
    post({ error: String(error) });
    return;
  }
  const ctl = new Int32Array(memory.buffer, control, ${SLOTS});
  const counter = new Int32Array(memory.buffer, ${COUNTER_BYTE}, 1);
  const job = new Array(${ARG_COUNT}).fill(0);
  post({ ready: true });
  let last = Atomics.load(ctl, ${SEQ});
  for (;;) {
    let seq = Atomics.load(ctl, ${SEQ});
    if (seq === last) {
      const until = performance.now() + spinMicros / 1000;
      let spins = 0;
      while ((seq = Atomics.load(ctl, ${SEQ})) === last) {
        if ((++spins & 255) === 0 && performance.now() > until) break;
      }
      if (seq === last) {
        Atomics.store(ctl, ${SLEEPING}, 1);
        while ((seq = Atomics.load(ctl, ${SEQ})) === last) Atomics.wait(ctl, ${SEQ}, last);
        Atomics.store(ctl, ${SLEEPING}, 0);
      }
    }
    last = seq;
    const op = Atomics.load(ctl, ${OP});
    if (op === ${OP_MATMUL} && Atomics.compareExchange(ctl, ${CLAIM}, seq - 1, seq) !== seq - 1) continue;
    let status = 0;
    if (op === ${OP_MATMUL}) {
      for (let i = 0; i < ${ARG_COUNT}; i++) job[i] = ctl[${ARGS} + i];
      for (let i = 0; i < 3; i++) job[i] = job[i] >>> 0;
      try {
        let index;
        while ((index = Atomics.add(counter, 0, 1)) < job[13]) {
          runChunk(kernels, job, index, work);
          ctl[${CHUNKS}]++;
        }
      } catch (error) {
        status = 1;
      }
    }
    Atomics.store(ctl, ${STATUS}, status);
    Atomics.store(ctl, ${DONE}, seq);
    if (Atomics.load(ctl, ${CALLER_SLEEPING}) === 1) Atomics.notify(ctl, ${DONE});
    if (op === ${OP_QUIT}) return;
  }
});
`;

/** Options for `startThreadPool`. */
export interface ThreadPoolOptions {
  /** Worker threads to start (the caller's thread is one more). Default 1; at most MAX_WORKERS. */
  workers?: number;
  /** How long an idle worker spins before sleeping, microseconds. Default 200. */
  spinMicros?: number;
  /** Which build of the kernels every thread of the pool runs. Default `defaultKernelVariant()`. */
  variant?: KernelVariant;
}

/** A chunked matmul job; see `runChunk`. */
export interface MatmulJob {
  a: number;
  b: number;
  c: number;
  m: number;
  n: number;
  k: number;
  flags: number;
  aStride: number;
  bStride: number;
  cStride: number;
  batch: number;
  /** Chunks are ranges of batches (true) or of rows of C (false). */
  byBatch: boolean;
  /** Batches or rows per chunk (rows: a multiple of the kernel's 4-row tile). */
  chunkSize: number;
  chunkCount: number;
}

/** A running pool. */
export interface ThreadPool {
  /** Threads that run a split job: the workers plus the caller. */
  readonly threads: number;
  /** The kernel build every thread of the pool runs (split products must not mix roundings). */
  readonly variant: KernelVariant;
  /** Runs the job's chunks on the caller and the workers; returns when all are done. Throws if one failed. */
  runMatmul(job: MatmulJob): void;
  /** Jobs run, and chunks run by the workers and by the caller, since the pool started. */
  stats(): { jobs: number; workerChunks: number; callerChunks: number };
  /** Stops the workers. The pool must not be used afterwards. */
  close(): Promise<void>;
}

let activePool: ThreadPool | null = null;

/** Whether a thread pool can run here: shared engine memory and worker threads. */
export function threadPoolSupported(): boolean {
  return memoryIsShared && workersAvailable();
}

/**
 * Starts a pool of workers on the engine's memory. Only one pool may be active (the control blocks are a
 * single region); starting a second one throws.
 */
export async function startThreadPool(options: ThreadPoolOptions = {}): Promise<ThreadPool> {
  const workerCount = options.workers ?? 1;
  const spinMicros = options.spinMicros ?? 200;
  if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > MAX_WORKERS) {
    throw new RangeError(
      `startThreadPool: workers must be an integer in [1, ${MAX_WORKERS}], got ${workerCount}`,
    );
  }
  if (!(spinMicros >= 0)) throw new RangeError(`startThreadPool: spinMicros must be >= 0, got ${spinMicros}`);
  if (!threadPoolSupported()) {
    throw new Error(
      "startThreadPool: needs shared WebAssembly memory and worker threads (cross-origin isolation)",
    );
  }
  if (activePool) throw new Error("startThreadPool: a pool is already running; close() it first");
  const variant = options.variant ?? defaultKernelVariant();
  const module = kernelModule(variant);
  const callerKernels = instantiateKernels(module);
  const workBytes = callerKernels.WORKSPACE_BYTES.value;
  const callerWork = allocBytes(workBytes);
  const counter = new Int32Array(memory.buffer, COUNTER_BYTE, 1);
  const workers: EngineWorker[] = [];
  const controls: Int32Array[] = [];
  let failure: Error | null = null;
  try {
    for (let w = 0; w < workerCount; w++) {
      const control = CONTROL_BASE + w * CONTROL_BYTES;
      const ctl = new Int32Array(memory.buffer, control, SLOTS);
      ctl.fill(0);
      const worker = await spawnWorker(WORKER_SOURCE);
      workers.push(worker);
      controls.push(ctl);
      const ready = new Promise<void>((resolve, reject) => {
        worker.onMessage((data) => {
          const message = data as { ready?: boolean; error?: string };
          if (message.ready) resolve();
          else if (message.error) reject(new Error(`thread pool worker failed to start: ${message.error}`));
        });
        worker.onError((error) => {
          failure = error;
          reject(error);
        });
      });
      worker.postMessage({ module, memory, control, work: allocBytes(workBytes), spinMicros });
      await ready;
      worker.detach();
    }
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  }

  const canBlock = canBlockThisThread();
  const sequence = new Array<number>(workerCount).fill(0);
  const jobArgs = new Array<number>(ARG_COUNT).fill(0);
  let jobs = 0;
  let callerChunks = 0;
  let closed = false;

  const publish = (w: number, op: number): void => {
    const ctl = controls[w];
    Atomics.store(ctl, OP, op);
    for (let i = 0; i < ARG_COUNT; i++) ctl[ARGS + i] = jobArgs[i] | 0;
    Atomics.store(ctl, SEQ, ++sequence[w]);
    if (Atomics.load(ctl, SLEEPING) === 1) Atomics.notify(ctl, SEQ);
  };

  /** Waits until worker w has finished its current job, unless the caller can claim it first (not started). */
  const finish = (w: number): void => {
    const ctl = controls[w];
    const seq = sequence[w];
    if (Atomics.compareExchange(ctl, CLAIM, seq - 1, seq) === seq - 1) return;
    let spins = 0;
    const start = performance.now();
    while (Atomics.load(ctl, DONE) !== seq) {
      // Spin ~50 us (about 2^14 loads), then sleep where this thread may block; a worker that has not finished
      // its last chunk within WORKER_TIMEOUT_MS is taken to be dead (the caller's thread cannot see its exit
      // event while it waits here).
      if (++spins > 1 << 14) {
        if (canBlock) {
          Atomics.store(ctl, CALLER_SLEEPING, 1);
          Atomics.wait(ctl, DONE, Atomics.load(ctl, DONE), 100);
          Atomics.store(ctl, CALLER_SLEEPING, 0);
        }
        if (performance.now() - start > WORKER_TIMEOUT_MS) {
          failure = new Error(`no progress in ${WORKER_TIMEOUT_MS} ms`);
          throw new Error(`thread pool worker ${w} is unresponsive; the pool is unusable`);
        }
      }
    }
    if (ctl[STATUS] !== 0)
      throw new Error("thread pool worker: the kernel trapped (out-of-bounds arguments?)");
  };

  const pool: ThreadPool = {
    threads: workerCount + 1,
    variant,
    runMatmul(job) {
      if (closed) throw new Error("thread pool: used after close()");
      if (failure) throw new Error(`thread pool: a worker failed (${String(failure)}); start a new pool`);
      const values = [
        job.a,
        job.b,
        job.c,
        job.m,
        job.n,
        job.k,
        job.flags,
        job.aStride,
        job.bStride,
        job.cStride,
      ];
      for (let i = 0; i < values.length; i++) jobArgs[i] = values[i];
      jobArgs[10] = job.batch;
      jobArgs[11] = job.byBatch ? 1 : 0;
      jobArgs[12] = job.chunkSize;
      jobArgs[13] = job.chunkCount;
      Atomics.store(counter, 0, 0);
      const used = Math.min(workerCount, job.chunkCount - 1);
      for (let w = 0; w < used; w++) publish(w, OP_MATMUL);
      jobs++;
      let ownError: unknown = null;
      try {
        let index: number;
        while ((index = Atomics.add(counter, 0, 1)) < job.chunkCount) {
          runChunk(callerKernels, jobArgs, index, callerWork);
          callerChunks++;
        }
      } catch (error) {
        ownError = error;
      }
      for (let w = 0; w < used; w++) finish(w);
      if (ownError) throw ownError;
    },
    stats: () => ({
      jobs,
      workerChunks: controls.reduce((sum, ctl) => sum + Atomics.load(ctl, CHUNKS), 0),
      callerChunks,
    }),
    async close() {
      if (closed) return;
      closed = true;
      for (let w = 0; w < workerCount; w++) publish(w, OP_QUIT);
      await Promise.all(workers.map((worker) => worker.terminate()));
      if (activePool === pool) activePool = null;
    },
  };
  activePool = pool;
  return pool;
}

/** The running pool, if any. */
export function currentThreadPool(): ThreadPool | null {
  return activePool;
}
