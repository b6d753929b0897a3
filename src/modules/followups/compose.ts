import { renderTemplate, type TemplateLead } from '../../lib/template.ts';
import type { FollowUpStep } from './schedule.ts';

export interface ComposeInput {
  lead: TemplateLead & { id: string; organization_id: string };
  step: number;
  touch: FollowUpStep;
  strategy: { id: string; name: string; instructions: string } | null;
}

export interface ComposedMessage {
  content: string;
  subject?: string;
}

/**
 * The seam where message text is written. The default renders the step's template (or a
 * plain one per channel); an AI composer (intake/AI module) plugs in with the same shape.
 */
export type FollowUpComposer = (input: ComposeInput) => ComposedMessage | Promise<ComposedMessage>;

const DEFAULT_TEMPLATES: Record<FollowUpStep['channel'], string> = {
  text: 'Hi {{firstName}}, just following up. Is now a good time to talk?',
  call: 'Hi {{firstName}}, this is a quick follow-up call. Please call us back when you have a moment.',
  email: 'Hi {{firstName}},\n\nJust following up on our last conversation. Let me know when would be a good time to talk.',
};

export const templateComposer: FollowUpComposer = ({ lead, touch }) => ({
  content: renderTemplate(touch.template ?? DEFAULT_TEMPLATES[touch.channel], lead),
  subject: touch.channel === 'email' ? 'Following up' : undefined,
});

export function composeFollowUp(input: ComposeInput, composer: FollowUpComposer = templateComposer): Promise<ComposedMessage> {
  return Promise.resolve(composer(input));
}
