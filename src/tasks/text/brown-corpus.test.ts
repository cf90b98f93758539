/** The split rule and the category list on hand-made lists (the real corpus: test/lab/text-brown.test.ts). */
import { describe, expect, it } from "vitest";
import { parseBrownCategories, splitBrownDocuments } from "./brown-corpus.js";

const docs = (letter: string, category: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `c${letter}${String(i + 1).padStart(2, "0")}`, category }));

describe("Brown document split", () => {
  it("puts the 9th, 19th, ... document of each genre in validation and the 10th, 20th, ... in test", () => {
    const list = [...docs("a", "news", 21), ...docs("m", "science_fiction", 6), ...docs("r", "humor", 9)];
    const split = splitBrownDocuments(list);
    expect(split.validation).toEqual(["ca09", "ca19", "cr09"]);
    expect(split.test).toEqual(["ca10", "ca20"]);
    expect(split.train).toHaveLength(36 - 5);
    expect(split.train).toContain("ca21");
    expect(split.train).toContain("cm06");
  });

  it("is deterministic and independent of the input order; the splits are disjoint and cover every document", () => {
    const list = [...docs("a", "news", 44), ...docs("j", "learned", 80), ...docs("b", "editorial", 27)];
    const shuffled = [...list].reverse();
    const a = splitBrownDocuments(list);
    expect(splitBrownDocuments(shuffled)).toEqual(a);
    const all = [...a.train, ...a.validation, ...a.test];
    expect(new Set(all).size).toBe(list.length);
    expect(all.sort()).toEqual(list.map((d) => d.id).sort());
  });

  it("reads cats.txt and names a bad line", () => {
    expect(parseBrownCategories("ca01 news\nca02 news\n\n")).toEqual([
      { id: "ca01", category: "news" },
      { id: "ca02", category: "news" },
    ]);
    expect(() => parseBrownCategories("ca01 news\nca01 news\n")).toThrow(/cats\.txt line 2/);
    expect(() => parseBrownCategories("zz01 news\n")).toThrow(/line 1.*cXNN/);
  });
});
