import fc from 'fast-check';

/**
 * Records and dictionaries with `Object.prototype`: the transformers copy documents with spread, which
 * yields ordinary objects, and documents read from a driver are ordinary objects too.
 */
export const NO_NULL_PROTO = { noNullPrototype: true } as const;

/** Text that stresses encodings: full Unicode code points, grapheme clusters, and hand-picked edge cases. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'é',
      'e\u0301',
      '𝄞',
      '\uFFFF',
      '\u0000',
      'null',
      '__proto__',
      'constructor',
      '👩‍👩‍👧',
    ),
  },
);

/** A key of a key/value table: like {@link text}, plus names that break naive object code. */
export const tableKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', 'extra') },
);

/** An id as the drivers return it: text / UUID or a safe integer. */
export const id: fc.Arbitrary<string | number> = fc.oneof(
  fc.uuid(),
  text,
  fc.integer({ min: -1_000, max: Number.MAX_SAFE_INTEGER }),
);

/** Field names for the "other fields" of a document, excluding the ones a transformer reads. */
export function otherFields(reserved: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const taken = new Set([...reserved, '__proto__']);
  return fc.dictionary(
    fc.string({ unit: 'grapheme', maxLength: 10 }).filter((name) => !taken.has(name)),
    fc.jsonValue({ maxDepth: 2 }),
    { maxKeys: 4, noNullPrototype: true },
  );
}

/** A plain JSON-ish object with arbitrary keys, used for message metadata. */
export const jsonObject: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.string({ unit: 'grapheme', maxLength: 10 }).filter((name) => name !== '__proto__'),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 5, noNullPrototype: true },
);
