import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { diffContracts, formatChanges } from './contract-diff.js';
import { message, ok, proc, sendMessage, severities, snap, summary } from './diff.fixture.js';

describe('diffContracts: procedures', () => {
  const base = snap({
    'chat.sendMessage': proc(sendMessage, message, 'mutation'),
    'chat.history': proc(z.object({ roomId: z.string() }), z.array(message)),
    'chat.events': proc(null, message, 'subscription'),
  });

  it('reports nothing for identical snapshots', () => {
    const copy = structuredClone(base);
    expect(diffContracts(base, copy)).toEqual([]);
    expect(formatChanges([])).toBe('');
  });

  it('treats a removed procedure as breaking and an added one as compatible', () => {
    const next = snap({ ...base.procedures, 'chat.newThing': proc(null, ok) });
    delete next.procedures['chat.history'];
    expect(summary(diffContracts(base, next))).toEqual([
      ['breaking', ''],
      ['compatible', ''],
    ]);
  });

  it('treats a rename as a removal plus an addition', () => {
    const { 'chat.events': events, ...rest } = base.procedures;
    if (!events) throw new Error('fixture');
    const changes = diffContracts(base, snap({ ...rest, 'chat.onEvent': events }));
    expect(changes.map((c) => [c.procedure, c.severity])).toEqual([
      ['chat.events', 'breaking'],
      ['chat.onEvent', 'compatible'],
    ]);
  });

  it('treats a kind change as breaking', () => {
    const next = snap({
      ...base.procedures,
      'chat.history': proc(z.object({ roomId: z.string() }), z.array(message), 'mutation'),
    });
    expect(summary(diffContracts(base, next))).toEqual([['breaking', 'kind']]);
  });

  it('classifies input appearing where there was none', () => {
    const before = snap({ p: proc(null, ok) });
    const required = diffContracts(before, snap({ p: proc(z.object({ id: z.string() }), ok) }));
    const optionalOnly = diffContracts(before, snap({ p: proc(z.object({ id: z.string().optional() }), ok) }));
    const scalar = diffContracts(before, snap({ p: proc(z.string(), ok) }));
    expect(summary(required)).toEqual([['breaking', 'input']]);
    expect(summary(optionalOnly)).toEqual([['compatible', 'input']]);
    expect(summary(scalar)).toEqual([['breaking', 'input']]);
    expect(severities(diffContracts(snap({ p: proc(z.string(), ok) }), before))).toEqual(['compatible']);
  });
});

describe('formatChanges', () => {
  it('lists breaking changes first, one per line', () => {
    const before = snap({
      'chat.sendMessage': proc(sendMessage, message, 'mutation'),
      'chat.history': proc(z.object({ roomId: z.string(), before: z.date().optional() }), z.array(message)),
    });
    const after = snap({
      'chat.sendMessage': proc(
        sendMessage.extend({ foo: z.string(), clientId: z.string().optional() }),
        message.extend({ status: z.enum(['sent', 'delivered', 'read']), editedAt: z.date().nullable() }),
        'mutation',
      ),
      'chat.typing': proc(z.object({ roomId: z.string() }), ok, 'mutation'),
    });
    expect(formatChanges(diffContracts(before, after))).toMatchInlineSnapshot(`
      "BREAKING  chat.history  procedure removed (old clients calling it will fail)
      BREAKING  chat.sendMessage  input.properties.foo: new required input field \`foo\`
      BREAKING  chat.sendMessage  output.properties.status: enum gained ["read"]
      compatible  chat.sendMessage  input.properties.clientId: new optional input field \`clientId\`
      compatible  chat.sendMessage  output.properties.editedAt: new required output field \`editedAt\`
      compatible  chat.typing  mutation added"
    `);
  });
});
