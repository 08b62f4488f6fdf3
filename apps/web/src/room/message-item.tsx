import type { ReactElement, ReactNode } from 'react';

/** What one line of the log shows, whether stored or still on its way. */
export interface ShownMessage {
  readonly senderId: number;
  readonly senderName: string;
  readonly content: string;
  readonly createdAt: Date;
  readonly imageUrl?: string;
  /** The message replied to: its sender and text, or null when it is not loaded. */
  readonly replyTo?: { senderName: string; content: string } | null;
}

const time = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

function when(date: Date): string {
  return date.toDateString() === new Date().toDateString() ? time.format(date) : dateTime.format(date);
}

/**
 * One message. A run of messages by one sender shows the name once (`compact` for the rest),
 * but each still starts with the sender's name for screen readers.
 */
export function MessageItem(props: {
  message: ShownMessage;
  compact: boolean;
  mine: boolean;
  pending?: boolean;
  status?: ReactNode;
  reactions?: ReactNode;
  actions?: ReactNode;
}): ReactElement {
  const { message, compact } = props;
  const classes = ['message', compact && 'compact', props.mine && 'mine', props.pending === true && 'pending'];
  return (
    <li className={classes.filter(Boolean).join(' ')}>
      <div
        className="avatar"
        aria-hidden="true"
        style={compact ? undefined : { background: colourOf(message.senderId) }}
      >
        {compact ? '' : initial(message.senderName)}
      </div>
      <div className="message-body">
        <p className={compact ? 'message-meta sr-only' : 'message-meta'}>
          <span className="sender">{message.senderName}</span>{' '}
          <time dateTime={message.createdAt.toISOString()} title={full.format(message.createdAt)}>
            {when(message.createdAt)}
          </time>
        </p>
        {message.replyTo !== undefined && <ReplyQuote replyTo={message.replyTo} />}
        {/* The ticks sit at the end of the text, as in any messenger, not on a line of their own. */}
        <p className="message-text">
          <span>{message.content}</span>
          {props.status !== undefined && <> {props.status}</>}
        </p>
        {message.imageUrl !== undefined && (
          <img className="message-image" src={message.imageUrl} alt={`Image from ${message.senderName}`} />
        )}
        {props.reactions}
      </div>
      {props.actions !== undefined && <div className="message-actions">{props.actions}</div>}
    </li>
  );
}

function ReplyQuote(props: { replyTo: { senderName: string; content: string } | null }): ReactElement {
  const { replyTo } = props;
  return (
    <blockquote className="reply-quote">
      {replyTo === null ? (
        'Reply to an earlier message'
      ) : (
        <>
          <span className="sr-only">Reply to </span>
          <span className="reply-sender">{replyTo.senderName}</span>: {excerpt(replyTo.content)}
        </>
      )}
    </blockquote>
  );
}

export function excerpt(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function initial(name: string): string {
  return (Array.from(name.trim())[0] ?? '?').toUpperCase();
}

/** Dark enough for white letters at 4.5:1 or more; each person keeps theirs. */
const avatarColours = ['#4a6f8a', '#7b4a8a', '#2f6f4f', '#8a4a4a', '#4a5a8a', '#6b5a1f', '#1f6b6b', '#8a3f6b'];

function colourOf(userId: number): string {
  return avatarColours[userId % avatarColours.length] ?? '#4a6f8a';
}
