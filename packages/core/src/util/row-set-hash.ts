/**
 * sha256, and the order-independent hash of a multiset of rows built on the canonical encodings.
 */
import { createHash } from 'node:crypto';
import { canonicalEncode } from './canonical.js';

/** sha256 of a string, hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const MASK = (1n << 128n) - 1n;

/**
 * Order-independent hash of a multiset of rows: the sum modulo 2^128 of each row's sha256 (first
 * 128 bits). Sum rather than XOR, so that a duplicated row does not cancel out.
 *
 * Each row is encoded with `encode`: {@link canonicalEncode} by default (type-normalised), or
 * {@link typedEncode} for a checksum that sees types (`new RowSetHash(typedEncode)`), which the
 * MongoDB and memory adapters use.
 */
export class RowSetHash {
  #sum = 0n;
  #count = 0;
  readonly #encode: (row: unknown) => string;

  constructor(encode: (row: unknown) => string = canonicalEncode) {
    this.#encode = encode;
  }

  add(row: unknown): this {
    const digest = createHash('sha256').update(this.#encode(row)).digest();
    this.#sum = (this.#sum + BigInt(`0x${digest.subarray(0, 16).toString('hex')}`)) & MASK;
    this.#count += 1;
    return this;
  }

  get count(): number {
    return this.#count;
  }

  digest(): string {
    return this.#sum.toString(16).padStart(32, '0');
  }
}
