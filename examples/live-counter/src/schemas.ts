import { z } from 'zod';

/** A counter's name: what everyone who types it shares. */
export const CounterName = z.string().trim().min(1).max(40);

export const CounterInput = z.object({ name: CounterName });
export type CounterInput = z.infer<typeof CounterInput>;

export const IncrementInput = z.object({ name: CounterName, by: z.int().min(1).max(100).default(1) });
export type IncrementInput = z.input<typeof IncrementInput>;

/** A counter as it is now. */
export const Counter = z.object({ name: z.string(), value: z.int(), updatedBy: z.string().nullable() });
export type Counter = z.infer<typeof Counter>;

/** What a cheer room's stream carries. */
export const RoomEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('joined'), who: z.string(), here: z.array(z.string()) }),
  z.object({ type: z.literal('left'), who: z.string() }),
  z.object({ type: z.literal('cheer'), who: z.string(), text: z.string() }),
]);
export type RoomEvent = z.infer<typeof RoomEvent>;

/** What a client sends down its room stream. */
export const RoomMessage = z.object({ type: z.literal('cheer'), text: z.string().min(1).max(100) });
export type RoomMessage = z.infer<typeof RoomMessage>;

export const RoomInput = z.object({ room: CounterName });
