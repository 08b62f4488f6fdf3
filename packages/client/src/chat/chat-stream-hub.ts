import type { ChatStreamMessage } from '@streampod/protocol';
import { Retrier } from '../runtime/errors.js';
import { RefCount } from '../runtime/shared.js';
import type { ChatClient } from './types.js';

/** What a room hears from the shared stream. */
export interface RoomStreamListener {
  /** An event of this room, in stream order. */
  onEvent(event: ChatStreamMessage): void;
  /**
   * Load the room's history (again): the stream started without resuming (the first time,
   * or after it had to start over), or it skipped missed messages (`gapBefore`).
   */
  onResync(): void;
  /** The stream was refused for good (e.g. UNAUTHORIZED); nothing more comes. */
  onError?(error: Error): void;
}

/**
 * One `chat.stream` per client, shared by every room view and typing notifier: the server
 * sends each user's events of all rooms on one stream, so one per room would only repeat
 * them. Opened by the first user, closed a microtask after the last one leaves (React
 * StrictMode leaves and comes back at once). It follows reconnects by itself and resumes
 * after the last event it saw; a stream the server ended or failed is opened again.
 */
export class ChatStreamHub {
  readonly #client: ChatClient;
  readonly #rooms = new Map<number, Set<RoomStreamListener>>();
  readonly #sendListeners = new Map<number, Set<() => void>>();
  readonly #everyEvent = new Set<(event: ChatStreamMessage) => void>();
  readonly #refs = new RefCount(
    () => {
      if (!this.#started && this.#stop === undefined && !this.#retrier.pending) this.#open();
    },
    () => this.#close(),
  );
  readonly #retrier = new Retrier();
  #stop: (() => void) | undefined;
  #cursor: string | undefined;
  /** A resume replays messages after the last one seen; before any, there is nothing to resume from. */
  #sawMessage = false;
  #started = false;
  #error: Error | null = null;
  #me: Promise<number> | undefined;
  #opened = 0;

  constructor(client: ChatClient) {
    this.#client = client;
  }

  /** The stream is open on the server (it may be resuming after a reconnect). */
  get isOpen(): boolean {
    return this.#started;
  }

  /** `chat.stream` subscriptions opened so far (a reopen after a failure counts; a reconnect does not). */
  get streamsOpened(): number {
    return this.#opened;
  }

  /**
   * Follows `roomId`. If the stream is already open, `onResync` runs at once (load the
   * history); otherwise when it opens. Returns the function that stops following.
   */
  listen(roomId: number, listener: RoomStreamListener): () => void {
    let listeners = this.#rooms.get(roomId);
    if (listeners === undefined) this.#rooms.set(roomId, (listeners = new Set()));
    listeners.add(listener);
    const release = this.retain();
    if (this.#started) listener.onResync();
    else if (this.#error !== null) listener.onError?.(this.#error);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#rooms.get(roomId) === listeners) this.#rooms.delete(roomId);
      release();
    };
  }

  /**
   * Hears every event of every room, rooms not followed yet included (a room list learns of
   * a room it was added to from its first message). Returns the function that stops it.
   */
  listenAll(listener: (event: ChatStreamMessage) => void): () => void {
    const entry = (event: ChatStreamMessage) => listener(event);
    this.#everyEvent.add(entry);
    const release = this.retain();
    return () => {
      this.#everyEvent.delete(entry);
      release();
    };
  }

  /** Keeps the stream open without following a room (typing needs an open stream). */
  retain(): () => void {
    return this.#refs.acquire();
  }

  /** The signed-in user's id, asked once per client. */
  me(): Promise<number> {
    this.#me ??= this.#client.users.me().then(
      (user) => user.id,
      (error: unknown) => {
        this.#me = undefined; // ask again next time
        throw error;
      },
    );
    return this.#me;
  }

  /** A message of ours is on its way to `roomId` (the server ends our typing there). */
  announceSend(roomId: number): void {
    for (const listener of [...(this.#sendListeners.get(roomId) ?? [])]) listener();
  }

  /** Calls `listener` whenever a message of ours is sent to `roomId` from this client. */
  onSend(roomId: number, listener: () => void): () => void {
    let listeners = this.#sendListeners.get(roomId);
    if (listeners === undefined) this.#sendListeners.set(roomId, (listeners = new Set()));
    const entry = () => listener();
    listeners.add(entry);
    return () => listeners.delete(entry);
  }

  #open(): void {
    this.#error = null;
    this.#opened++;
    const subscription = this.#client.chat.stream(
      this.#cursor === undefined ? undefined : { lastEventId: this.#cursor },
    );
    let ended = false;
    const stop = subscription.listen({
      onStarted: () => {
        this.#retrier.succeeded();
        this.#started = true;
        if (!this.#sawMessage) this.#everyRoom((l) => l.onResync());
      },
      onData: (event) => {
        this.#cursor = subscription.lastEventId;
        this.#dispatch(event);
      },
      onError: (error) => {
        ended = true;
        this.#ended(error);
      },
      // The server ends a stream only when it goes away (a restart): open it again.
      onComplete: () => {
        ended = true;
        this.#ended(new Error('chat.stream: the server ended the stream'));
      },
    });
    if (!ended) this.#stop = stop;
  }

  #dispatch(event: ChatStreamMessage): void {
    if (event.type === 'message') this.#sawMessage = true;
    for (const listener of [...(this.#rooms.get(event.conversationId) ?? [])]) listener.onEvent(event);
    for (const listener of [...this.#everyEvent]) listener(event);
    // Missed messages were skipped, of any room: every room reloads its latest page.
    if (event.type === 'message' && event.gapBefore === true) this.#everyRoom((l) => l.onResync());
  }

  /** The stream failed or the server ended it: open it again after a backoff, unless that cannot help. */
  #ended(error: Error): void {
    this.#stop = undefined;
    this.#started = false;
    if (this.#refs.count === 0) return;
    const retrying = this.#retrier.retry(error, () => {
      if (this.#refs.count > 0) this.#open();
    });
    if (retrying) return;
    this.#error = error;
    this.#everyRoom((l) => l.onError?.(error));
  }

  #close(): void {
    this.#retrier.cancel();
    this.#stop?.();
    this.#stop = undefined;
    this.#started = false;
    // Reopened later, it starts fresh: replaying everything since would cost more than a page of history.
    this.#cursor = undefined;
    this.#sawMessage = false;
    this.#retrier.succeeded();
  }

  #everyRoom(call: (listener: RoomStreamListener) => void): void {
    for (const listeners of [...this.#rooms.values()]) for (const listener of [...listeners]) call(listener);
  }
}

const hubs = new WeakMap<ChatClient, ChatStreamHub>();

/** The client's shared chat stream hub (one per client object, made on first use). */
export function getChatStreamHub(client: ChatClient): ChatStreamHub {
  let hub = hubs.get(client);
  if (hub === undefined) hubs.set(client, (hub = new ChatStreamHub(client)));
  return hub;
}
