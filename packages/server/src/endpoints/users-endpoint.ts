import { ChatUser, ChatUserList, FindUsersInput, GetUsersInput } from '@streampod/protocol';
import { fail } from '@streampod/framework';
import { sp } from './streampod.js';
import { allowedIds } from './allowed-ids.js';
import { findUserById, findUsersByIds, findUsersByUsernames, toChatUser } from './users-repo.js';

/** `users.*`: who the caller is, who their room mates are, and who to invite. */
export class UsersEndpoint extends sp.Endpoint {
  me = this.query({ output: ChatUser, description: 'The signed-in user.' }, async (session) => {
    const row = await findUserById(session.services.db, session.userId);
    return row === undefined ? fail('UNAUTHORIZED', 'this account no longer exists') : toChatUser(row);
  });

  get = this.query(
    {
      input: GetUsersInput,
      output: ChatUserList,
      description: 'Users the caller shares a room with (and the caller), by id ascending; FORBIDDEN for anyone else.',
    },
    async (session, { userIds }) => findUsersByIds(session.services.db, await allowedIds(session, userIds)),
  );

  find = this.query(
    {
      input: FindUsersInput,
      output: ChatUserList,
      description: 'The users with these usernames (any case), to add them to a room; unknown names are left out.',
    },
    (session, { usernames }) => findUsersByUsernames(session.services.db, usernames),
  );
}
