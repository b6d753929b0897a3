/**
 * The dispatch benchmark's carrier: Twilio's Messages.json and Calls.json answered straight
 * from the socket. The real carrier runs on other machines; here it shares the two cores
 * with the workers and PostgreSQL, so it is kept as cheap as an HTTP server can be: node:http
 * (the tests' fake carrier, test/support/fake-twilio.ts) costs ~95 µs of CPU per request,
 * this ~35 µs. It frames HTTP/1.1 requests by Content-Length (what the worker's client
 * sends), checks the path and basic auth but not the form body, and like Twilio answers a
 * repeated I-Twilio-Idempotency-Token with the first message instead of creating another.
 */
import { createServer, type Socket } from 'node:net';

export interface CarrierSink {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  /** distinct messages and calls created */
  readonly created: number;
  close(): Promise<void>;
}

const HEADER_END = Buffer.from('\r\n\r\n');

function response(status: string, payload: unknown, close = false): string {
  const body = JSON.stringify(payload);
  return `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${close ? 'connection: close\r\n' : ''}\r\n${body}`;
}

export async function startCarrierSink(): Promise<CarrierSink> {
  const accountSid = 'AC' + 'b'.repeat(32);
  const authToken = 'bench-auth-token';
  const expectedCredentials = Buffer.from(`${accountSid}:${authToken}`).toString('base64');
  const resourcePath = new RegExp(`^POST /2010-04-01/Accounts/${accountSid}/(Messages|Calls)\\.json HTTP/1\\.1$`);
  const sidByToken = new Map<string, string>();
  let created = 0;
  const sockets = new Set<Socket>();

  // The answer to one request, from its status line and headers.
  const answer = (head: string): string => {
    const lines = head.split('\r\n');
    const resource = resourcePath.exec(lines[0]);
    if (!resource) return response('404 Not Found', { code: 20404, message: 'not found' });
    let authorization = '';
    let token = '';
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      const name = lines[i].slice(0, colon).toLowerCase();
      if (name === 'authorization') authorization = lines[i].slice(colon + 1).trim();
      else if (name === 'i-twilio-idempotency-token') token = lines[i].slice(colon + 1).trim();
    }
    // the scheme is case-insensitive, the base64 credentials are not
    const [scheme, credentials] = authorization.split(/\s+/);
    if (scheme?.toLowerCase() !== 'basic' || credentials !== expectedCredentials) return response('401 Unauthorized', { code: 20003, message: 'Authenticate' });
    let sid = token ? sidByToken.get(token) : undefined;
    if (!sid) {
      created += 1;
      sid = `${resource[1] === 'Calls' ? 'CA' : 'SM'}${String(created).padStart(32, '0')}`;
      if (token) sidByToken.set(token, sid);
    }
    return response('201 Created', { sid, status: 'queued' });
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let answers = '';
      for (;;) {
        const headerEnd = pending.indexOf(HEADER_END);
        if (headerEnd < 0) break;
        const head = pending.toString('latin1', 0, headerEnd);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!length || /\r\ntransfer-encoding:/i.test(head)) {
          socket.end(answers + response('411 Length Required', { code: 20400, message: 'send a Content-Length' }, true));
          return;
        }
        const requestEnd = headerEnd + HEADER_END.length + Number(length[1]);
        if (pending.length < requestEnd) break;
        answers += answer(head);
        pending = pending.subarray(requestEnd);
      }
      if (answers) socket.write(answers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    from: '+15550001111',
    get created() {
      return created;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
