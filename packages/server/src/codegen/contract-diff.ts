/**
 * Classifies the differences between two API contract snapshots as breaking or compatible,
 * from the point of view of an already deployed old client talking to the new server.
 *
 * Inputs are contravariant (the new server must accept everything it accepted before), outputs
 * are covariant (the new server must only produce what old clients already understand).
 * Pure functions only: the snapshot files are read and written elsewhere.
 */

/** A JSON Schema (draft 2020-12) as emitted by `z.toJSONSchema`. */
export type JsonSchema = { [key: string]: unknown } | boolean;

/** The contract of one procedure. */
export interface ProcedureContract {
  kind: 'query' | 'mutation' | 'subscription';
  /** `null` when the procedure takes no input. */
  input: JsonSchema | null;
  /** For subscriptions: the schema of one event. */
  output: JsonSchema;
}

/** The committed snapshot of the whole API contract. */
export interface ContractSnapshot {
  version: 1;
  procedures: Record<string, ProcedureContract>;
}

/** One classified difference between two snapshots. */
export interface ContractChange {
  severity: 'breaking' | 'compatible';
  procedure: string;
  /** Dotted path into the procedure contract, e.g. `input.properties.roomId`. */
  where: string;
  message: string;
}

type Obj = { [key: string]: unknown };
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

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'examples', 'default']);
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];
const OBJECT_KEYS = ['properties', 'required', 'additionalProperties', 'propertyNames'];
const DEFS = ['$defs', 'definitions'];
const OTHER_KEYS = [...DEFS, ...'type enum const format pattern multipleOf items prefixItems'.split(' ')];
/** Keywords the comparison understands; anything else falls back to deep equality. */
const HANDLED = new Set([...ANNOTATIONS, ...LOWER_BOUNDS, ...UPPER_BOUNDS, ...OBJECT_KEYS, ...OTHER_KEYS]);

/** Lists every difference between two snapshots, procedures in alphabetical order. */
export function diffContracts(previous: ContractSnapshot, next: ContractSnapshot): ContractChange[] {
  const out: ContractChange[] = [];
  const names = new Set([...Object.keys(previous.procedures), ...Object.keys(next.procedures)]);
  for (const procedure of [...names].sort()) {
    // hasOwn: a procedure called e.g. `constructor` must not resolve to Object.prototype.
    const before = Object.hasOwn(previous.procedures, procedure) ? previous.procedures[procedure] : undefined;
    const after = Object.hasOwn(next.procedures, procedure) ? next.procedures[procedure] : undefined;
    const report = (severity: Severity, where: string, message: string): number =>
      out.push({ severity, procedure, where, message });
    const run = (side: Side, a: JsonSchema, b: JsonSchema): void =>
      new Comparer({ side, procedure, oldRoot: a, newRoot: b, stack: [] }, out).compare(a, b, side);
    if (!after) {
      report('breaking', '', 'procedure removed (old clients calling it will fail)');
      continue;
    }
    if (!before) {
      report('compatible', '', `${after.kind} added`);
      continue;
    }
    if (before.kind !== after.kind) report('breaking', 'kind', `kind changed from ${before.kind} to ${after.kind}`);
    if (before.input !== null && after.input !== null) {
      run('input', before.input, after.input);
    } else if (before.input === null && after.input !== null) {
      if (acceptsMissing(after.input, after.input)) report('compatible', 'input', 'optional input added');
      else report('breaking', 'input', 'procedure now requires input (old clients send none)');
    } else if (before.input !== null) {
      // Without an input parser the server ignores whatever old clients still send.
      report('compatible', 'input', 'procedure no longer takes input');
    }
    run('output', before.output, after.output);
  }
  return out;
}

/** Renders changes one per line, breaking ones first. */
export function formatChanges(changes: ContractChange[]): string {
  const rank = (c: ContractChange): number => (c.severity === 'breaking' ? 0 : 1);
  const label = (c: ContractChange): string => (c.severity === 'breaking' ? 'BREAKING' : 'compatible');
  // Array#sort is stable, so the per-procedure order survives within each severity.
  return [...changes]
    .sort((a, b) => rank(a) - rank(b))
    .map((c) => `${label(c)}  ${c.procedure}  ${c.where && `${c.where}: `}${c.message}`)
    .join('\n');
}

function severityOf(side: Side, shift: Shift, constraint: boolean): Severity {
  // Clients do not re-validate numeric/length limits of what they receive.
  if (side === 'output' && constraint) return 'compatible';
  if (shift === 'changed') return 'breaking';
  // Input may only accept more than before; output may only produce less.
  return shift === (side === 'input' ? 'widened' : 'narrowed') ? 'compatible' : 'breaking';
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAny(s: unknown): boolean {
  return s === true || (isObj(s) && Object.keys(s).every((k) => ANNOTATIONS.has(k) || DEFS.includes(k)));
}

function isNever(s: unknown): boolean {
  return s === false || (isObj(s) && isAny(s['not']));
}

/** Key-order independent JSON, so `{a,b}` and `{b,a}` compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObj(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function deepEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function omit(s: Obj, ...keys: string[]): Obj {
  return Object.fromEntries(Object.entries(s).filter(([k]) => !keys.includes(k)));
}

/** Follows local `$ref`s; `id` is the referenced node itself so recursion can be detected. */
function resolve(node: unknown, root: JsonSchema): { schema: JsonSchema; id: object | null } {
  let current: JsonSchema = typeof node === 'boolean' || isObj(node) ? node : true;
  let id: object | null = isObj(current) ? current : null;
  const seen = new Set<string>();
  while (isObj(current) && typeof current['$ref'] === 'string') {
    const ref = current['$ref'];
    const target = ref.startsWith('#') && !seen.has(ref) ? lookup(root, ref) : undefined;
    // Unresolvable refs stay in place and end up in the unclassified deep-equality check.
    if (target === undefined) break;
    seen.add(ref);
    const siblings = omit(current, '$ref');
    id = isObj(target) ? target : null;
    current = isObj(target) && Object.keys(siblings).length > 0 ? { ...target, ...siblings } : target;
  }
  return { schema: current, id };
}

function lookup(root: JsonSchema, ref: string): JsonSchema | undefined {
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = isObj(node) ? node[part] : Array.isArray(node) ? node[Number(part)] : undefined;
  }
  return typeof node === 'boolean' || isObj(node) ? node : undefined;
}

function acceptsMissing(s: JsonSchema, root: JsonSchema): boolean {
  // Per the contract rules an object with no required keys counts as fine with no input at all.
  const optionalObject = (m: JsonSchema): boolean =>
    isObj(m) && m['type'] === 'object' && (!Array.isArray(m['required']) || m['required'].length === 0);
  return split(s, root).members.some((m) => isAny(m) || optionalObject(m));
}

/** Flattens unions (`anyOf`/`oneOf`, multi-type `type` arrays) into their members. */
function flatten(s: JsonSchema, root: JsonSchema, depth = 0): JsonSchema[] {
  if (!isObj(s) || depth > 8) return [s];
  const list = [s['anyOf'], s['oneOf']].find(Array.isArray);
  if (list) {
    const siblings = omit(s, 'anyOf', 'oneOf');
    return list.flatMap((m: unknown) => {
      const member = resolve(m, root).schema;
      return isObj(member) ? flatten({ ...siblings, ...member }, root, depth + 1) : [member];
    });
  }
  const type = s['type'];
  if (Array.isArray(type) && type.length > 1) return type.map((t: unknown) => ({ ...s, type: t }));
  return [s];
}

/** Union members with `null` pulled out, whichever form zod used (`anyOf` member or `type` array). */
function split(s: JsonSchema, root: JsonSchema): { nullable: boolean; members: JsonSchema[] } {
  const all = flatten(s, root);
  if (all.some(isAny)) return { nullable: true, members: [true] };
  const isNull = (m: JsonSchema): boolean => isObj(m) && (m['type'] === 'null' || m['const'] === null);
  const members = all.filter((m) => !isNull(m) && !isNever(m));
  return { nullable: all.some(isNull), members: members.length > 0 ? members : [false] };
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function typeOf(s: Obj): string | undefined {
  const type = s['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type) && type.length === 1 && typeof type[0] === 'string') return type[0];
  if ('const' in s) return jsonType(s['const']);
  const values = s['enum'];
  if (Array.isArray(values) && values.length > 0 && new Set(values.map(jsonType)).size === 1)
    return jsonType(values[0]);
  if (OBJECT_KEYS.some((k) => k in s)) return 'object';
  if ('items' in s || 'prefixItems' in s) return 'array';
  return undefined;
}

function describe(s: JsonSchema): string {
  if (typeof s === 'boolean') return s ? 'any value' : 'no value';
  if ('const' in s) return show(s['const']);
  if (Array.isArray(s['enum'])) return `one of ${show(s['enum'])}`;
  const props = s['properties'];
  if (isObj(props)) return `object {${Object.keys(props).join(', ')}}`;
  return typeOf(s) ?? (isAny(s) ? 'any value' : show(s));
}

/** The wide member `member` fits best, or -1: a breaking-free fit, else the unique closest look-alike. */
function closest(member: JsonSchema, wide: JsonSchema[], probe: (j: number) => ContractChange[]): number {
  const trials = wide.map((_, j) => probe(j));
  const fits = trials.map((c, j) => ({ j, c })).filter((t) => !t.c.some((c) => c.severity === 'breaking'));
  fits.sort((p, q) => p.c.length - q.c.length);
  if (fits[0]) return fits[0].j;
  // A same-shaped member yields precise messages ("field x removed") instead of "member removed".
  const scores = wide.map((w) => affinity(member, w));
  const top = Math.max(...scores);
  return top >= 0 && scores.filter((x) => x === top).length === 1 ? scores.indexOf(top) : -1;
}

/** -1 for different types, otherwise the number of shared property names. */
function affinity(a: JsonSchema, b: JsonSchema): number {
  if (!isObj(a) || !isObj(b) || typeOf(a) === undefined || typeOf(a) !== typeOf(b)) return -1;
  const pa = isObj(a['properties']) ? Object.keys(a['properties']) : [];
  const pb = isObj(b['properties']) ? b['properties'] : {};
  return pa.filter((k) => Object.hasOwn(pb, k)).length;
}

/** The `const` (or single-value `enum`) of property `key`, as a label; '' when absent. */
function tagOf(member: JsonSchema, key: string): string {
  const prop = isObj(member) && isObj(member['properties']) ? member['properties'][key] : undefined;
  if (!isObj(prop)) return '';
  const values = prop['enum'];
  const value: unknown =
    'const' in prop ? prop['const'] : Array.isArray(values) && values.length === 1 ? values[0] : undefined;
  return value === undefined ? '' : typeof value === 'string' ? value : show(value);
}

/** A property holding a distinct `const` in every member of each side, or null. */
function discriminator(narrow: JsonSchema[], wide: JsonSchema[]): string | null {
  const [first] = narrow;
  if (!isObj(first) || !isObj(first['properties'])) return null;
  const tags = (side: JsonSchema[], key: string): string[] => side.map((m) => tagOf(m, key));
  const distinct = (list: string[]): boolean => !list.includes('') && new Set(list).size === list.length;
  return Object.keys(first['properties']).find((k) => distinct(tags(narrow, k)) && distinct(tags(wide, k))) ?? null;
}

/** Compares old and new schema nodes of one side of one procedure, collecting the changes in `out`. */
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
