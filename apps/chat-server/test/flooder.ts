/**
 * The message flooder of `floods.test.ts`, in a process of its own: what flooding costs a
 * client (every refusal read) then lands neither on the server nor on the test process, whose
 * event loop times the other user's calls. Its offered load has a ceiling (see `BATCH`), the
 * same on a fast machine and a slow one. It speaks the wire by hand, so that what it costs to
 * flood stays small next to what it costs the server.
 *
 * Usage: `flooder.ts <ws url> <token> <room id>`. Prints `ready` once signed in; then reads
 * commands, one per line: `flood` starts (prints `flooding` once the first batch is sent),
 * `stop` stops once the batch in flight is answered (prints `stopped`), `end` prints the
 * accepted message ids and the refusal count as one JSON line and exits.
 */
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';

const [wsUrl, token, roomId] = process.argv.slice(2);
if (wsUrl === undefined || token === undefined || roomId === undefined) {
  throw new Error('usage: flooder.ts <ws url> <token> <room id>');
}

const ws = new WebSocket(`${wsUrl}?connectionParams=1`, { perMessageDeflate: false });
await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
// Losing the server mid-flood would leave a batch unanswered and the test waiting: go, and say why.
const lost = (why: string): never => {
  console.error(`flooder: ${why}`);
  process.exit(1);
};
ws.on('error', (error) => lost(error.message));
ws.on('close', (code) => lost(`the server closed the socket (${code})`));
ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));

const accepted: number[] = [];
let refused = 0;
let pending = 0;
let batchDone: (() => void) | undefined;
ws.on('message', (data: Buffer) => {
  if (data.includes('"TOO_MANY_REQUESTS"')) refused++;
  else {
    const reply = JSON.parse(data.toString('utf8')) as { result?: { data?: { json?: { id: number } } } };
    const id = reply.result?.data?.json?.id;
    // The test sees the flooder go without its last line, and this on its stderr.
    if (id === undefined) return lost(`unexpected reply ${data.toString('utf8')}`);
    accepted.push(id);
  }
  if (--pending === 0) batchDone?.();
});

/**
 * The flood's offered load: 50 requests every 10 ms (5,000 a second), or as fast as they are
 * answered if slower (the test checks the server kept up).
 */
const BATCH = 50;
const BATCH_EVERY_MS = 10;

let next = 1;
let flooding = false;
let running: Promise<void> = Promise.resolve();
async function flood(): Promise<void> {
  while (flooding) {
    pending = BATCH;
    const answered = new Promise<void>((resolve) => (batchDone = resolve));
    const due = new Promise((resolve) => setTimeout(resolve, BATCH_EVERY_MS));
    for (let i = 0; i < BATCH; i++, next++) {
      const input = { roomId: Number(roomId), content: 'spam', clientMessageId: `f${next}` };
      ws.send(
        JSON.stringify({ id: next, method: 'mutation', params: { path: 'chat.sendMessage', input: { json: input } } }),
      );
    }
    await Promise.all([answered, due]);
  }
}

console.log('ready');
for await (const command of createInterface({ input: process.stdin })) {
  if (command === 'flood') {
    flooding = true;
    // Its first batch is on the wire once `flood()` returns: nothing before it awaits.
    running = flood();
    console.log('flooding');
  } else if (command === 'stop') {
    flooding = false;
    await running;
    console.log('stopped');
  } else if (command === 'end') {
    console.log(JSON.stringify({ accepted, refused }));
    process.exit(0);
  }
}
// Stdin closed without `end`: the test is gone.
process.exit(1);
