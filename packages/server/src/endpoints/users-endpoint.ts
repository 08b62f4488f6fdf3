import { ChatUser } from '@streampod/protocol';
import { Endpoint } from '../core/endpoint.js';
import { fail } from '../core/errors.js';
import { findUserById, toChatUser } from './users-repo.js';

/** `users.*`: who the caller is. */
export class UsersEndpoint extends Endpoint {
  me = this.query({ output: ChatUser, description: 'The signed-in user.' }, async (session) => {
    const row = await findUserById(session.db, session.userId);
    return row === undefined ? fail('UNAUTHORIZED', 'this account no longer exists') : toChatUser(row);
  });
}
