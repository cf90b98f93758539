/**
 * The 2-D task registry: id -> factory with its accepted parameter keys (anything else is rejected, naming the
 * valid keys). `createVisionTask("shapes", { patchSize: 4 })`.
 */
import { checkKnownKeys, checkObject, PosencConfigError } from "../../util/validation.js";
import { frameOrderTask } from "./frame-order.js";
import { shapesTask } from "./shapes.js";
import { spatialRelationTask } from "./spatial-relation.js";
import { tableLookupTask } from "./table-lookup.js";
import type { VisionTask } from "./types.js";

interface VisionTaskEntry {
  id: string;
  paramKeys: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: factories take their own typed params; keys are checked here.
  factory: (params: any) => VisionTask;
}

export const VISION_TASK_REGISTRY: readonly VisionTaskEntry[] = [
  { id: "shapes", paramKeys: ["patchSize", "noise"], factory: shapesTask },
  { id: "spatial_relation", paramKeys: ["patchSize"], factory: spatialRelationTask },
  { id: "table_lookup", paramKeys: ["numValues", "mode"], factory: tableLookupTask },
  { id: "frame_order", paramKeys: ["frames", "patchSize"], factory: frameOrderTask },
];

export function visionTaskIds(): string[] {
  return VISION_TASK_REGISTRY.map((e) => e.id);
}

/** The task `id` with `params` (validated); errors name `path` (the lab passes `task`). */
export function createVisionTask(
  id: string,
  params: Record<string, unknown> = {},
  path = "task",
): VisionTask {
  const entry = VISION_TASK_REGISTRY.find((e) => e.id === id);
  if (!entry)
    throw new PosencConfigError("invalid_value", `${path}.id`, id, `one of ${visionTaskIds().join(", ")}`);
  checkObject(`${path}.params`, params);
  checkKnownKeys(`${path}.params`, params, entry.paramKeys);
  return entry.factory(params);
}
