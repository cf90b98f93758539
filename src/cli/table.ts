/**
 * Plain-text tables for the CLI: a header row, then rows, columns padded to their widest cell. Every table the
 * CLI prints goes through here, so none lacks column headers. Numbers align right, text left.
 *
 *   id    family    hooks
 *   rope  rotary    transformQK
 */

export interface TableOptions {
  /** Columns aligned right (default: a column whose cells all look numeric). */
  alignRight?: readonly boolean[];
  /** Spaces between columns (default 2). */
  gap?: number;
}

const NUMERIC = /^[-+]?(\d[\d.,]*(e[-+]?\d+)?|inf|-inf|nan)(\/[-+]?[\d.]+)?$/i;

/** The rows of a table, header first, each line without trailing spaces. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const columns = header.length;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const right = header.map(
    (_, i) => options.alignRight?.[i] ?? (rows.length > 0 && rows.every((r) => NUMERIC.test(r[i] ?? ""))),
  );
  const gap = " ".repeat(options.gap ?? 2);
  const line = (cells: readonly string[]) =>
    Array.from({ length: columns }, (_, i) => {
      const cell = cells[i] ?? "";
      return right[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
    })
      .join(gap)
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * `text` wrapped on spaces for a column that starts `indent` characters in (after a label of that width) and ends
 * at `width`: the lines after the first are indented by `indent` spaces. A word longer than the room stays whole.
 */
export function wrapText(text: string, width: number, indent: number): string {
  const room = Math.max(width - indent, 20);
  const lines: string[] = [];
  let current = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current && current.length + 1 + word.length > room) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines.join(`\n${" ".repeat(indent)}`);
}
