import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PosencConfigError } from "../util/validation.js";
import { bipePositionIds, bipeSpec, createBipeEncoding } from "./bipe.js";

const DOT = 9;

/**
 * The official `get_bilevel_ids` (zhenyuhe00/BiPE), restated on one row: seg = cumsum(sep) shifted right by
 * one; intra = t - (sum of the lengths of the segments closed before t), a segment's length being the gap
 * between consecutive separators (the first measured from -1).
 */
function officialBilevel(ids: number[], seps: Set<number>): { seg: number[]; intra: number[] } {
  const sep = ids.map((x) => (seps.has(x) ? 1 : 0));
  const seg: number[] = [];
  let acc = 0;
  for (const s of sep) {
    seg.push(acc);
    acc += s;
  }
  const marks = [...sep, 1];
  const ones = [-1];
  marks.forEach((m, i) => {
    if (m === 1) ones.push(i);
  });
  const lengths = marks.slice();
  let k = 1;
  for (let i = 0; i < marks.length; i++) {
    if (marks[i] === 1) {
      lengths[i] = ones[k] - ones[k - 1];
      k++;
    }
  }
  const intra: number[] = [];
  let closed = 0;
  for (let t = 0; t < ids.length; t++) {
    intra.push(t - closed);
    closed += lengths[t];
  }
  return { seg, intra };
}

describe("bipePositionIds", () => {
  it("handles separators at the start, the middle (adjacent) and the end", () => {
    //            .    a  b  .    c  .    .    d  .
    const tokens = [DOT, 1, 2, DOT, 3, DOT, DOT, 4, DOT];
    const { segmentIds, intraSegmentIds } = bipePositionIds(tokens, [DOT]);
    expect(Array.from(segmentIds)).toEqual([0, 1, 1, 1, 2, 2, 3, 4, 4]);
    expect(Array.from(intraSegmentIds)).toEqual([0, 0, 1, 2, 0, 1, 0, 0, 1]);
  });

  it("treats every listed token as a separator and leaves a sequence without one as a single segment", () => {
    const newline = 8;
    const both = bipePositionIds([1, 2, newline, 3, DOT, 4], [DOT, newline]);
    expect(Array.from(both.segmentIds)).toEqual([0, 0, 0, 1, 1, 2]);
    expect(Array.from(both.intraSegmentIds)).toEqual([0, 1, 2, 0, 1, 0]);
    const none = bipePositionIds([5, 6, 7], []);
    expect(Array.from(none.segmentIds)).toEqual([0, 0, 0]);
    expect(Array.from(none.intraSegmentIds)).toEqual([0, 1, 2]);
    expect(bipePositionIds([], [DOT]).segmentIds.length).toBe(0);
  });

  it("clips intra ids at maxIntraPosition - 1 and leaves segment ids alone", () => {
    const { segmentIds, intraSegmentIds } = bipePositionIds([1, 2, 3, 4, 5, DOT, 6], [DOT], {
      maxIntraPosition: 3,
    });
    expect(Array.from(intraSegmentIds)).toEqual([0, 1, 2, 2, 2, 2, 0]);
    expect(Array.from(segmentIds)).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });

  it("matches the official get_bilevel_ids formula on random token strings", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 60 }), (ids) => {
        const seps = new Set([0, 3]);
        const ours = bipePositionIds(ids, seps);
        const official = officialBilevel(ids, seps);
        expect(Array.from(ours.segmentIds)).toEqual(official.seg);
        expect(Array.from(ours.intraSegmentIds)).toEqual(official.intra);
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it("recovers the ordinary position: t = (start of the segment) + intra", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 50 }), (ids) => {
        const { segmentIds, intraSegmentIds } = bipePositionIds(ids, [0]);
        for (let t = 0; t < ids.length; t++) {
          const first = t - intraSegmentIds[t];
          // The token before a segment's first token is a separator (or there is none), and it shares the segment.
          expect(first === 0 || ids[first - 1] === 0).toBe(true);
          expect(segmentIds[first]).toBe(segmentIds[t]);
        }
      }),
      { numRuns: 100, seed: 4 },
    );
  });

  it("rejects bad arguments, naming them", () => {
    expect(() => bipePositionIds([1], [DOT], { maxIntraPosition: 0 })).toThrow(/Invalid maxIntraPosition/);
    expect(() => bipePositionIds(null as unknown as number[], [DOT])).toThrow(/Invalid tokens/);
  });
});

describe("bipeSpec", () => {
  it("declares the registry line", () => {
    expect(bipeSpec.id).toBe("bipe");
    expect(bipeSpec.family).toBe("position-ids");
    expect(bipeSpec.slots).toEqual(["positionIds"]);
    expect(bipeSpec.paper.arxiv).toBe("2401.16421");
  });

  it("positionIds returns the intra-segment ids; bilevelIds returns both levels", () => {
    const encoding = createBipeEncoding({ separatorTokens: [DOT], maxIntraPosition: 2 });
    const tokens = [DOT, 1, 2, 3, DOT, 4];
    expect(Array.from(encoding.positionIds(6, { tokens }))).toEqual([0, 0, 1, 1, 1, 0]);
    const both = encoding.bilevelIds(tokens);
    expect(Array.from(both.segmentIds)).toEqual([0, 1, 1, 1, 1, 2]);
    const viaSpec = bipeSpec.create({ separatorTokens: [DOT] });
    expect(Array.from(viaSpec.positionIds!(6, { tokens }))).toEqual([0, 0, 1, 2, 3, 0]);
  });

  it("names what is wrong", () => {
    const encoding = bipeSpec.create({ separatorTokens: [DOT] });
    expect(() => encoding.positionIds!(3)).toThrow("Missing required key context.tokens");
    expect(() => encoding.positionIds!(3, { tokens: [1, 2] })).toThrow(RangeError);
    expect(() => bipeSpec.create({ separatorTokens: [1.5] })).toThrow(PosencConfigError);
    expect(() => bipeSpec.create({ separatorTokens: [1.5] })).toThrow(/bipe.separatorTokens\[0\]/);
    expect(() => bipeSpec.create({ separatorTokens: "." })).toThrow(/Invalid bipe.separatorTokens/);
    expect(() => bipeSpec.create({ maxIntraPosition: 0 })).toThrow(/Invalid bipe.maxIntraPosition/);
  });
});
