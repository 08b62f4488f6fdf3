import type { RedisCommands } from '../redis/redis-link.js';
import { defineScript, hashOf, luaNowMs } from '../redis/scripts.js';
import { assertNodeId, changeOf, deviceKey, presenceOf, type PresenceRecord } from './presence-record.js';
import {
  allApplied,
  PresenceBatchError,
  type DeviceRef,
  type ExpiredNode,
  type ManualStatus,
  type PresenceChange,
  type PresenceStore,
  type VersionedPresence,
} from './presence-store.js';

/**
 * Applies one operation to a user's hash and returns it before and after, atomically.
 * Fields: `v` version, `m` status set by hand, `ls` last seen (ms), `d:<node>/<device>` idle (1/0).
 * ARGV: the operation, its arguments, and last the ms an offline user's record is kept.
 * The version of a new record starts at the server's clock in ms, so a record that expired
 * and came back never reuses a version a receiver has already seen.
 */
const APPLY = {
  name: 'spPresenceApply',
  keys: 1,
  lua: `${luaNowMs}
local key = KEYS[1]
local op = ARGV[1]
local before = redis.call('HGETALL', key)
local function devices()
  local n = 0
  for i = 1, #before, 2 do
    if string.sub(before[i], 1, 2) == 'd:' then n = n + 1 end
  end
  return n
end
local function count()
  local n = 0
  local all = redis.call('HKEYS', key)
  for i = 1, #all do
    if string.sub(all[i], 1, 2) == 'd:' then n = n + 1 end
  end
  return n
end
local had = devices() > 0
if op == 'set' then
  redis.call('HSET', key, 'd:' .. ARGV[2], ARGV[3])
elseif op == 'manual' then
  if had then
    if ARGV[2] == '' then redis.call('HDEL', key, 'm') else redis.call('HSET', key, 'm', ARGV[2]) end
  end
elseif op == 'seen' then
  -- ARGV[2] when: a user without devices was last seen then, unless later is known
  if not had then
    local ls = tonumber(redis.call('HGET', key, 'ls') or '0')
    if tonumber(ARGV[2]) > ls then redis.call('HSET', key, 'ls', ARGV[2]) end
  end
elseif op == 'sync' then
  -- ARGV[2] node prefix 'd:<node>/', ARGV[3] when offline, ARGV[4..#ARGV-1] field, idle pairs to keep
  local wanted = {}
  for i = 4, #ARGV - 1, 2 do wanted[ARGV[i]] = ARGV[i + 1] end
  local prefix = ARGV[2]
  for i = 1, #before, 2 do
    local f = before[i]
    if string.sub(f, 1, #prefix) == prefix and wanted[f] == nil then redis.call('HDEL', key, f) end
  end
  for f, idle in pairs(wanted) do redis.call('HSET', key, f, idle) end
end
if (op == 'remove' or op == 'sync') then
  if op == 'remove' then redis.call('HDEL', key, 'd:' .. ARGV[2]) end
  if had and count() == 0 then
    redis.call('HSET', key, 'ls', ARGV[3])
    redis.call('HDEL', key, 'm')
  end
end
local v
if redis.call('HEXISTS', key, 'v') == 1 then v = redis.call('HINCRBY', key, 'v', 1)
else v = now; redis.call('HSET', key, 'v', v) end
if count() == 0 then redis.call('PEXPIRE', key, ARGV[#ARGV]) else redis.call('PERSIST', key) end
return {before, redis.call('HGETALL', key)}`,
};

/** Renews a node's lease; returns 1 when the node was still registered. */
const RENEW = {
  name: 'spPresenceRenew',
  keys: 2,
  lua: `${luaNowMs}
local existed = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], now)
if existed then return 1 else return 0 end`,
};

/**
 * Claims the nodes to sweep: those whose lease ran out (pass 0) and expiries whose deadline
 * passed (their second sweep, or a sweep whose claimer died half-way). Each moves its
 * deadline a claim timeout ahead, so exactly one caller sweeps it at a time.
 * KEYS: leases, renewals, expiring, passes. Returns node, last renewal (ms), pass triples.
 */
const CLAIM = {
  name: 'spPresenceClaim',
  keys: 4,
  lua: `${luaNowMs}
local claimed = {}
local function claim(node, pass)
  redis.call('ZREM', KEYS[1], node)
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), node)
  table.insert(claimed, node)
  table.insert(claimed, redis.call('HGET', KEYS[2], node) or '0')
  table.insert(claimed, pass)
end
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  claim(node, tonumber(redis.call('HGET', KEYS[4], node) or '0'))
end
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do claim(node, 0) end
return claimed`,
};

/** A node leaving by itself: no lease from now on, and an expiry to sweep it (ARGV: node, when, claim timeout). */
const RELEASE = {
  name: 'spPresenceRelease',
  keys: 4,
  lua: `${luaNowMs}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], 0)
return 1`,
};

/** A sweep of a node is done (ARGV: node, its pass): after the second, the node is forgotten. */
const SWEPT = {
  name: 'spPresenceSwept',
  keys: 4,
  lua: `local pass = tonumber(ARGV[2]) + 1
if pass >= 2 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[4], ARGV[1], pass)
end
return pass`,
};

export interface RedisPresenceStoreOptions {
  commands: RedisCommands;
  /** @default 'sp:' */
  prefix?: string;
  /**
   * How long Redis keeps an offline user's record; afterwards their last seen comes from
   * the database.
   * @default 86_400_000 (a day)
   */
  offlineTtlMs?: number;
  /**
   * How long an expiry claimed by a node may take before another node takes it over.
   * @default 30_000
   */
  claimTimeoutMs?: number;
}

/**
 * Presence in Redis, shared by every node: a hash per user (its slot hash-tagged by the
 * user id, so one script changes it atomically and assigns its version), a set of each
 * node's devices, and a sorted set of node leases on Redis' own clock.
 */
export class RedisPresenceStore implements PresenceStore {
  readonly #commands: RedisCommands;
  readonly #prefix: string;
  readonly #offlineTtlMs: number;
  readonly #claimTimeoutMs: number;
  readonly #apply: (keys: string[], args: (string | number)[]) => Promise<unknown>;
  readonly #renew: (keys: string[], args: (string | number)[]) => Promise<unknown>;
  readonly #claim: (keys: string[], args: (string | number)[]) => Promise<unknown>;
  readonly #release: (keys: string[], args: (string | number)[]) => Promise<unknown>;
  readonly #swept: (keys: string[], args: (string | number)[]) => Promise<unknown>;

  constructor(opts: RedisPresenceStoreOptions) {
    this.#commands = opts.commands;
    this.#prefix = opts.prefix ?? 'sp:';
    this.#offlineTtlMs = opts.offlineTtlMs ?? 86_400_000;
    this.#claimTimeoutMs = opts.claimTimeoutMs ?? 30_000;
    this.#apply = defineScript(opts.commands, APPLY);
    this.#renew = defineScript(opts.commands, RENEW);
    this.#claim = defineScript(opts.commands, CLAIM);
    this.#release = defineScript(opts.commands, RELEASE);
    this.#swept = defineScript(opts.commands, SWEPT);
  }

  async setDevice(device: DeviceRef & { idle: boolean }): Promise<PresenceChange> {
    assertNodeId(device.nodeId);
    // The node's index first: a crash between the two leaves an entry an expiry ignores.
    await this.#commands.sadd(this.#nodeKey(device.nodeId), `${device.userId} ${device.deviceId}`);
    return this.#run(device.userId, ['set', deviceKey(device.nodeId, device.deviceId), device.idle ? '1' : '0']);
  }

  async removeDevice(device: DeviceRef & { at: Date }): Promise<PresenceChange> {
    const change = await this.#run(device.userId, [
      'remove',
      deviceKey(device.nodeId, device.deviceId),
      device.at.getTime(),
    ]);
    await this.#commands.srem(this.#nodeKey(device.nodeId), `${device.userId} ${device.deviceId}`);
    return change;
  }

  setManualStatus(userId: number, status: ManualStatus | null): Promise<PresenceChange> {
    return this.#run(userId, ['manual', status ?? '']);
  }

  markSeen(input: { userId: number; at: Date }): Promise<PresenceChange> {
    return this.#run(input.userId, ['seen', input.at.getTime()]);
  }

  async get(userIds: readonly number[]): Promise<Map<number, VersionedPresence>> {
    const replies = await Promise.all(userIds.map((id) => this.#commands.hgetall(this.#userKey(id))));
    const found = new Map<number, VersionedPresence>();
    userIds.forEach((id, i) => {
      const hash = replies[i];
      if (hash === undefined || Object.keys(hash).length === 0) return;
      const map = new Map(Object.entries(hash));
      found.set(id, { presence: presenceOf(id, recordOf(map)), version: Number(map.get('v') ?? 0) });
    });
    return found;
  }

  async renewLease(nodeId: string, leaseMs: number): Promise<boolean> {
    assertNodeId(nodeId);
    return (await this.#renew([this.#leasesKey, this.#renewedKey], [nodeId, leaseMs])) === 1;
  }

  async expireNodes(): Promise<ExpiredNode[]> {
    const reply = (await this.#claim(this.#registryKeys, [this.#claimTimeoutMs])) as (string | number)[] | null;
    const expired: ExpiredNode[] = [];
    for (let i = 0; reply !== null && i + 2 < reply.length; i += 3) {
      const nodeId = String(reply[i]);
      const lastRenewedAt = new Date(Number(reply[i + 1]));
      let changes: PresenceChange[];
      try {
        changes = await this.#dropNode(nodeId, lastRenewedAt);
      } catch (error) {
        // Left claimed: another sweep takes it over after the claim timeout.
        if (!(error instanceof PresenceBatchError)) throw error;
        expired.push({ nodeId, lastRenewedAt, changes: error.changes });
        continue;
      }
      await this.#swept(this.#registryKeys, [nodeId, Number(reply[i + 2])]);
      expired.push({ nodeId, lastRenewedAt, changes });
    }
    return expired;
  }

  async syncNode(input: {
    nodeId: string;
    devices: readonly (DeviceRef & { idle: boolean })[];
    at: Date;
  }): Promise<PresenceChange[]> {
    assertNodeId(input.nodeId);
    const nodeKey = this.#nodeKey(input.nodeId);
    const wanted = new Map<number, (string | number)[]>();
    const members = input.devices.map((d) => `${d.userId} ${d.deviceId}`);
    for (const d of input.devices) {
      let pairs = wanted.get(d.userId);
      if (pairs === undefined) wanted.set(d.userId, (pairs = []));
      pairs.push(`d:${deviceKey(input.nodeId, d.deviceId)}`, d.idle ? '1' : '0');
    }
    if (members.length > 0) await this.#commands.sadd(nodeKey, ...members);
    const indexed = await this.#commands.smembers(nodeKey);
    const users = new Set([...wanted.keys(), ...indexed.map((m) => Number(m.slice(0, m.indexOf(' '))))]);
    const changes = await allApplied(
      [...users].map((userId) =>
        this.#run(userId, ['sync', `d:${input.nodeId}/`, input.at.getTime(), ...(wanted.get(userId) ?? [])]),
      ),
    );
    const keep = new Set(members);
    const stale = indexed.filter((m) => !keep.has(m));
    if (stale.length > 0) await this.#commands.srem(nodeKey, ...stale);
    return changes;
  }

  async releaseNode(nodeId: string, at: Date): Promise<PresenceChange[]> {
    await this.#release(this.#registryKeys, [nodeId, at.getTime(), this.#claimTimeoutMs]);
    const changes = await this.#dropNode(nodeId, at);
    await this.#swept(this.#registryKeys, [nodeId, 0]);
    return changes;
  }

  close(): Promise<void> {
    // The link belongs to whoever opened it.
    return Promise.resolve();
  }

  /** Removes every device of the node; index entries go only once their user is done. */
  async #dropNode(nodeId: string, at: Date): Promise<PresenceChange[]> {
    const nodeKey = this.#nodeKey(nodeId);
    const members = await this.#commands.smembers(nodeKey);
    const byUser = new Map<number, string[]>();
    for (const m of members) {
      const userId = Number(m.slice(0, m.indexOf(' ')));
      byUser.set(userId, [...(byUser.get(userId) ?? []), m]);
    }
    return allApplied(
      [...byUser].map(async ([userId, entries]) => {
        const change = await this.#run(userId, ['sync', `d:${nodeId}/`, at.getTime()]);
        await this.#commands.srem(nodeKey, ...entries);
        return change;
      }),
    );
  }

  async #run(userId: number, args: (string | number)[]): Promise<PresenceChange> {
    const reply = (await this.#apply([this.#userKey(userId)], [...args, this.#offlineTtlMs])) as [unknown, unknown];
    const before = hashOf(reply[0]);
    const after = hashOf(reply[1]);
    return changeOf({
      userId,
      before: before.size === 0 ? undefined : recordOf(before),
      after: recordOf(after),
      version: Number(after.get('v')),
    });
  }

  #userKey(userId: number): string {
    return `${this.#prefix}presence:{u${userId}}`;
  }

  #nodeKey(nodeId: string): string {
    return `${this.#prefix}node-devices:{n${nodeId}}`;
  }

  get #registryKeys(): string[] {
    return [this.#leasesKey, this.#renewedKey, this.#expiringKey, `${this.#prefix}nodes-pass:{registry}`];
  }

  get #leasesKey(): string {
    return `${this.#prefix}nodes:{registry}`;
  }

  get #renewedKey(): string {
    return `${this.#prefix}nodes-renewed:{registry}`;
  }

  get #expiringKey(): string {
    return `${this.#prefix}nodes-expiring:{registry}`;
  }
}

function recordOf(hash: Map<string, string>): PresenceRecord {
  const devices = new Map<string, boolean>();
  for (const [field, value] of hash) if (field.startsWith('d:')) devices.set(field.slice(2), value === '1');
  const manual = hash.get('m');
  const lastSeen = hash.get('ls');
  return {
    devices,
    manual: manual === 'away' || manual === 'busy' ? manual : null,
    lastSeen: lastSeen === undefined ? null : new Date(Number(lastSeen)),
  };
}
