/** Hard limits of the wire contract, shared so that client and server agree. */
export const limits = {
  /** Largest WebSocket frame the server accepts (bytes). */
  maxFrameBytes: 1024 * 1024,
  /** Largest message `content` (UTF-8 bytes). */
  maxContentBytes: 16 * 1024,
  /** Most user ids one presence call may name. */
  maxPresenceIds: 1000,
} as const;

const encoder = new TextEncoder();

/** UTF-8 length of `s`, without encoding it when its length alone decides. */
export function utf8Length(s: string): number {
  // Every UTF-16 code unit encodes to at most 3 UTF-8 bytes.
  if (s.length * 3 <= limits.maxContentBytes) return s.length * 3;
  return encoder.encode(s).length;
}
