/** Small markdown writers for the generated reference pages. */

export const GENERATED_BY = (page: string): string =>
  `<!-- Generated from the code by scripts/gen-reference.ts: do not edit. Change the code (or the prose in scripts/reference/), then run \`pnpm run docs:reference\`. Page: ${page} -->`;

/** Inline code (a backtick inside widens the fence). In a table, pass the cell through `cell`. */
export function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  const pad = text.includes('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A table cell: pipes escaped (outside code spans too), no line breaks. */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/(?<!\\)\|/g, '\\|');
}

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** GitHub's anchor of a heading's text. */
export function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

/** A literal as the pages print defaults: strings quoted, objects as `{ a: 1 }`. */
export function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value !== null && typeof value === 'object')
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${literal(v)}`)
      .join(', ')} }`;
  return String(value);
}

export function page(title: string, file: string, sections: readonly string[]): string {
  return `${[`# ${title}`, GENERATED_BY(file), ...sections].join('\n\n')}\n`;
}
