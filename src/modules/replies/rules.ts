import { isId } from '../../lib/ids.ts';

/**
 * The address an outbound email asks to be answered at: the message's id and its tag (so
 * nobody can forge a reply to another lead's message) at the domain whose mail reaches the
 * inbound SMTP listener.
 */
export function replyAddress(messageId: string, tag: string, domain: string): string {
  return `reply+${messageId}.${tag}@${domain}`;
}

const REPLY_ADDRESS = /^reply\+([0-9a-f]{24})\.([0-9a-f]{16})@(.+)$/i;

/** The message id and tag of a reply address at `domain` (any case), else undefined. */
export function parseReplyAddress(address: string, domain: string): { messageId: string; tag: string } | undefined {
  const match = REPLY_ADDRESS.exec(address.trim());
  if (!match || match[3].toLowerCase() !== domain.toLowerCase()) return undefined;
  const messageId = match[1].toLowerCase();
  return isId(messageId) ? { messageId, tag: match[2].toLowerCase() } : undefined;
}

// Where a mail client starts quoting the message being answered.
const QUOTE_STARTS = [/^>/, /^On .+ wrote:\s*$/, /^-{2,}\s*Original Message\s*-{2,}$/i, /^From: .+$/, /^_{5,}$/];

/** What the lead wrote: the reply's text above the quoted message it answers. */
export function replyText(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const end = lines.findIndex((line) => QUOTE_STARTS.some((pattern) => pattern.test(line.trim())));
  return (end === -1 ? lines : lines.slice(0, end)).join('\n').trim();
}
