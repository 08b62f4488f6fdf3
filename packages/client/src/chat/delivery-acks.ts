/**
 * Throttled `markDelivered` for one room: leading and trailing, so the first message is
 * acknowledged at once and a burst once more at its end, never more than once per
 * `throttleMs`. Only the newest message is sent: delivery is "up to and including".
 */
export class DeliveryAcks {
  readonly #throttleMs: number;
  readonly #target: () => number | undefined;
  readonly #send: (messageId: number) => Promise<void>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastAt = 0;
  #sent = 0;
  #disposed = false;

  constructor(opts: {
    throttleMs: number;
    /** The id to acknowledge now (the newest message of others), or undefined if none or not known yet. */
    target: () => number | undefined;
    send: (messageId: number) => Promise<void>;
  }) {
    this.#throttleMs = opts.throttleMs;
    this.#target = opts.target;
    this.#send = opts.send;
  }

  /** The highest id acknowledged (or being acknowledged) from here. */
  get sent(): number {
    return this.#sent;
  }

  /** Something arrived: acknowledge the newest message soon. */
  schedule(): void {
    if (this.#disposed || this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastAt + this.#throttleMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#ack();
    }, wait);
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
  }

  #ack(): void {
    const target = this.#target();
    if (this.#disposed || target === undefined || target <= this.#sent) return;
    const before = this.#sent;
    this.#sent = target;
    this.#lastAt = Date.now();
    this.#send(target).catch(() => {
      // Not recorded: the next arrival acknowledges again, this one included.
      if (this.#sent === target) this.#sent = before;
    });
  }
}
