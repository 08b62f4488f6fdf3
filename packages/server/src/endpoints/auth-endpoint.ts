import { AuthResult, ChangePasswordInput, LoginInput, RefreshInput, RegisterInput } from '@streampod/protocol';
import { z } from 'zod';
import type { AuthenticatedUser } from '../auth/tokens.js';
import { dummyHash, hashPassword, KdfBusyError, verifyPassword } from '../auth/passwords.js';
import { fail, type Credentials } from '@streampod/framework';
import { sp, type ChatCallSession } from './streampod.js';
import { toChatUser } from './users-repo.js';

/** Postgres' unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** `auth.*`: accounts and tokens; `register` and `login` are the only procedures open without a token. */
export class AuthEndpoint extends sp.Endpoint {
  register = this.mutation(
    { input: RegisterInput, output: AuthResult, public: true, description: 'Creates an account and signs it in.' },
    async (session, input) => {
      const usernameKey = input.username.toLowerCase();
      // Checked before the costly hash; the unique index still settles a race.
      const taken = await session.services.db
        .selectFrom('users')
        .select('id')
        .where('usernameKey', '=', usernameKey)
        .executeTakeFirst();
      if (taken !== undefined) fail('CONFLICT', 'username: this username is taken');
      const passwordHash = await kdf(() => hashPassword(input.password));
      const row = await session.services.db
        .insertInto('users')
        .values({
          username: input.username,
          usernameKey,
          displayName: input.displayName ?? input.username,
          passwordHash,
        })
        .returning(['id', 'username', 'displayName', 'avatarUrl', 'lastSeenAt', 'tokenEpoch'])
        .executeTakeFirstOrThrow()
        .catch((error: unknown) => {
          if ((error as { code?: unknown }).code === UNIQUE_VIOLATION)
            fail('CONFLICT', 'username: this username is taken');
          throw error;
        });
      return signIn(session, row, { refresh: input.refresh === true });
    },
  );

  login = this.mutation(
    { input: LoginInput, output: AuthResult, public: true, description: 'Signs in with username and password.' },
    async (session, input) => {
      const row = await session.services.db
        .selectFrom('users')
        .select(['id', 'username', 'displayName', 'avatarUrl', 'lastSeenAt', 'passwordHash', 'tokenEpoch'])
        .where('usernameKey', '=', input.username.toLowerCase())
        .executeTakeFirst();
      // Verify against a dummy hash for unknown users, so response time does not tell who exists.
      const ok = await kdf(async () => verifyPassword(input.password, row?.passwordHash ?? (await dummyHash())));
      if (row === undefined || !ok) {
        session.log.info({ remote: session.connection.remoteAddress }, 'sign-in refused: wrong username or password');
        fail('UNAUTHORIZED', 'wrong username or password');
      }
      return signIn(session, row, { refresh: input.refresh === true });
    },
  );

  refresh = this.mutation(
    {
      input: RefreshInput,
      output: AuthResult,
      public: true,
      description:
        'Trades a refresh token (good once) for a new access token and refresh token; called on a WebSocket of the same user, that socket takes the new token.',
    },
    async (session, input) => {
      const claimed = await session.services.auth.refresh(input.refreshToken);
      if (claimed === null)
        fail('UNAUTHORIZED', 'refreshToken: unknown, expired, signed out or already used; sign in again');
      const row = await session.services.db
        .selectFrom('users')
        .select(['id', 'username', 'displayName', 'avatarUrl', 'lastSeenAt'])
        .where('id', '=', claimed.user.id)
        .executeTakeFirstOrThrow();
      // At the epoch the claim checked: a sign-out everywhere since voids these tokens too.
      const result = await signIn(
        session,
        { ...row, tokenEpoch: claimed.user.tokenEpoch },
        { session: claimed.session },
      );
      // Only a token that still stands (nothing signed it out meanwhile) moves the socket on.
      const credentials = await session.services.auth.verify(result.token);
      if (credentials !== null) session.renew(credentials);
      return result;
    },
  );

  logout = this.mutation(
    { output: z.void(), description: "Signs this call's token out: its connections close on every node." },
    async (session) => session.services.auth.announce(await session.services.auth.logout(credentialsOf(session))),
  );

  logoutEverywhere = this.mutation(
    { output: z.void(), description: "Signs every token of the caller's out, this one included, on every node." },
    async (session) => session.services.auth.announce(await session.services.auth.endAllTokens(session.userId)),
  );

  changePassword = this.mutation(
    {
      input: ChangePasswordInput,
      output: AuthResult,
      description: 'Sets a new password; every other token of the caller ends. Returns a fresh token for this client.',
    },
    async (session, input) => {
      const row = await session.services.db
        .selectFrom('users')
        .select(['id', 'username', 'displayName', 'avatarUrl', 'lastSeenAt', 'passwordHash'])
        .where('id', '=', session.userId)
        .executeTakeFirst();
      if (row === undefined) return fail('UNAUTHORIZED', 'this account no longer exists');
      if (!(await kdf(() => verifyPassword(input.currentPassword, row.passwordHash))))
        fail('FORBIDDEN', 'currentPassword: wrong password');
      const passwordHash = await kdf(() => hashPassword(input.newPassword));
      const revocation = await session.services.auth.endAllTokens(row.id, passwordHash);
      // The new token is of the same kind as the one that asked: with refresh, or long-lived.
      const refresh = session.connection.credentials?.user.session !== undefined;
      const result = await signIn(session, { ...row, tokenEpoch: revocation.epoch }, { refresh });
      session.services.auth.announce(revocation);
      return result;
    },
  );
}

/** The credentials the call came with (a signed-in call always has them). */
function credentialsOf(session: ChatCallSession): Credentials<AuthenticatedUser> {
  const credentials = session.connection.credentials;
  return credentials ?? fail('UNAUTHORIZED', 'a valid token is required');
}

/** Runs a password hash, turning "too busy" into TOO_MANY_REQUESTS. */
async function kdf<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof KdfBusyError) fail('TOO_MANY_REQUESTS', error.message);
    throw error;
  }
}

async function signIn(
  session: ChatCallSession,
  row: Parameters<typeof toChatUser>[0] & { tokenEpoch: number },
  opts: { refresh?: boolean; session?: string } = {},
): Promise<AuthResult> {
  const issued = await session.services.auth.issue(row, opts);
  session.log.info({ userId: row.id, refresh: opts.session !== undefined || opts.refresh === true }, 'signed in');
  return { ...issued, user: toChatUser(row) };
}
