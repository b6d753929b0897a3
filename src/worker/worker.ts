import { setTimeout as sleep } from 'node:timers/promises';
import type { AppContext } from '../context.ts';
import { answerOverdueReplies, DEFAULT_ANSWER_BATCH } from '../modules/replies/service.ts';
import { DEFAULT_DELIVERY_BATCH, deliverOnce, releaseChannels } from './delivery.ts';
import { DEFAULT_COMPOSE_BATCH, DEFAULT_DISPATCH_BATCH, runDispatcherOnce, type DispatchOptions } from './dispatcher.ts';

export interface Worker {
  stop(): Promise<void>;
}

export interface WorkerOptions extends DispatchOptions {
  deliveryBatchSize?: number;
  /**
   * concurrent dispatch loops in this process (default 3): each delivers its own batch, so
   * most of a loop's time is spent waiting on providers
   */
  dispatchLoops?: number;
  /** concurrent delivery loops in this process (default 2): manual sends, retries, takeovers */
  deliveryLoops?: number;
}

/**
 * The worker role: dispatch loops, which deliver the touches they write themselves, delivery
 * loops for the rest of the outbox (several of each, since a batch spends most of its time
 * waiting on the database or a provider; SKIP LOCKED keeps them apart), and one loop that
 * answers replies whose answer is overdue (the process that took them died first). Each
 * runs batches back to back while they come back full and sleeps `config.workerPollMs` when
 * caught up; `stop()` wakes them, lets the batches in flight commit, and resolves when all
 * have ended.
 */
export function startWorker(ctx: AppContext, options: WorkerOptions = {}): Worker {
  const stopping = new AbortController();
  const loop = async (name: string, batch: () => Promise<number>, batchSize: number) => {
    while (!stopping.signal.aborted) {
      let handled = 0;
      try {
        handled = await batch();
      } catch (error) {
        ctx.log.error({ err: error, loop: name }, 'worker batch failed');
      }
      if (handled < batchSize) await sleep(ctx.config.workerPollMs, undefined, { signal: stopping.signal }).catch(() => {});
    }
  };
  const dispatchBatch = options.batchSize ?? (options.composer ? DEFAULT_COMPOSE_BATCH : DEFAULT_DISPATCH_BATCH);
  const deliveryBatch = options.deliveryBatchSize ?? DEFAULT_DELIVERY_BATCH;
  const loops = Promise.all([
    ...Array.from({ length: options.dispatchLoops ?? 3 }, () =>
      loop('dispatch', () => runDispatcherOnce(ctx, { deliverInline: true, ...options, batchSize: dispatchBatch }), dispatchBatch),
    ),
    ...Array.from({ length: options.deliveryLoops ?? 2 }, () => loop('delivery', () => deliverOnce(ctx, { batchSize: deliveryBatch }), deliveryBatch)),
    loop('reply answers', () => answerOverdueReplies(ctx, DEFAULT_ANSWER_BATCH), DEFAULT_ANSWER_BATCH),
  ]);
  return {
    async stop() {
      stopping.abort();
      await loops;
      await releaseChannels(ctx);
    },
  };
}
