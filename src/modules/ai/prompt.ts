/**
 * What the composer sends to the model, as pure functions: the process's instructions, the
 * lead's fields, the conversation so far and the task at hand.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One turn of the conversation with the lead: `lead` wrote it, `agent` (us) sent it. */
export interface ConversationTurn {
  from: 'lead' | 'agent';
  content: string;
}

export type ComposeTask =
  | { kind: 'first_touch'; channel?: string }
  | { kind: 'follow_up'; step: number; strategy?: string; channel?: string }
  | { kind: 'reply'; message: string; channel?: string };

/** The lead as the model sees it: named fields plus the custom ones. */
export interface LeadFacts {
  firstName?: string | null;
  lastName?: string | null;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  source?: string | null;
  customFields?: Record<string, unknown>;
}

const GUARDRAILS =
  'You write one message to a sales lead on behalf of the business. Answer with the message text only: ' +
  'no subject line, no placeholders, no notes to the operator. Keep it short and natural.';

export function describeLead(lead: LeadFacts): string {
  const lines: string[] = [];
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || value === '') return;
    lines.push(`- ${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  };
  add('First name', lead.firstName);
  add('Last name', lead.lastName);
  if (!lead.firstName && !lead.lastName) add('Name', lead.name);
  add('Email', lead.email);
  add('Phone', lead.phone);
  add('Source', lead.source);
  for (const [key, value] of Object.entries(lead.customFields ?? {})) add(key, value);
  return lines.length > 0 ? lines.join('\n') : '- (nothing known yet)';
}

export function describeTask(task: ComposeTask): string {
  const channel = task.channel ? ` It will be sent by ${task.channel}.` : '';
  switch (task.kind) {
    case 'first_touch':
      return `Write the first message to this lead, who has just come in.${channel}`;
    case 'follow_up':
      return (
        `The lead has not answered yet. Write follow-up message number ${task.step}.${channel}` +
        (task.strategy ? ` Strategy for this follow-up: ${task.strategy}` : '')
      );
    case 'reply':
      return `Reply to the lead's last message.${channel}`;
  }
}

export function buildChatMessages(input: {
  instructions: string;
  lead: LeadFacts;
  conversation: ConversationTurn[];
  task: ComposeTask;
}): ChatMessage[] {
  const system = [
    GUARDRAILS,
    input.instructions.trim() ? `Process instructions:\n${input.instructions.trim()}` : '',
    `About the lead:\n${describeLead(input.lead)}`,
    `Task: ${describeTask(input.task)}`,
  ]
    .filter(Boolean)
    .join('\n\n');
  const messages: ChatMessage[] = [{ role: 'system', content: system }];
  for (const turn of input.conversation) {
    messages.push({ role: turn.from === 'lead' ? 'user' : 'assistant', content: turn.content });
  }
  // Chat models answer the last user turn: the inbound message itself, or the task restated.
  messages.push({ role: 'user', content: input.task.kind === 'reply' ? input.task.message : describeTask(input.task) });
  return messages;
}
