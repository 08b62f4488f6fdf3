import { SuperJSON } from 'superjson';
import { describe, expect, it } from 'vitest';
import { OutgoingEvent } from './outgoing-event.js';

const serializer = new SuperJSON();
const text = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
const prefix = (id: number) => `{"id":${id},"result":{"type":"data"`;

describe('OutgoingEvent', () => {
  it('gives subscribers beyond the frame cache a head of their own and one shared body, that join into the whole frame', () => {
    const value = { text: 'héllo "quoted"', at: new Date(0), n: [1, 2] };
    for (const eventId of ['m:42', undefined]) {
      const event = new OutgoingEvent(value, eventId);
      const bodies = new Set<Uint8Array>();
      for (let id = 1; id <= 40; id++) {
        const got = event.frameOrParts(serializer, prefix(id), eventId);
        const joined = got instanceof Uint8Array ? text(got) : got.head + text(got.body);
        // The same frame as an event that caches it whole, and one a stock client parses.
        expect(joined).toBe(text(new OutgoingEvent(value, eventId).frame(serializer, prefix(id), eventId)));
        const message = JSON.parse(joined) as { id: number; result: { data: unknown } };
        expect(message.id).toBe(id);
        if (!(got instanceof Uint8Array)) bodies.add(got.body);
      }
      // The first 16 are cached whole; the other 24 share one body.
      expect(bodies.size).toBe(1);
    }
  });
});
