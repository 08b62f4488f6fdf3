/** A user started or stopped typing in a room. */
export interface TypingChange {
  readonly roomId: number;
  readonly userId: number;
  readonly isTyping: boolean;
}

export interface TypingServiceOptions {
  /**
   * Typing ends by itself this long after the last `isTyping: true`.
   * @default 5_000
   */
  timeoutMs?: number;
  /** Called on every start and every end, never on a refresh. */
  onChange: (change: TypingChange) => void;
}

/**
 * Who is typing where. It reports transitions only: a start when a user begins (not on every
 * keystroke), an end after the timeout, on `isTyping: false`, when the user sends a message
 * in the room, or when their last connection closes. A user typing on several devices is
 * one typer.
 */
export class TypingService {
  readonly #timeoutMs: number;
  readonly #onChange: (change: TypingChange) => void;
  /** roomId → userId → the timer that ends the typing. */
  readonly #rooms = new Map<number, Map<number, NodeJS.Timeout>>();

  constructor(opts: TypingServiceOptions) {
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    this.#onChange = opts.onChange;
  }

  /** Applies a client's typing message: starts or refreshes (`true`), or ends (`false`). */
  set(change: TypingChange): void {
    if (!change.isTyping) {
      this.#end(change.roomId, change.userId);
      return;
    }
    let typers = this.#rooms.get(change.roomId);
    if (typers === undefined) {
      typers = new Map<number, NodeJS.Timeout>();
      this.#rooms.set(change.roomId, typers);
    }
    const running = typers.get(change.userId);
    if (running !== undefined) {
      running.refresh(); // still typing: push the end back, say nothing
      return;
    }
    const timer = setTimeout(() => this.#end(change.roomId, change.userId), this.#timeoutMs);
    timer.unref();
    typers.set(change.userId, timer);
    this.#onChange({ roomId: change.roomId, userId: change.userId, isTyping: true });
  }

  /** Ends the user's typing in `roomId` (they sent a message there), or everywhere (they left). */
  stop(userId: number, roomId?: number): void {
    if (roomId !== undefined) {
      this.#end(roomId, userId);
      return;
    }
    for (const [id, typers] of [...this.#rooms]) if (typers.has(userId)) this.#end(id, userId);
  }

  /** Who is typing in a room now. */
  typers(roomId: number): number[] {
    return [...(this.#rooms.get(roomId)?.keys() ?? [])];
  }

  close(): void {
    for (const typers of this.#rooms.values()) for (const timer of typers.values()) clearTimeout(timer);
    this.#rooms.clear();
  }

  #end(roomId: number, userId: number): void {
    const typers = this.#rooms.get(roomId);
    const timer = typers?.get(userId);
    if (typers === undefined || timer === undefined) return;
    clearTimeout(timer);
    typers.delete(userId);
    if (typers.size === 0) this.#rooms.delete(roomId);
    this.#onChange({ roomId, userId, isTyping: false });
  }
}
