import { describe, expect, it } from "vitest";
import { allocFloat32, freeFloat32, memoryStats } from "./memory.js";

describe("engine memory allocator", () => {
  it("reuses freed blocks of the same size without growing the heap", () => {
    const a = allocFloat32(1000);
    freeFloat32(a);
    const top = memoryStats().heapBytes;
    for (let i = 0; i < 50; i++) freeFloat32(allocFloat32(1000));
    expect(memoryStats().heapBytes).toBe(top);
  });

  it("serves smaller requests from larger free blocks (best fit), so shrinking shapes do not grow the heap", () => {
    // Allocate a working set at the largest shape, free it, then walk down through many smaller shapes.
    const sizes = [64, 256, 1024, 4096, 16384];
    const scale = (s: number, n: number) => Math.ceil((s * n) / 60);
    const held = sizes.map((s) => allocFloat32(scale(s, 60)));
    for (const view of held) freeFloat32(view);
    const top = memoryStats().heapBytes;
    const live = memoryStats().liveBytes;
    for (let n = 59; n >= 1; n--) {
      const views = sizes.map((s) => allocFloat32(scale(s, n)));
      for (const view of views) {
        expect(view.every((x) => x === 0)).toBe(true); // zeroed even when the block is reused
        view.fill(n);
      }
      for (const view of views) freeFloat32(view);
    }
    expect(memoryStats().heapBytes).toBe(top);
    expect(memoryStats().liveBytes).toBe(live);
  });

  it("picks the smallest adequate block and keeps live bytes exact", () => {
    const big = allocFloat32(4096);
    const small = allocFloat32(256);
    freeFloat32(big);
    freeFloat32(small);
    const before = memoryStats();
    const view = allocFloat32(200); // fits the 256-element block, not the 4096 one
    expect(view.byteOffset).toBe(small.byteOffset);
    expect(memoryStats().liveBytes - before.liveBytes).toBe(1024);
    freeFloat32(view);
    expect(memoryStats().liveBytes).toBe(before.liveBytes);
  });
});
