/**
 * posenc: positional encodings for TypeScript. The package root exports the framework-free library: every method's
 * math, the registry, and the shared validation errors and RNG. No runtime dependencies; runs in Node and browsers.
 */
export * from "./encodings/abf.js";
export * from "./encodings/alibi.js";
export * from "./encodings/bipe.js";
export * from "./encodings/catalog.js";
export * from "./encodings/cope.js";
export * from "./encodings/fire.js";
export * from "./encodings/giraffe.js";
export * from "./encodings/hope-video.js";
export * from "./encodings/kerple.js";
export * from "./encodings/learned-absolute.js";
export * from "./encodings/llama3-rope.js";
export * from "./encodings/longrope.js";
export * from "./encodings/mhrope.js";
export * from "./encodings/mrope.js";
export * from "./encodings/mrope-index.js";
export * from "./encodings/mrope-interleave.js";
export * from "./encodings/ms-poe.js";
export * from "./encodings/multi-axis-rotary.js";
export * from "./encodings/nope.js";
export * from "./encodings/ntk-aware.js";
export * from "./encodings/p-rope.js";
export * from "./encodings/position-coupling.js";
export * from "./encodings/randomized.js";
export * from "./encodings/randomized-positions.js";
export * from "./encodings/registry.js";
export * from "./encodings/rope.js";
export * from "./encodings/rope-base-bound.js";
export * from "./encodings/rope-config-extension.js";
export * from "./encodings/rope-dynamic-ntk.js";
export * from "./encodings/rope-layout.js";
export * from "./encodings/rope-linear.js";
export * from "./encodings/rope-parameters.js";
export * from "./encodings/sinusoidal.js";
export * from "./encodings/t5-bias.js";
export * from "./encodings/trainable.js";
export * from "./encodings/types.js";
export * from "./encodings/vrope.js";
export * from "./encodings/xpos.js";
export * from "./encodings/yarn.js";
export { Rng } from "./util/rng.js";
export * from "./util/validation.js";
