import { getChatStreamHub } from './chat-stream-hub.js';
import type { ChatClient } from './types.js';

export interface TypingNotifierOptions {
  /**
   * While typing goes on, `isTyping: true` is sent at most once per this many ms: enough
   * to keep the server's typing (which ends 5 s after the last one) alive.
   * @default 2_500
   */
  throttleMs?: number;
  /** Typing ends by itself (`isTyping: false`) after this long without a keystroke. @default 4_000 */
  idleMs?: number;
}

/** Tells a room that we are typing; see `createTypingNotifier`. */
export interface TypingNotifier {
  /** Call on every keystroke; it sends only what the server needs. */
  startTyping(): void;
  /** Typing stopped (input cleared or blurred): tells the room at once, if we were typing. */
  stopTyping(): void;
  /** Stops typing and lets go of the shared stream. */
  dispose(): void;
}

/**
 * Typing notifications for one room, over the client's shared `chat.stream` (which it
 * keeps open: the server takes typing only from a connection with an open stream).
 * Sending a message from a view of this room ends typing too, as the server does.
 * Typing is best effort: a notification that fails is not retried.
 */
export function createTypingNotifier(
  client: ChatClient,
  roomId: number,
  opts: TypingNotifierOptions = {},
): TypingNotifier {
  const throttleMs = opts.throttleMs ?? 2_500;
  const idleMs = opts.idleMs ?? 4_000;
  const hub = getChatStreamHub(client);
  const release = hub.retain();
  let typing = false;
  let lastSentAt = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const send = (isTyping: boolean) => {
    client.chat.sendStreamMessage({ type: 'typing', roomId, isTyping }).catch(() => undefined);
  };
  const reset = () => {
    typing = false;
    clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  const stopTyping = () => {
    if (!typing) return;
    reset();
    send(false);
  };
  // The server ended our typing when the message landed: the next keystroke starts afresh.
  const offSend = hub.onSend(roomId, reset);

  return {
    startTyping() {
      if (disposed) return;
      const now = Date.now();
      if (!typing || now - lastSentAt >= throttleMs) {
        send(true);
        lastSentAt = now;
      }
      typing = true;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(stopTyping, idleMs);
    },
    stopTyping,
    dispose() {
      if (disposed) return;
      stopTyping();
      disposed = true;
      offSend();
      release();
    },
  };
}

/** Words around the names; each replaces its English default. */
export interface TypingLabels {
  /** @default (name) => `${name} is typing…` */
  one?: (name: string) => string;
  /** `names` is already joined by `Intl.ListFormat` ("Alice and Bob"). @default (names) => `${names} are typing…` */
  two?: (names: string) => string;
  /** Three or more typers. @default (count) => `${count} people are typing…` */
  many?: (count: number) => string;
}

export interface FormatTypingOptions {
  /** A BCP 47 language tag for joining two names. @default 'en' */
  locale?: string;
  labels?: TypingLabels;
}

/** One list formatter per locale: building one costs more than formatting. */
const listFormats = new Map<string, Intl.ListFormat>();

function listFormat(locale: string): Intl.ListFormat {
  let format = listFormats.get(locale);
  if (format === undefined) {
    listFormats.set(locale, (format = new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' })));
  }
  return format;
}

/**
 * The line under a chat: `''` (nobody), `Alice is typing…`, `Alice and Bob are typing…`,
 * `3 people are typing…`. Two names are joined with `Intl.ListFormat`, so `de` gives
 * `Alice und Bob`; pass `labels` for the words around them in other languages.
 */
export function formatTyping(names: readonly string[], opts: FormatTypingOptions = {}): string {
  const labels = opts.labels ?? {};
  const [first] = names;
  if (first === undefined) return '';
  if (names.length === 1) return labels.one?.(first) ?? `${first} is typing…`;
  if (names.length === 2) {
    const joined = listFormat(opts.locale ?? 'en').format(names);
    return labels.two?.(joined) ?? `${joined} are typing…`;
  }
  return labels.many?.(names.length) ?? `${names.length} people are typing…`;
}
