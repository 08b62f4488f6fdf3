import { ChatUser } from '@streampod/protocol';
import { fail } from '@streampod/framework';
import { sp } from './streampod.js';
import { findUserById, toChatUser } from './users-repo.js';

/** `users.*`: who the caller is. */
export class UsersEndpoint extends sp.Endpoint {
  me = this.query({ output: ChatUser, description: 'The signed-in user.' }, async (session) => {
    const row = await findUserById(session.services.db, session.userId);
    return row === undefined ? fail('UNAUTHORIZED', 'this account no longer exists') : toChatUser(row);
  });
}
