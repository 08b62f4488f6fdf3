import { AuthResult, LoginInput, RegisterInput } from '@streampod/protocol';
import { dummyHash, hashPassword, KdfBusyError, verifyPassword } from '../auth/passwords.js';
import { fail } from '@streampod/framework';
import { sp, type ChatCallSession } from './streampod.js';
import { toChatUser } from './users-repo.js';

/** Postgres' unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** `auth.register` and `auth.login`: the only procedures open without a token. */
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
        .returning(['id', 'username', 'displayName', 'avatarUrl', 'lastSeenAt'])
        .executeTakeFirstOrThrow()
        .catch((error: unknown) => {
          if ((error as { code?: unknown }).code === UNIQUE_VIOLATION)
            fail('CONFLICT', 'username: this username is taken');
          throw error;
        });
      return signIn(session, row);
    },
  );

  login = this.mutation(
    { input: LoginInput, output: AuthResult, public: true, description: 'Signs in with username and password.' },
    async (session, input) => {
      const row = await session.services.db
        .selectFrom('users')
        .select(['id', 'username', 'displayName', 'avatarUrl', 'lastSeenAt', 'passwordHash'])
        .where('usernameKey', '=', input.username.toLowerCase())
        .executeTakeFirst();
      // Verify against a dummy hash for unknown users, so response time does not tell who exists.
      const ok = await kdf(async () => verifyPassword(input.password, row?.passwordHash ?? (await dummyHash())));
      if (row === undefined || !ok) fail('UNAUTHORIZED', 'wrong username or password');
      return signIn(session, row);
    },
  );
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

async function signIn(session: ChatCallSession, row: Parameters<typeof toChatUser>[0]) {
  const token = await session.services.tokens.issue({ id: row.id, username: row.username });
  session.log.info({ userId: row.id }, 'signed in');
  return { token, user: toChatUser(row) };
}
