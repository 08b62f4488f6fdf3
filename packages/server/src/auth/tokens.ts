import { errors, jwtVerify, SignJWT } from 'jose';
import type { Credentials } from '@streampod/framework';

/** The signed-in user behind a connection or request: what a token says. */
export interface AuthenticatedUser {
  readonly id: number;
  readonly username: string;
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
}

/** Signs and verifies the bearer tokens of `auth.*` (HS256 JWTs). */
export class TokenService {
  readonly #secret: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(opts: TokenServiceOptions) {
    if (opts.secret.length < 32) throw new Error('the token secret must be at least 32 bytes');
    this.#secret = opts.secret;
    this.#ttlSeconds = opts.ttlSeconds ?? 7 * 24 * 3600;
  }

  /** Issues a token for `user`; `ttlSeconds` overrides the default lifetime. */
  issue(user: AuthenticatedUser, ttlSeconds = this.#ttlSeconds): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ username: user.username })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(user.id))
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.#secret);
  }

  /** The credentials in a valid token; null for a forged, malformed or expired one. */
  async verify(token: string): Promise<Credentials<AuthenticatedUser> | null> {
    try {
      const { payload } = await jwtVerify(token, this.#secret, { issuer: ISSUER, algorithms: ['HS256'] });
      const id = Number(payload.sub);
      const { username } = payload;
      if (!Number.isSafeInteger(id) || typeof username !== 'string' || payload.exp === undefined) return null;
      return { user: { id, username }, expiresAt: payload.exp * 1000 };
    } catch (error) {
      if (error instanceof errors.JOSEError) return null;
      throw error;
    }
  }
}
