import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/**
 * When users were last online, kept where it survives restarts and outlives the presence
 * store's memory of offline users.
 */
export interface LastSeenStore {
  /** The last seen time of those of `userIds` that have one. */
  get(userIds: readonly number[]): Promise<Map<number, Date>>;
  /** Records `at`, unless a later time is already saved (another node may be ahead). */
  save(userId: number, at: Date): Promise<void>;
}

/** Last seen in the `users` table. */
export class DbLastSeenStore implements LastSeenStore {
  readonly #db: Kysely<DB>;

  constructor(db: Kysely<DB>) {
    this.#db = db;
  }

  async get(userIds: readonly number[]): Promise<Map<number, Date>> {
    if (userIds.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('users')
      .select(['id', 'lastSeenAt'])
      .where('id', 'in', userIds)
      .where('lastSeenAt', 'is not', null)
      .execute();
    return new Map(rows.map((r) => [r.id, r.lastSeenAt!]));
  }

  async save(userId: number, at: Date): Promise<void> {
    await this.#db
      .updateTable('users')
      .set({ lastSeenAt: at })
      .where('id', '=', userId)
      .where((eb) => eb.or([eb('lastSeenAt', 'is', null), eb('lastSeenAt', '<', at)]))
      .execute();
  }
}
