import { describe, expect, it } from "vitest";
import { type KernelExports, kernelBinary, unsharedMemoryVariant, wasmSimdSupported } from "./module.js";

describe("WASM kernel module", () => {
  it("imports a shared memory with up to 65536 pages and has no data segments (writes only what it is given)", () => {
    const module = new WebAssembly.Module(kernelBinary() as BufferSource);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
    // Section id 11 is the data section: absent.
    const bytes = kernelBinary();
    let offset = 8;
    const sections: number[] = [];
    while (offset < bytes.length) {
      const id = bytes[offset++];
      let size = 0;
      let shift = 0;
      let byte: number;
      do {
        byte = bytes[offset++];
        size |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      sections.push(id);
      offset += size;
    }
    expect(sections).not.toContain(11);
    expect(
      () => new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } }),
    ).toThrow();
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    expect(() => new WebAssembly.Instance(module, { env: { memory: shared } })).not.toThrow();
  });

  it("links against an unshared memory after the import's flags are rewritten, and computes a product", () => {
    expect(wasmSimdSupported()).toBe(true);
    const module = new WebAssembly.Module(unsharedMemoryVariant(kernelBinary()) as BufferSource);
    const memory = new WebAssembly.Memory({ initial: 40, maximum: 65536 });
    const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4], 1024 / 4); // A at byte 1024
    f.set([5, 6, 7, 8], 1040 / 4); // B at byte 1040
    kernels.matmul(1024, 1040, 1056, 2, 2, 2, 0, 0, 0, 0, 0, 1, 0, 2, 4096);
    expect(Array.from(f.subarray(1056 / 4, 1056 / 4 + 4))).toEqual([19, 22, 43, 50]);
  });
});

describe("wasmKernelTable", () => {
  it("maps every WASM kernel onto a known kernel-table entry, keeping the other unary references", async () => {
    const { referenceKernels } = await import("../kernels/index.js");
    const { createWasmKernels, wasmKernelTable } = await import("./index.js");
    const wasm = createWasmKernels();
    const table = wasmKernelTable(wasm);
    for (const key of Object.keys(table)) expect(key in referenceKernels).toBe(true);
    expect(table.matmul).toBe(wasm.matmul);
    expect(table.attentionBackward).toBe(wasm.attentionBackward);
    expect(table.unary?.gelu).toBe(wasm.gelu);
    expect(table.unary?.exp).toBe(referenceKernels.unary.exp);
  });
});
