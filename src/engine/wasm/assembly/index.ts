/** The engine's WASM kernels (AssemblyScript). Entry point compiled by scripts/build-wasm.mjs. */
export { matmul, WORKSPACE_BYTES } from "./matmul";
