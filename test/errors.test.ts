import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toAppError } from '../src/http/errors.ts';

describe('database errors a request can meet', () => {
  test('a row removed between a check and the write (foreign key violation) is a 409 to send again, not a 500', () => {
    const error = toAppError(Object.assign(new Error('insert or update on table "leads" violates foreign key constraint "leads_agent_id_fkey"'), { code: '23503' }));
    assert.deepEqual([error.status, error.code, error.message], [409, 'CONFLICT', 'A record this request refers to was removed meanwhile; send the request again']);
  });

  test('anything unexpected stays a 500 that says nothing of the cause', () => {
    const error = toAppError(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    assert.deepEqual([error.status, error.message], [500, 'Internal server error']);
  });
});
