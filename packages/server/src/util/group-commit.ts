/**
 * Group commit: one write carries many items. While `maxInFlight` writes are running, new
 * items wait and go together in the next (at most `maxBatch` in one), so under load a
 * statement carries many items, and an item that finds a free slot goes at once, alone.
 * A write that fails for a batch is tried again item by item, so one bad item fails alone.
 */
interface Waiting<TIn, TOut> {
  readonly item: TIn;
  readonly resolve: (out: TOut) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<TIn, TOut> {
  readonly #write: (items: TIn[]) => Promise<TOut[]>;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  #queue: Waiting<TIn, TOut>[] = [];
  #inFlight = 0;

  constructor(opts: { write: (items: TIn[]) => Promise<TOut[]>; maxInFlight: number; maxBatch: number }) {
    this.#write = opts.write;
    this.#maxInFlight = Math.max(1, opts.maxInFlight);
    this.#maxBatch = Math.max(1, opts.maxBatch);
  }

  /** Writes `item` with whatever else is waiting; resolves with its own result. */
  submit(item: TIn): Promise<TOut> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#run(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #run(batch: Waiting<TIn, TOut>[]): Promise<void> {
    try {
      const results = await this.#write(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const b of batch) {
        try {
          b.resolve((await this.#write([b.item]))[0]!);
        } catch (own) {
          b.reject(own);
        }
      }
    }
  }
}
