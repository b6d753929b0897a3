import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { toAppError } from '../src/http/errors.ts';
import { startApp, type TestApp } from './support/harness.ts';

describe('database errors a request can meet', () => {
  test('a row removed between a check and the write (foreign key violation) is a 409 to send again, not a 500', () => {
    const error = toAppError(Object.assign(new Error('insert or update on table "leads" violates foreign key constraint "leads_agent_id_fkey"'), { code: '23503' }));
    assert.deepEqual([error.status, error.code, error.message], [409, 'CONFLICT', 'A record this request refers to was removed meanwhile; send the request again']);
  });

  test('anything unexpected stays a 500 that says nothing of the cause', () => {
    const error = toAppError(Object.assign(new Error('could not write to file "base/16384/2619": No space left on device'), { code: '53100' }));
    assert.deepEqual([error.status, error.message], [500, 'Internal server error']);
  });

  test('a transaction aborted for what ran beside it (deadlock, serialization failure) is a 409 asking to send again', () => {
    for (const code of ['40P01', '40001']) {
      const error = toAppError(Object.assign(new Error('deadlock detected'), { code }));
      assert.deepEqual([error.status, error.message], [409, 'A concurrent change got in the way; send the request again']);
    }
  });
});

describe("requests Node's HTTP parser refuses before any route", () => {
  let app: TestApp;
  before(async () => {
    app = await startApp();
  });
  after(() => app.close());

  /** Sends `request` on a raw connection and reads what comes back until the server closes it. */
  function exchange(request: string): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        const [head, body] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
        const [statusLine, ...lines] = head.split('\r\n');
        const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
        resolve({ status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) });
      });
      socket.write(request);
    });
  }

  test('headers over the limit: 431 in the native envelope, and the connection closed', async () => {
    const answer = await exchange(`GET /api/leads HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    assert.equal(answer.status, 431);
    assert.match(answer.headers['content-type'], /^application\/json/);
    assert.equal(answer.headers.connection, 'close');
    assert.deepEqual(answer.body, { success: false, error: 'Request headers are too large' });
  });

  test('a malformed request line: 400 in the native envelope', async () => {
    const answer = await exchange('GET /api/leads NOT-HTTP\r\n\r\n');
    assert.equal(answer.status, 400);
    assert.equal(answer.headers.connection, 'close');
    assert.deepEqual(answer.body, { success: false, error: 'Malformed HTTP request' });
  });
});
