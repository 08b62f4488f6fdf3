import type { RedisCommands } from './redis-link.js';

/** A Lua script run atomically on the shard of its keys (all of one hash slot). */
export interface LuaScript {
  readonly name: string;
  readonly keys: number;
  readonly lua: string;
}

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** Registers `script` on `commands` once (EVALSHA, loaded again after a Redis restart) and returns its caller. */
export function defineScript(
  commands: RedisCommands,
  script: LuaScript,
): (keys: string[], args: (string | number)[]) => Promise<unknown> {
  const registry = commands as unknown as Record<string, ScriptCall | undefined>;
  if (registry[script.name] === undefined) {
    commands.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua });
  }
  return (keys, args) => {
    if (keys.length !== script.keys) throw new Error(`${script.name} takes ${script.keys} keys`);
    return (registry[script.name] as ScriptCall)(...keys, ...args);
  };
}

/** Redis server time in ms, inside a script: one clock for every node. */
export const luaNowMs = `local __t = redis.call('TIME')
local now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)`;

/** `HGETALL`'s flat reply as a map. */
export function hashOf(reply: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (!Array.isArray(reply)) return map;
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
  return map;
}
