import type { ChatMessage } from '@streampod/client';
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type ReactElement } from 'react';
import { excerpt } from './message-item';

/**
 * The message box: Enter sends, Shift+Enter starts a new line. Typing tells the room (the
 * client sends at most one notice every few seconds); clearing the box or leaving it stops.
 */
export function Composer(props: {
  roomName: string;
  replyTo: { message: ChatMessage; senderName: string } | null;
  onCancelReply: () => void;
  onSend: (content: string) => void;
  onTyping: () => void;
  onStopTyping: () => void;
}): ReactElement {
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);

  // Choosing "Reply" (or opening the room) puts the cursor here.
  useEffect(() => box.current?.focus(), [props.replyTo]);

  const send = () => {
    const content = text.trim();
    if (content === '') return;
    props.onSend(content);
    setText('');
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === 'Escape' && props.replyTo !== null) {
      props.onCancelReply();
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      {props.replyTo !== null && (
        <div className="replying">
          <p>
            Replying to <strong>{props.replyTo.senderName}</strong>: {excerpt(props.replyTo.message.content, 80)}
          </p>
          <button type="button" className="link-button" onClick={props.onCancelReply}>
            Cancel reply
          </button>
        </div>
      )}
      <div className="composer-row">
        <textarea
          id="composer"
          ref={box}
          aria-label="Message"
          placeholder={`Message ${props.roomName}`}
          rows={1}
          value={text}
          onChange={(event) => {
            setText(event.target.value);
            if (event.target.value === '') props.onStopTyping();
            else props.onTyping();
          }}
          onBlur={props.onStopTyping}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary send" disabled={text.trim() === ''}>
          Send
        </button>
      </div>
    </form>
  );
}
