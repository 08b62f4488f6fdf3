import type { ChatMessage, ChatRoomSnapshot, MessageReactions, PendingMessage } from '@streampod/client';
import { useLayoutEffect, useRef, type ReactElement, type UIEvent } from 'react';
import { MessageItem, type ShownMessage } from './message-item';
import { deliveryOf, DeliveryTicks, PendingStatus } from './message-status';
import { ReactionBar, ReactionPicker } from './reactions';
import type { OlderMessages } from './use-older-messages';

/** Two messages by one sender this close together read as one run. */
const RUN_MS = 5 * 60_000;
/** Closer than this to the top loads the page before; closer than this to the bottom follows new messages. */
const EDGE_PX = 120;

export interface MessageActions {
  readonly reply: (message: ChatMessage) => void;
  readonly react: (messageId: number, emoji: string, removed: boolean) => void;
  readonly retry: (clientMessageId: string) => void;
}

/**
 * The room's messages, oldest first, as a `log` (new lines are announced politely). It
 * follows new messages while scrolled to the bottom, and loads older pages when scrolled to
 * the top (or with the button there, for keyboards), keeping the reader's place.
 */
export function MessageLog(props: {
  roomName: string;
  chat: ChatRoomSnapshot;
  history: OlderMessages;
  me: number;
  names: (userId: number) => string;
  actions: MessageActions;
}): ReactElement {
  const { chat, history, me, names, actions } = props;
  const { messages } = history;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const beforePrepend = useRef<{ height: number; top: number } | null>(null);

  const loadOlder = () => {
    const element = scroller.current;
    if (element !== null) beforePrepend.current = { height: element.scrollHeight, top: element.scrollTop };
    history.loadOlder();
  };

  const onScroll = (event: UIEvent<HTMLDivElement>) => {
    const element = event.currentTarget;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < EDGE_PX;
    if (element.scrollTop < EDGE_PX && !history.atStart && history.status === 'idle') loadOlder();
  };

  // Older messages went in above: keep what the reader was looking at where it was.
  const firstId = messages[0]?.id;
  useLayoutEffect(() => {
    const element = scroller.current;
    const before = beforePrepend.current;
    if (element === null || before === null) return;
    beforePrepend.current = null;
    element.scrollTop = before.top + (element.scrollHeight - before.height);
  }, [firstId]);

  // New messages (ours included) while at the bottom: stay at the bottom.
  const lastKey = `${messages.at(-1)?.id ?? ''}/${chat.pending.length}/${chat.isLoading}`;
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element !== null && atBottom.current) element.scrollTop = element.scrollHeight;
  }, [lastKey]);

  const byId = new Map(messages.map((message) => [message.id, message]));
  const replyOf = (id: number | undefined): ShownMessage['replyTo'] => {
    if (id === undefined) return undefined;
    const original = byId.get(id);
    return original === undefined ? null : { senderName: names(original.senderId), content: original.content };
  };

  let previous: { senderId: number; at: number } | undefined;
  const runs = (senderId: number, at: Date) => {
    const compact = previous?.senderId === senderId && at.getTime() - previous.at < RUN_MS;
    previous = { senderId, at: at.getTime() };
    return compact;
  };

  return (
    <div
      ref={scroller}
      className="log"
      role="log"
      aria-label="Messages"
      tabIndex={0}
      onScroll={onScroll}
      aria-busy={chat.isLoading}
    >
      <div className="log-start">
        {history.atStart ? (
          <p>
            This is the very beginning of <strong>{props.roomName}</strong>.
          </p>
        ) : chat.isLoading ? null : (
          <button type="button" className="link-button" onClick={loadOlder} disabled={history.status === 'loading'}>
            {history.status === 'loading'
              ? 'Loading older messages…'
              : history.status === 'error'
                ? 'Could not load older messages. Try again'
                : 'Load older messages'}
          </button>
        )}
      </div>
      {chat.isLoading && <p className="log-note">Loading messages…</p>}
      {chat.error !== null && !chat.isLoading && <p className="log-note">Messages could not be loaded.</p>}
      <ol className="messages">
        {messages.map((message) => {
          const mine = message.senderId === me;
          return (
            <MessageItem
              key={message.id}
              message={{
                senderId: message.senderId,
                senderName: names(message.senderId),
                content: message.content,
                createdAt: message.createdAt,
                ...(message.messageType === 'image' && message.mediaUrl !== undefined
                  ? { imageUrl: message.mediaUrl }
                  : {}),
                replyTo: replyOf(message.replyToMessageId),
              }}
              compact={runs(message.senderId, message.createdAt)}
              mine={mine}
              status={
                mine ? <DeliveryTicks delivery={deliveryOf(message.id, chat.receipts, me)} names={names} /> : undefined
              }
              reactions={
                <ReactionBar
                  reactions={chat.reactions[message.id] ?? storedReactions(message)}
                  me={me}
                  names={names}
                  onToggle={(emoji, removed) => actions.react(message.id, emoji, removed)}
                />
              }
              actions={
                <>
                  <button type="button" className="icon-button" title="Reply" onClick={() => actions.reply(message)}>
                    <span aria-hidden="true">↩</span>
                    <span className="sr-only">Reply</span>
                  </button>
                  <ReactionPicker onPick={(emoji) => actions.react(message.id, emoji, false)} />
                </>
              }
            />
          );
        })}
        {chat.pending.map((pending) => (
          <PendingLine
            key={pending.clientMessageId}
            pending={pending}
            me={me}
            names={names}
            replyOf={replyOf}
            runs={runs}
            onRetry={actions.retry}
          />
        ))}
      </ol>
    </div>
  );
}

/** A message of ours on its way, in the log after the stored ones. */
function PendingLine(props: {
  pending: PendingMessage;
  me: number;
  names: (userId: number) => string;
  replyOf: (id: number | undefined) => ShownMessage['replyTo'];
  runs: (senderId: number, at: Date) => boolean;
  onRetry: (clientMessageId: string) => void;
}): ReactElement {
  const { pending, me } = props;
  return (
    <MessageItem
      message={{
        senderId: me,
        senderName: props.names(me),
        content: pending.content,
        createdAt: pending.createdAt,
        replyTo: props.replyOf(pending.replyToMessageId),
      }}
      compact={props.runs(me, pending.createdAt)}
      mine
      pending
      status={<PendingStatus status={pending.status} onRetry={() => props.onRetry(pending.clientMessageId)} />}
    />
  );
}

/** An older page's reactions as the server stored them (the live view keeps its own page's). */
function storedReactions(message: ChatMessage): MessageReactions | undefined {
  if (message.reactions === undefined) return undefined;
  return Object.fromEntries(message.reactions.map((r) => [r.emoji, r.userIds]));
}
