import { afterEach, describe, expect, it } from "vitest";
import { matmul } from "../ops/matmul.js";
import { withFloat64Storage } from "../storage.js";
import { tensor, tidy } from "../tensor.js";
import { kernels, referenceKernels, resetKernels, setKernels } from "./index.js";
import type { MatmulKernel } from "./types.js";

afterEach(() => resetKernels());

describe("kernel dispatch", () => {
  it("routes ops through a replacement and restores the reference", () => {
    const calls: number[] = [];
    const counting: MatmulKernel = (a, b, c, shape) => {
      calls.push(shape.m);
      referenceKernels.matmul(a, b, c, shape);
    };
    const previous = setKernels({ matmul: counting });
    expect(previous.matmul).toBe(referenceKernels.matmul);
    const value = tidy(() => matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 0, 0, 1], [2, 2])).toArray());
    expect(value).toEqual([1, 2, 3, 4]);
    expect(calls).toEqual([2]);
    // Float64 gradient checks always use the references, whatever is installed.
    expect(withFloat64Storage(() => kernels().matmul)).toBe(referenceKernels.matmul);
    resetKernels();
    expect(kernels().matmul).toBe(referenceKernels.matmul);
  });

  it("rejects an unknown kernel name, listing the known ones", () => {
    expect(() => setKernels({ matmull: referenceKernels.matmul } as never)).toThrow(
      /setKernels: unknown kernel 'matmull'; known kernels are matmul, unary/,
    );
  });
});
