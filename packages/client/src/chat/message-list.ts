import { messageOfEvent, type ChatMessage, type ChatMessageEvent } from '@streampod/protocol';

/** A `message` event of `chat.stream`. */
export type MessageEvent = ChatMessageEvent;

/** The stored message a `message` event announces (one mapping, shared with the server's). */
export const toChatMessage = messageOfEvent;

/** Where `id` goes in a list sorted by id: its index if present, else the insertion point. */
function search(list: readonly ChatMessage[], id: number): { index: number; found: boolean } {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const midId = list[mid]?.id ?? 0;
    if (midId === id) return { index: mid, found: true };
    if (midId < id) low = mid + 1;
    else high = mid;
  }
  return { index: low, found: false };
}

/** `list` with `message` in its place by id; `undefined` when it is already there. */
export function insertMessage(list: readonly ChatMessage[], message: ChatMessage): readonly ChatMessage[] | undefined {
  const { index, found } = search(list, message.id);
  if (found) return undefined;
  return Object.freeze([...list.slice(0, index), message, ...list.slice(index)]);
}

/**
 * A fresh page of history merged into what is shown. Messages older than the page are
 * dropped: between them and the page there may be messages nobody fetched (a reload
 * after a gap), and a list must never look complete across a hole. Newer ones stay (they
 * arrived live while the page loaded).
 */
export function mergeHistory(list: readonly ChatMessage[], page: readonly ChatMessage[]): readonly ChatMessage[] {
  const first = page[0];
  const byId = new Map<number, ChatMessage>();
  for (const message of list) if (first === undefined || message.id >= first.id) byId.set(message.id, message);
  for (const message of page) byId.set(message.id, message);
  const merged = [...byId.values()].sort((a, b) => a.id - b.id);
  // Same ids as shown: keep the list itself, so a reload that found nothing new re-renders nothing.
  if (merged.length === list.length && merged.every((m, i) => m.id === list[i]?.id)) return list;
  return Object.freeze(merged);
}

/** The newest message (highest id) that passes `test`. */
export function newest(list: readonly ChatMessage[], test: (message: ChatMessage) => boolean): ChatMessage | undefined {
  for (let i = list.length - 1; i >= 0; i--) {
    const message = list[i];
    if (message !== undefined && test(message)) return message;
  }
  return undefined;
}
