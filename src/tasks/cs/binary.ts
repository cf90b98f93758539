/**
 * Binary-number helpers of the context-sensitive arithmetic tasks (binary_addition, binary_multiplication,
 * compute_sqrt) of Ruoss et al. 2023, "Randomized Positional Encodings Boost Length Generalization of
 * Transformers" (arXiv:2305.16843). Numbers are BigInt (operands reach 2^n for task length n).
 *   littleEndianBits(6n, 4) = [0, 1, 1, 0]      bigEndianBits(6n, 4) = [0, 1, 1, 0] read as 0110
 *   minimal form (width 0): littleEndianBits(6n, 0) = [0, 1, 1]; of 0 it is [0] (Python's f"{0:b}" = "0").
 */
import type { Rng } from "../../util/rng.js";

/** Bits of x least significant first, zero-padded to `width` (never truncated; width 0 = minimal form). */
export function littleEndianBits(x: bigint, width: number): number[] {
  if (x < 0n) throw new RangeError(`littleEndianBits: expected a non-negative number, received ${x}`);
  const bits: number[] = [];
  let rest = x;
  while (rest > 0n) {
    bits.push(Number(rest & 1n));
    rest >>= 1n;
  }
  if (bits.length === 0) bits.push(0);
  while (bits.length < width) bits.push(0);
  return bits;
}

/** Bits of x most significant first, zero-padded on the left to `width`. */
export function bigEndianBits(x: bigint, width: number): number[] {
  return littleEndianBits(x, width).reverse();
}

/** The number whose bits, least significant first, are `bits`. */
export function fromLittleEndian(bits: readonly number[]): bigint {
  let x = 0n;
  for (let i = bits.length - 1; i >= 0; i--) x = (x << 1n) | BigInt(bits[i]);
  return x;
}

/** A uniform integer in [lo, 2^bits - 1] for lo in {0, 1}: `bits` fair coin flips, rejecting values below lo. */
export function uniformBits(rng: Rng, bits: number, lo: 0 | 1): bigint {
  for (;;) {
    let x = 0n;
    for (let i = 0; i < bits; i++) x = (x << 1n) | BigInt(rng.int(2));
    if (x >= BigInt(lo)) return x;
  }
}

/** floor(sqrt(x)) for x >= 0 (Newton's method on integers, as Python's math.isqrt). */
export function integerSqrt(x: bigint): bigint {
  if (x < 0n) throw new RangeError(`integerSqrt: expected a non-negative number, received ${x}`);
  if (x < 2n) return x;
  let r = 1n << BigInt(Math.ceil(x.toString(2).length / 2));
  for (;;) {
    const next = (r + x / r) >> 1n;
    if (next >= r) return r;
    r = next;
  }
}
