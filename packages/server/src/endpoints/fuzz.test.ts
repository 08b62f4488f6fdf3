import { RawWsClient, stockHttpClient } from '@streampod/framework/testing';
import { TRPCClientError } from '@trpc/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEndpoints } from '../app/endpoints.js';
import { createRoom, send } from '../testing/chat-helpers.js';
import { connectDevice, registerUser } from '../testing/presence-helpers.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';
import { sp } from './streampod.js';

/** Cases per run, over every query and mutation of the contract (CI runs them all). */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);

/** What a bad input may be answered with: never INTERNAL_SERVER_ERROR. */
const DOCUMENTED = new Set([
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'TOO_MANY_REQUESTS',
  'PAYLOAD_TOO_LARGE',
]);

let server: ChatTestServer;
beforeAll(async () => {
  server = await startChatTestServer();
});
afterAll(async () => {
  await server.close();
});

/**
 * Field names of the contract's inputs. Those prototype pollution uses (`__proto__`,
 * `constructor`, `prototype`) the stock client refuses to send: the hostile frames send them raw.
 */
const FIELDS = [
  'roomId',
  'userIds',
  'content',
  'clientMessageId',
  'messageId',
  'emoji',
  'name',
  'memberIds',
  'username',
  'password',
  'displayName',
  'status',
  'limit',
  'beforeMessageId',
  'removed',
  'type',
  'isTyping',
  'subscribe',
  'usernames',
  'currentPassword',
  'newPassword',
  'mediaUrl',
  'replyToMessageId',
  'messageType',
];

/** Values that probe types, ranges and text: numbers at the edges, odd strings, nesting. */
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER, 1.5, -0),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('', '\u0000', '\uD800', 'a'.repeat(20_000), 'online', 'busy', 'typing', '👍', 'http://x'),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** An input: mostly objects with the contract's field names, sometimes anything at all. */
const input = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 }) },
  { weight: 1, arbitrary: value },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

describe('fuzzing every query and mutation of the contract', () => {
  it(`answers ${RUNS} generated inputs with data or a documented error, never a 500; the process and other clients go on`, async () => {
    const alice = await registerUser(server, 'fuzzer');
    const bob = await registerUser(server, 'watcher');
    await using a = await connectDevice(server, alice.token);
    await using b = await connectDevice(server, bob.token);
    const room = await createRoom(a, { name: 'fuzzed', memberIds: [bob.id] });
    const http = stockHttpClient(server.url, alice.token);
    // Signing out takes no input, and would end the fuzzer's own session: nothing to fuzz there.
    const procedures = sp
      .describe(appEndpoints)
      .filter((p) => p.kind !== 'subscription' && p.path !== 'auth.logout' && p.path !== 'auth.logoutEverywhere')
      .map((p) => ({ path: p.path, kind: p.kind }));
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const codes = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...procedures), input, fc.boolean(), async (procedure, raw, overHttp) => {
        // A query travels in the URL over HTTP: a big one goes over the WebSocket, as a stock
        // client with `maxURLLength` would send it (Node refuses a request line that long with 431).
        const viaHttp = overHttp && !(procedure.kind === 'query' && (JSON.stringify(raw) ?? '').length > 4_000);
        const client = viaHttp ? http : a;
        const call =
          procedure.kind === 'query' ? client.query(procedure.path, raw) : client.mutation(procedure.path, raw);
        try {
          await call;
          codes.set('ok', (codes.get('ok') ?? 0) + 1);
        } catch (error) {
          if (!(error instanceof TRPCClientError)) throw error;
          const data = error.data as { code?: unknown } | undefined;
          const code = String(data?.code);
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (!DOCUMENTED.has(code))
            throw new Error(`${procedure.path} answered ${code}: ${error.message}`, { cause: error });
        }
      }),
      { numRuns: RUNS, seed: Number(process.env['FUZZ_SEED'] ?? 42) },
    );

    if (process.env['FUZZ_REPORT'] !== undefined) console.log(Object.fromEntries(codes));
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // Most cases are refused, and some get through: the generator reaches past validation.
    expect(codes.get('BAD_REQUEST') ?? 0).toBeGreaterThan(RUNS / 4);
    expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
    // The fuzzer's own connection and another user's still work.
    expect(await send(b, room.id, 'after the storm')).toMatchObject({ content: 'after the storm' });
    expect(await a.query('users.me')).toMatchObject({ id: alice.id });
  }, 600_000);

  it('answers hand-written hostile frames below tRPC with errors or close codes, and a control connection gets every message', async () => {
    const watcher = await registerUser(server, 'control');
    await using control = await connectDevice(server, watcher.token);
    const sender = await registerUser(server, 'sender');
    await using s = await connectDevice(server, sender.token);
    const room = await createRoom(s, { name: 'control', memberIds: [watcher.id] });
    // The hostile sockets sign in as a user of their own: their frames may well sign it out.
    const hostile = await registerUser(server, 'hostile');
    const received: string[] = [];
    const errors: string[] = [];
    const sub = control.subscription('chat.stream', undefined, {
      onError: (error) => errors.push(error.message),
      onData: (data) => {
        const event = (data as { data: { type: string; content?: string } }).data;
        if (event.type === 'message' && event.content !== undefined) received.push(event.content);
      },
    });
    const frames = hostileFrames();
    expect(frames.length).toBeGreaterThanOrEqual(200);
    let sent = 0;
    for (const [i, frame] of frames.entries()) {
      const raw = await RawWsClient.connect(server.wsUrl, i % 2 === 0 ? hostile.token : undefined);
      raw.send(frame);
      // A well-formed call after it: answered unless the frame closed the socket (its right).
      raw.send({ id: 'after', method: 'query', params: { path: 'users.me' } });
      const outcome = await Promise.race([raw.frame('after').then(() => 'answered'), raw.closed.then(() => 'closed')]);
      expect(['answered', 'closed']).toContain(outcome);
      await raw[Symbol.asyncDispose]();
      if (i % 2 === 0) await send(s, room.id, `control ${++sent}`);
    }
    expect(errors).toEqual([]);
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(sent);
    expect(received).toEqual(Array.from({ length: sent }, (_, k) => `control ${k + 1}`));
    sub.unsubscribe();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  });

  it('answers 44 prototype-pollution inputs over WebSocket and HTTP without a 500, and Object.prototype stays as it was', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const user = await registerUser(server, 'polluter');
    const codes: string[] = [];
    for (const { path, type } of POLLUTED_PROCEDURES) {
      for (const input of POLLUTING_INPUTS) {
        await using raw = await RawWsClient.connect(server.wsUrl, user.token);
        raw.send(`{"id":1,"method":"${type}","params":{"path":"${path}","input":${input}}}`);
        codes.push(codeOf(await raw.frame(1)));
        const url = `${server.url}/trpc/${path}`;
        const headers = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
        const response =
          type === 'query'
            ? await fetch(`${url}?input=${encodeURIComponent(input)}`, { headers })
            : await fetch(url, { method: 'POST', headers, body: input });
        codes.push(codeOf(await response.json()));
      }
    }
    expect(codes).toHaveLength(2 * POLLUTED_PROCEDURES.length * POLLUTING_INPUTS.length);
    expect(codes).not.toContain('INTERNAL_SERVER_ERROR');
    expect(codes).not.toContain('unknown');
    // Most are refused for their shape; none is taken for more than its own fields.
    expect(codes.filter((code) => code === 'BAD_REQUEST').length).toBeGreaterThan(codes.length / 2);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

/**
 * Inputs that try to reach `Object.prototype`: through `__proto__`, `constructor.prototype`
 * and `prototype` keys at several depths, and through superjson's meta paths. As raw JSON
 * text: an object literal with `__proto__` would set the prototype, not send the key.
 */
const POLLUTING_INPUTS = [
  '{"json":{"__proto__":{"polluted":1}}}',
  '{"json":{"constructor":{"prototype":{"polluted":1}}}}',
  '{"json":{"prototype":{"polluted":1}}}',
  '{"json":{"__proto__":{"__proto__":{"polluted":1}}}}',
  '{"json":[{"__proto__":{"polluted":1}}]}',
  '{"json":{"roomId":1,"content":"x","clientMessageId":"p","__proto__":{"polluted":1}}}',
  '{"json":{"name":"n","memberIds":[],"constructor":{"prototype":{"polluted":1}}}}',
  '{"json":{"x":1},"meta":{"values":{"__proto__":["undefined"]}}}',
  '{"json":{"x":1},"meta":{"values":{"__proto__.polluted":["undefined"]}}}',
  '{"json":{"x":1},"meta":{"values":{"constructor.prototype.polluted":["undefined"]}}}',
  '{"json":{"x":1},"meta":{"referentialEqualities":{"x":["__proto__.polluted"]}}}',
];
/** The error code of a tRPC reply (errors travel superjson-wrapped, as `{ error: { json } }`), or `OK`. */
function codeOf(reply: unknown): string {
  const error = (reply as { error?: { json?: { data?: { code?: string } } } }).error;
  return error === undefined ? 'OK' : (error.json?.data?.code ?? 'unknown');
}

const POLLUTED_PROCEDURES = [
  { path: 'chat.sendMessage', type: 'mutation' },
  { path: 'chat.createRoom', type: 'mutation' },
  { path: 'presence.setStatus', type: 'mutation' },
  { path: 'users.find', type: 'query' },
] as const;

/** Frames a stock client never sends: broken JSON, wrong shapes, odd ids, pollution attempts. */
function hostileFrames(): string[] {
  const frames = [
    '',
    '{',
    '[',
    'null',
    'true',
    '0',
    '"text"',
    '[]',
    '{}',
    '[[]]',
    '[null]',
    'PING PONG',
    '\u0000',
    '\uD800',
    '{"id":1}',
    '{"method":"query"}',
    '{"id":1,"method":"query"}',
    '{"id":1,"method":"query","params":null}',
    '{"id":1,"method":"query","params":{}}',
    '{"id":1,"method":"query","params":{"path":""}}',
    '{"id":1,"method":"query","params":{"path":"nope.nope"}}',
    '{"id":1,"method":"query","params":{"path":"__proto__"}}',
    '{"id":1,"method":"query","params":{"path":"constructor.prototype"}}',
    '{"id":1,"method":"subscription.stop"}',
    '{"id":{},"method":"query","params":{"path":"users.me"}}',
    '{"id":[1],"method":"query","params":{"path":"users.me"}}',
    '{"id":1e309,"method":"query","params":{"path":"users.me"}}',
    '{"id":1,"method":"connectionParams","data":{"token":{}}}',
    '{"method":"connectionParams","data":null}',
    '{"method":"connectionParams","data":{"token":"x".repeat(10)}}',
    '{"__proto__":{"polluted":true},"id":1,"method":"query","params":{"path":"users.me"}}',
    '{"id":1,"method":"mutation","params":{"path":"chat.sendMessage","input":{"json":{"__proto__":{"polluted":1}}}}}',
    '{"id":1,"method":"mutation","params":{"path":"chat.sendMessage","input":{"json":{"constructor":{"prototype":{"polluted":1}}}}}}',
    '{"id":1,"method":"query","params":{"path":"users.me","input":{"json":null,"meta":{"values":{"":["Date"]}}}}}',
    '{"id":1,"method":"query","params":{"path":"users.me","input":{"json":1,"meta":{"values":["class",{}]}}}}',
    '{"id":1,"method":"query","params":{"path":"users.me","input":{"meta":{"referentialEqualities":{"__proto__":["x"]}}}}}',
  ];
  const procedures = sp.describe(appEndpoints).map((p) => p.path);
  const methods = ['query', 'mutation', 'subscription', 'subscription.stop', 'QUERY', '', 'call'];
  const inputs = [
    'null',
    '1',
    '"x"',
    '[]',
    '{"json":{}}',
    '{"json":{"roomId":-1}}',
    '{"json":"\\u0000"}',
    '{"meta":1}',
  ];
  for (const [k, path] of procedures.entries()) {
    for (const method of methods)
      frames.push(JSON.stringify({ id: k, method, params: { path, input: JSON.parse(inputs[k % inputs.length]!) } }));
  }
  frames.push(JSON.stringify(Array.from({ length: 50 }, (_, id) => ({ id, method: 'query' }))));
  frames.push(`[${'['.repeat(5_000)}${']'.repeat(5_000)}]`);
  frames.push(
    `{"id":1,"method":"query","params":{"path":"users.me","input":${'{"a":'.repeat(2_000)}1${'}'.repeat(2_000)}}}`,
  );
  return frames;
}
