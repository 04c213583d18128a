/**
 * Order strings by Unicode code point, which is the byte order of their UTF-8 encoding, i.e. PostgreSQL's
 * `COLLATE "C"`. JavaScript's `<` compares UTF-16 code units instead, and disagrees when a surrogate pair
 * (U+10000 and up) meets a character in U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** Move surrogates (D800..DFFF) above U+E000..U+FFFF so code-unit order becomes code-point order. */
function rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
