import type { Migration } from 'kysely/migration';
import { migration0001Users } from './0001-users.js';
import { migration0002Chat } from './0002-chat.js';
import { migration0003RoomOrder } from './0003-room-order.js';
import { migration0004JoinPoint } from './0004-join-point.js';
import { migration0005Settings } from './0005-settings.js';
import { migration0006TokenRevocation } from './0006-token-revocation.js';
import { migration0007RefreshTokens } from './0007-refresh-tokens.js';

/**
 * Every migration, keyed by name. Kysely applies them in key order, so names start with a
 * zero-padded sequence number; a name must never change once released.
 */
export const migrations: Record<string, Migration> = {
  '0001-users': migration0001Users,
  '0002-chat': migration0002Chat,
  '0003-room-order': migration0003RoomOrder,
  '0004-join-point': migration0004JoinPoint,
  '0005-settings': migration0005Settings,
  '0006-token-revocation': migration0006TokenRevocation,
  '0007-refresh-tokens': migration0007RefreshTokens,
};
