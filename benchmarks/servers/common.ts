import { createInterface } from 'node:readline';

/** One chat-like message: what every server fans out, the same for all. */
export function messageOf(i: number) {
  return {
    id: i,
    roomId: 1,
    senderId: 7,
    content: 'The quick brown fox jumps over the lazy dog, twice, to make a message of a usual size.',
    createdAt: new Date(1_700_000_000_000 + i),
  };
}

/**
 * The harness speaks to a server on stdin/stdout: the server prints `port <n>` once
 * listening, then for each `publish <k>` line publishes k messages (one per macrotask, so
 * sockets drain as they would between real sends; one after another when publishing is
 * asynchronous, as storing a message is) and prints `published`.
 */
export function serve(port: number, publish: (i: number) => void | Promise<void>): void {
  console.log(`port ${port}`);
  let next = 0;
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, count] = line.split(' ');
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
