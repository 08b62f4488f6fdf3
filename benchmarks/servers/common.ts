import { createInterface } from 'node:readline';

/** Publishes in flight at once when publishing is asynchronous. */
const IN_FLIGHT = 16;

/** When the message being published was due (ms since the epoch), in a timed run. */
let due: number | undefined;

/**
 * This process' wall clock, to the microsecond: taken at the instant `Date.now()` ticks over
 * to a new millisecond, then carried by the monotonic clock. `performance.timeOrigin` is taken
 * when a process starts, so a generator started minutes before its server may disagree with it
 * by as much as the system clock was stepped meanwhile (a CI run once saw a p50 latency of -67 ms).
 */
function wallAnchor(): number {
  const start = Date.now();
  let now = start;
  while (now === start) now = Date.now();
  return now - performance.now();
}
let anchor = wallAnchor();

/** The clock the generator reads too: ms since the epoch, to the microsecond. */
export const clock = () => anchor + performance.now();

/** Takes the wall clock again: a long-lived process does before each timed run. */
export function resyncClock(): void {
  anchor = wallAnchor();
}

/**
 * One chat-like message: what every server fans out, the same for all. In a timed run its
 * content ends with `@` and the time it was due, which the generator reads latency from.
 */
export function messageOf(i: number) {
  return {
    id: i,
    roomId: 1,
    senderId: 7,
    content: `The quick brown fox jumps over the lazy dog, twice, to make a message of a usual size.${due === undefined ? '' : ` @${due.toFixed(3)}`}`,
    createdAt: new Date(1_700_000_000_000 + i),
  };
}

/**
 * The harness speaks to a server on stdin/stdout: the server prints `port <n>` once
 * listening, then for each `publish <k>` line publishes k messages (one per macrotask, so
 * sockets drain as they would between real sends; 16 in flight when publishing is
 * asynchronous, as storing a message is) and prints `published`. `timed <rate> <k>` publishes k
 * messages on a fixed schedule, `rate` per second, each stamped with when it was due (so a
 * server that falls behind shows it as latency: no coordinated omission), then `published`
 * once all are done.
 */
export function serve(port: number, publish: (i: number) => void | Promise<void>): void {
  console.log(`port ${port}`);
  let next = 0;
  /** Publishes the next message and runs `then` once it is done; true when publishing is asynchronous. */
  const publishNext = (then: () => void): boolean => {
    const result = publish(next++);
    if (result === undefined) {
      then();
      return false;
    }
    void result.then(then);
    return true;
  };
  const commands = createInterface({ input: process.stdin });
  // The harness closes stdin to stop a server it wants to exit cleanly (a CPU profile is written at exit).
  commands.on('close', () => process.exit(0));
  commands.on('line', (line) => {
    const [command, count, total] = line.split(' ');
    if (command === 'timed') {
      const interval = 1000 / Number(count);
      const start = clock() + 20;
      const messages = Number(total);
      let sent = 0;
      let finished = 0;
      // Open loop: each message goes out when due, whether or not earlier ones are done.
      const after = () => {
        if (++finished === messages) console.log('published');
      };
      const tick = () => {
        while (sent < messages && start + sent * interval <= clock()) {
          due = start + sent * interval;
          sent++;
          publishNext(after);
        }
        due = undefined;
        if (sent < messages) setTimeout(tick, Math.max(0, start + sent * interval - clock()));
      };
      tick();
      return;
    }
    if (command !== 'publish') return;
    const messages = Number(count);
    let started = 0;
    let finished = 0;
    const after = () => {
      if (++finished === messages) console.log('published');
      else setImmediate(step);
    };
    const step = () => {
      if (started === messages) return;
      started++;
      publishNext(after);
    };
    // Asynchronous publishing (storing a message) keeps IN_FLIGHT going, as many senders would.
    started = 1;
    if (publishNext(after)) for (let lane = 1; lane < IN_FLIGHT; lane++) step();
  });
}

/** `--rooms <k>`: the subscribers are in k rooms (and each has a personal stream); see `Rooms`. */
export const ROOMS = process.argv.includes('--rooms')
  ? Number(process.argv[process.argv.indexOf('--rooms') + 1])
  : undefined;

/**
 * Subscribers in `k` rooms, dealt out by arrival, each with a personal stream as well. In this
 * mode publish `i` sends one message to room `i % k` and one to subscriber `i % n`'s personal
 * stream: a room fan-out and a direct delivery per publish, Centrifugo's load mix.
 */
export class Rooms<T> {
  readonly #rooms: Set<T>[];
  readonly #members: T[] = [];
  constructor(k: number) {
    this.#rooms = Array.from({ length: k }, () => new Set<T>());
  }
  /** Places a new subscriber; returns its room's index. */
  add(member: T): number {
    const room = this.#members.length % this.#rooms.length;
    this.#rooms[room]!.add(member);
    this.#members.push(member);
    return room;
  }
  /** Publish `i`'s room. */
  room(i: number): ReadonlySet<T> {
    return this.#rooms[i % this.#rooms.length]!;
  }
  /** Publish `i`'s personal recipient. */
  personal(i: number): T {
    return this.#members[i % this.#members.length]!;
  }
}
