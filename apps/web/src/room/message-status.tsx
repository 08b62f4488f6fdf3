import type { Receipt } from '@streampod/client';
import type { ReactElement } from 'react';

export type Delivery = { state: 'sent' | 'delivered' | 'read'; by: readonly number[] };

/**
 * How far a message of ours has got, from the receipts of the others in the room: read by
 * anyone beats delivered to anyone beats only stored (sent).
 */
export function deliveryOf(messageId: number, receipts: Readonly<Record<number, Receipt>>, me: number): Delivery {
  const readers: number[] = [];
  const receivers: number[] = [];
  for (const [key, receipt] of Object.entries(receipts)) {
    const userId = Number(key);
    if (userId === me) continue;
    if ((receipt.readMessageId ?? 0) >= messageId) readers.push(userId);
    else if ((receipt.deliveredMessageId ?? 0) >= messageId) receivers.push(userId);
  }
  if (readers.length > 0) return { state: 'read', by: readers };
  if (receivers.length > 0) return { state: 'delivered', by: receivers };
  return { state: 'sent', by: [] };
}

const words = { sent: 'Sent', delivered: 'Delivered', read: 'Read' } as const;

/** ✓ sent, ✓✓ delivered, blue ✓✓ read; the word for screen readers, and who in the tooltip. */
export function DeliveryTicks(props: { delivery: Delivery; names: (userId: number) => string }): ReactElement {
  const { state, by } = props.delivery;
  const title = by.length === 0 ? words[state] : `${words[state]} by ${by.map(props.names).join(', ')}`;
  return (
    <span className={`ticks ticks-${state}`} title={title}>
      <span aria-hidden="true">{state === 'sent' ? '✓' : '✓✓'}</span>
      <span className="sr-only">{words[state]}</span>
    </span>
  );
}

/** A message of ours not stored yet: sending (a clock), or failed with a way to try again. */
export function PendingStatus(props: { status: 'sending' | 'failed'; onRetry: () => void }): ReactElement {
  if (props.status === 'sending') {
    return (
      <span className="ticks ticks-pending" title="Sending">
        <span aria-hidden="true">◷</span>
        <span className="sr-only">Sending</span>
      </span>
    );
  }
  return (
    <span className="send-failed">
      Not sent.{' '}
      <button type="button" className="link-button" onClick={props.onRetry}>
        Retry
      </button>
    </span>
  );
}
