/**
 * Test helper: extra params some encodings need to run in the tests' tiny models (vocab 12, d_model 16, 2 heads,
 * max 64 positions); every other method runs at its defaults.
 */
export const TINY_MODEL_PARAMS: Record<string, Record<string, unknown>> = {
  "randomized-sinusoidal": { maxPosition: 64 },
  "randomized-rope": { maxPosition: 64 },
  "randomized-learned": { maxPosition: 64 },
  "randomized-t5": { maxPosition: 64 },
  "alibi-at-randomized-ids": { maxPosition: 64 },
  "noisy-alibi": { maxPositions: 64 },
  "bipe-alibi": { separatorTokens: [3] },
  "randomized-positions": { maxPosition: 64 },
  bipe: { separatorTokens: [3] },
  v2pe: { compressedTokens: [3] },
  // Replace a head in each layer (the default replaces none, = RoPE), so the Gaussian path runs here too.
  dope: { denoisedHeads: [1, 3] },
  // RoPE++_EH: head pairs share q, k, v (slot g).
  "rope-plus-plus": { imaginaryHeads: "paired" },
};
