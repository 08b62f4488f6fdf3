import type { ChatMessage, ChatStreamMessage, RoomReceipt } from '@streampod/protocol';
import type { MessageReactions, Receipt } from './types.js';

type CursorEvent = Extract<ChatStreamMessage, { type: 'read' | 'delivered' }>;
type ReactionEvent = Extract<ChatStreamMessage, { type: 'reaction' }>;

type Receipts = Readonly<Record<number, Receipt>>;
type Reactions = Readonly<Record<number, MessageReactions>>;

const max = (a: number | null, b: number) => (a === null ? b : Math.max(a, b));

/**
 * Receipts after a `read` or `delivered` event; `undefined` when nothing moved. Cursors
 * only go forward (events of one room can arrive after a newer one from another device),
 * and a read message counts as delivered too.
 */
export function applyCursor(receipts: Receipts, event: CursorEvent): Receipts | undefined {
  const before = receipts[event.senderId] ?? { readMessageId: null, deliveredMessageId: null };
  const readMessageId = event.type === 'read' ? max(before.readMessageId, event.messageId) : before.readMessageId;
  const deliveredMessageId = max(before.deliveredMessageId, event.messageId);
  if (readMessageId === before.readMessageId && deliveredMessageId === before.deliveredMessageId) return undefined;
  return Object.freeze({ ...receipts, [event.senderId]: Object.freeze({ readMessageId, deliveredMessageId }) });
}

/** Reactions after a `reaction` event; `undefined` when nothing changed (a repeat). */
export function applyReaction(reactions: Reactions, event: ReactionEvent): Reactions | undefined {
  const before = reactions[event.messageId] ?? {};
  const users = before[event.emoji] ?? [];
  const has = users.includes(event.senderId);
  if (has !== event.removed) return undefined;
  const nextUsers = event.removed ? users.filter((id) => id !== event.senderId) : [...users, event.senderId];
  const next: Record<string, readonly number[]> = { ...before };
  if (nextUsers.length === 0) delete next[event.emoji];
  else next[event.emoji] = Object.freeze(nextUsers);
  const all: Record<number, MessageReactions> = { ...reactions };
  if (Object.keys(next).length === 0) delete all[event.messageId];
  else all[event.messageId] = Object.freeze(next);
  return Object.freeze(all);
}

/** Receipts with the stored cursors (`chat.receipts`) folded in; cursors only go forward. */
export function mergeCursors(receipts: Receipts, cursors: readonly RoomReceipt[]): Receipts {
  let next = receipts;
  for (const c of cursors) {
    const base = { conversationId: 0, timestamp: new Date(0), senderId: c.userId };
    if (c.lastDeliveredMessageId !== null)
      next = applyCursor(next, { ...base, type: 'delivered', messageId: c.lastDeliveredMessageId }) ?? next;
    if (c.lastReadMessageId !== null)
      next = applyCursor(next, { ...base, type: 'read', messageId: c.lastReadMessageId }) ?? next;
  }
  return next;
}

/**
 * Reactions with those of a history page as stored: the server's answer is the truth for
 * the messages it lists (live events keep them current from there).
 */
export function storedReactions(reactions: Reactions, page: readonly ChatMessage[]): Reactions {
  let all: Record<number, MessageReactions> | undefined;
  for (const message of page) {
    const stored = message.reactions ?? [];
    if (stored.length === 0 && reactions[message.id] === undefined) continue;
    all ??= { ...reactions };
    if (stored.length === 0) delete all[message.id];
    else
      all[message.id] = Object.freeze(Object.fromEntries(stored.map((r) => [r.emoji, Object.freeze([...r.userIds])])));
  }
  return all === undefined ? reactions : Object.freeze(all);
}
