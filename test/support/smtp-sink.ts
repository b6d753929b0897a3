import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SmtpSink {
  url: string;
  received: ParsedMail[];
  /** SMTP connections opened to it so far */
  connections(): number;
  /** RCPT TO commands seen, refused ones included: one per delivery attempt */
  recipientsTried(): number;
  /**
   * Refuses the next recipient with this reply (a full mailbox, 452; a mailbox that does not
   * exist, 550), then accepts again; queued refusals answer one recipient each. Refusing at
   * RCPT is where a real server says both.
   */
  refuseNext(code: number, text: string): void;
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 (random port) that keeps every message it is given. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ParsedMail[] = [];
  const refusals: { code: number; text: string }[] = [];
  let connections = 0;
  let tried = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onRcptTo(_address, _session, callback) {
      tried += 1;
      const refusal = refusals.shift();
      if (refusal) return callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    connections: () => connections,
    recipientsTried: () => tried,
    refuseNext: (code, text) => refusals.push({ code, text }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
