import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getChatStreamHub } from './chat-stream-hub.js';
import { scriptedClient } from './scripted-client.fixture.js';
import { createTypingNotifier, formatTyping } from './typing.js';

describe('formatTyping', () => {
  it('says nothing for nobody, and names one, two, or counts more', () => {
    expect(formatTyping([])).toBe('');
    expect(formatTyping(['Alice'])).toBe('Alice is typing…');
    expect(formatTyping(['Alice', 'Bob'])).toBe('Alice and Bob are typing…');
    expect(formatTyping(['Alice', 'Bob', 'Carol'])).toBe('3 people are typing…');
    expect(formatTyping(['A', 'B', 'C', 'D', 'E'])).toBe('5 people are typing…');
  });

  it('joins two names the way the locale does, with the words given for it', () => {
    const de = {
      locale: 'de',
      labels: {
        one: (name: string) => `${name} schreibt…`,
        two: (names: string) => `${names} schreiben…`,
        many: (count: number) => `${count} Personen schreiben…`,
      },
    };
    expect(formatTyping([], de)).toBe('');
    expect(formatTyping(['Anna'], de)).toBe('Anna schreibt…');
    expect(formatTyping(['Anna', 'Ben'], de)).toBe('Anna und Ben schreiben…');
    expect(formatTyping(['Anna', 'Ben', 'Cem'], de)).toBe('3 Personen schreiben…');
    // Without labels the words stay English; the join still follows the locale.
    expect(formatTyping(['Anna', 'Ben'], { locale: 'de' })).toBe('Anna und Ben are typing…');
  });
});

describe('createTypingNotifier', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Types a key every `everyMs` for `forMs`. */
  async function type(notifier: { startTyping(): void }, opts: { forMs: number; everyMs: number }) {
    for (let t = 0; t < opts.forMs; t += opts.everyMs) {
      notifier.startTyping();
      await vi.advanceTimersByTimeAsync(opts.everyMs);
    }
  }

  it('sends a start at the first keystroke, then at most once per throttle while typing goes on', async () => {
    const { client, typing } = scriptedClient();
    const notifier = createTypingNotifier(client, 10);
    notifier.startTyping();
    expect(typing).toEqual([true]);
    await type(notifier, { forMs: 2_400, everyMs: 200 });
    expect(typing).toEqual([true]);
    // Keystrokes at 2.4 s … 5.2 s: refreshes at 2.6 s and 5.2 s, before the server's 5 s run out.
    await type(notifier, { forMs: 3_000, everyMs: 200 });
    expect(typing).toEqual([true, true, true]);
    notifier.dispose();
  });

  it('ends typing by itself after the idle time, and at once on stopTyping', async () => {
    const { client, typing } = scriptedClient();
    const notifier = createTypingNotifier(client, 10, { throttleMs: 1_000, idleMs: 3_000 });
    notifier.startTyping();
    await vi.advanceTimersByTimeAsync(2_999);
    expect(typing).toEqual([true]);
    await vi.advanceTimersByTimeAsync(1);
    expect(typing).toEqual([true, false]);

    // Not typing: nothing to stop.
    notifier.stopTyping();
    expect(typing).toEqual([true, false]);

    // A new start right after an end is sent, whatever the throttle.
    notifier.startTyping();
    notifier.stopTyping();
    expect(typing).toEqual([true, false, true, false]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(typing).toHaveLength(4);
    notifier.dispose();
  });

  it('starts afresh after we send a message in the room, and stops on dispose', async () => {
    const { client, typing } = scriptedClient();
    const notifier = createTypingNotifier(client, 10);
    notifier.startTyping();
    // The server ended our typing when the message landed: the next keystroke starts it again.
    getChatStreamHub(client).announceSend(10);
    await vi.advanceTimersByTimeAsync(100);
    notifier.startTyping();
    expect(typing).toEqual([true, true]);
    getChatStreamHub(client).announceSend(20); // another room: no effect here
    notifier.dispose();
    expect(typing).toEqual([true, true, false]);
    notifier.startTyping();
    expect(typing).toHaveLength(3);
  });

  it('keeps the shared stream open while it lives', async () => {
    const { client, streams } = scriptedClient();
    const notifier = createTypingNotifier(client, 10);
    expect(streams).toHaveLength(1);
    notifier.dispose();
    await vi.advanceTimersByTimeAsync(0);
    expect(streams[0]?.stopped).toBe(true);
  });
});
