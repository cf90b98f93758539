/**
 * Child-process entry of a grid job (forked by sweep.ts). Protocol over the IPC channel:
 *   parent -> child  { type: "job", config, job, options }
 *   child  -> parent { type: "progress", event } ... then { type: "done", result } or { type: "error", ... }
 * The child exits once its answer is delivered.
 */
import { PosencConfigError } from "../util/validation.js";
import type { ExperimentConfig } from "./config.js";
import { type JobOptions, type JobResult, runJob } from "./job.js";
import type { ProgressEvent } from "./progress.js";
import type { GridJob } from "./results.js";

export type ParentMessage = {
  type: "job";
  config: ExperimentConfig;
  job: GridJob;
  options: Omit<JobOptions, "onProgress">;
};

export type ChildMessage =
  | { type: "progress"; event: ProgressEvent }
  | { type: "done"; result: JobResult }
  | { type: "error"; message: string; configError: boolean; stack?: string };

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

// An orphan (the parent died, e.g. kill -9) stops at once: its checkpoint lets `--resume` continue the job.
let finished = false;
process.once("disconnect", () => {
  if (!finished) process.exit(1);
});

process.once("message", async (message: ParentMessage) => {
  let lastSent = 0;
  try {
    const result = await runJob(message.config, message.job, {
      ...message.options,
      onProgress: (event) => {
        const now = Date.now();
        const logged = event.step % message.config.train.logEvery === 0 || event.step === event.steps;
        if (!logged && now - lastSent < 200) return;
        lastSent = now;
        void send({ type: "progress", event });
      },
    });
    finished = true;
    await send({ type: "done", result });
  } catch (error) {
    finished = true;
    const e = error as Error;
    await send({
      type: "error",
      message: e.message,
      configError: error instanceof PosencConfigError,
      ...(e.stack ? { stack: e.stack } : {}),
    });
  }
  process.disconnect?.();
});
