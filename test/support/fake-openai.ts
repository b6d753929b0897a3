import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake does with one chat-completions request. */
export type FakeBehavior =
  | { answer: string }
  | { fail: number }
  /** never answers: the client's timeout must fire */
  | { hang: true };

export interface FakeOpenAI {
  /** base URL for OPENAI_BASE_URL, ending in /v1 */
  baseUrl: string;
  /** every request body received, in order */
  requests: Array<{ model: string; messages: Array<{ role: string; content: string }> }>;
  /** each request's Authorization header, in the same order (undefined: none was sent) */
  authorizations: Array<string | undefined>;
  /** behaviors for the next requests, in order; when empty, `fallbackBehavior` answers */
  script(...behaviors: FakeBehavior[]): void;
  fallbackBehavior: FakeBehavior;
  close(): Promise<void>;
}

/** A real OpenAI-compatible server on 127.0.0.1 answering POST /v1/chat/completions. */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const queue: FakeBehavior[] = [];
  const hanging = new Set<ServerResponse>();
  const fake: FakeOpenAI = {
    baseUrl: '',
    requests: [],
    authorizations: [],
    script: (...behaviors) => queue.push(...behaviors),
    fallbackBehavior: { answer: 'Hello from the model' },
    close: async () => {
      for (const response of hanging) response.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  };

  const server = createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = await readBody(request);
    fake.requests.push(body);
    fake.authorizations.push(request.headers.authorization);
    const behavior = queue.shift() ?? fake.fallbackBehavior;
    if ('hang' in behavior) {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return;
    }
    if ('fail' in behavior) {
      response
        .writeHead(behavior.fail, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `scripted failure ${behavior.fail}`, type: 'server_error' } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        id: `chatcmpl-${fake.requests.length}`,
        object: 'chat.completion',
        created: 1_780_000_000,
        model: body.model,
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: behavior.answer } }],
        usage: { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return fake;
}
