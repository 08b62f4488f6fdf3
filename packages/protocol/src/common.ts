import { z } from 'zod';

/** A database id: a positive 32-bit integer. */
export const Id = z.int().positive().max(2_147_483_647);
export type Id = z.infer<typeof Id>;

/** A list of ids, at most `max`, duplicates allowed (the server de-duplicates). */
export const idList = (max: number) => z.array(Id).max(max, { error: `at most ${max} ids` });

/** A high surrogate not followed by a low one, or a low one not after a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The rule of every text field of the protocol's inputs: no U+0000 (PostgreSQL cannot store
 * it, so it would fail deep inside a query) and well-formed UTF-16 (a lone surrogate would be
 * stored as U+FFFD, silently not what was sent). Refused as BAD_REQUEST naming the field.
 */
export function wellFormed(schema: z.ZodString): z.ZodString;
export function wellFormed(schema: z.ZodURL): z.ZodURL;
export function wellFormed(schema: z.ZodString | z.ZodURL): z.ZodString | z.ZodURL {
  return schema
    .refine((s) => !s.includes('\u0000'), { error: 'must not contain U+0000 (NUL)' })
    .refine((s) => !LONE_SURROGATE.test(s), { error: 'must be well-formed UTF-16 (it has a lone surrogate)' });
}

/** A text input (see `wellFormed`). */
export const Text = wellFormed(z.string());
