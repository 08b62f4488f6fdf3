import type { Logger } from '@streampod/framework';
import type { ChatStreamMessage } from '@streampod/protocol';
import type { TypingExpiry } from './typing-store.js';

/** What travels on a room's bus topic. */
export interface RoomEvent {
  readonly event: ChatStreamMessage;
  /** On `message` events: the message's place in its room. */
  readonly seq?: number;
  /** Not delivered to this user's streams (their own typing, their own presence). */
  readonly exceptUserId?: number;
  /** On `typing` events: the store's version of this start or end, and how long a start lasts. */
  readonly typing?: { readonly version: number; readonly ttlMs: number };
  /** On `presence` events: the presence store's version of the change (nodes may publish out of order). */
  readonly presenceVersion?: number;
}

/** What a channel needs from outside: the database, the typing store, and the streams to hand events to. */
export interface RoomChannelDeps {
  readonly log: Logger;
  /** A room's stored messages with `afterSeq < seq ≤ uptoSeq`, as room events, in order. */
  range(input: { roomId: number; afterSeq: number; uptoSeq?: number; limit: number }): Promise<RoomEvent[]>;
  /** A typing start that should have run out by now. */
  typingTimedOut(roomId: number, userId: number): Promise<TypingExpiry>;
  /** Hands an event, in the room's order, to the streams that follow the room here. */
  deliver(roomId: number, event: RoomEvent): void;
}

/** A started or ended typing of one user, as this node last heard. */
interface Typer {
  version: number;
  typing: boolean;
  start: RoomEvent | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Rows read from the database per query when filling a gap. */
export const FILL_PAGE = 500;
/** Events a channel holds while it waits (for its start, or for a gap to be read) before it sheds what the database has. */
const MAX_QUEUED = 10_000;

/**
 * One room followed on this node: it keeps the room's order for every stream here. Messages
 * go out by `seq`, once each: one that skips ahead makes the channel read the missing range
 * from the database first; one it has passed is a copy. Typing goes by its own versions and
 * clock: every node with streams in the room watches when a typing should end.
 */
export class RoomChannel {
  readonly roomId: number;
  readonly #deps: RoomChannelDeps;
  /** The next seq to deliver (undefined until a stream's snapshot says where the room is). */
  #next: number | undefined;
  /** Events waiting, in arrival order, while the channel has not started or fills a gap. */
  #queue: RoomEvent[] = [];
  #blocked = true;
  #resyncWanted = false;
  #closed = false;
  readonly #typers = new Map<number, Typer>();
  /** The newest presence version heard per member whose status changed. */
  readonly #presence = new Map<number, number>();

  constructor(roomId: number, deps: RoomChannelDeps) {
    this.roomId = roomId;
    this.#deps = deps;
  }

  /** The next seq the channel will deliver, once started. */
  get next(): number | undefined {
    return this.#next;
  }

  /**
   * Starts the channel after `lastSeq`, where a stream's snapshot saw the room, unless it
   * has started already. Waiting events before it are dropped: every stream that needed
   * them reads them itself (see `ChatHub`).
   */
  start(lastSeq: number): void {
    if (this.#next !== undefined) return;
    this.#next = lastSeq + 1;
    this.#blocked = false;
    this.#drain();
  }

  /** An event from the bus. */
  receive(event: RoomEvent): void {
    if (this.#closed) return;
    if (event.typing !== undefined) {
      // Typing does not wait behind messages.
      if (this.#typingChanged(event)) this.#deps.deliver(this.roomId, event);
      return;
    }
    if (event.presenceVersion !== undefined) {
      const userId = event.event.senderId;
      if (event.presenceVersion <= (this.#presence.get(userId) ?? -1)) return;
      this.#presence.set(userId, event.presenceVersion);
    }
    this.#queue.push(event);
    if (this.#queue.length > MAX_QUEUED) this.#shed();
    if (!this.#blocked) this.#drain();
  }

  /** Events may have been lost (the bus was away): read what the database has beyond `next`. */
  resync(): void {
    if (this.#closed) return;
    if (this.#next === undefined || this.#blocked) {
      this.#resyncWanted = true;
      return;
    }
    this.#resyncWanted = false;
    this.#fill(undefined);
  }

  close(): void {
    this.#closed = true;
    for (const typer of this.#typers.values()) clearTimeout(typer.timer);
    this.#typers.clear();
    this.#queue = [];
  }

  /** Delivers waiting events in order until one skips ahead; then reads the gap from the database. */
  #drain(): void {
    let i = 0;
    const queue = this.#queue;
    while (i < queue.length && !this.#blocked) {
      const event = queue[i]!;
      if (event.seq === undefined) {
        i++;
        this.#deps.deliver(this.roomId, event);
        continue;
      }
      const next = this.#next!;
      if (event.seq < next) {
        i++;
        continue;
      }
      if (event.seq > next) {
        this.#fill(event.seq - 1);
        break;
      }
      i++;
      this.#next = next + 1;
      this.#deps.deliver(this.roomId, event);
    }
    // Sliced once per drain, not shifted per event: a long queue drains in linear time.
    if (i > 0) this.#queue = this.#queue === queue ? queue.slice(i) : this.#queue;
    if (!this.#blocked && this.#resyncWanted) this.resync();
  }

  /** Reads the room from the database up to `uptoSeq` (everything, when absent), delivers it, then drains. */
  #fill(uptoSeq: number | undefined, attempt = 0): void {
    this.#blocked = true;
    void (async () => {
      try {
        for (;;) {
          const afterSeq = this.#next! - 1;
          if (uptoSeq !== undefined && afterSeq >= uptoSeq) break;
          const page = await this.#deps.range({ roomId: this.roomId, afterSeq, uptoSeq, limit: FILL_PAGE });
          if (this.#closed) return;
          for (const event of page) {
            if (event.seq! < this.#next!) continue;
            this.#next = event.seq! + 1;
            this.#deps.deliver(this.roomId, event);
          }
          if (page.length < FILL_PAGE) break;
        }
        // A seq the database does not have was never used (two racing retries of one message).
        if (uptoSeq !== undefined) this.#next = Math.max(this.#next!, uptoSeq + 1);
        this.#blocked = false;
        this.#drain();
      } catch (error) {
        if (this.#closed) return;
        this.#deps.log.warn({ err: error, roomId: this.roomId }, 'chat: reading missed messages failed; retrying');
        setTimeout(() => this.#fill(uptoSeq, attempt + 1), Math.min(100 * 2 ** attempt, 5_000)).unref();
      }
    })();
  }

  /** Too much waiting: messages can be read again from the database; the oldest of the rest go. */
  #shed(): void {
    this.#queue = this.#queue.filter((e) => e.seq === undefined);
    if (this.#queue.length > MAX_QUEUED / 2) this.#queue = this.#queue.slice(-MAX_QUEUED / 2);
    this.#resyncWanted = true;
    this.#deps.log.warn({ roomId: this.roomId }, 'chat: too many events waiting; shed, to be read again');
  }

  /** Applies a typing event to what this node knows; true when the room must hear it (a start or an end). */
  #typingChanged(event: RoomEvent): boolean {
    const e = event.event;
    if (e.type !== 'typing' || event.typing === undefined) return false;
    const userId = e.senderId;
    let typer = this.#typers.get(userId);
    if (typer !== undefined && event.typing.version <= typer.version) return false;
    if (typer === undefined) {
      typer = { version: 0, typing: false, start: undefined, timer: undefined };
      this.#typers.set(userId, typer);
    }
    const was = typer.typing;
    typer.version = event.typing.version;
    typer.typing = e.isTyping;
    typer.start = e.isTyping ? event : undefined;
    clearTimeout(typer.timer);
    if (e.isTyping) {
      // Whichever node's typing store call ends it tells everyone; a node whose store lost
      // it (or cannot be asked) tells its own streams.
      const current = typer;
      typer.timer = setTimeout(() => this.#typingDue(userId, current), event.typing.ttlMs);
      typer.timer.unref();
    } else {
      this.#forgetLater(userId, typer, event.typing.ttlMs);
    }
    return was !== e.isTyping;
  }

  #typingDue(userId: number, typer: Typer): void {
    const current = () => !this.#closed && this.#typers.get(userId) === typer && typer.typing;
    this.#deps.typingTimedOut(this.roomId, userId).then(
      (expiry) => {
        if (!current()) return;
        if (expiry.state === 'typing') {
          typer.timer = setTimeout(() => this.#typingDue(userId, typer), expiry.remainingMs);
          typer.timer.unref();
        } else if (expiry.state === 'gone') {
          this.#endTypingHere(userId, typer);
        }
        // 'expired': this node ended it and published the end, which comes back by the bus.
      },
      (error: unknown) => {
        this.#deps.log.warn({ err: error, roomId: this.roomId }, 'chat: typing store unreachable; ending typing here');
        if (current()) this.#endTypingHere(userId, typer);
      },
    );
  }

  /** Ends a typing for this node's streams only. */
  #endTypingHere(userId: number, typer: Typer): void {
    const start = typer.start;
    typer.typing = false;
    typer.start = undefined;
    const ttlMs = start?.typing?.ttlMs ?? 5_000;
    this.#forgetLater(userId, typer, ttlMs);
    if (start === undefined || start.event.type !== 'typing') return;
    this.#deps.deliver(this.roomId, { ...start, event: { ...start.event, isTyping: false, timestamp: new Date() } });
  }

  /** Keeps an ended typing a while, so a start older than the end that arrives late is dropped. */
  #forgetLater(userId: number, typer: Typer, ttlMs: number): void {
    clearTimeout(typer.timer);
    typer.timer = setTimeout(() => {
      if (this.#typers.get(userId) === typer && !typer.typing) this.#typers.delete(userId);
    }, ttlMs * 2);
    typer.timer.unref();
  }
}
