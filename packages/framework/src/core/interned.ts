/**
 * `name` as the one flat copy V8 keeps of it for property names. For a string kept as a map
 * key for long (a topic, a channel): one built from parts (`presence:${id}`, 13 characters or
 * more) is a rope, and a rope kept as a key holds a 32-byte shell besides its flat text; and
 * equal names kept elsewhere as property names (ioredis keys its subscribed channels so)
 * share this copy instead of holding one each.
 */
export function interned(name: string): string {
  return Object.keys({ [name]: 0 })[0] ?? name;
}
