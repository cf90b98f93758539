/**
 * Seed derivation: every random stream of a run is a pure function of (seed, stream, index), so a run resumed at
 * step s draws exactly the batches (and randomized position ids) the uninterrupted run drew at step s, with no
 * generator state to save. Evaluation uses its own stream, disjoint from the training stream.
 *
 *   seed_{stream,index} = fmix32(fmix32(fmix32(seed) ^ stream) + index)   (MurmurHash3's 32-bit finalizer)
 *   Rng(seed_{stream,index})                                              (splitmix32 seeding inside Rng)
 */
import { Rng } from "../util/rng.js";

/** The streams of one run. */
export const STREAM = {
  /** Model and encoding initialization (index 0). */
  init: 0x1a17,
  /** Training batches and the model's training-time randomness (index = step). */
  train: 0x7a41,
  /** Length-bucketed training examples, one window of train.bucketWindow batches (index = window). */
  bucket: 0xb0c7,
  /** Held-out evaluation examples (index = length). */
  eval: 0xe7a1,
  /** Random generation orders of train.order "random" (σ-GPT; index = step). */
  order: 0x0bde,
} as const;

/** MurmurHash3 fmix32: a bijection on 32-bit integers with full avalanche. */
export function fmix32(h: number): number {
  let x = h >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The 32-bit seed of (seed, stream, index). */
export function deriveSeed(seed: number, stream: number, index = 0): number {
  return fmix32((fmix32((fmix32(seed) ^ stream) >>> 0) + (index >>> 0)) >>> 0);
}

/** A fresh Rng for (seed, stream, index). */
export function streamRng(seed: number, stream: number, index = 0): Rng {
  return new Rng(deriveSeed(seed, stream, index));
}
