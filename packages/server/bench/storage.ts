/**
 * Storing a message: server CPU per `chat.sendMessage` (one statement for the membership
 * check and the idempotent insert with the room's next seq, shared by sends that come at
 * once; then the broadcast), and stored-and-broadcast messages per second, on the embedded
 * database and on PostgreSQL, one room and 100 rooms. The baseline, in the same
 * run on the same database, is the floor: a plain one-row INSERT of the same content.
 *
 * In-process (PGlite runs in this process, so process CPU is the server's), without the
 * WebSocket layer: the wire's cost is the fan-out benchmarks' subject.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@streampod/framework';
import { sql, type Kysely } from 'kysely';
import { TokenService } from '../src/auth/tokens.js';
import { createAppServices } from '../src/app/services.js';
import { openDatabase, type Database, type DB } from '../src/db/index.js';
import { createTestPostgres } from '../src/testing/postgres.js';
import { median } from './stats.js';

const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 1_000);
const ROUNDS = 3;

async function setUp(database: Database, rooms: number) {
  const app = await createAppServices({
    nodeId: 'bench',
    db: database.db,
    log: createLogger('silent'),
    tokens: new TokenService({ secret: new Uint8Array(32) }),
    concurrentWrites: database.kind === 'pglite' ? 1 : 4,
  });
  const users: number[] = [];
  for (let i = 0; i < 2; i++) {
    const name = `bench_${randomUUID().slice(0, 8)}`;
    const row = await database.db
      .insertInto('users')
      .values({ username: name, usernameKey: name, displayName: name, passwordHash: 'x' })
      .returning('id')
      .executeTakeFirstOrThrow();
    users.push(row.id);
  }
  const [a = 0, b = 0] = users;
  const roomIds: number[] = [];
  for (let i = 0; i < rooms; i++) {
    roomIds.push((await app.services.chat.createRoom(a, { name: `room ${i}`, memberIds: [b] })).id);
  }
  await sql`create table if not exists bench_rows (id serial primary key, room_id integer, content text)`.execute(
    database.db,
  );
  return { app, sender: a, roomIds };
}

/** Runs `one(i)` `count` times, `inFlight` at a time; returns CPU µs and wall ms per call. */
async function measure(count: number, inFlight: number, one: (i: number) => Promise<unknown>) {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await one(next++);
    }),
  );
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;
  return { cpuUs: (used.user + used.system) / count, perSecond: (count * 1000) / wall };
}

function plainInsert(db: Kysely<DB>, roomId: number, content: string) {
  return sql`insert into bench_rows (room_id, content) values (${roomId}, ${content})`.execute(db);
}

async function run(label: string, database: Database, opts: { rooms: number; inFlight: number }) {
  const { app, sender, roomIds } = await setUp(database, opts.rooms);
  const chat = app.services.chat;
  const send = (i: number) =>
    chat.sendMessage(sender, {
      roomId: roomIds[i % roomIds.length]!,
      content: `message ${i}`,
      clientMessageId: randomUUID(),
    });
  const floor = (i: number) => plainInsert(database.db, roomIds[i % roomIds.length]!, `message ${i}`);
  // Warm up both paths (JIT, the database's plan cache), then alternate them per round.
  await measure(200, opts.inFlight, send);
  await measure(200, opts.inFlight, floor);
  const sends: { cpuUs: number; perSecond: number }[] = [];
  const floors: { cpuUs: number; perSecond: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    sends.push(await measure(MESSAGES, opts.inFlight, send));
    floors.push(await measure(MESSAGES, opts.inFlight, floor));
  }
  await app.close();
  const s = { cpuUs: median(sends.map((x) => x.cpuUs)), perSecond: median(sends.map((x) => x.perSecond)) };
  const f = { cpuUs: median(floors.map((x) => x.cpuUs)), perSecond: median(floors.map((x) => x.perSecond)) };
  console.log(
    `${label.padEnd(34)} sendMessage ${(s.cpuUs / 1000).toFixed(2)} ms CPU, ${s.perSecond.toFixed(0)}/s   ` +
      `plain insert ${(f.cpuUs / 1000).toFixed(2)} ms CPU, ${f.perSecond.toFixed(0)}/s   ` +
      `ratio CPU ×${(s.cpuUs / f.cpuUs).toFixed(2)}, throughput ×${(s.perSecond / f.perSecond).toFixed(2)}`,
  );
}

export async function runStorageBench(): Promise<boolean> {
  console.log(`storage: ${MESSAGES} messages per round, ${ROUNDS} rounds (median), baseline a plain one-row INSERT\n`);
  const embedded = await openDatabase({ dataDir: 'memory' });
  await run('PGlite, one room, one at a time', embedded, { rooms: 1, inFlight: 1 });
  await run('PGlite, 100 rooms, 32 in flight', embedded, { rooms: 100, inFlight: 32 });
  await embedded.close();
  await using pg = await createTestPostgres();
  const postgres = await openDatabase({ url: pg.url });
  await run('PostgreSQL, one room, 32 in flight', postgres, { rooms: 1, inFlight: 32 });
  await run('PostgreSQL, 100 rooms, 32 in flight', postgres, { rooms: 100, inFlight: 32 });
  await postgres.close();
  return true;
}
