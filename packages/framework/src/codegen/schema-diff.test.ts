import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { diffContracts } from './contract-diff.js';
import { diffInput, diffOutput, message, proc, sendMessage, severities, snap, summary } from './diff.fixture.js';

describe('diffContracts: input (contravariant)', () => {
  it('flags a new required field and accepts a new optional one', () => {
    const required = diffInput(sendMessage, sendMessage.extend({ foo: z.string() }));
    expect(required).toEqual([
      {
        severity: 'breaking',
        procedure: 'p',
        where: 'input.properties.foo',
        message: 'new required input field `foo`',
      },
    ]);
    const optional = diffInput(sendMessage, sendMessage.extend({ foo: z.string().optional() }));
    expect(summary(optional)).toEqual([['compatible', 'input.properties.foo']]);
  });

  it('optional → required is breaking, required → optional compatible', () => {
    const a = z.object({ roomId: z.string().optional() });
    const b = z.object({ roomId: z.string() });
    expect(diffInput(a, b)).toEqual([
      expect.objectContaining({ severity: 'breaking', message: 'input field `roomId` became required' }),
    ]);
    expect(summary(diffInput(b, a))).toEqual([['compatible', 'input.properties.roomId']]);
  });

  it('a field with a new default stays optional; a changed default is compatible', () => {
    const a = z.object({ limit: z.number().default(20) });
    const b = z.object({ limit: z.number().default(50) });
    expect(diffInput(a, b)).toEqual([
      expect.objectContaining({ severity: 'compatible', message: 'default changed from 20 to 50' }),
    ]);
  });

  it('reports a removed input field as compatible, unless the object is strict', () => {
    expect(summary(diffInput(sendMessage, sendMessage.omit({ text: true })))).toEqual([
      ['compatible', 'input.properties.text'],
    ]);
    const strict = diffInput(z.strictObject({ a: z.string(), b: z.string() }), z.strictObject({ a: z.string() }));
    expect(summary(strict)).toEqual([['breaking', 'input.properties.b']]);
  });

  it('flags a changed field type', () => {
    const changes = diffInput(z.object({ n: z.string() }), z.object({ n: z.number() }));
    expect(changes).toEqual([
      expect.objectContaining({
        severity: 'breaking',
        where: 'input.properties.n',
        message: 'type changed from string to number',
      }),
    ]);
  });

  it('widening an enum is compatible, narrowing it breaking', () => {
    const a = z.object({ s: z.enum(['a', 'b']) });
    const b = z.object({ s: z.enum(['a', 'b', 'c']) });
    expect(summary(diffInput(a, b))).toEqual([['compatible', 'input.properties.s']]);
    expect(summary(diffInput(b, a))).toEqual([['breaking', 'input.properties.s']]);
  });

  it('nullable → not nullable is breaking, the reverse compatible', () => {
    const a = z.object({ s: z.string().nullable() });
    const b = z.object({ s: z.string() });
    expect(diffInput(a, b)).toEqual([
      expect.objectContaining({ severity: 'breaking', message: 'is no longer nullable' }),
    ]);
    expect(diffInput(b, a)).toEqual([expect.objectContaining({ severity: 'compatible', message: 'became nullable' })]);
    // nullable objects are emitted as `anyOf: [X, {type: 'null'}]` rather than a type array
    const obj = z.object({ x: z.number() });
    expect(severities(diffInput(z.object({ o: obj.nullable() }), z.object({ o: obj })))).toEqual(['breaking']);
    expect(severities(diffInput(z.object({ o: obj }), z.object({ o: obj.nullable() })))).toEqual(['compatible']);
  });

  it('maxLength lowered is breaking, raised compatible', () => {
    const lowered = diffInput(sendMessage, sendMessage.extend({ text: z.string().max(500) }));
    expect(lowered).toEqual([
      expect.objectContaining({
        severity: 'breaking',
        where: 'input.properties.text',
        message: 'maxLength lowered from 2000 to 500',
      }),
    ]);
    expect(severities(diffInput(sendMessage, sendMessage.extend({ text: z.string().max(4000) })))).toEqual([
      'compatible',
    ]);
  });

  it('classifies numeric, length and item constraints by direction', () => {
    const cases: Array<[z.ZodType, z.ZodType, string]> = [
      [z.number().max(10), z.number().max(5), 'breaking'],
      [z.number().min(1), z.number().min(2), 'breaking'],
      [z.number().min(2), z.number().min(1), 'compatible'],
      [z.number(), z.number().positive(), 'breaking'],
      [z.string().min(1), z.string().min(3), 'breaking'],
      [z.string().min(3), z.string(), 'compatible'],
      [z.array(z.string()).max(10), z.array(z.string()).max(5), 'breaking'],
      [z.array(z.string()).max(5), z.array(z.string()).max(10), 'compatible'],
      [z.string().regex(/^a/), z.string().regex(/^b/), 'breaking'],
      [z.string(), z.string().regex(/^a/), 'breaking'],
      [z.string().regex(/^a/), z.string(), 'compatible'],
      [z.int(), z.number(), 'compatible'],
    ];
    cases.forEach(([a, b, expected], i) => {
      expect(severities(diffInput(z.object({ v: a }), z.object({ v: b }))), `case ${i}`).toEqual([expected]);
    });
  });

  it('flags a changed or added format, accepts a removed one', () => {
    expect(severities(diffInput(z.object({ e: z.email() }), z.object({ e: z.uuid() })))).toEqual(['breaking']);
    expect(severities(diffInput(z.object({ e: z.string() }), z.object({ e: z.email() })))).toEqual(['breaking']);
    const removed = diffInput(z.object({ d: z.date() }), z.object({ d: z.string() }));
    expect(summary(removed)).toEqual([['compatible', 'input.properties.d']]);
  });

  it('flags `additionalProperties: false` added', () => {
    const changes = diffInput(z.object({ a: z.string() }), z.strictObject({ a: z.string() }));
    expect(summary(changes)).toEqual([['breaking', 'input.additionalProperties']]);
    expect(severities(diffInput(z.strictObject({ a: z.string() }), z.object({ a: z.string() })))).toEqual([
      'compatible',
    ]);
  });

  it('compares record values and keys', () => {
    const a = z.object({ tags: z.record(z.string(), z.number()) });
    expect(severities(diffInput(a, z.object({ tags: z.record(z.string(), z.string()) })))).toEqual(['breaking']);
    expect(severities(diffInput(a, z.object({ tags: z.record(z.string(), z.number().nullable()) })))).toEqual([
      'compatible',
    ]);
    const keys = diffInput(a, z.object({ tags: z.record(z.string().max(10), z.number()) }));
    expect(summary(keys)).toEqual([['breaking', 'input.properties.tags.propertyNames']]);
  });

  it('recurses into nested arrays of objects', () => {
    const a = z.object({ items: z.array(z.object({ id: z.string(), qty: z.int().optional() })) });
    const b = z.object({ items: z.array(z.object({ id: z.string(), qty: z.int() })) });
    expect(diffInput(a, b)).toEqual([
      expect.objectContaining({
        severity: 'breaking',
        where: 'input.properties.items.items.properties.qty',
        message: 'input field `qty` became required',
      }),
    ]);
  });

  it('compares tuples element-wise', () => {
    const a = z.tuple([z.string(), z.number()]);
    expect(summary(diffInput(a, z.tuple([z.string(), z.string()])))).toEqual([['breaking', 'input.prefixItems.1']]);
    expect(severities(diffInput(a, z.tuple([z.string(), z.number().nullable()])))).toEqual(['compatible']);
  });
});

describe('diffContracts: output (covariant)', () => {
  it('a removed field is breaking, an added one compatible', () => {
    expect(diffOutput(message, message.omit({ text: true }))).toEqual([
      {
        severity: 'breaking',
        procedure: 'p',
        where: 'output.properties.text',
        message: 'output field `text` removed',
      },
    ]);
    expect(summary(diffOutput(message, message.extend({ edited: z.boolean() })))).toEqual([
      ['compatible', 'output.properties.edited'],
    ]);
    expect(severities(diffOutput(message, message.extend({ edited: z.boolean().optional() })))).toEqual(['compatible']);
    // clients already handle an optional field being absent
    const withNote = message.extend({ note: z.string().optional() });
    expect(diffOutput(withNote, message)).toEqual([
      expect.objectContaining({ severity: 'compatible', message: 'optional output field `note` removed' }),
    ]);
  });

  it('widening an enum is breaking, narrowing compatible', () => {
    const wider = message.extend({ status: z.enum(['sent', 'delivered', 'read']) });
    expect(diffOutput(message, wider)).toEqual([
      expect.objectContaining({ severity: 'breaking', message: 'enum gained ["read"]' }),
    ]);
    expect(severities(diffOutput(wider, message))).toEqual(['compatible']);
  });

  it('required → optional or nullable is breaking, the reverse compatible', () => {
    const a = z.object({ v: z.string() });
    expect(summary(diffOutput(a, z.object({ v: z.string().optional() })))).toEqual([
      ['breaking', 'output.properties.v'],
    ]);
    expect(severities(diffOutput(a, z.object({ v: z.string().nullable() })))).toEqual(['breaking']);
    expect(severities(diffOutput(z.object({ v: z.string().optional() }), a))).toEqual(['compatible']);
    expect(severities(diffOutput(z.object({ v: z.string().nullable() }), a))).toEqual(['compatible']);
  });

  it('flags type changes and widening but ignores loosened constraints', () => {
    expect(severities(diffOutput(z.object({ n: z.number() }), z.object({ n: z.string() })))).toEqual(['breaking']);
    // int → number also drops zod's safe-integer bounds: loosened output constraints stay compatible
    expect(summary(diffOutput(z.object({ n: z.int() }), z.object({ n: z.number() })))).toEqual([
      ['breaking', 'output.properties.n'],
      ['compatible', 'output.properties.n'],
      ['compatible', 'output.properties.n'],
    ]);
    expect(severities(diffOutput(z.object({ n: z.number().max(5) }), z.object({ n: z.number().max(50) })))).toEqual([
      'compatible',
    ]);
    expect(severities(diffOutput(z.object({ s: z.string().min(3) }), z.object({ s: z.string() })))).toEqual([
      'compatible',
    ]);
  });

  it('a union gaining a member is breaking, losing one compatible', () => {
    const a = z.object({ v: z.union([z.string(), z.number()]) });
    const b = z.object({ v: z.union([z.string(), z.number(), z.boolean()]) });
    expect(severities(diffOutput(a, b))).toEqual(['breaking']);
    expect(severities(diffOutput(b, a))).toEqual(['compatible']);
  });

  it('matches structural union members by subset', () => {
    const a = z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]);
    const reordered = z.union([z.object({ b: z.number() }), z.object({ a: z.string(), extra: z.boolean() })]);
    expect(severities(diffOutput(a, reordered))).toEqual(['compatible']);
    const changed = z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]);
    expect(diffOutput(a, changed)).toEqual([
      expect.objectContaining({ severity: 'breaking', message: 'type changed from number to string' }),
    ]);
  });

  it('keeps a Date field compatible and flags it turning into a plain string', () => {
    expect(diffOutput(message, message.extend({ createdAt: z.date() }))).toEqual([]);
    expect(diffOutput(message, message.extend({ createdAt: z.string() }))).toEqual([
      expect.objectContaining({ severity: 'breaking', message: 'format "date-time" removed' }),
    ]);
    expect(diffOutput(z.object({ id: z.uuid() }), z.object({ id: z.cuid() }))).toContainEqual(
      expect.objectContaining({ severity: 'breaking', message: 'format changed from "uuid" to "cuid"' }),
    );
  });

  it('a changed const is breaking in both directions', () => {
    const a = z.object({ v: z.literal(1) });
    const b = z.object({ v: z.literal(2) });
    expect(diffOutput(a, b)).toEqual([
      expect.objectContaining({ severity: 'breaking', message: 'value changed from 1 to 2' }),
    ]);
    expect(severities(diffInput(a, b))).toEqual(['breaking']);
  });

  it('recurses into nested arrays of objects', () => {
    const a = z.object({
      rooms: z.array(z.object({ id: z.string(), members: z.array(z.object({ name: z.string() })) })),
    });
    const b = z.object({
      rooms: z.array(z.object({ id: z.string(), members: z.array(z.object({ nick: z.string() })) })),
    });
    expect(summary(diffOutput(a, b))).toEqual([
      ['breaking', 'output.properties.rooms.items.properties.members.items.properties.name'],
      ['compatible', 'output.properties.rooms.items.properties.members.items.properties.nick'],
    ]);
  });
});

describe('diffContracts: discriminated unions', () => {
  const text = z.object({ type: z.literal('text'), body: z.string() });
  const image = z.object({ type: z.literal('image'), url: z.url() });
  const join = z.object({ type: z.literal('join'), userId: z.string() });
  const leave = z.object({ type: z.literal('leave'), userId: z.string() });
  const three = z.discriminatedUnion('type', [text, image, join]);
  const four = z.discriminatedUnion('type', [text, image, join, leave]);

  it('gaining a member is breaking in output and compatible in input', () => {
    expect(
      diffContracts(snap({ e: proc(null, three, 'subscription') }), snap({ e: proc(null, four, 'subscription') })),
    ).toEqual([
      {
        severity: 'breaking',
        procedure: 'e',
        where: 'output.oneOf[type=leave]',
        message: 'union member `type: leave` added',
      },
    ]);
    expect(summary(diffInput(three, four))).toEqual([['compatible', 'input.oneOf[type=leave]']]);
    expect(severities(diffInput(four, three))).toEqual(['breaking']);
  });

  it('matches members by discriminator regardless of order', () => {
    const reordered = z.discriminatedUnion('type', [join, text, image.extend({ width: z.int().optional() })]);
    expect(diffOutput(three, reordered)).toEqual([
      expect.objectContaining({
        severity: 'compatible',
        where: 'output.oneOf[type=image].properties.width',
      }),
    ]);
    const changed = z.discriminatedUnion('type', [text, image, join.extend({ userId: z.number() })]);
    expect(summary(diffInput(three, changed))).toEqual([['breaking', 'input.oneOf[type=join].properties.userId']]);
  });
});

describe('diffContracts: refs and unclassified keywords', () => {
  it('resolves $defs refs, including recursive ones', () => {
    interface Tree {
      name: string;
      children: Tree[];
    }
    const forest = (extra: boolean): z.ZodType => {
      const tree: z.ZodType<Tree> = z.object({
        name: extra ? z.string().max(5) : z.string(),
        get children() {
          return z.array(tree);
        },
      });
      return z.object({ a: tree, b: tree });
    };
    expect(diffInput(forest(false), forest(false))).toEqual([]);
    const changes = diffInput(forest(false), forest(true));
    // the recursive `children` ref is cut off once the pair is already being compared further up
    expect(changes.map((c) => [c.severity, c.where, c.message])).toEqual([
      ['breaking', 'input.properties.a.properties.name', 'maxLength 5 added'],
      ['breaking', 'input.properties.b.properties.name', 'maxLength 5 added'],
    ]);
  });

  it('resolves refs to named schemas', () => {
    const User = (name: z.ZodType) => z.object({ name }).meta({ id: 'User' });
    const a = diffOutput(z.object({ u: User(z.string()) }), z.object({ u: User(z.number()) }));
    expect(summary(a)).toEqual([['breaking', 'output.properties.u.properties.name']]);
  });

  it('reports unknown keywords as unclassified breaking changes', () => {
    const before = snap({ p: { kind: 'query', input: { type: 'string', contentEncoding: 'base64' }, output: true } });
    const after = snap({ p: { kind: 'query', input: { type: 'string', contentEncoding: 'base32' }, output: true } });
    expect(diffContracts(before, after)).toEqual([
      expect.objectContaining({
        severity: 'breaking',
        where: 'input.contentEncoding',
        message: expect.stringContaining('unclassified'),
      }),
    ]);
  });

  it('ignores annotation-only keys', () => {
    const a = diffOutput(message.describe('a message'), message.describe('a chat message').meta({ title: 'Message' }));
    expect(a).toEqual([]);
  });
});
