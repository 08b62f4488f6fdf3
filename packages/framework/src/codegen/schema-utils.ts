/** Helpers for reading JSON Schemas as the contract comparison needs them. */
import type { ContractChange, JsonSchema } from './contract-types.js';

export type Obj = { [key: string]: unknown };

export const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'examples', 'default']);
export const OBJECT_KEYS = ['properties', 'required', 'additionalProperties', 'propertyNames'];
export const DEFS = ['$defs', 'definitions'];

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isAny(s: unknown): boolean {
  return s === true || (isObj(s) && Object.keys(s).every((k) => ANNOTATIONS.has(k) || DEFS.includes(k)));
}

export function isNever(s: unknown): boolean {
  return s === false || (isObj(s) && isAny(s['not']));
}

/** Key-order independent JSON, so `{a,b}` and `{b,a}` compare equal. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObj(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function omit(s: Obj, ...keys: string[]): Obj {
  return Object.fromEntries(Object.entries(s).filter(([k]) => !keys.includes(k)));
}

/** Follows local `$ref`s; `id` is the referenced node itself so recursion can be detected. */
export function resolve(node: unknown, root: JsonSchema): { schema: JsonSchema; id: object | null } {
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

export function lookup(root: JsonSchema, ref: string): JsonSchema | undefined {
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    node = isObj(node) ? node[part] : Array.isArray(node) ? node[Number(part)] : undefined;
  }
  return typeof node === 'boolean' || isObj(node) ? node : undefined;
}

export function acceptsMissing(s: JsonSchema, root: JsonSchema): boolean {
  // Per the contract rules an object with no required keys counts as fine with no input at all.
  const optionalObject = (m: JsonSchema): boolean =>
    isObj(m) && m['type'] === 'object' && (!Array.isArray(m['required']) || m['required'].length === 0);
  return split(s, root).members.some((m) => isAny(m) || optionalObject(m));
}

/** Flattens unions (`anyOf`/`oneOf`, multi-type `type` arrays) into their members. */
export function flatten(s: JsonSchema, root: JsonSchema, depth = 0): JsonSchema[] {
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
export function split(s: JsonSchema, root: JsonSchema): { nullable: boolean; members: JsonSchema[] } {
  const all = flatten(s, root);
  if (all.some(isAny)) return { nullable: true, members: [true] };
  const isNull = (m: JsonSchema): boolean => isObj(m) && (m['type'] === 'null' || m['const'] === null);
  const members = all.filter((m) => !isNull(m) && !isNever(m));
  return { nullable: all.some(isNull), members: members.length > 0 ? members : [false] };
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

export function typeOf(s: Obj): string | undefined {
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

export function describe(s: JsonSchema): string {
  if (typeof s === 'boolean') return s ? 'any value' : 'no value';
  if ('const' in s) return show(s['const']);
  if (Array.isArray(s['enum'])) return `one of ${show(s['enum'])}`;
  const props = s['properties'];
  if (isObj(props)) return `object {${Object.keys(props).join(', ')}}`;
  return typeOf(s) ?? (isAny(s) ? 'any value' : show(s));
}

/** The wide member `member` fits best, or -1: a breaking-free fit, else the unique closest look-alike. */
export function closest(member: JsonSchema, wide: JsonSchema[], probe: (j: number) => ContractChange[]): number {
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
export function affinity(a: JsonSchema, b: JsonSchema): number {
  if (!isObj(a) || !isObj(b) || typeOf(a) === undefined || typeOf(a) !== typeOf(b)) return -1;
  const pa = isObj(a['properties']) ? Object.keys(a['properties']) : [];
  const pb = isObj(b['properties']) ? b['properties'] : {};
  return pa.filter((k) => Object.hasOwn(pb, k)).length;
}

/** The `const` (or single-value `enum`) of property `key`, as a label; '' when absent. */
export function tagOf(member: JsonSchema, key: string): string {
  const prop = isObj(member) && isObj(member['properties']) ? member['properties'][key] : undefined;
  if (!isObj(prop)) return '';
  const values = prop['enum'];
  const value: unknown =
    'const' in prop ? prop['const'] : Array.isArray(values) && values.length === 1 ? values[0] : undefined;
  return value === undefined ? '' : typeof value === 'string' ? value : show(value);
}

/** A property holding a distinct `const` in every member of each side, or null. */
export function discriminator(narrow: JsonSchema[], wide: JsonSchema[]): string | null {
  const [first] = narrow;
  if (!isObj(first) || !isObj(first['properties'])) return null;
  const tags = (side: JsonSchema[], key: string): string[] => side.map((m) => tagOf(m, key));
  const distinct = (list: string[]): boolean => !list.includes('') && new Set(list).size === list.length;
  return Object.keys(first['properties']).find((k) => distinct(tags(narrow, k)) && distinct(tags(wide, k))) ?? null;
}

/** Compares old and new schema nodes of one side of one procedure, collecting the changes in `out`. */
