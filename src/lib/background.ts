import type { FastifyBaseLogger } from 'fastify';

/**
 * Work a request starts but does not wait for (so a caller with a short timeout, like a
 * carrier's webhook, is answered at once), finished before shutdown: `drain` resolves when
 * nothing started is still running.
 */
export class BackgroundWork {
  readonly #running = new Set<Promise<void>>();

  constructor(private readonly log: FastifyBaseLogger) {}

  start(name: string, work: () => Promise<void>): void {
    const task: Promise<void> = work()
      .catch((error: unknown) => this.log.error({ err: error, task: name }, 'background work failed'))
      .finally(() => this.#running.delete(task));
    this.#running.add(task);
  }

  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
