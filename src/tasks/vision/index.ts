/** The 2-D tasks: patches, (row, col) ids and a class label per example, at any grid size (see types.ts). */
export { frameOrderTask, MOTION_CLASSES } from "./frame-order.js";
export { createVisionTask, VISION_TASK_REGISTRY, visionTaskIds } from "./registry.js";
export { drawShape, insideShape, SHAPE_CLASSES, shapesTask } from "./shapes.js";
export { markerPatch, RELATION_CLASSES, spatialRelationTask } from "./spatial-relation.js";
export { tableLookupTask } from "./table-lookup.js";
export {
  defineVisionTask,
  gridPositionIds,
  patchify,
  scoreVisionBatch,
  type VisionBatch,
  type VisionExample,
  type VisionTask,
  type VisionTaskDefinition,
} from "./types.js";
