/**
 * A persistent pool of worker threads that run the engine's WASM kernels on the engine's shared memory.
 *
 * Each worker instantiates the same compiled kernel module on the same shared WebAssembly.Memory, then loops:
 * wait for a job in its control block, run it, mark it done. Hand-off uses Atomics on a control block in the
 * engine memory's reserved bytes [CONTROL_BASE, 1024), not postMessage: a job starts within ~1 us when the worker
 * is spinning, and a worker spins for `spinMicros` after each job before it sleeps in `Atomics.wait` (waking a
 * sleeping thread costs ~30-60 us, so only large ops should be split; see ./matmul.ts).
 *
 * Per-worker control block, Int32 slots (sequence numbers only grow, so "seq != last" means "new job"):
 *   SEQ       job number, written by the caller          DONE      last job the worker finished
 *   SLEEPING  1 while the worker is in Atomics.wait       STATUS    0 ok, 1 the job threw
 *   CALLER_SLEEPING 1 while the caller waits on DONE     OP        0 matmul, 1 quit
 *   CLAIM     number of the last job claimed              ARGS..    the job's 14 integer arguments
 *
 * Work stealing keeps a busy or sleeping worker from stalling the caller: job s is run by whichever thread first
 * moves CLAIM from s - 1 to s (compareExchange). The caller, once done with its own part, tries to claim each
 * worker's part and runs it itself if the worker has not started it; so a split op never takes much longer than
 * on one thread, even when the other core is busy. Who runs a part does not change its result.
 *
 * Workers are unref'd under Node (an idle pool never keeps the process alive) and stop on `close()`.
 */

import { allocBytes, memory, memoryIsShared } from "../memory.js";
import { canBlockThisThread, type EngineWorker, spawnWorker, workersAvailable } from "../platform/workers.js";
import { instantiateKernels, kernelModule } from "./module.js";

const SEQ = 0;
const DONE = 1;
const SLEEPING = 2;
const STATUS = 3;
const CALLER_SLEEPING = 4;
const OP = 5;
const CLAIM = 6;
const ARGS = 8;
const ARG_COUNT = 14;
const SLOTS = 32;
/** Control blocks live in the engine memory's reserved region: [CONTROL_BASE, 1024), 128 bytes per worker. */
const CONTROL_BASE = 256;
const CONTROL_BYTES = SLOTS * 4;
/** At most this many workers fit in the reserved region. */
export const MAX_WORKERS = (1024 - CONTROL_BASE) / CONTROL_BYTES;

const OP_MATMUL = 0;
const OP_QUIT = 1;

/** The worker's program (a classic script, so that Node `eval` workers and Blob-URL Web Workers both run it). */
const WORKER_SOURCE = `"use strict";
const nodePort = typeof require === "function" ? require("node:worker_threads").parentPort : null;
const post = (message) => (nodePort ? nodePort.postMessage(message) : self.postMessage(message));
const onFirstMessage = (handler) => {
  if (nodePort) nodePort.once("message", handler);
  else self.onmessage = (event) => { self.onmessage = null; handler(event.data); };
};
onFirstMessage(({ module, memory, control, work, spinMicros }) => {
  let kernels;
  try {
    kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (error) {
    post({ error: String(error) });
    return;
  }
  const ctl = new Int32Array(memory.buffer, control, ${SLOTS});
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
    const op = ctl[${OP}];
    if (op === ${OP_MATMUL} && Atomics.compareExchange(ctl, ${CLAIM}, seq - 1, seq) !== seq - 1) continue;
    let status = 0;
    if (op === ${OP_MATMUL}) {
      try {
        const g = (i) => ctl[${ARGS} + i];
        const u = (i) => ctl[${ARGS} + i] >>> 0;
        kernels.matmul(u(0), u(1), u(2), g(3), g(4), g(5), g(6), g(7), g(8), g(9), g(10), g(11), g(12), g(13), work);
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
}

/** A running pool. The calling thread always takes part 0 of a split job; worker i takes part i + 1. */
export interface ThreadPool {
  /** Threads that run a split job: the workers plus the caller. */
  readonly threads: number;
  /**
   * Runs `matmul` with per-worker arguments `args[w]` (14 integers, see KernelExports.matmul without `work`) on
   * worker w, then `own()` on the calling thread, then waits for the workers. Throws if a worker's job failed.
   */
  runMatmul(args: ReadonlyArray<ArrayLike<number>>, own: () => void): void;
  /** Parts handed to workers so far, and how many of them the caller ran itself (stolen before a worker began). */
  stats(): { dispatched: number; stolen: number };
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
 * single region); starting another closes nothing and throws.
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
  const module = kernelModule();
  const workBytes = instanceWorkspaceBytes();
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
  const stolen = new Array<boolean>(workerCount).fill(false);
  let dispatchedCount = 0;
  let stolenCount = 0;
  const callerKernels = instantiateKernels(module);
  const callerWork = allocBytes(workBytes);
  const runMatmulHere = (a: ArrayLike<number>): void => {
    callerKernels.matmul(
      a[0],
      a[1],
      a[2],
      a[3],
      a[4],
      a[5],
      a[6],
      a[7],
      a[8],
      a[9],
      a[10],
      a[11],
      a[12],
      a[13],
      callerWork,
    );
  };
  let closed = false;

  const dispatch = (w: number, op: number, args: ArrayLike<number> | null): void => {
    const ctl = controls[w];
    ctl[OP] = op;
    if (args) for (let i = 0; i < ARG_COUNT; i++) ctl[ARGS + i] = args[i] | 0;
    Atomics.store(ctl, SEQ, ++sequence[w]);
    if (Atomics.load(ctl, SLEEPING) === 1) Atomics.notify(ctl, SEQ);
  };

  const awaitDone = (w: number): void => {
    const ctl = controls[w];
    const seq = sequence[w];
    let spins = 0;
    while (Atomics.load(ctl, DONE) !== seq) {
      if (failure) throw new Error(`thread pool worker died: ${String(failure)}`);
      // Spin ~50 us (about 2^14 loads), then sleep where this thread may block.
      if (canBlock && ++spins > 1 << 14) {
        Atomics.store(ctl, CALLER_SLEEPING, 1);
        while (Atomics.load(ctl, DONE) !== seq) Atomics.wait(ctl, DONE, Atomics.load(ctl, DONE), 1000);
        Atomics.store(ctl, CALLER_SLEEPING, 0);
      }
    }
    if (ctl[STATUS] !== 0)
      throw new Error("thread pool worker: the kernel trapped (out-of-bounds arguments?)");
  };

  const pool: ThreadPool = {
    threads: workerCount + 1,
    runMatmul(args, own) {
      if (closed) throw new Error("thread pool: used after close()");
      const used = Math.min(args.length, workerCount);
      for (let w = 0; w < used; w++) dispatch(w, OP_MATMUL, args[w]);
      dispatchedCount += used;
      let ownError: unknown = null;
      try {
        own();
        // Steal the parts no worker has started.
        for (let w = 0; w < used; w++) {
          const seq = sequence[w];
          if (Atomics.compareExchange(controls[w], CLAIM, seq - 1, seq) === seq - 1) {
            stolen[w] = true;
            stolenCount++;
            runMatmulHere(args[w]);
          }
        }
      } catch (error) {
        ownError = error;
      }
      for (let w = 0; w < used; w++) {
        if (stolen[w]) stolen[w] = false;
        else awaitDone(w);
      }
      if (ownError) throw ownError;
    },
    stats: () => ({ dispatched: dispatchedCount, stolen: stolenCount }),
    async close() {
      if (closed) return;
      closed = true;
      for (let w = 0; w < workerCount; w++) dispatch(w, OP_QUIT, null);
      await Promise.all(workers.map((worker) => worker.terminate()));
      if (activePool === pool) activePool = null;
    },
  };
  activePool = pool;
  return pool;
}

let workspaceBytes = 0;
/** WORKSPACE_BYTES as exported by the kernel module (read from a throwaway instance once). */
function instanceWorkspaceBytes(): number {
  if (workspaceBytes === 0) {
    workspaceBytes = instantiateKernels(kernelModule()).WORKSPACE_BYTES.value;
  }
  return workspaceBytes;
}

/** The running pool, if any. */
export function currentThreadPool(): ThreadPool | null {
  return activePool;
}
