import { formatTyping } from '@streampod/client';
import type { ReactElement } from 'react';

/** "Alice is typing…" under the messages: a polite live region, present (empty) even when nobody types. */
export function TypingLine(props: { names: readonly string[] }): ReactElement {
  return (
    <p className="typing-line" role="status">
      {formatTyping(props.names)}
    </p>
  );
}
