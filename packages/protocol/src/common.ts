import { z } from 'zod';

/** A database id: a positive 32-bit integer. */
export const Id = z.int().positive().max(2_147_483_647);
export type Id = z.infer<typeof Id>;

/** A list of ids, at most `max`, duplicates allowed (the server de-duplicates). */
export const idList = (max: number) => z.array(Id).max(max, { error: `at most ${max} ids` });
