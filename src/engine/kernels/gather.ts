/**
 * Row gather (embedding lookup) and its scatter-add gradient:
 *   out[n, :] = table[ids[n], :]    for n < N, table (V, C)
 */
type Floats = Float32Array;

export function embeddingForward(out: Floats, ids: Int32Array, table: Floats, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const src = ids[n] * C;
    const dst = n * C;
    for (let c = 0; c < C; c++) out[dst + c] = table[src + c];
  }
}
/** in the forward pass this was: out[n] = table[ids[n]]; so dtable[ids[n]] += dout[n] (repeated ids add up). */
export function embeddingBackward(dtable: Floats, dout: Floats, ids: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const dst = ids[n] * C;
    const src = n * C;
    for (let c = 0; c < C; c++) dtable[dst + c] += dout[src + c];
  }
}
