import { describe, expect, it } from "vitest";
import {
  formatDuration,
  type ProgressEvent,
  ProgressReporter,
  progressLine,
} from "../../src/lab/progress.js";

const event = (step: number): ProgressEvent => ({
  label: "rope s0",
  step,
  steps: 100,
  loss: 0.5,
  accuracy: 0.25,
  tokensPerSecond: 2300,
  elapsedSeconds: step / 10,
  startStep: 0,
});

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { written, isTTY, write: (text: string) => written.push(text) };
}

describe("progress", () => {
  it("formats the bar, loss, accuracy, throughput and ETA", () => {
    // 50 steps took 5 s, so the remaining 50 take 5 s.
    expect(progressLine(event(50), 10)).toBe(
      "rope s0 [#####.....]  50/100  loss 0.5000  acc 0.25  2.3k tok/s  ETA 5s",
    );
    const memory = { rssBytes: 212 * 2 ** 20 + 1000, heapUsedBytes: 31.4 * 2 ** 20 };
    expect(progressLine({ ...event(50), memory }, 0)).toBe(
      "rope s0  50/100  loss 0.5000  acc 0.25  2.3k tok/s  rss 212M heap 31M  ETA 5s",
    );
    expect(formatDuration(62)).toBe("1m02s");
    expect(formatDuration(7260)).toBe("2h01m");
    expect(formatDuration(Number.NaN)).toBe("?");
  });

  it("writes plain lines every logEvery steps when not on a TTY", () => {
    const out = sink(false);
    const reporter = new ProgressReporter(out, 25);
    for (let s = 1; s <= 100; s++) reporter.update(event(s));
    expect(out.written.map((l) => Number(/^rope s0 +(\d+)\/100 /.exec(l)?.[1]))).toEqual([
      1, 25, 50, 75, 100,
    ]);
    expect(out.written.every((l) => l.endsWith("\n") && !l.includes("\r"))).toBe(true);
  });

  it("redraws one line in place on a TTY and ends it at the last step", () => {
    const out = sink(true);
    const reporter = new ProgressReporter(out, 25);
    reporter.update(event(1));
    reporter.update(event(2)); // within 100 ms: skipped
    reporter.update(event(100));
    expect(out.written).toHaveLength(3);
    expect(out.written[0].startsWith("\r\x1b[2Krope s0 [")).toBe(true);
    expect(out.written[1]).toContain("100/100");
    expect(out.written[2]).toBe("\n");
  });
});
