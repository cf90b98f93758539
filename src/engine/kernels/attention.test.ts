import { describe, expect, it } from "vitest";
import { Rng } from "../../util/rng.js";
import { type AttentionSizes, attentionForward } from "./attention.js";

function random(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

describe("reference attentionForward", () => {
  it("with causal masking and more queries than keys, writes only its own rows of att", () => {
    // Tq = 4, Tk = 2: causal alignment puts the queries at positions -2, -1, 0, 1 of the keys, so rows 0 and 1 see
    // no key. Before the fix, row 0 of slab 1 computed end = -1 and zeroed att[-1 relative], the last entry of
    // slab 0's last row, corrupting the probabilities saved for backward.
    const rng = new Rng(3);
    const s: AttentionSizes = { BH: 2, Tq: 4, Tk: 2, D: 3, Dv: 2, scale: 0.5, causal: true };
    const q = random(rng, s.BH * s.Tq * s.D);
    const k = random(rng, s.BH * s.Tk * s.D);
    const v = random(rng, s.BH * s.Tk * s.Dv);
    const out = new Float32Array(s.BH * s.Tq * s.Dv).fill(Number.NaN);
    const att = new Float32Array(s.BH * s.Tq * s.Tk).fill(Number.NaN); // every entry must be written
    attentionForward(out, att, q, k, v, null, null, s);
    for (let bh = 0; bh < s.BH; bh++) {
      for (let i = 0; i < s.Tq; i++) {
        const row = Array.from(att.subarray((bh * s.Tq + i) * s.Tk, (bh * s.Tq + i + 1) * s.Tk));
        const visible = Math.max(0, Math.min(s.Tk, i - 2 + 1));
        // visible keys sum to 1, masked ones are exactly 0; a row with no visible key is all 0 (and so is out)
        expect(row.slice(visible)).toEqual(new Array(s.Tk - visible).fill(0));
        const total = row.reduce((a, b) => a + b, 0);
        expect(total).toBeCloseTo(visible > 0 ? 1 : 0, 6);
        if (visible === 0) {
          expect(Array.from(out.subarray((bh * s.Tq + i) * s.Dv, (bh * s.Tq + i + 1) * s.Dv))).toEqual([
            0, 0,
          ]);
        }
      }
    }
    // Row 3 of slab 0 sees both keys: att = softmax(scale * q3 . k_j), computed by hand here.
    const dots = [0, 1].map(
      (j) => s.scale * [0, 1, 2].reduce((acc, d) => acc + q[3 * s.D + d] * k[j * s.D + d], 0),
    );
    const e = dots.map((x) => Math.exp(x - Math.max(...dots)));
    expect(att[3 * s.Tk + 1]).toBeCloseTo(e[1] / (e[0] + e[1]), 6);
  });
});
