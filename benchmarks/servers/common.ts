import { createInterface } from 'node:readline';

/** When the message being published was due (ms since the epoch), in a timed run. */
let due: number | undefined;

/** The clock the generator reads too: ms since the epoch, to the microsecond. */
export const clock = () => performance.timeOrigin + performance.now();

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
 * sockets drain as they would between real sends; one after another when publishing is
 * asynchronous, as storing a message is) and prints `published`. `timed <rate> <k>` publishes k
 * messages on a fixed schedule, `rate` per second, each stamped with when it was due (so a
 * server that falls behind shows it as latency: no coordinated omission), then `published`.
 */
export function serve(port: number, publish: (i: number) => void | Promise<void>): void {
  console.log(`port ${port}`);
  let next = 0;
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, count, total] = line.split(' ');
    if (command === 'timed') {
      const interval = 1000 / Number(count);
      const start = clock() + 20;
      let sent = 0;
      const tick = async () => {
        while (sent < Number(total) && start + sent * interval <= clock()) {
          due = start + sent * interval;
          sent++;
          await publish(next++);
        }
        due = undefined;
        if (sent < Number(total)) setTimeout(() => void tick(), Math.max(0, start + sent * interval - clock()));
        else console.log('published');
      };
      void tick();
      return;
    }
    if (command !== 'publish') return;
    let left = Number(count);
    const step = async () => {
      await publish(next++);
      if (--left > 0) setImmediate(() => void step());
      else console.log('published');
    };
    void step();
  });
}
