import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { FollowUpChannel } from '../followups/schedule.ts';
import { logProvider } from './log.ts';
import type { ChannelProvider } from './provider.ts';
import { smtpProvider } from './smtp.ts';
import { twilioProvider } from './twilio.ts';

export type Channels = Record<FollowUpChannel, ChannelProvider>;

export const TWILIO_STATUS_PATH = '/api/webhook/twilio/status';

/**
 * Providers chosen by configuration: Twilio for text and call, SMTP for email, else the log.
 * `replyAddress` names the address an email's answer should go to (see modules/replies).
 */
export function createChannels(config: Config, log: FastifyBaseLogger, replyAddress?: (messageId: string) => string | undefined): Channels {
  const fallback = logProvider(log);
  const voice = config.twilio
    ? twilioProvider({ ...config.twilio, statusCallbackUrl: config.publicUrl ? `${config.publicUrl.replace(/\/$/, '')}${TWILIO_STATUS_PATH}` : undefined })
    : fallback;
  return { text: voice, call: voice, email: config.smtpUrl ? smtpProvider(config.smtpUrl, config.smtpFrom, replyAddress) : fallback };
}

export async function closeChannels(channels: Channels): Promise<void> {
  await Promise.all([...new Set(Object.values(channels))].map((provider) => provider.close?.()));
}
