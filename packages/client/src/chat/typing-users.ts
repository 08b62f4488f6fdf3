import type { ChatStreamMessage } from '@streampod/protocol';

type TypingEvent = Extract<ChatStreamMessage, { type: 'typing' }>;

interface Typer {
  readonly name: string;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Who is typing in one room, from `typing` events. The server says when typing ends, but
 * an end event can be lost (a reconnect, a server restart), so each typer also expires
 * here after `expiryMs` without a fresh start event.
 */
export class TypingUsers {
  readonly #typers = new Map<number, Typer>();
  readonly #expiryMs: number;
  readonly #onChange: () => void;
  #ids: readonly number[] = Object.freeze([]);
  #names: readonly string[] = Object.freeze([]);

  constructor(opts: { expiryMs: number; onChange: () => void }) {
    this.#expiryMs = opts.expiryMs;
    this.#onChange = opts.onChange;
  }

  /** Ids in the order they started typing; the same array until someone starts or stops. */
  get ids(): readonly number[] {
    return this.#ids;
  }

  /** Names, in the order of `ids`. */
  get names(): readonly string[] {
    return this.#names;
  }

  apply(event: TypingEvent): void {
    if (!event.isTyping) {
      this.remove(event.senderId);
      return;
    }
    const typer = this.#typers.get(event.senderId);
    const timer = setTimeout(() => this.remove(event.senderId), this.#expiryMs);
    if (typer !== undefined) {
      // Still typing: push the expiry back (no `refresh()`: browsers' timers are numbers).
      clearTimeout(typer.timer);
      typer.timer = timer;
      return;
    }
    this.#typers.set(event.senderId, { name: event.senderName, timer });
    this.#changed();
  }

  /** The user stopped typing (an end event, their message arrived, or the expiry). */
  remove(userId: number): void {
    const typer = this.#typers.get(userId);
    if (typer === undefined) return;
    clearTimeout(typer.timer);
    this.#typers.delete(userId);
    this.#changed();
  }

  dispose(): void {
    for (const typer of this.#typers.values()) clearTimeout(typer.timer);
    this.#typers.clear();
  }

  #changed(): void {
    this.#ids = Object.freeze([...this.#typers.keys()]);
    this.#names = Object.freeze([...this.#typers.values()].map((t) => t.name));
    this.#onChange();
  }
}
