import { initStreampod, OutgoingEvent, type StreamSession } from '@streampod/framework';
import type { Counter, RoomEvent } from './schemas.js';

/** Who is signed in: a name is all this app knows of a person. */
export interface Person {
  readonly id: string;
  readonly name: string;
}

/** Named counters in memory; each change goes to the counter's watchers, serialized once. */
export class Counters {
  readonly #values = new Map<string, Counter>();
  /** Watchers of each counter: a subscriber is a set entry, not a task. */
  readonly #watchers = new Map<string, Set<StreamSession<CounterContext, Counter>>>();

  get(name: string): Counter {
    return this.#values.get(name) ?? { name, value: 0, updatedBy: null };
  }

  increment(name: string, by: number, who: string): Counter {
    const next = { name, value: this.get(name).value + by, updatedBy: who };
    this.#values.set(name, next);
    const event = new OutgoingEvent(next);
    for (const watcher of this.#watchers.get(name) ?? []) watcher.send(event);
    return next;
  }

  watch(name: string, session: StreamSession<CounterContext, Counter>): void {
    let watchers = this.#watchers.get(name);
    if (watchers === undefined) this.#watchers.set(name, (watchers = new Set()));
    watchers.add(session);
    session.onClosed(() => {
      watchers.delete(session);
      if (watchers.size === 0) this.#watchers.delete(name);
    });
  }
}

/** One person's open stream of a cheer room. */
export type RoomSession = StreamSession<CounterContext, RoomEvent, { room: string }>;

/** Who is in each cheer room, by their room stream. */
export class Rooms {
  readonly #members = new Map<string, Set<RoomSession>>();

  /** Adds `session`; returns the names now in the room. */
  join(room: string, session: RoomSession): string[] {
    let members = this.#members.get(room);
    if (members === undefined) this.#members.set(room, (members = new Set()));
    members.add(session);
    return [...new Set([...members].map((s) => s.user?.name ?? 'someone'))];
  }

  leave(room: string, session: RoomSession): void {
    const members = this.#members.get(room);
    members?.delete(session);
    if (members?.size === 0) this.#members.delete(room);
  }

  broadcast(room: string, event: RoomEvent): void {
    const outgoing = new OutgoingEvent(event);
    for (const session of this.#members.get(room) ?? []) session.send(outgoing);
  }
}

/** What the endpoints see. */
export interface CounterContext {
  services: { counters: Counters; rooms: Rooms };
  user: Person;
}

/** The framework for this app. */
export const sp = initStreampod.context<CounterContext>().create();
