/**
 * Progress of a grid whose jobs may run side by side: on a TTY one line redrawn in place with every running
 * job's bar and the jobs done; otherwise a line when a job starts, every `logEvery` steps, and when it ends.
 *
 *   [1/6 done] rope s0 [#####.....] 410/800 loss 0.31 acc 0.72 ETA 41s | alibi s0 [###.......] ...
 */
import { type ExperimentConfig, encodingLabel } from "./config.js";
import {
  etaSeconds,
  formatCount,
  formatDuration,
  type ProgressEvent,
  type ProgressSink,
  progressLine,
} from "./progress.js";
import type { GridEvent } from "./sweep.js";

export class GridProgress {
  private readonly running = new Map<number, ProgressEvent>();
  private done = 0;
  private total = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly config: ExperimentConfig,
    private readonly tty = sink.isTTY === true,
  ) {}

  handle = (event: GridEvent): void => {
    const label = `${encodingLabel(this.config.encodings[event.job.encodingIndex])} s${event.job.seed}`;
    if (event.type === "start") {
      this.total = event.total;
      if (!this.tty) this.line(`start ${label} (job ${event.job.index + 1} of the grid)`);
    } else if (event.type === "progress") {
      this.running.set(event.job.index, event.event);
      if (this.tty) this.draw(false);
      else if (event.event.step % this.config.train.logEvery === 0) this.line(progressLine(event.event, 0));
    } else {
      this.running.delete(event.job.index);
      this.done = event.completed;
      const s = event.result.summary;
      this.line(
        `done  ${label} [${event.completed}/${event.total}]: final loss ${s.finalLoss.toFixed(4)}, ${formatDuration(s.trainSeconds)} training, ${formatCount(s.tokensPerSecond)} tok/s`,
      );
    }
  };

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const jobs = [...this.running.values()].map(
      (e) =>
        `${e.label} ${e.step}/${e.steps} loss ${e.loss.toFixed(3)} acc ${e.accuracy.toFixed(2)} ETA ${formatDuration(etaSeconds(e))}`,
    );
    const columns = (this.sink as { columns?: number }).columns || 160;
    const text = `[${this.done}/${this.total} done] ${jobs.join(" | ")}`.slice(0, Math.max(columns - 1, 40));
    this.sink.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  private line(text: string): void {
    if (this.tty && this.drawn) this.sink.write("\r\x1b[2K");
    this.drawn = false;
    this.sink.write(`${text}\n`);
  }

  /** Clears the in-place line. */
  finish(): void {
    if (this.tty && this.drawn) this.sink.write("\r\x1b[2K");
    this.drawn = false;
  }
}
