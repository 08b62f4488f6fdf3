import type { RedisCommands } from '../redis/redis-link.js';
import { defineScript, luaNowMs } from '../redis/scripts.js';
import type { TypingExpiry, TypingStore } from './typing-store.js';

/**
 * One room's typers: a hash of `u<userId>` → when it ends (ms, Redis' clock) and `v`, the
 * room's version, which a new key starts at the clock so it never goes back.
 * ARGV[1] operation, ARGV[2] user field, ARGV[3] ttl (start).
 * Replies: start → {started, version}; stop → {stopped, version}; expire → {0 gone | 1
 * expired | 2 typing, version or remaining ms}.
 */
const TYPING = {
  name: 'spTyping',
  keys: 1,
  lua: `${luaNowMs}
local key = KEYS[1]
local op = ARGV[1]
local field = ARGV[2]
local function bump()
  if redis.call('HEXISTS', key, 'v') == 1 then return redis.call('HINCRBY', key, 'v', 1) end
  redis.call('HSET', key, 'v', now)
  return now
end
local function version()
  return tonumber(redis.call('HGET', key, 'v') or '0')
end
local ends = tonumber(redis.call('HGET', key, field) or '0')
if op == 'start' then
  local ttl = tonumber(ARGV[3])
  redis.call('HSET', key, field, now + ttl)
  local started = 0
  local v = version()
  if ends <= now then started = 1; v = bump() end
  local pttl = redis.call('PTTL', key)
  if pttl < ttl * 4 then redis.call('PEXPIRE', key, ttl * 4) end
  return {started, v}
elseif op == 'stop' then
  if ends == 0 then return {0, version()} end
  redis.call('HDEL', key, field)
  return {1, bump()}
else
  if ends == 0 then return {0, 0} end
  if ends > now then return {2, ends - now} end
  redis.call('HDEL', key, field)
  return {1, bump()}
end`,
};

export interface RedisTypingStoreOptions {
  commands: RedisCommands;
  /** @default 'sp:' */
  prefix?: string;
}

/** Typing in Redis: one hash per room (hash-tagged, so each change is one atomic script), one set of rooms per user. */
export class RedisTypingStore implements TypingStore {
  readonly #commands: RedisCommands;
  readonly #prefix: string;
  readonly #script: (keys: string[], args: (string | number)[]) => Promise<unknown>;

  constructor(opts: RedisTypingStoreOptions) {
    this.#commands = opts.commands;
    this.#prefix = opts.prefix ?? 'sp:';
    this.#script = defineScript(opts.commands, TYPING);
  }

  async start(input: {
    roomId: number;
    userId: number;
    ttlMs: number;
  }): Promise<{ started: boolean; version: number }> {
    const [started, version] = (await this.#script(
      [this.#roomKey(input.roomId)],
      ['start', `u${input.userId}`, input.ttlMs],
    )) as [number, number];
    const userKey = this.#userKey(input.userId);
    await this.#commands.sadd(userKey, String(input.roomId));
    await this.#commands.pexpire(userKey, input.ttlMs * 4);
    return { started: started === 1, version };
  }

  async stop(input: { roomId: number; userId: number }): Promise<{ stopped: boolean; version: number }> {
    const [stopped, version] = (await this.#script([this.#roomKey(input.roomId)], ['stop', `u${input.userId}`])) as [
      number,
      number,
    ];
    await this.#commands.srem(this.#userKey(input.userId), String(input.roomId));
    return { stopped: stopped === 1, version };
  }

  async expire(input: { roomId: number; userId: number }): Promise<TypingExpiry> {
    const [state, value] = (await this.#script([this.#roomKey(input.roomId)], ['expire', `u${input.userId}`])) as [
      number,
      number,
    ];
    if (state === 0) return { state: 'gone' };
    if (state === 2) return { state: 'typing', remainingMs: value };
    await this.#commands.srem(this.#userKey(input.userId), String(input.roomId));
    return { state: 'expired', version: value };
  }

  async roomsOf(userId: number): Promise<number[]> {
    return (await this.#commands.smembers(this.#userKey(userId))).map(Number);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  #roomKey(roomId: number): string {
    return `${this.#prefix}typing:{r${roomId}}`;
  }

  #userKey(userId: number): string {
    return `${this.#prefix}typing-rooms:{u${userId}}`;
  }
}
