import type { PresenceBatch } from '@streampod/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { SubscriptionHandlers } from '../runtime/subscription.js';
import { PresenceTracker } from './presence-tracker.js';
import type { PresenceSource } from './watched-set.js';

/**
 * A source whose subscriptions the test drives by hand. The transport is not the subject
 * here (the other tests use a real server); the tracker's reaction to failures is.
 */
function scriptedSource() {
  const opened: SubscriptionHandlers<PresenceBatch>[] = [];
  const source = {
    presence: {
      subscribeToPresence: () => ({
        listen: (handlers: SubscriptionHandlers<PresenceBatch>) => {
          opened.push(handlers);
          return () => undefined;
        },
      }),
    },
  } as unknown as PresenceSource;
  return { source, opened };
}

const error = (code: string) => Object.assign(new Error(code), { data: { code } });
const online = { userId: 5, status: 'online' as const, lastSeen: null, devices: 1 };

describe('PresenceTracker failures', () => {
  it('retries a passing failure, keeping what it showed, and takes the new snapshot', async () => {
    vi.useFakeTimers();
    try {
      const { source, opened } = scriptedSource();
      const watch = new PresenceTracker(source).watch([5]);
      const stop = watch.subscribe(() => undefined);
      opened[0]!.onData!({ snapshot: true, updates: [online] });
      opened[0]!.onError!(error('INTERNAL_SERVER_ERROR') as never);
      expect(watch.getSnapshot()).toMatchObject({ error: null, presences: { 5: online } });
      await vi.advanceTimersByTimeAsync(300);
      expect(opened).toHaveLength(2);
      opened[1]!.onData!({ snapshot: true, updates: [{ ...online, status: 'busy' }] });
      expect(watch.getSnapshot().presences[5]?.status).toBe('busy');
      stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports a refusal (FORBIDDEN) at once and does not retry it', async () => {
    vi.useFakeTimers();
    try {
      const { source, opened } = scriptedSource();
      const errors: string[] = [];
      const tracker = new PresenceTracker(source, { onError: (e) => errors.push(e.message) });
      const watch = tracker.watch([5]);
      const stop = watch.subscribe(() => undefined);
      opened[0]!.onError!(error('FORBIDDEN') as never);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(opened).toHaveLength(1);
      expect(errors).toEqual(['FORBIDDEN']);
      expect(watch.getSnapshot().error?.message).toBe('FORBIDDEN');
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
