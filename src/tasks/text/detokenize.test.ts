import { describe, expect, it } from "vitest";
import { detokenizeBrownDocument, detokenizeWords, stripTag, taggedParagraphs } from "./detokenize.js";

const words = (s: string) => s.split(" ");

describe("Brown detokenization (hand-written cases)", () => {
  it("strips the tag after the last slash", () => {
    expect(stripTag("Atlanta's/np$")).toBe("Atlanta's");
    expect(stripTag("1/2/cd")).toBe("1/2");
    expect(stripTag("``/``")).toBe("``");
    expect(stripTag("./.-hl")).toBe(".");
    expect(() => stripTag("word")).toThrow(/word\/tag/);
    expect(() => stripTag("/nn")).toThrow(/word\/tag/);
  });

  it("glues punctuation and double quotes to their words", () => {
    expect(detokenizeWords(words("produced `` no evidence '' that any irregularities took place ."))).toBe(
      'produced "no evidence" that any irregularities took place.',
    );
    expect(detokenizeWords(words("`` Only a handful was received '' , the jury said ."))).toBe(
      '"Only a handful was received", the jury said.',
    );
    expect(detokenizeWords(words("Why ? Because ; he said : no ! ! Wait . . ."))).toBe(
      "Why? Because; he said: no!! Wait...",
    );
    expect(detokenizeWords(words("the effect ( see [ 2 ] ) is small"))).toBe("the effect (see [2]) is small");
    expect(detokenizeWords(words("He said , `` Stop . ''"))).toBe('He said, "Stop."');
    expect(detokenizeWords(words("( `` quoted '' )"))).toBe('("quoted")');
  });

  it("keeps dashes, ampersands and contractions as they are", () => {
    expect(detokenizeWords(words("sour -- rising , A & P didn't"))).toBe("sour -- rising, A & P didn't");
  });

  it("pairs single quotes by parity inside a paragraph", () => {
    expect(detokenizeWords(words("more ' pro ' letters than ' con '"))).toBe("more 'pro' letters than 'con'");
    expect(detokenizeWords(words("think , ' You're my friend ' ."))).toBe("think, 'You're my friend'.");
    expect(detokenizeWords(words("`` It's ' See Joe ' '' ."))).toBe("\"It's 'See Joe'\".");
  });

  it("reads paragraphs (blank-line separated, sentences on lines) and headlines", () => {
    const raw = [
      "",
      "",
      "\tThe/at jury/nn said/vbd ./.",
      "It/pps was/bedz ``/`` fine/jj ''/'' ./.",
      "",
      "",
      " Merger/nn-hl proposed/vbn-hl ",
      "",
      "",
      "\tNo/at ,/, it/pps wasn't/bedz* ./.",
      "",
    ].join("\n");
    expect(taggedParagraphs(raw)).toHaveLength(3);
    expect(detokenizeBrownDocument(raw)).toBe(
      'The jury said. It was "fine".\nMerger proposed\nNo, it wasn\'t.\n',
    );
  });
});
