/**
 * Compares an old and a new JSON Schema of one side (input or output) of one procedure:
 * inputs are contravariant (the new server must accept everything it accepted before),
 * outputs covariant (it must only produce what old clients already understand).
 */
import type { ContractChange, JsonSchema } from './contract-types.js';
import {
  closest,
  deepEqual,
  describe,
  discriminator,
  isAny,
  isNever,
  isObj,
  resolve,
  show,
  split,
  tagOf,
  typeOf,
  type Obj,
  ANNOTATIONS,
  DEFS,
  OBJECT_KEYS,
} from './schema-utils.js';

export { acceptsMissing } from './schema-utils.js';

type Severity = ContractChange['severity'];
type Side = 'input' | 'output';
/** How the set of values the schema describes moved from old to new. */
type Shift = 'widened' | 'narrowed' | 'changed';

/** What stays fixed while one side of one procedure is compared. */
interface Scope {
  side: Side;
  procedure: string;
  oldRoot: JsonSchema;
  newRoot: JsonSchema;
  /** Resolved node pairs currently being compared; recursive `$ref`s would otherwise loop forever. */
  stack: Array<readonly [object, object]>;
}

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];
const OTHER_KEYS = [...DEFS, ...'type enum const format pattern multipleOf items prefixItems'.split(' ')];
/** Keywords the comparison understands; anything else falls back to deep equality. */
const HANDLED = new Set([...ANNOTATIONS, ...LOWER_BOUNDS, ...UPPER_BOUNDS, ...OBJECT_KEYS, ...OTHER_KEYS]);

/** Adds to `out` every difference between schema `a` (old) and `b` (new) of one side of `procedure`. */
export function compareSchemas(opts: {
  side: 'input' | 'output';
  procedure: string;
  a: JsonSchema;
  b: JsonSchema;
  out: ContractChange[];
}): void {
  new Comparer(
    { side: opts.side, procedure: opts.procedure, oldRoot: opts.a, newRoot: opts.b, stack: [] },
    opts.out,
  ).compare(opts.a, opts.b, opts.side);
}

function severityOf(side: Side, shift: Shift, constraint: boolean): Severity {
  // Clients do not re-validate numeric/length limits of what they receive.
  if (side === 'output' && constraint) return 'compatible';
  if (shift === 'changed') return 'breaking';
  // Input may only accept more than before; output may only produce less.
  return shift === (side === 'input' ? 'widened' : 'narrowed') ? 'compatible' : 'breaking';
}

class Comparer {
  readonly out: ContractChange[];
  private readonly scope: Scope;

  constructor(scope: Scope, out: ContractChange[] = []) {
    this.scope = scope;
    this.out = out;
  }

  /** Compares an old and a new schema node; `scope.side` decides which direction is safe. */
  compare(oldNode: unknown, newNode: unknown, where: string): void {
    const { oldRoot, newRoot, stack } = this.scope;
    const a = resolve(oldNode, oldRoot);
    const b = resolve(newNode, newRoot);
    // A pair already on the stack is being compared further up; assume it matches (co-inductively).
    if (a.id && b.id && stack.some(([x, y]) => x === a.id && y === b.id)) return;
    if (a.id && b.id) stack.push([a.id, b.id]);
    try {
      this.compareResolved(a.schema, b.schema, where);
    } finally {
      if (a.id && b.id) stack.pop();
    }
  }

  private push(severity: Severity, where: string, message: string): void {
    this.out.push({ severity, procedure: this.scope.procedure, where, message });
  }

  private emit(where: string, shift: Shift, message: string): void {
    this.push(severityOf(this.scope.side, shift, false), where, message);
  }

  /** Like `emit`, for numeric/length limits (constraints) rather than the shape of values. */
  private emitConstraint(where: string, shift: Shift, message: string): void {
    this.push(severityOf(this.scope.side, shift, true), where, message);
  }

  private compareResolved(a: JsonSchema, b: JsonSchema, where: string): void {
    if (isObj(a) && isObj(b) && !deepEqual(a['default'], b['default'])) {
      this.push('compatible', where, `default changed from ${show(a['default'])} to ${show(b['default'])}`);
    }
    const na = split(a, this.scope.oldRoot);
    const nb = split(b, this.scope.newRoot);
    const [x, y] = [na.members[0] ?? false, nb.members[0] ?? false];
    // "any" already includes null; reporting nullability on top would be noise.
    if (na.nullable !== nb.nullable && !isAny(x) && !isAny(y)) {
      this.emit(where, nb.nullable ? 'widened' : 'narrowed', nb.nullable ? 'became nullable' : 'is no longer nullable');
    }
    if (na.members.length === 1 && nb.members.length === 1) return this.compareSingle(x, y, where);
    const keyword = [a, b].some((s) => isObj(s) && 'oneOf' in s) ? 'oneOf' : 'anyOf';
    this.compareUnion(na.members, nb.members, `${where}.${keyword}`);
  }

  /** Each member of the narrower side (old for input, new for output) must fit into SOME member of the other. */
  private compareUnion(oldMembers: JsonSchema[], newMembers: JsonSchema[], where: string): void {
    const oldIsNarrow = this.scope.side === 'input';
    const [narrow, wide] = oldIsNarrow ? [oldMembers, newMembers] : [newMembers, oldMembers];
    const key = discriminator(narrow, wide);
    const tag = (m: JsonSchema): string => tagOf(m, key ?? '');
    const at = (m: JsonSchema, i: number): string => (key === null ? `${where}[${i}]` : `${where}[${key}=${tag(m)}]`);
    const label = (m: JsonSchema): string => (key === null ? describe(m) : `\`${key}: ${tag(m)}\``);
    const used = new Set<number>();
    narrow.forEach((member, i) => {
      const probe = (j: number): ContractChange[] => {
        // Shares the recursion stack but keeps its findings apart until the best fit is chosen.
        const trial = new Comparer(this.scope);
        const other = wide[j] ?? false;
        trial.compare(oldIsNarrow ? member : other, oldIsNarrow ? other : member, at(member, i));
        return trial.out;
      };
      const j = key === null ? closest(member, wide, probe) : wide.findIndex((w) => tag(w) === tag(member));
      if (j >= 0) {
        used.add(j);
        this.out.push(...probe(j));
      } else {
        const verb = oldIsNarrow ? 'removed' : 'added';
        this.emit(at(member, i), oldIsNarrow ? 'narrowed' : 'widened', `union member ${label(member)} ${verb}`);
      }
    });
    wide.forEach((member, j) => {
      if (used.has(j)) return;
      const verb = oldIsNarrow ? 'added' : 'removed';
      this.emit(at(member, j), oldIsNarrow ? 'widened' : 'narrowed', `union member ${label(member)} ${verb}`);
    });
  }

  private compareSingle(a: JsonSchema, b: JsonSchema, where: string): void {
    if (isNever(a) || isNever(b)) {
      if (isNever(a) && !isNever(b)) this.emit(where, 'widened', `now allows ${describe(b)} (previously nothing)`);
      if (isNever(b) && !isNever(a)) this.emit(where, 'narrowed', `no longer allows ${describe(a)}`);
      return;
    }
    if (isAny(a) || isAny(b)) {
      if (isAny(a) && !isAny(b)) this.emit(where, 'narrowed', `narrowed from any value to ${describe(b)}`);
      if (isAny(b) && !isAny(a)) this.emit(where, 'widened', `widened from ${describe(a)} to any value`);
      return;
    }
    if (!isObj(a) || !isObj(b)) return;
    const ta = typeOf(a);
    const tb = typeOf(b);
    if (ta !== tb) {
      if (ta === 'integer' && tb === 'number') this.emit(where, 'widened', 'type widened from integer to number');
      else if (ta === 'number' && tb === 'integer')
        this.emit(where, 'narrowed', 'type narrowed from number to integer');
      else if (ta === undefined) this.emit(where, 'narrowed', `type restricted to ${tb}`);
      else if (tb === undefined) this.emit(where, 'widened', `type restriction ${ta} removed`);
      else return this.emit(where, 'changed', `type changed from ${ta} to ${tb}`);
    }
    this.compareValues(a, b, where);
    this.compareExact(a, b, where);
    this.compareBounds(a, b, where);
    if (OBJECT_KEYS.some((k) => k in a || k in b) || ta === 'object') this.compareObject(a, b, where);
    if (['items', 'prefixItems'].some((k) => k in a || k in b)) this.compareArray(a, b, where);
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!HANDLED.has(key) && !deepEqual(a[key], b[key])) {
        this.emit(`${where}.${key}`, 'changed', `unclassified change to \`${key}\` (review manually)`);
      }
    }
  }

  private compareValues(a: Obj, b: Obj, where: string): void {
    const values = (s: Obj): unknown[] | null =>
      'const' in s ? [s['const']] : Array.isArray(s['enum']) ? s['enum'] : null;
    const va = values(a);
    const vb = values(b);
    if (va === null && vb === null) return;
    if (vb === null) return this.emit(where, 'widened', `no longer restricted to ${show(va)}`);
    if (va === null) return this.emit(where, 'narrowed', `restricted to ${show(vb)}`);
    const lost = va.filter((v) => !vb.some((w) => deepEqual(v, w)));
    const gained = vb.filter((v) => !va.some((w) => deepEqual(v, w)));
    if (va.length === 1 && vb.length === 1 && lost.length === 1) {
      return this.emit(where, 'changed', `value changed from ${show(va[0])} to ${show(vb[0])}`);
    }
    if (lost.length > 0) this.emit(where, 'narrowed', `enum lost ${show(lost)}`);
    if (gained.length > 0) this.emit(where, 'widened', `enum gained ${show(gained)}`);
  }

  /** Keys whose values are not ordered (format names, regexes): any change is a different value shape. */
  private compareExact(a: Obj, b: Obj, where: string): void {
    for (const key of ['format', 'pattern']) {
      const x = a[key];
      const y = b[key];
      if (deepEqual(x, y)) continue;
      if (x === undefined) this.emit(where, 'narrowed', `${key} ${show(y)} added`);
      else if (y === undefined) this.emit(where, 'widened', `${key} ${show(x)} removed`);
      else this.emit(where, 'changed', `${key} changed from ${show(x)} to ${show(y)}`);
    }
  }

  private compareBounds(a: Obj, b: Obj, where: string): void {
    for (const key of [...LOWER_BOUNDS, ...UPPER_BOUNDS, 'multipleOf']) {
      const x = a[key];
      const y = b[key];
      if (deepEqual(x, y)) continue;
      const at = (shift: Shift, message: string): void => this.emitConstraint(where, shift, message);
      if (!['number', 'undefined'].includes(typeof x) || !['number', 'undefined'].includes(typeof y)) {
        at('changed', `unclassified change to \`${key}\` (review manually)`);
      } else if (typeof x !== 'number') {
        at('narrowed', `${key} ${String(y)} added`);
      } else if (typeof y !== 'number') {
        at('widened', `${key} removed (was ${x})`);
      } else if (key === 'multipleOf') {
        at(x % y === 0 ? 'widened' : y % x === 0 ? 'narrowed' : 'changed', `multipleOf changed from ${x} to ${y}`);
      } else {
        const raised = y > x;
        const tighter = LOWER_BOUNDS.includes(key) ? raised : !raised;
        at(tighter ? 'narrowed' : 'widened', `${key} ${raised ? 'raised' : 'lowered'} from ${x} to ${y}`);
      }
    }
  }

  private compareObject(a: Obj, b: Obj, where: string): void {
    const pa = isObj(a['properties']) ? a['properties'] : {};
    const pb = isObj(b['properties']) ? b['properties'] : {};
    const required = (s: Obj): Set<unknown> => new Set(Array.isArray(s['required']) ? s['required'] : []);
    const ra = required(a);
    const rb = required(b);
    const keys = new Set([...Object.keys(pa), ...ra, ...Object.keys(pb), ...rb].map(String));
    const side = this.scope.side;
    const extra = b['additionalProperties'];
    for (const key of keys) {
      const at = `${where}.properties.${key}`;
      const field = `${side} field \`${key}\``;
      const inA = Object.hasOwn(pa, key) || ra.has(key);
      const inB = Object.hasOwn(pb, key) || rb.has(key);
      if (inA && inB) {
        if (ra.has(key) && !rb.has(key)) this.emit(at, 'widened', `${field} became optional`);
        if (!ra.has(key) && rb.has(key)) this.emit(at, 'narrowed', `${field} became required`);
        this.compare(pa[key] ?? true, pb[key] ?? true, at);
      } else if (inB) {
        const req = rb.has(key);
        const severity = side === 'input' && req ? 'breaking' : 'compatible';
        this.push(severity, at, `new ${req ? 'required' : 'optional'} ${field}`);
      } else if (side === 'output') {
        // Clients already cope with an optional field being absent.
        this.push(ra.has(key) ? 'breaking' : 'compatible', at, `${ra.has(key) ? '' : 'optional '}${field} removed`);
      } else if (isObj(extra)) {
        this.compare(pa[key] ?? true, extra, at);
      } else {
        // zod strips unknown keys, so old clients still sending the field are fine unless the object is strict.
        const strict = extra === false;
        const message = `${field} removed${strict ? ' and unknown keys are rejected' : ''}`;
        this.push(strict ? 'breaking' : 'compatible', at, message);
      }
    }
    this.compareAdditional(a['additionalProperties'], b['additionalProperties'], `${where}.additionalProperties`);
    if ('propertyNames' in a || 'propertyNames' in b) {
      // JSON keys are strings anyway: a record's `{type: 'string'}` key schema restricts nothing.
      const keys = (s: Obj): unknown => s['propertyNames'] ?? { type: 'string' };
      this.compare(keys(a), keys(b), `${where}.propertyNames`);
    }
  }

  private compareAdditional(x: unknown, y: unknown, where: string): void {
    if (deepEqual(x, y)) return;
    const a = x ?? true;
    const b = y ?? true;
    if (this.scope.side === 'output') {
      // zod marks every output object closed; clients ignore keys they do not know, so only record values matter.
      if (isObj(a)) this.compare(a, b, where);
      return;
    }
    if (b === false) this.emit(where, 'narrowed', '`additionalProperties: false` added (unknown keys now rejected)');
    else if (a === false) this.emit(where, 'widened', 'unknown keys now accepted');
    else this.compare(a, b, where);
  }

  private compareArray(a: Obj, b: Obj, where: string): void {
    const pa = Array.isArray(a['prefixItems']) ? a['prefixItems'] : [];
    const pb = Array.isArray(b['prefixItems']) ? b['prefixItems'] : [];
    const restA: unknown = a['items'] ?? true;
    const restB: unknown = b['items'] ?? true;
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
      this.compare(i < pa.length ? pa[i] : restA, i < pb.length ? pb[i] : restB, `${where}.prefixItems.${i}`);
    }
    if ('items' in a || 'items' in b) this.compare(restA, restB, `${where}.items`);
  }
}
