import type { MessageReactions } from '@streampod/client';
import { useEffect, useRef, useState, type ReactElement } from 'react';

export const EMOJI: readonly { emoji: string; name: string }[] = [
  { emoji: '👍', name: 'thumbs up' },
  { emoji: '❤️', name: 'heart' },
  { emoji: '😂', name: 'laughing' },
  { emoji: '🎉', name: 'party' },
  { emoji: '😮', name: 'surprised' },
  { emoji: '👀', name: 'eyes' },
];

const nameOfEmoji = (emoji: string) => EMOJI.find((e) => e.emoji === emoji)?.name ?? emoji;

/** The reactions under a message: one toggle per emoji, pressed when it is ours. */
export function ReactionBar(props: {
  reactions: MessageReactions | undefined;
  me: number;
  names: (userId: number) => string;
  onToggle: (emoji: string, removed: boolean) => void;
}): ReactElement | null {
  const entries = Object.entries(props.reactions ?? {});
  if (entries.length === 0) return null;
  return (
    // A group, not a list: the log's list items are messages only.
    <div className="reactions" role="group" aria-label="Reactions">
      {entries.map(([emoji, userIds]) => {
        const mine = userIds.includes(props.me);
        const who = userIds.map(props.names).join(', ');
        return (
          <button
            key={emoji}
            type="button"
            className="reaction"
            aria-pressed={mine}
            aria-label={`${nameOfEmoji(emoji)}: ${userIds.length}`}
            title={who}
            onClick={() => props.onToggle(emoji, mine)}
          >
            <span aria-hidden="true">{emoji}</span> <span aria-hidden="true">{userIds.length}</span>
          </button>
        );
      })}
    </div>
  );
}

/** "Add reaction": a row of emoji that opens under the button; Escape closes it. */
export function ReactionPicker(props: { onPick: (emoji: string) => void }): ReactElement {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const rowRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) rowRef.current?.querySelector('button')?.focus();
  }, [open]);
  const close = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };
  return (
    <div className="picker">
      <button
        ref={buttonRef}
        type="button"
        className="icon-button"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        title="Add reaction"
      >
        <span aria-hidden="true">☺</span>
        <span className="sr-only">Add reaction</span>
      </button>
      {open && (
        <div
          ref={rowRef}
          className="picker-row"
          role="group"
          aria-label="Pick a reaction"
          onKeyDown={(event) => {
            if (event.key === 'Escape') {
              event.stopPropagation();
              close();
            }
          }}
        >
          {EMOJI.map(({ emoji, name }) => (
            <button
              key={emoji}
              type="button"
              className="icon-button"
              aria-label={`React with ${name}`}
              onClick={() => {
                props.onPick(emoji);
                close();
              }}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
