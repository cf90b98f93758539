import { describe, expect, it } from "vitest";
import { memoryStats } from "./memory.js";
import { add, mul, sigmoid } from "./ops/elementwise.js";
import { matmul } from "./ops/matmul.js";
import { concat, permute, reshape } from "./ops/movement.js";
import { layerNorm } from "./ops/nn.js";
import { sum } from "./ops/reduce.js";
import { noGrad, parameter, tensor, tidy, zeros } from "./tensor.js";

describe("autograd", () => {
  it("computes a hand-derived gradient: d/dx sum(x * y + x) = y + 1", () => {
    const x = tensor([1, 2, 3], [3], true);
    const y = tensor([4, 5, 6], [3]);
    const loss = sum(add(mul(x, y), x));
    expect(loss.item()).toBe(4 + 10 + 18 + 6);
    loss.backward();
    expect(Array.from(x.grad!)).toEqual([5, 6, 7]);
    expect(y.grad).toBeNull(); // y does not require a gradient
    for (const t of [x, y, loss]) t.dispose();
  });

  it("accumulates leaf gradients across backward calls and frees intermediate gradients", () => {
    const p = parameter([0.5], [1], "p");
    const hidden = sigmoid(p);
    const loss = sum(hidden);
    loss.backward();
    const first = p.grad![0];
    const s = 1 / (1 + Math.exp(-0.5));
    expect(first).toBeCloseTo(s * (1 - s), 6); // sigmoid' = s (1 - s)
    expect(hidden.grad).toBeNull();
    loss.backward();
    expect(p.grad![0]).toBeCloseTo(2 * first, 6);
    p.zeroGrad();
    expect(p.grad![0]).toBe(0);
    for (const t of [p, hidden, loss]) t.dispose();
  });

  it("handles a diamond graph (one tensor used by two ops)", () => {
    const x = tensor([3], [1], true);
    const a = mul(x, 2);
    const loss = sum(mul(a, a)); // (2x)^2, d/dx = 8x
    loss.backward();
    expect(x.grad![0]).toBe(24);
    for (const t of [x, a, loss]) t.dispose();
  });

  it("noGrad records nothing", () => {
    const p = parameter([1, 2], [2]);
    const out = noGrad(() => mul(p, 3));
    expect(out.requiresGrad).toBe(false);
    expect(out.node).toBeNull();
    expect(() => sum(out).backward()).toThrow(/does not require a gradient/);
  });

  it("explains a backward from a non-scalar root and a read after dispose", () => {
    const x = tensor([1, 2], [2], true);
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow("backward: the root has shape [2]; pass a seed gradient");
    y.dispose();
    expect(() => y.data).toThrow(/was disposed/);
  });
});

describe("shape errors name the op and both shapes", () => {
  it.each([
    [() => matmul(zeros([2, 3]), zeros([4, 5])), "matmul: inner dimensions differ: [2, 3] @ [4, 5]"],
    [() => add(zeros([2, 3]), zeros([4])), "add: shapes [2, 3] and [4] cannot broadcast (dim -1: 3 vs 4)"],
    [() => reshape(zeros([2, 3]), [4, 2]), "reshape: cannot reshape [2, 3] (6 elements) to [4, 2]"],
    [
      () => permute(zeros([2, 3]), [0, 0]),
      "permute: axes [0, 0] are not a permutation of the 2 axes of [2, 3]",
    ],
    [
      () => concat([zeros([2, 3]), zeros([3, 3])], 1),
      "concat: shapes [2, 3] and [3, 3] differ outside axis 1",
    ],
    [
      () => layerNorm(zeros([2, 3]), zeros([4]), null),
      "layerNorm: weight has shape [4], expected [3] for x [2, 3]",
    ],
    [() => sum(zeros([2, 3]), 2), "sum: axis 2 is out of range for shape [2, 3] (rank 2)"],
  ])("%#", (fn, message) => {
    expect(fn).toThrow(message);
  });
});

describe("memory", () => {
  it("tidy frees everything but its result and parameters", () => {
    const w = parameter([1, 2, 3, 4], [2, 2], "w");
    const before = memoryStats().liveBytes;
    const kept = tidy(() => {
      const x = tensor([1, 1, 1, 1], [2, 2]);
      const loss = sum(matmul(x, w));
      loss.backward();
      return mul(loss, 1);
    });
    // Still alive: the kept scalar and w's new gradient (64 bytes each after rounding).
    expect(memoryStats().liveBytes - before).toBe(128);
    expect(kept.item()).toBe(20);
    expect(w.disposed).toBe(false);
    kept.dispose();
    w.dispose();
  });

  it("a loop of tidy steps stops growing the heap after the first step", () => {
    const w = parameter(new Array(64 * 64).fill(0.01), [64, 64], "w");
    const step = () =>
      tidy(() => {
        const x = tensor(new Array(8 * 64).fill(1), [8, 64]);
        const loss = sum(sigmoid(matmul(x, w)));
        loss.backward();
        return loss.item();
      });
    step();
    const heap = memoryStats().heapBytes;
    const live = memoryStats().liveBytes;
    for (let i = 0; i < 20; i++) step();
    expect(memoryStats().heapBytes).toBe(heap);
    expect(memoryStats().liveBytes).toBe(live);
    w.dispose();
  });
});

describe("tidy scopes", () => {
  it("moves a nested scope's result to the enclosing scope, which frees it", () => {
    const before = memoryStats().liveBytes;
    let inner: ReturnType<typeof tensor> | null = null;
    tidy(() => {
      inner = tidy(() => mul(tensor([1, 2], [2]), 2));
      expect(inner.disposed).toBe(false);
    });
    expect(inner!.disposed).toBe(true);
    expect(memoryStats().liveBytes).toBe(before);
  });

  it("frees a failed scope's tensors and rethrows", () => {
    const before = memoryStats().liveBytes;
    expect(() =>
      tidy(() => {
        const x = tensor([1, 2, 3], [3]);
        return matmul(x, x);
      }),
    ).toThrow("matmul: both operands need rank >= 2: [3] @ [3]");
    expect(memoryStats().liveBytes).toBe(before);
  });
});
