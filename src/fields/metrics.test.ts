/** Exact scores on shapes with known answers: a square image, constant images, circles' SDFs, point sets. */
import { describe, expect, it } from "vitest";
import { generateImage } from "./images.js";
import { chamfer, iou, psnr, ssim, zeroCrossings } from "./metrics.js";
import { ballSdf, sampleGrid } from "./shapes.js";

describe("PSNR and SSIM", () => {
  it("PSNR of the square image against black is 10 log10(1 / quarter area) (MSE = covered fraction)", () => {
    const img = generateImage("square", 32, 32); // |x|, |y| < 0.5: 16 x 16 of 32 x 32 pixels
    expect(psnr(img.pixels, new Float64Array(img.pixels.length))).toBeCloseTo(10 * Math.log10(4), 12);
    expect(psnr(img.pixels, img.pixels)).toBe(Number.POSITIVE_INFINITY);
    expect(psnr([0.5, 0.5], [0.6, 0.4])).toBeCloseTo(20, 10); // MSE 0.01
  });

  it("SSIM is 1 for identical images and (2 a b + C1) / (a^2 + b^2 + C1) for constants a, b", () => {
    const img = generateImage("pattern", 24, 20);
    expect(ssim(img.pixels, img.pixels, 20, 24, 3)).toBeCloseTo(1, 12);
    const a = new Float64Array(16 * 16 * 3).fill(0.2);
    const b = new Float64Array(16 * 16 * 3).fill(0.6);
    const c1 = 1e-4;
    expect(ssim(a, b, 16, 16, 3)).toBeCloseTo((2 * 0.2 * 0.6 + c1) / (0.04 + 0.36 + c1), 12);
    expect(() => ssim(a, b, 8, 96, 3)).toThrow(/smaller than the 11 x 11 window/);
  });
});

describe("IoU, zero crossings and Chamfer", () => {
  const circle = (r: number) => (p: readonly number[]) => ballSdf(p, [0, 0], r);

  it("zero crossings of a circle's SDF lie on the circle (linear interpolation of an exact SDF is exact on it)", () => {
    const pts = zeroCrossings(sampleGrid(circle(0.5), 2, 65), [65, 65], -1, 1);
    expect(pts.length).toBeGreaterThan(2 * 100);
    for (let i = 0; i < pts.length; i += 2) expect(Math.hypot(pts[i], pts[i + 1])).toBeCloseTo(0.5, 2);
  });

  it("IoU of two concentric circles' masks approaches r1^2 / r2^2; of a mask with itself, 1", () => {
    const a = sampleGrid(circle(0.4), 2, 201);
    const b = sampleGrid(circle(0.5), 2, 201);
    expect(iou(a, a)).toBe(1);
    expect(iou(a, b)).toBeCloseTo(0.64, 2);
    const region = Array.from(a, (_, i) => i % 2 === 0);
    expect(iou(a, b, region)).toBeCloseTo(0.64, 1);
  });

  it("Chamfer between two concentric circles' level sets is their radius difference", () => {
    const p = zeroCrossings(sampleGrid(circle(0.4), 2, 129), [129, 129], -1, 1);
    const q = zeroCrossings(sampleGrid(circle(0.5), 2, 129), [129, 129], -1, 1);
    expect(chamfer(p, q, 2)).toBeCloseTo(0.1, 3);
    expect(chamfer(p, p, 2)).toBe(0);
    // p -> q: min(5, 1) = 1; q -> p: (5 + 1) / 2 = 3; symmetric mean 2.
    expect(chamfer([0, 0], [3, 4, 0, 1], 2)).toBe(2);
    expect(chamfer([], [0, 0], 2)).toBe(Number.POSITIVE_INFINITY);
  });
});
