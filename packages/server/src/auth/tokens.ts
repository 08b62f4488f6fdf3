import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Credentials } from '@streampod/framework';

/** The signed-in user behind a connection or request: what a token says. */
export interface AuthenticatedUser {
  readonly id: number;
  readonly username: string;
  /** The user's token epoch when the token was issued: a newer one voids it. */
  readonly epoch: number;
  /** The refresh family the token was issued in (a sign-in with `refresh: true`), if any. */
  readonly session?: string;
}

const ISSUER = 'streampod';

export interface TokenServiceOptions {
  /** HMAC secret, at least 32 bytes. */
  secret: Uint8Array;
  /**
   * How long a token is valid, in seconds.
   * @default 604800 (7 days)
   */
  ttlSeconds?: number;
  /**
   * How long an access token of a sign-in with refresh is valid, in seconds.
   * @default 900
   */
  accessTtlSeconds?: number;
  /**
   * How long a refresh token is good for, in seconds (each refresh gives a new one).
   * @default 2592000 (30 days)
   */
  refreshTtlSeconds?: number;
  /**
   * A used refresh token presented again within this long is taken as its client retrying
   * (the answer was lost with the network) and gets new tokens; later, as a thief, and its
   * sign-in ends.
   * @default 30_000
   */
  refreshRetryGraceMs?: number;
  /**
   * Names the installation (its database) in every token: a token of another one is refused,
   * even when both were given the same secret.
   * @default 'streampod'
   */
  installation?: string;
}

/** Signs and verifies the bearer tokens of `auth.*` (HS256 JWTs). */
export class TokenService {
  readonly #secret: Uint8Array;
  readonly #ttlSeconds: number;
  readonly #installation: string;
  /** How long a plain token lives, in seconds. */
  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  /** Lifetimes of a sign-in with refresh: its access tokens, and each refresh token. */
  readonly accessTtlSeconds: number;
  readonly refreshTtlSeconds: number;
  readonly refreshRetryGraceMs: number;

  constructor(opts: TokenServiceOptions) {
    if (opts.secret.length < 32) throw new Error('the token secret must be at least 32 bytes');
    this.#secret = opts.secret;
    this.#ttlSeconds = opts.ttlSeconds ?? 7 * 24 * 3600;
    this.#installation = opts.installation ?? 'streampod';
    this.accessTtlSeconds = opts.accessTtlSeconds ?? 900;
    this.refreshTtlSeconds = opts.refreshTtlSeconds ?? 30 * 24 * 3600;
    this.refreshRetryGraceMs = opts.refreshRetryGraceMs ?? 30_000;
  }

  /** Issues a token for `user` (epoch 0 unless given); `ttlSeconds` overrides the default lifetime. */
  issue(user: Omit<AuthenticatedUser, 'epoch'> & { epoch?: number }, ttlSeconds = this.#ttlSeconds): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      username: user.username,
      ep: user.epoch ?? 0,
      ...(user.session === undefined ? {} : { sid: user.session }),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setJti(randomUUID())
      .setIssuer(ISSUER)
      .setAudience(this.#installation)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.#secret);
  }

  /**
   * The credentials in a valid token of this installation; null for a forged, malformed,
   * foreign or expired one. Whether it was revoked is the `AuthService`'s to say.
   */
  async verify(token: string): Promise<Credentials<AuthenticatedUser> | null> {
    try {
      const { payload } = await jwtVerify(token, this.#secret, {
        issuer: ISSUER,
        audience: this.#installation,
        algorithms: ['HS256'],
      });
      const id = Number(payload.sub);
      const { username, ep: epoch, jti, sid } = payload;
      if (!Number.isSafeInteger(id) || typeof username !== 'string' || payload.exp === undefined) return null;
      if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || typeof jti !== 'string') return null;
      if (sid !== undefined && typeof sid !== 'string') return null;
      const user = { id, username, epoch, ...(sid === undefined ? {} : { session: sid }) };
      return { user, expiresAt: payload.exp * 1000, tokenId: jti };
    } catch (error) {
      if (error instanceof errors.JOSEError) return null;
      throw error;
    }
  }
}
