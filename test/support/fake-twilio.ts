import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** One request the fake carrier accepted (after idempotency-token dedupe). */
export interface CarrierRequest {
  resource: 'Messages' | 'Calls';
  sid: string;
  idempotencyToken: string | undefined;
  params: Record<string, string>;
}

export interface FakeTwilio {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  /** distinct messages and calls created, in arrival order */
  created: CarrierRequest[];
  /** every POST that reached the API, duplicates included */
  requestCount: number;
  /** answer the next `count` requests with this status instead of creating anything */
  failNext(count: number, status?: number): void;
  /** hold every request that arrives from now on until the returned function is called */
  hold(): () => void;
  /**
   * For the next message or call created: post this status to its StatusCallback (signed,
   * awaited) before answering the create request, as a fast carrier may.
   */
  callBackBeforeAnswering(status: Record<string, string>): void;
  /** the form body and X-Twilio-Signature header Twilio would send to `url` (an array: a name sent once per value) */
  signed(url: string, params: Record<string, string | string[]>): { headers: Record<string, string>; raw: string };
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/**
 * A local Twilio-compatible REST API on 127.0.0.1: POST
 * /2010-04-01/Accounts/{sid}/Messages.json and Calls.json with basic auth and form bodies.
 * Like Twilio, a repeated I-Twilio-Idempotency-Token returns the first result instead of
 * creating a second message.
 */
export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = 'AC' + 'f'.repeat(32);
  const authToken = 'fake-auth-token';
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const byToken = new Map<string, CarrierRequest>();
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let sequence = 0;
  let held: Promise<void> | undefined;
  let earlyCallback: Record<string, string> | undefined;

  // as twilio-python's RequestValidator computes it: the URL, then by name each value as
  // name + value, a repeated name's values sorted; the body keeps the order given
  const sign = (url: string, params: Record<string, string | string[]>) => {
    const valuesOf = (name: string) => [params[name]].flat();
    const payload = Object.keys(params)
      .sort()
      .reduce((text, name) => text + valuesOf(name).sort().map((value) => name + value).join(''), url);
    const signature = createHmac('sha1', authToken).update(payload).digest('base64');
    return {
      headers: { 'x-twilio-signature': signature, 'content-type': 'application/x-www-form-urlencoded' },
      raw: new URLSearchParams(Object.keys(params).flatMap((name) => valuesOf(name).map((value) => [name, value]))).toString(),
    };
  };

  const fake = {
    accountSid,
    authToken,
    from: '+15550001111',
    created: [] as CarrierRequest[],
    requestCount: 0,
  };

  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    await held;
    fake.requestCount += 1;
    const reply = (status: number, payload: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(payload));
    };
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(request.url ?? '');
    if (request.method !== 'POST' || !match) return reply(404, { code: 20404, message: 'not found' });
    if (match[1] !== accountSid || request.headers.authorization !== expectedAuth) return reply(401, { code: 20003, message: 'Authenticate' });
    if (failures.count > 0) {
      failures.count -= 1;
      return reply(failures.status, { code: 20500, message: 'simulated failure' });
    }
    const params = Object.fromEntries(new URLSearchParams(body));
    if (!params.To || !params.From) return reply(400, { code: 21604, message: 'A To and From are required' });
    const token = request.headers['i-twilio-idempotency-token'] as string | undefined;
    const previous = token ? byToken.get(token) : undefined;
    if (previous) return reply(201, { sid: previous.sid, status: 'queued' });
    sequence += 1;
    const resource = match[2] as 'Messages' | 'Calls';
    const created: CarrierRequest = { resource, sid: `${resource === 'Calls' ? 'CA' : 'SM'}${String(sequence).padStart(32, '0')}`, idempotencyToken: token, params };
    if (token) byToken.set(token, created);
    fake.created.push(created);
    if (earlyCallback && params.StatusCallback) {
      const callback = { [resource === 'Calls' ? 'CallSid' : 'MessageSid']: created.sid, AccountSid: accountSid, ...earlyCallback };
      earlyCallback = undefined;
      const signed = sign(params.StatusCallback, callback);
      await fetch(params.StatusCallback, { method: 'POST', headers: signed.headers, body: signed.raw });
    }
    reply(201, { sid: created.sid, status: 'queued' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return Object.assign(fake, {
    baseUrl: `http://127.0.0.1:${port}`,
    failNext(count: number, status = 500) {
      failures = { count, status };
    },
    hold() {
      let release!: () => void;
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
    callBackBeforeAnswering(status: Record<string, string>) {
      earlyCallback = status;
    },
    signed: sign,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
