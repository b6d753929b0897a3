import type { FastifyBaseLogger } from 'fastify';
import type { ChannelProvider } from './provider.ts';

/** The zero-configuration default: records the message as delivered and logs it. */
export function logProvider(log: FastifyBaseLogger): ChannelProvider {
  return {
    name: 'log',
    async send(delivery) {
      log.info({ messageId: delivery.messageId, channel: delivery.channel, to: delivery.to, idempotencyKey: delivery.idempotencyKey }, 'message delivered (log channel)');
      return { provider: 'log', providerMessageId: `log-${delivery.messageId}`, status: 'delivered' };
    },
  };
}
