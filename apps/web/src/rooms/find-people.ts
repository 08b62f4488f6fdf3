import type { ChatUser, StreampodClient } from '@streampod/client';

/** "alice, bob carol" → ['alice', 'bob', 'carol']: commas, spaces or new lines between names; a leading @ is fine. */
export function parseUsernames(text: string): string[] {
  const names = text
    .split(/[\s,;]+/)
    .map((name) => name.replace(/^@/, '').trim())
    .filter((name) => name !== '');
  return [...new Map(names.map((name) => [name.toLowerCase(), name])).values()];
}

export type FoundPeople = { ok: true; users: ChatUser[] } | { ok: false; message: string };

/** The users with these usernames; when some do not exist, a sentence naming them. */
export async function findPeople(client: StreampodClient, usernames: readonly string[]): Promise<FoundPeople> {
  if (usernames.length === 0) return { ok: true, users: [] };
  const users = await client.users.find({ usernames: [...usernames] });
  const found = new Set(users.map((user) => user.username.toLowerCase()));
  const missing = usernames.filter((name) => !found.has(name.toLowerCase()));
  if (missing.length > 0) {
    const list = missing.map((name) => `“${name}”`).join(', ');
    return { ok: false, message: missing.length === 1 ? `No user named ${list}.` : `No users named ${list}.` };
  }
  return { ok: true, users };
}
