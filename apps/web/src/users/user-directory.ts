import type { ChatUser, StreampodClient } from '@streampod/client';
import { codeOf, toError } from '@streampod/client/runtime';

type Users = ReadonlyMap<number, ChatUser>;

/**
 * The people the signed-in user can see, by id: names for members, senders and typers.
 * Each id is asked for once (`users.get`); callers ask only for members of their rooms,
 * since the server refuses ids that share no room with us.
 */
export class UserDirectory {
  readonly #client: StreampodClient;
  readonly #asked = new Set<number>();
  readonly #listeners = new Set<() => void>();
  #users: Users;

  constructor(client: StreampodClient, me: ChatUser) {
    this.#client = client;
    this.#users = new Map([[me.id, me]]);
    this.#asked.add(me.id);
  }

  readonly getSnapshot = (): Users => this.#users;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** Fetches the users among `ids` not known or asked for yet. */
  want(ids: readonly number[]): void {
    const missing = [...new Set(ids)].filter((id) => !this.#asked.has(id));
    if (missing.length === 0) return;
    for (const id of missing) this.#asked.add(id);
    this.#client.users.get({ userIds: missing }).then(
      (users) => this.#add(users),
      (reason: unknown) => {
        // A refusal (one of them left every room we share) stands; anything else may pass: ask again next time.
        if (codeOf(toError(reason)) !== 'FORBIDDEN') for (const id of missing) this.#asked.delete(id);
      },
    );
  }

  #add(users: readonly ChatUser[]): void {
    if (users.length === 0) return;
    const next = new Map(this.#users);
    for (const user of users) next.set(user.id, user);
    this.#users = next;
    for (const listener of [...this.#listeners]) listener();
  }
}
