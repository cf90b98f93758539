/**
 * Training progress: a one-line bar with loss, accuracy, throughput, memory and ETA redrawn in place on a TTY,
 * plain lines every `logEvery` steps otherwise (logs, CI, pipes).
 *
 *   rope s0 [##########..........] 750/1500  loss 0.4123  acc 0.81  2.3k tok/s  rss 212M heap 31M  ETA 1m02s
 * (with `aux 0.0312` after the loss when the model adds auxiliary loss terms: DPE's order loss)
 *
 * Memory is the process's (process.memoryUsage): rss includes the engine's WebAssembly memory, heap is V8's.
 */

export interface ProgressEvent {
  /** Short name of the run, e.g. "rope s0". */
  label: string;
  /** Steps completed. */
  step: number;
  steps: number;
  loss: number;
  /** The model's auxiliary loss terms of the step (weighted; DPE's order loss), when it has any. */
  auxiliaryLoss?: number;
  /** Sequence accuracy on the current training batch (exact match over scored positions; token accuracy for text). */
  accuracy: number;
  tokensPerSecond: number;
  /** Seconds of training so far in this process (for the ETA). */
  elapsedSeconds: number;
  /** Steps completed when this process started (resumed runs). */
  startStep: number;
  /** Process memory after the step, in bytes (absent: not shown). */
  memory?: { rssBytes: number; heapUsedBytes: number };
}

/** Process memory now, for a progress event. */
export function processMemory(): { rssBytes: number; heapUsedBytes: number } {
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed };
}

/** "212M" (mebibytes, rounded). */
export function formatMebibytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)}M`;
}

export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** "1m02s", "45s", "2h03m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "950", "2.3k", "1.2M". */
export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

/** The remaining time from the rate of this process's steps. */
export function etaSeconds(e: ProgressEvent): number {
  const done = e.step - e.startStep;
  if (done <= 0) return Number.NaN;
  return ((e.steps - e.step) * e.elapsedSeconds) / done;
}

/** The text of one progress line (without bar when `width` is 0). */
export function progressLine(e: ProgressEvent, width = 20): string {
  const filled = Math.round((width * e.step) / Math.max(e.steps, 1));
  const bar = width > 0 ? ` [${"#".repeat(filled)}${".".repeat(width - filled)}]` : "";
  const steps = `${String(e.step).padStart(String(e.steps).length)}/${e.steps}`;
  const memory = e.memory
    ? `  rss ${formatMebibytes(e.memory.rssBytes)} heap ${formatMebibytes(e.memory.heapUsedBytes)}`
    : "";
  const aux = e.auxiliaryLoss !== undefined ? `  aux ${e.auxiliaryLoss.toFixed(4)}` : "";
  return `${e.label}${bar} ${steps}  loss ${e.loss.toFixed(4)}${aux}  acc ${e.accuracy.toFixed(2)}  ${formatCount(e.tokensPerSecond)} tok/s${memory}  ETA ${formatDuration(etaSeconds(e))}`;
}

/** Renders progress events to a stream: in place on a TTY (at most 10 redraws a second), lines otherwise. */
export class ProgressReporter {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly logEvery: number,
    private readonly tty = sink.isTTY === true,
  ) {}

  update(e: ProgressEvent): void {
    const last = e.step === e.steps;
    if (this.tty) {
      const now = Date.now();
      if (!last && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.sink.write(`\r\x1b[2K${progressLine(e)}`);
      this.drawn = true;
      if (last) this.done();
    } else if (e.step % this.logEvery === 0 || last || e.step === e.startStep + 1) {
      this.sink.write(`${progressLine(e, 0)}\n`);
    }
  }

  /** Ends the in-place line (TTY). */
  done(): void {
    if (this.tty && this.drawn) this.sink.write("\n");
    this.drawn = false;
  }

  /** A message on its own line, not mixed with the bar. */
  message(text: string): void {
    if (this.tty && this.drawn) this.sink.write("\r\x1b[2K");
    this.sink.write(`${text}\n`);
    this.drawn = false;
  }
}
