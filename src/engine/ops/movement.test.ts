/**
 * reshape as a zero-copy view: the output shares the input's storage, either may be disposed first, the storage is
 * freed with its last owner, and the gradient is unchanged (the inverse reshape, accumulated).
 */
import { describe, expect, it } from "vitest";
import { memoryStats } from "../memory.js";
import { sharedOwners } from "../storage.js";
import { tensor, tidy } from "../tensor.js";
import { mul } from "./elementwise.js";
import { reshape } from "./movement.js";
import { sum } from "./reduce.js";

describe("reshape (zero-copy view)", () => {
  it("shares the input's storage, without copying", () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = reshape(x, [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(y.data).toBe(x.data);
    expect(sharedOwners(x.data)).toBe(1);
    const z = reshape(y, [6]);
    expect(z.data).toBe(x.data);
    expect(sharedOwners(x.data)).toBe(2);
    for (const t of [x, y, z]) t.dispose();
  });

  it("keeps the storage alive until the last owner is disposed, in either order", () => {
    const live = memoryStats().liveBytes;
    for (const firstSource of [true, false]) {
      const x = tensor([1, 2, 3, 4], [4]);
      const y = reshape(x, [2, 2]);
      const storage = x.data;
      (firstSource ? x : y).dispose();
      const other = firstSource ? y : x;
      expect(Array.from(other.data)).toEqual([1, 2, 3, 4]);
      expect(other.data).toBe(storage);
      expect(sharedOwners(storage)).toBe(0);
      other.dispose();
      expect(memoryStats().liveBytes).toBe(live);
    }
  });

  it("frees views made inside tidy, and keeps a returned view readable", () => {
    const live = memoryStats().liveBytes;
    const kept = tidy(() => {
      const x = tensor([1, 2, 3, 4, 5, 6], [6]);
      reshape(x, [2, 3]);
      return reshape(x, [3, 2]);
    });
    expect(Array.from(kept.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sharedOwners(kept.data)).toBe(0);
    kept.dispose();
    expect(memoryStats().liveBytes).toBe(live);
  });

  it("passes the gradient back through the view, accumulated", () => {
    const w = tensor([1, 2, 3, 4, 5, 6], [2, 3], true);
    const c = tensor([1, 10, 100, 1000, 10000, 100000], [3, 2]);
    tidy(() => {
      const loss = sum(mul(reshape(w, [3, 2]), c));
      loss.backward();
    });
    expect(Array.from(w.grad as Float32Array)).toEqual([1, 10, 100, 1000, 10000, 100000]);
    w.dispose();
  });
});
