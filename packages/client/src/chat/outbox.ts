import type { ChatMessage, ContentType, SendMessageInput } from '@streampod/protocol';
import { jitteredBackoff, type BackoffOptions } from '../runtime/backoff.js';
import { isFinal, toError } from '../runtime/errors.js';
import type { PendingMessage } from './types.js';

/** How a message is sent, beyond its text. */
export interface SendOptions {
  /** @default 'text' */
  messageType?: ContentType;
  replyToMessageId?: number;
  mediaUrl?: string;
  /** Your own id, e.g. from an outbox kept across restarts. @default a random UUID */
  clientMessageId?: string;
}

/** How hard a send tries before its message is marked failed. */
export interface SendRetryOptions {
  /** Attempts in all, the first included. @default 4 */
  attempts?: number;
  /** Delays between attempts. @default { initialDelayMs: 500, maxDelayMs: 5_000 } */
  backoff?: BackoffOptions;
}

interface Entry {
  pending: PendingMessage;
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  waiters: ((message: ChatMessage | undefined) => void)[];
}

function newClientMessageId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (crypto?.randomUUID !== undefined) return crypto.randomUUID();
  // Old runtimes without crypto.randomUUID: unique enough per sender, which is all the server needs.
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A room's messages on their way: each is pending (shown at once) until its stored copy
 * arrives, from the call's answer or from the stream, whichever comes first. Failed calls
 * are retried with the same `clientMessageId`, so a call that reached the server but whose
 * answer was lost stores nothing twice.
 */
export class Outbox {
  readonly #entries = new Map<string, Entry>();
  readonly #roomId: number;
  readonly #call: (input: SendMessageInput) => Promise<ChatMessage>;
  readonly #onStored: (message: ChatMessage) => void;
  readonly #onChange: () => void;
  readonly #attempts: number;
  readonly #delay: (attempt: number) => number;
  #pending: readonly PendingMessage[] = Object.freeze([]);
  #disposed = false;

  constructor(opts: {
    roomId: number;
    call: (input: SendMessageInput) => Promise<ChatMessage>;
    /** A stored message came back from a call; the owner shows it and calls `settle`. */
    onStored: (message: ChatMessage) => void;
    onChange: () => void;
    retry?: SendRetryOptions;
  }) {
    this.#roomId = opts.roomId;
    this.#call = opts.call;
    this.#onStored = opts.onStored;
    this.#onChange = opts.onChange;
    this.#attempts = Math.max(1, opts.retry?.attempts ?? 4);
    this.#delay = jitteredBackoff(opts.retry?.backoff ?? { initialDelayMs: 500, maxDelayMs: 5_000 });
  }

  /** Unconfirmed messages in send order; the same array until one is added, changes or goes. */
  get pending(): readonly PendingMessage[] {
    return this.#pending;
  }

  /** Adds a pending message and sends it; resolves with the stored message, or `undefined` once it failed. */
  send(content: string, opts: SendOptions = {}): Promise<ChatMessage | undefined> {
    const clientMessageId = opts.clientMessageId ?? newClientMessageId();
    const existing = this.#entries.get(clientMessageId);
    if (existing !== undefined) return this.#wait(existing);
    const pending: PendingMessage = Object.freeze({
      clientMessageId,
      content,
      messageType: opts.messageType ?? 'text',
      ...(opts.replyToMessageId === undefined ? {} : { replyToMessageId: opts.replyToMessageId }),
      ...(opts.mediaUrl === undefined ? {} : { mediaUrl: opts.mediaUrl }),
      status: 'sending',
      error: null,
      createdAt: new Date(),
    });
    const entry: Entry = { pending, attempts: 0, timer: undefined, waiters: [] };
    this.#entries.set(clientMessageId, entry);
    const done = this.#wait(entry);
    this.#changed();
    this.#attempt(entry);
    return done;
  }

  /** Sends a failed message again (same `clientMessageId`); joins the attempts of one still sending. */
  retry(clientMessageId: string): Promise<ChatMessage | undefined> {
    const entry = this.#entries.get(clientMessageId);
    if (entry === undefined) return Promise.resolve(undefined);
    const done = this.#wait(entry);
    if (entry.pending.status === 'failed') {
      entry.attempts = 0;
      this.#update(entry, { status: 'sending', error: null });
      this.#attempt(entry);
    }
    return done;
  }

  /** The stored copy of a message arrived: its pending entry goes. False when none was pending. */
  settle(message: ChatMessage): boolean {
    const entry = this.#entries.get(message.clientMessageId);
    if (entry === undefined) return false;
    clearTimeout(entry.timer);
    this.#entries.delete(message.clientMessageId);
    this.#changed();
    for (const resolve of entry.waiters.splice(0)) resolve(message);
    return true;
  }

  /** Stops retrying; promises still waiting resolve with `undefined`. */
  dispose(): void {
    this.#disposed = true;
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.timer);
      for (const resolve of entry.waiters.splice(0)) resolve(undefined);
    }
  }

  #wait(entry: Entry): Promise<ChatMessage | undefined> {
    return new Promise((resolve) => entry.waiters.push(resolve));
  }

  #attempt(entry: Entry): void {
    entry.attempts++;
    entry.timer = undefined;
    const { pending } = entry;
    const input: SendMessageInput = {
      roomId: this.#roomId,
      content: pending.content,
      clientMessageId: pending.clientMessageId,
      messageType: pending.messageType,
      ...(pending.replyToMessageId === undefined ? {} : { replyToMessageId: pending.replyToMessageId }),
      ...(pending.mediaUrl === undefined ? {} : { mediaUrl: pending.mediaUrl }),
    };
    this.#call(input).then(
      (message) => {
        if (!this.#disposed) this.#onStored(message);
      },
      (reason: unknown) => {
        // Settled meanwhile (the stream brought it) or disposed: nothing left to do.
        if (this.#disposed || this.#entries.get(pending.clientMessageId) !== entry) return;
        const error = toError(reason);
        if (isFinal(error) || entry.attempts >= this.#attempts) {
          this.#update(entry, { status: 'failed', error });
          for (const resolve of entry.waiters.splice(0)) resolve(undefined);
          return;
        }
        this.#update(entry, { status: 'sending', error });
        entry.timer = setTimeout(() => this.#attempt(entry), this.#delay(entry.attempts - 1));
      },
    );
  }

  #update(entry: Entry, patch: Pick<PendingMessage, 'status' | 'error'>): void {
    entry.pending = Object.freeze({ ...entry.pending, ...patch });
    this.#changed();
  }

  #changed(): void {
    this.#pending = Object.freeze([...this.#entries.values()].map((e) => e.pending));
    this.#onChange();
  }
}
