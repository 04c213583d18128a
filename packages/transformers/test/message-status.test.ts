import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LEGACY_MESSAGE_STATUS,
  LEGACY_MESSAGE_STATUSES,
  MESSAGE_STATUSES,
  MESSAGE_STATUS_TO_LEGACY,
  TransformErrorCode,
  createMessageStatus,
  isTransformError,
  messageStatus,
} from '../src/index.js';
import type { MessageDocument } from '../src/index.js';
import { NO_NULL_PROTO, otherFields, text } from './support/arbitraries.js';
import { caught, clone, deepFreeze, restoreSync } from './support/helpers.js';

const legacyStatus = fc.constantFrom(...LEGACY_MESSAGE_STATUSES);
const newStatus = fc.constantFrom(...MESSAGE_STATUSES);

/** A document as the collection holds it before the migration: legacy, null or missing status. */
const legacyDocument: fc.Arbitrary<MessageDocument> = fc
  .tuple(
    fc.record(
      { message_id: text, status: fc.oneof(legacyStatus, fc.constant(null)) },
      { requiredKeys: ['message_id'], ...NO_NULL_PROTO },
    ),
    otherFields(['message_id', 'status']),
  )
  .map(([known, other]) => ({ ...other, ...known }));

describe('messageStatus mapping', () => {
  it('maps the five legacy statuses to the new enum', () => {
    expect(LEGACY_MESSAGE_STATUS).toEqual({
      SENT: 'sent',
      DELIVERED: 'delivered',
      READ: 'read',
      FAILED: 'failed',
      QUEUED: 'pending',
    });
    for (const [legacy, status] of Object.entries(LEGACY_MESSAGE_STATUS)) {
      expect(messageStatus.forward({ message_id: 'm', status: legacy })).toStrictEqual({ message_id: 'm', status });
      expect(messageStatus.inverse({ message_id: 'm', status })).toStrictEqual({ message_id: 'm', status: legacy });
    }
  });

  it('is a bijection: the tables are inverse to each other and the vocabularies are disjoint', () => {
    expect(new Set(MESSAGE_STATUSES).size).toBe(LEGACY_MESSAGE_STATUSES.length);
    for (const legacy of LEGACY_MESSAGE_STATUSES)
      expect(MESSAGE_STATUS_TO_LEGACY[LEGACY_MESSAGE_STATUS[legacy]]).toBe(legacy);
    for (const status of MESSAGE_STATUSES) expect(LEGACY_MESSAGE_STATUSES as readonly string[]).not.toContain(status);
  });

  it('leaves new values alone going forward and legacy values alone going back (re-runs write nothing)', () => {
    for (const status of MESSAGE_STATUSES) expect(messageStatus.forward({ message_id: 'm', status })).toBeNull();
    for (const status of LEGACY_MESSAGE_STATUSES) expect(messageStatus.inverse({ message_id: 'm', status })).toBeNull();
  });

  it('leaves null and missing status alone both ways', () => {
    for (const doc of [{ message_id: 'm', status: null }, { message_id: 'm' }]) {
      expect(messageStatus.forward(doc)).toBeNull();
      expect(messageStatus.inverse(doc)).toBeNull();
    }
  });

  it('restores every legacy document exactly (property)', () => {
    fc.assert(
      fc.property(legacyDocument, (doc) => {
        const expected = clone(doc);
        expect(restoreSync(messageStatus, deepFreeze(doc))).toStrictEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('inverts every forward result exactly (property)', () => {
    fc.assert(
      fc.property(legacyDocument, legacyStatus, (doc, status) => {
        const input = deepFreeze({ ...doc, status });
        const migrated = messageStatus.forward(input);
        expect(migrated?.status).toBe(LEGACY_MESSAGE_STATUS[status]);
        expect(messageStatus.inverse(migrated!)).toStrictEqual(input);
      }),
    );
  });

  it('the other direction is exact too: forward(inverse(doc)) equals a new-status doc (property)', () => {
    fc.assert(
      fc.property(legacyDocument, newStatus, (doc, status) => {
        const input = deepFreeze({ ...doc, status });
        expect(messageStatus.forward(input)).toBeNull();
        expect(messageStatus.forward(messageStatus.inverse(input)!)).toStrictEqual(input);
      }),
    );
  });

  it('documented limit: a document that already held a new value comes back in legacy form', () => {
    const born = { message_id: 'm', status: 'read' };
    expect(restoreSync(messageStatus, born)).toStrictEqual({ message_id: 'm', status: 'READ' });
  });
});

describe('messageStatus unknown values', () => {
  it('rejects an unknown status with a typed error naming the value and the message', () => {
    for (const direction of ['forward', 'inverse'] as const) {
      const error = caught(() => messageStatus[direction]({ message_id: 'm-5', status: 'BOUNCED' }));
      expect(isTransformError(error)).toBe(true);
      expect(error).toMatchObject({
        code: TransformErrorCode.UnknownValue,
        transformer: 'messageStatus',
        field: 'status',
        key: { message_id: 'm-5' },
        value: 'BOUNCED',
      });
      expect((error as Error).message).toMatch(/unknown status "BOUNCED".*message_id=m-5/);
    }
  });

  it('is case-sensitive and not fooled by Object.prototype names', () => {
    for (const status of ['Sent', 'sENT', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '']) {
      expect(caught(() => messageStatus.forward({ message_id: 'm', status }))).toMatchObject({
        code: TransformErrorCode.UnknownValue,
        value: status,
      });
    }
  });

  it('rejects a status that is not a string as invalid input', () => {
    expect(caught(() => messageStatus.forward({ message_id: 'm', status: 3 as never }))).toMatchObject({
      code: TransformErrorCode.InvalidInput,
      field: 'status',
    });
  });

  it('cuts very long unknown values in the error', () => {
    const error = caught(() => messageStatus.forward({ message_id: 'm', status: 'X'.repeat(500) })) as Error;
    expect(error.message.length).toBeLessThan(300);
  });

  it('with { unknown: "leave" } leaves unknown values alone both ways and stays exact (property)', () => {
    const lenient = createMessageStatus({ unknown: 'leave' });
    const status = fc.oneof(
      legacyStatus,
      text.filter((s) => !(MESSAGE_STATUSES as readonly string[]).includes(s)),
    );
    fc.assert(
      fc.property(legacyDocument, status, (doc, value) => {
        const input = deepFreeze({ ...doc, status: value });
        expect(restoreSync(lenient, input)).toStrictEqual(clone(input));
      }),
    );
    expect(lenient.forward({ message_id: 'm', status: 'BOUNCED' })).toBeNull();
    expect(lenient.inverse({ message_id: 'm', status: 42 as never })).toBeNull();
  });

  it('rejects an invalid option', () => {
    expect(caught(() => createMessageStatus({ unknown: 'ignore' as never }))).toMatchObject({
      code: TransformErrorCode.InvalidConfig,
    });
  });
});
