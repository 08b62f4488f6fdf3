import { z } from 'zod';
import { Id, idList, Text } from './common.js';

/** A user as every other user may see them. */
export const ChatUser = z.object({
  id: Id,
  username: z.string(),
  displayName: z.string(),
  avatarUrl: z.string().optional(),
  lastSeenAt: z.date().optional(),
});
export type ChatUser = z.infer<typeof ChatUser>;

/** Login names: 3–32 of letters, digits, `_`, `.` and `-`; unique regardless of case. */
export const Username = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9_.-]+$/, { error: 'only letters, digits, "_", "." and "-"' });

export const Password = Text.min(8).max(256);

/**
 * `refresh: true` asks for a short-lived access token and a refresh token that renews it
 * (`auth.refresh`); without it, one long-lived token, as clients that know only this call expect.
 */
const WantsRefresh = z.boolean().optional();

export const RegisterInput = z.object({
  username: Username,
  password: Password,
  displayName: Text.trim().min(1).max(64).optional(),
  refresh: WantsRefresh,
});
export type RegisterInput = z.infer<typeof RegisterInput>;

export const LoginInput = z.object({
  username: Text.min(1).max(32),
  password: Text.min(1).max(256),
  refresh: WantsRefresh,
});
export type LoginInput = z.infer<typeof LoginInput>;

/** `auth.changePassword`: the current password, and the new one (every other token ends). */
export const ChangePasswordInput = z.object({ currentPassword: Text.min(1).max(256), newPassword: Password });
export type ChangePasswordInput = z.infer<typeof ChangePasswordInput>;

/**
 * What `auth.register`, `auth.login`, `auth.refresh` and `auth.changePassword` return: a bearer
 * token, when it expires, and its user; with `refresh: true` (and from `auth.refresh`), a
 * refresh token too, good for one `auth.refresh`.
 */
export const AuthResult = z.object({
  token: z.string(),
  user: ChatUser,
  expiresAt: z.date().optional(),
  refreshToken: z.string().optional(),
});
export type AuthResult = z.infer<typeof AuthResult>;

/** `auth.refresh`: a refresh token from a sign-in or the last refresh (each is good once). */
export const RefreshInput = z.object({ refreshToken: Text.min(1).max(256) });
export type RefreshInput = z.infer<typeof RefreshInput>;

export const ChatUserList = z.array(ChatUser);
export type ChatUserList = z.infer<typeof ChatUserList>;

/** `users.get`: users the caller shares a room with, by id. */
export const GetUsersInput = z.object({ userIds: idList(1000) });
export type GetUsersInput = z.infer<typeof GetUsersInput>;

/** `users.find`: users by username (any case), to add them to a room. */
export const FindUsersInput = z.object({ usernames: z.array(Text.min(1).max(32)).max(100) });
export type FindUsersInput = z.infer<typeof FindUsersInput>;
