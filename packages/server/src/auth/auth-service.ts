import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Credentials, FanoutBus, Logger } from '@streampod/framework';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import type { AuthenticatedUser, TokenService } from './tokens.js';

/** What travels on the revocation topic: one token of a user, or every token before an epoch. */
export type Revocation =
  | { readonly userId: number; readonly tokenId: string }
  | { readonly userId: number; readonly epoch: number }
  /** Every token of one sign-in with refresh (its family), those refreshed meanwhile included. */
  | { readonly userId: number; readonly session: string };

/** A family ended is kept among the revoked ids under this name, until its refresh tokens would have expired. */
const familyMark = (session: string) => `family:${session}`;

/** The revoked ids that end these credentials: the token's own, and its sign-in's with refresh. */
function revocationIdsOf(credentials: Credentials<AuthenticatedUser>): string[] {
  return [
    ...(credentials.tokenId === undefined ? [] : [credentials.tokenId]),
    ...(credentials.user.session === undefined ? [] : [familyMark(credentials.user.session)]),
  ];
}

const TOPIC = 'auth-revoked';
/** How long a revocation is remembered for connections still signing in (their check may predate it). */
const RECENT_MS = 60_000;

/**
 * Tokens as the chat server trusts them: signed by this installation, not expired, and
 * still standing: its user exists, at the token's epoch, and the token was not signed out.
 * Ending tokens is told to every node over the bus, so their connections close at once.
 */
export class AuthService {
  readonly tokens: TokenService;
  readonly #db: Kysely<DB>;
  readonly #bus: FanoutBus;
  readonly #log: Logger;
  /** Revocations of the last minute, oldest first (see `revokedRecently`). */
  #recent: { revocation: Revocation; at: number }[] = [];
  readonly #listening: Promise<() => void>;

  constructor(opts: { tokens: TokenService; db: Kysely<DB>; bus: FanoutBus; log: Logger }) {
    this.tokens = opts.tokens;
    this.#db = opts.db;
    this.#bus = opts.bus;
    this.#log = opts.log;
    this.#listening = this.onRevoked((revocation) => {
      const now = Date.now();
      this.#recent = this.#recent.filter((r) => now - r.at < RECENT_MS);
      this.#recent.push({ revocation, at: now });
    });
    this.#listening.catch((error: unknown) => this.#log.error({ err: error }, 'auth: could not follow revocations'));
  }

  /**
   * Whether a revocation heard in the last minute ends `credentials`: a connection whose token
   * was checked just before it was revoked registers after the revocation went by, and is
   * closed on opening instead.
   */
  revokedRecently(credentials: Credentials<AuthenticatedUser>): boolean {
    return this.#recent.some((r) => AuthService.ends(r.revocation, credentials));
  }

  /** Stops following revocations. */
  close(): void {
    this.#listening.then(
      (stop) => stop(),
      () => undefined,
    );
  }

  /**
   * A token for the user, at their current epoch: a long-lived one, or with `refresh` a
   * short-lived one and a refresh token that starts a new family (`session` continues one).
   */
  async issue(
    user: { id: number; username: string; tokenEpoch: number },
    opts: { refresh?: boolean; session?: string } = {},
  ): Promise<IssuedTokens> {
    // The token's own clock: it counts whole seconds.
    const now = Math.floor(Date.now() / 1000) * 1000;
    if (opts.refresh !== true && opts.session === undefined) {
      const token = await this.tokens.issue({ id: user.id, username: user.username, epoch: user.tokenEpoch });
      return { token, expiresAt: new Date(now + this.tokens.ttlSeconds * 1000) };
    }
    const session = opts.session ?? randomUUID();
    const ttl = this.tokens.accessTtlSeconds;
    const token = await this.tokens.issue(
      { id: user.id, username: user.username, epoch: user.tokenEpoch, session },
      ttl,
    );
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.#db
      .insertInto('refreshTokens')
      .values({
        id,
        familyId: session,
        userId: user.id,
        secretHash: sha256(secret),
        epoch: user.tokenEpoch,
        expiresAt: new Date(now + this.tokens.refreshTtlSeconds * 1000),
        usedAt: null,
      })
      .execute();
    return { token, expiresAt: new Date(now + ttl * 1000), refreshToken: `${id}.${secret}` };
  }

  /**
   * Trades a refresh token for new tokens of its family, once: the user it names, or null
   * when it is unknown, expired, of an older epoch, its sign-in was signed out, or it was used
   * before and longer ago than the retry grace (then its whole family ends: one of its two
   * users is a thief).
   */
  async refresh(refreshToken: string): Promise<{ user: { id: number; tokenEpoch: number }; session: string } | null> {
    const [id = '', secret = ''] = refreshToken.split('.', 2);
    const row = await this.#db
      .selectFrom('refreshTokens')
      .innerJoin('users', 'users.id', 'refreshTokens.userId')
      .select([
        'refreshTokens.familyId',
        'refreshTokens.secretHash',
        'refreshTokens.epoch',
        'refreshTokens.expiresAt',
        'refreshTokens.usedAt',
        'users.id as userId',
        'users.tokenEpoch',
      ])
      .where('refreshTokens.id', '=', id)
      .executeTakeFirst();
    if (row === undefined || !sameHash(row.secretHash, sha256(secret))) return null;
    if (row.expiresAt.getTime() <= Date.now() || row.epoch !== row.tokenEpoch) return null;
    // Marked used in the statement that checks it was not: of two racing refreshes, one wins.
    const claimed = await this.#db
      .updateTable('refreshTokens')
      .set({ usedAt: new Date() })
      .where('id', '=', id)
      .where('usedAt', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (claimed === undefined) {
      const usedAgo = Date.now() - (row.usedAt?.getTime() ?? 0);
      // Soon after its use: the same client retrying (see `refreshRetryGraceMs`), not a thief.
      if (usedAgo > this.tokens.refreshRetryGraceMs) {
        await this.#db.deleteFrom('refreshTokens').where('familyId', '=', row.familyId).execute();
        this.#log.warn({ userId: row.userId }, 'a used refresh token came back: its sign-in is ended');
        return null;
      }
      this.#log.info({ userId: row.userId, usedAgo }, 'a refresh token was used again at once: taken as a retry');
    }
    // Signed out while this refresh ran: it must not bring the sign-in back.
    const ended = await this.#db
      .selectFrom('revokedTokens')
      .select('tokenId')
      .where('tokenId', '=', familyMark(row.familyId))
      .executeTakeFirst();
    if (ended !== undefined) return null;
    await this.#db.deleteFrom('refreshTokens').where('expiresAt', '<', new Date()).execute();
    return { user: { id: row.userId, tokenEpoch: row.tokenEpoch }, session: row.familyId };
  }

  /** The credentials of a token that stands; null for anything else (one query beyond the signature). */
  async verify(token: string): Promise<Credentials<AuthenticatedUser> | null> {
    const credentials = await this.tokens.verify(token);
    if (credentials === null) return null;
    const row = await this.#db
      .selectFrom('users')
      .select([
        'tokenEpoch',
        sql<boolean>`exists (select 1 from revoked_tokens r where r.token_id in (${sql.join(['', ...revocationIdsOf(credentials)])}))`.as(
          'revoked',
        ),
      ])
      .where('id', '=', credentials.user.id)
      .executeTakeFirst();
    if (row === undefined || row.tokenEpoch !== credentials.user.epoch || row.revoked) return null;
    return credentials;
  }

  /**
   * Signs one token out; expired revocations are forgotten. Returns the revocation for
   * `announce`, which closes the token's connections on every node.
   */
  async logout(credentials: Credentials<AuthenticatedUser>): Promise<Revocation> {
    const tokenId = credentials.tokenId ?? fail('a token without an id cannot be signed out alone');
    await this.#db
      .insertInto('revokedTokens')
      .values({ tokenId, userId: credentials.user.id, expiresAt: new Date(credentials.expiresAt) })
      .onConflict((oc) => oc.column('tokenId').doNothing())
      .execute();
    await this.#db.deleteFrom('revokedTokens').where('expiresAt', '<', new Date()).execute();
    // A sign-in with refresh ends whole: every token of its family, refreshed ones included,
    // and a refresh still running must not bring it back (both check the mark).
    const session = credentials.user.session;
    if (session === undefined) return { userId: credentials.user.id, tokenId };
    await this.#db
      .insertInto('revokedTokens')
      .values({
        tokenId: familyMark(session),
        userId: credentials.user.id,
        expiresAt: new Date(Date.now() + this.tokens.refreshTtlSeconds * 1000),
      })
      .onConflict((oc) => oc.column('tokenId').doNothing())
      .execute();
    await this.#db.deleteFrom('refreshTokens').where('familyId', '=', session).execute();
    return { userId: credentials.user.id, session };
  }

  /**
   * Voids every token of the user issued so far; with `passwordHash`, sets the new password
   * in the same statement. Returns the revocation for `announce` (its `epoch` is the new one).
   */
  async endAllTokens(userId: number, passwordHash?: string): Promise<Revocation & { epoch: number }> {
    const row = await this.#db
      .updateTable('users')
      .set((eb) => ({
        tokenEpoch: eb('tokenEpoch', '+', 1),
        ...(passwordHash === undefined ? {} : { passwordHash }),
      }))
      .where('id', '=', userId)
      .returning('tokenEpoch')
      .executeTakeFirstOrThrow();
    // Their epoch voids them already; this keeps the table small.
    await this.#db.deleteFrom('refreshTokens').where('userId', '=', userId).execute();
    return { userId, epoch: row.tokenEpoch };
  }

  /**
   * Of `credentials` (the live connections' tokens), those that no longer stand: signed out,
   * voided by a new epoch, or their user gone. Two queries per thousand, for after a bus
   * outage, when revocations made meanwhile never arrived.
   */
  async fallen(credentials: readonly Credentials<AuthenticatedUser>[]): Promise<Credentials<AuthenticatedUser>[]> {
    const out: Credentials<AuthenticatedUser>[] = [];
    for (let i = 0; i < credentials.length; i += 1_000) {
      const chunk = credentials.slice(i, i + 1_000);
      const userIds = [...new Set(chunk.map((c) => c.user.id))];
      const tokenIds = chunk.flatMap(revocationIdsOf);
      const [users, revoked] = await Promise.all([
        this.#db.selectFrom('users').select(['id', 'tokenEpoch']).where('id', 'in', userIds).execute(),
        tokenIds.length === 0
          ? []
          : this.#db.selectFrom('revokedTokens').select('tokenId').where('tokenId', 'in', tokenIds).execute(),
      ]);
      const epochs = new Map(users.map((u) => [u.id, u.tokenEpoch]));
      const signedOut = new Set(revoked.map((r) => r.tokenId));
      for (const c of chunk)
        if (epochs.get(c.user.id) !== c.user.epoch || revocationIdsOf(c).some((id) => signedOut.has(id))) out.push(c);
    }
    return out;
  }

  /** Calls `listener` after the bus was away: revocations made meanwhile may not have arrived. */
  onResync(listener: () => void): () => void {
    return this.#bus.onResync(() => listener());
  }

  /** Calls `listener` with every revocation, made on any node. Resolves once listening. */
  onRevoked(listener: (revocation: Revocation) => void): Promise<() => void> {
    return this.#bus.subscribe<Revocation>(TOPIC, listener);
  }

  /** Whether `credentials` is one of the tokens `revocation` ends. */
  static ends(revocation: Revocation, credentials: Credentials<AuthenticatedUser>): boolean {
    if (credentials.user.id !== revocation.userId) return false;
    if ('session' in revocation) return credentials.user.session === revocation.session;
    return 'tokenId' in revocation
      ? credentials.tokenId === revocation.tokenId
      : credentials.user.epoch < revocation.epoch;
  }

  /**
   * Tells every node to close the connections of the revoked tokens. Call it last in the
   * handler: it waits a turn of the event loop, so the call's own reply (the new token of a
   * password change, say) goes out before the socket it came on closes.
   */
  announce(revocation: Revocation): void {
    this.#log.info(
      { userId: revocation.userId, all: 'epoch' in revocation, signIn: 'session' in revocation },
      'tokens signed out',
    );
    setImmediate(() => this.#bus.publish<Revocation>(TOPIC, revocation));
  }
}

/** What a sign-in hands out (see `AuthService.issue`). */
export interface IssuedTokens {
  readonly token: string;
  readonly expiresAt: Date;
  readonly refreshToken?: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function fail(message: string): never {
  throw new Error(message);
}

/** This installation's id, made once and kept in the database every node shares. */
export async function loadInstallation(db: Kysely<DB>): Promise<string> {
  await db
    .insertInto('settings')
    .values({ key: 'installation', value: randomUUID() })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'installation')
    .executeTakeFirstOrThrow();
  return row.value;
}
