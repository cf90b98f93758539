/**
 * The engine's platform layer: the only place that knows whether it runs in Node or in a browser. It starts
 * worker threads from a JavaScript source string (Node `worker_threads` with `eval: true`; browser Web Workers
 * from a Blob URL) and says whether the current thread may block in `Atomics.wait` (browsers forbid it on the
 * page's main thread).
 *
 * The rest of the engine uses only what this module exports, so it runs unchanged in both environments.
 */

/** A started worker thread, reduced to what the engine needs. */
export interface EngineWorker {
  /** Structured-clones `message` to the worker (WebAssembly.Module and shared WebAssembly.Memory are allowed). */
  postMessage(message: unknown): void;
  /** Calls `listener` with each message the worker posts. */
  onMessage(listener: (data: unknown) => void): void;
  /** Calls `listener` when the worker throws an uncaught error or fails to start. */
  onError(listener: (error: Error) => void): void;
  /**
   * Lets the process exit while this worker is alive (Node: unref; browsers: nothing to do). Call it once the
   * worker is started: before that, a pending start-up message must keep the process alive.
   */
  detach(): void;
  /** Stops the worker. */
  terminate(): Promise<void>;
}

/** True when running under Node.js (including worker threads), false in browsers. */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === "string";
}

/** Number of logical CPUs reported by the platform (at least 1). */
export async function hardwareConcurrency(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return Math.max(1, nav.hardwareConcurrency);
  if (isNode()) {
    const os = (await import(/* @vite-ignore */ nodeModule("os"))) as {
      availableParallelism?: () => number;
      cpus: () => unknown[];
    };
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  return 1;
}

/**
 * Whether this thread may call `Atomics.wait`. Node allows it on every thread; browsers allow it in workers but
 * not on the page's main thread (there a caller must spin instead).
 */
export function canBlockThisThread(): boolean {
  if (isNode()) return true;
  const g = globalThis as { WorkerGlobalScope?: unknown; document?: unknown };
  return typeof g.WorkerGlobalScope !== "undefined" && typeof g.document === "undefined";
}

/** Whether worker threads and shared memory are available here (cross-origin isolation in browsers). */
export function workersAvailable(): boolean {
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined") return false;
  if (isNode()) return true;
  const g = globalThis as { Worker?: unknown; crossOriginIsolated?: boolean };
  return typeof g.Worker === "function" && g.crossOriginIsolated !== false;
}

/**
 * Lets this process's WebAssembly engine compile relaxed-SIMD instructions. Browsers ship relaxed SIMD (Chrome
 * 114+, Firefox 120+); Node 20's V8 has it behind `--experimental-wasm-relaxed-simd`, which `v8.setFlagsFromString`
 * turns on for modules compiled afterwards (`process.getBuiltinModule`: Node >= 20.16). Returns whether it set the
 * flag; elsewhere it does nothing.
 */
export function allowRelaxedSimd(): boolean {
  if (!isNode()) return false;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.("node:v8") as
    | { setFlagsFromString?: (flags: string) => void }
    | undefined;
  if (!v8?.setFlagsFromString) return false;
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  return true;
}

/** "node:" + name, built at run time so that browser bundlers do not try to resolve Node built-ins. */
function nodeModule(name: string): string {
  return `node:${name}`;
}

interface NodeWorkerLike {
  postMessage(message: unknown): void;
  on(event: "message", listener: (data: unknown) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}

interface WebWorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "error", listener: (event: { message?: string }) => void): void;
  terminate(): void;
}

/**
 * Starts a worker running the classic-script JavaScript `source`. In the worker, `require` is defined under Node
 * (so the script can reach `require("node:worker_threads").parentPort`) and `self` is the worker scope in
 * browsers. See `detach()` for letting the process exit while the worker idles.
 */
export async function spawnWorker(source: string): Promise<EngineWorker> {
  if (isNode()) {
    const threads = (await import(/* @vite-ignore */ nodeModule("worker_threads"))) as {
      Worker: new (code: string, options: { eval: boolean }) => NodeWorkerLike;
    };
    const worker = new threads.Worker(source, { eval: true });
    let detached = false;
    // Adding a listener re-refs a Node worker, so a detached worker is unref'd again after each one.
    return {
      postMessage: (message) => worker.postMessage(message),
      onMessage: (listener) => {
        worker.on("message", listener);
        if (detached) worker.unref();
      },
      onError: (listener) => {
        worker.on("error", listener);
        if (detached) worker.unref();
      },
      detach: () => {
        detached = true;
        worker.unref();
      },
      terminate: async () => {
        await worker.terminate();
      },
    };
  }
  const g = globalThis as unknown as {
    Worker: new (url: string) => WebWorkerLike;
    Blob: new (parts: string[], options: { type: string }) => unknown;
    URL: { createObjectURL(blob: unknown): string; revokeObjectURL(url: string): void };
  };
  const url = g.URL.createObjectURL(new g.Blob([source], { type: "text/javascript" }));
  const worker = new g.Worker(url);
  return {
    postMessage: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.addEventListener("message", (event) => listener(event.data)),
    onError: (listener) =>
      worker.addEventListener("error", (event) => listener(new Error(event.message ?? "worker error"))),
    detach: () => {},
    terminate: async () => {
      worker.terminate();
      g.URL.revokeObjectURL(url);
    },
  };
}
