interface Pending<I, O> {
  input: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export interface BatchOptions<I> {
  /** statements running at once; inputs arriving meanwhile wait and go together */
  maxInFlight: number;
  maxBatch: number;
  /** whether `candidate` may join a batch that already holds `batch` (default: any may) */
  joins?(batch: I[], candidate: I): boolean;
}

/**
 * Group commit for statements that many requests send at once: an input goes out at once
 * while fewer than `maxInFlight` batches are running, and otherwise waits and goes out with
 * the inputs that queued behind it, in one call of `run` (which answers one output per
 * input, in order). Under load most of a small statement's database cost is per statement
 * and per commit, so sharing them is most of the gain; alone, an input waits for nothing.
 * If a batch fails, each of its inputs runs alone, so one input's error is that input's only.
 */
export class Batcher<I, O> {
  readonly #queue: Pending<I, O>[] = [];
  #inFlight = 0;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly options: BatchOptions<I>,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.options.maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#inFlight += 1;
      void this.#send(batch).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
      });
    }
  }

  /** The oldest input and, in order, the queued inputs that may join it. */
  #take(): Pending<I, O>[] {
    const batch = [this.#queue.shift()!];
    const inputs = [batch[0].input];
    for (let i = 0; i < this.#queue.length && batch.length < this.options.maxBatch; ) {
      if (this.options.joins?.(inputs, this.#queue[i].input) ?? true) {
        const [joined] = this.#queue.splice(i, 1);
        batch.push(joined);
        inputs.push(joined.input);
      } else {
        i += 1;
      }
    }
    return batch;
  }

  async #send(batch: Pending<I, O>[]): Promise<void> {
    try {
      const outputs = await this.run(batch.map((pending) => pending.input));
      batch.forEach((pending, i) => pending.resolve(outputs[i]));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      await Promise.all(
        batch.map(async (pending) => {
          try {
            pending.resolve((await this.run([pending.input]))[0]);
          } catch (alone) {
            pending.reject(alone);
          }
        }),
      );
    }
  }
}
